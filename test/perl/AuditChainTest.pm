# test/perl/AuditChainTest.pm: shared helpers of the audit_chain TAP tests.
#
# Nodes find the extension in the stage directory named by AUDIT_CHAIN_STAGE (a
# "make install DESTDIR=..." tree) through PostgreSQL's extension_destdir setting; without
# it the tests skip. chain_checks() asserts the structural facts every chain must keep
# (dense positions, commit order, verify()) so that every test checks them the same way.
package AuditChainTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(skip_unless_staged new_audit_node chain_checks);

# PostgreSQL::Test::Cluster->init runs pg_regress --config-auth; scripts/test.sh sets
# PG_REGRESS, a direct prove run finds it next to the PGXS makefiles.
if (!defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '')
{
	my $pkglibdir = `pg_config --pkglibdir`;
	chomp $pkglibdir;
	$ENV{PG_REGRESS} = "$pkglibdir/pgxs/src/test/regress/pg_regress";
}

# Skips the whole test file when no stage directory is given.
sub skip_unless_staged
{
	plan skip_all => 'AUDIT_CHAIN_STAGE is not set (a "make install DESTDIR=..." directory)'
	  unless defined $ENV{AUDIT_CHAIN_STAGE} && $ENV{AUDIT_CHAIN_STAGE} ne '';
	return;
}

# new_audit_node(NAME, conf => "extra postgresql.conf lines", dbname => 'postgres',
#                create_extension => 1): initializes and starts a node that loads the
# staged extension, and creates the extension in dbname.
sub new_audit_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "extension_destdir = '$ENV{AUDIT_CHAIN_STAGE}'");
	$node->append_conf('postgresql.conf', "max_prepared_transactions = 10");
	$node->append_conf('postgresql.conf', $opts{conf}) if defined $opts{conf};
	$node->start;
	my $db = $opts{dbname} // 'postgres';
	$node->safe_psql('postgres', "CREATE DATABASE $db") if $db ne 'postgres';
	$node->safe_psql($db, 'CREATE EXTENSION audit_chain')
	  unless defined $opts{create_extension} && !$opts{create_extension};
	return $node;
}

# chain_checks(NODE, DB, LABEL): the invariants of every chain, as separate assertions.
#   - positions are 1..n in each chain (count = max(seq), min(seq) = 1), no (chain_id, seq) twice;
#   - along a chain, commit_seq never decreases and committed_at never decreases; a
#     transaction (one commit_seq) has one xid, one committed_at and contiguous positions;
#   - a commit_seq lives in one chain only (one transaction, one chain);
#   - verify() is valid and checked every stored event.
# Returns the number of events.
sub chain_checks
{
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($node, $db, $label) = @_;

	my $events = $node->safe_psql($db, 'SELECT count(*) FROM audit_chain.events');

	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FROM (
		  SELECT chain_id FROM audit_chain.events GROUP BY chain_id
		  HAVING count(*) <> max(seq) OR min(seq) <> 1) s}),
		'0',
		"$label: every chain is dense (count = max(seq), first seq 1)");

	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FROM (
		  SELECT chain_id, seq FROM audit_chain.events GROUP BY chain_id, seq HAVING count(*) > 1) s}),
		'0',
		"$label: no (chain_id, seq) twice");

	# Consecutive events of a chain: either the same transaction (same commit_seq, xid,
	# committed_at) or a later one (larger commit_seq, committed_at not earlier).
	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FROM (
		  SELECT commit_seq, xid, committed_at,
		         lag(commit_seq) OVER w AS p_commit_seq,
		         lag(xid) OVER w AS p_xid,
		         lag(committed_at) OVER w AS p_committed_at
		    FROM audit_chain.events
		  WINDOW w AS (PARTITION BY chain_id ORDER BY seq)) s
		 WHERE p_commit_seq IS NOT NULL
		   AND NOT ((commit_seq = p_commit_seq AND xid = p_xid AND committed_at = p_committed_at)
		         OR (commit_seq > p_commit_seq AND committed_at >= p_committed_at))}),
		'0',
		"$label: commit_seq strictly increases between transactions of a chain, committed_at never decreases");

	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FROM (
		  SELECT commit_seq FROM audit_chain.events GROUP BY commit_seq
		  HAVING count(DISTINCT chain_id) > 1 OR count(DISTINCT xid) > 1
		      OR max(seq) - min(seq) + 1 <> count(*)) s}),
		'0',
		"$label: each commit_seq is one transaction with contiguous positions in one chain");

	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FROM (
		  SELECT xid FROM audit_chain.events GROUP BY xid HAVING count(DISTINCT commit_seq) > 1) s}),
		'0',
		"$label: a transaction's events share one commit_seq");

	is( $node->safe_psql(
			$db, 'SELECT valid, events_checked, reason IS NULL FROM audit_chain.verify()'),
		"t|$events|t",
		"$label: verify() is valid and checked all $events events");

	return $events;
}

1;
