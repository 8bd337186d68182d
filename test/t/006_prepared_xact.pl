# test/t/006_prepared_xact.pl: two-phase commit and audited changes.
#
# Claims: PREPARE TRANSACTION of a transaction with audited changes fails with SQLSTATE
# 0A000 and leaves nothing (no change, no event, no prepared transaction); a prepared
# transaction without audited changes works (COMMIT PREPARED and ROLLBACK PREPARED), also
# while audited transactions commit around it; the chains stay valid.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use AuditChainTest;

skip_unless_staged();

my $node = new_audit_node('twophase');
is($node->safe_psql('postgres', 'SHOW max_prepared_transactions'), '10', 'max_prepared_transactions is set');

$node->safe_psql(
	'postgres', q{
	CREATE TABLE audited (id int PRIMARY KEY, v text);
	CREATE TABLE plain (id int PRIMARY KEY, v text);
	SELECT audit_chain.track('audited');
	INSERT INTO audited VALUES (1, 'one');
});
my $events0 = $node->safe_psql('postgres', 'SELECT count(*) FROM audit_chain.events');

sub state_of
{
	return $node->safe_psql(
		'postgres', q{
		SELECT (SELECT count(*) FROM audit_chain.events) || ' events, '
		    || (SELECT count(*) FROM audited) || ' audited rows, '
		    || (SELECT count(*) FROM pg_prepared_xacts) || ' prepared'});
}

# Returns (exit code, stdout, stderr) of psql with ON_ERROR_STOP.
sub run_sql
{
	my ($sql) = @_;
	my ($out, $err);
	my $rc = $node->psql('postgres', $sql, stdout => \$out, stderr => \$err, on_error_stop => 1);
	return ($rc, $out, $err);
}

my $state0 = state_of();

# Every kind of audited change: the PREPARE fails with 0A000.
my %cases = (
	'INSERT' => q{INSERT INTO audited VALUES (2, 'two')},
	'UPDATE' => q{UPDATE audited SET v = 'uno' WHERE id = 1},
	'DELETE' => q{DELETE FROM audited WHERE id = 1},
	'TRUNCATE' => q{TRUNCATE audited},
	'UPDATE next to an unaudited change' => q{INSERT INTO plain VALUES (1, 'x'); UPDATE audited SET v = 'uno' WHERE id = 1},
	'INSERT in a released savepoint' => q{SAVEPOINT s; INSERT INTO audited VALUES (3, 'three'); RELEASE SAVEPOINT s},
	'track()' => q{CREATE TABLE t2 (id int PRIMARY KEY); SELECT audit_chain.track('t2')});
my $gid = 0;
for my $case (sort keys %cases)
{
	$gid++;
	my ($rc, $out, $err) = run_sql(
		qq{\\set VERBOSITY terse
BEGIN;
$cases{$case};
\\set ON_ERROR_STOP 0
PREPARE TRANSACTION 'audited_$gid';
\\echo SQLSTATE :LAST_ERROR_SQLSTATE
});
	like($out, qr/^SQLSTATE 0A000$/m, "PREPARE TRANSACTION with an audited $case fails with SQLSTATE 0A000");
	like($err, qr/cannot PREPARE a transaction that has audited changes/, "$case: the error says why");
	is(state_of(), $state0, "$case: nothing is left: no change, no event, no prepared transaction");
	is($node->safe_psql('postgres', q{SELECT count(*) FROM plain}), '0', "$case: the unaudited change is gone too");
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 't2'}),
		'0', "$case: no table created in it survives");
}

# The session that failed to prepare goes on to commit audited changes normally.
{
	my ($rc, $out, $err) = run_sql(
		q{\set VERBOSITY terse
BEGIN;
UPDATE audited SET v = 'uno' WHERE id = 1;
\set ON_ERROR_STOP 0
PREPARE TRANSACTION 'refused';
\set ON_ERROR_STOP 1
UPDATE audited SET v = 'eins' WHERE id = 1;
SELECT count(*) FROM audit_chain.audit_events WHERE new_data = '{"v": "uno"}';
SELECT count(*) FROM audit_chain.audit_events WHERE new_data = '{"v": "eins"}';
});
	is($rc, 0, 'a session whose PREPARE was refused keeps working');
	is($out, "0\n1", 'only the later committed change has an event, not the refused one');
}

# Prepared transactions without audited changes.
$node->safe_psql(
	'postgres', q{
	BEGIN;
	INSERT INTO plain VALUES (10, 'ten');
	SELECT count(*) FROM audited;
	PREPARE TRANSACTION 'unaudited_commit';
	BEGIN;
	INSERT INTO plain VALUES (11, 'eleven');
	PREPARE TRANSACTION 'unaudited_rollback';
});
is($node->safe_psql('postgres', 'SELECT gid FROM pg_prepared_xacts ORDER BY gid'),
	"unaudited_commit\nunaudited_rollback", 'transactions without audited changes can be prepared');

# Audited transactions commit while the prepared ones wait.
$node->safe_psql('postgres', q{INSERT INTO audited VALUES (20, 'twenty'); UPDATE audited SET v = 'zwanzig' WHERE id = 20});
$node->safe_psql('postgres', q{COMMIT PREPARED 'unaudited_commit'; ROLLBACK PREPARED 'unaudited_rollback'});
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'), '0', 'COMMIT/ROLLBACK PREPARED done');
is($node->safe_psql('postgres', 'SELECT string_agg(id::text, \',\' ORDER BY id) FROM plain'),
	'10', 'the committed prepared transaction took effect, the rolled-back one did not');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM audit_chain.audit_events WHERE resource_type = 'public.plain'}),
	'0',
	'no events for the untracked table');

# A prepared transaction that only locks an audited row: the audited writer waits for it
# and commits after COMMIT PREPARED.
$node->safe_psql('postgres', q{BEGIN; SELECT v FROM audited WHERE id = 20 FOR UPDATE; PREPARE TRANSACTION 'locker'});
my $writer = $node->background_psql('postgres');
$writer->query_until(qr/writing/, "\\echo writing\nUPDATE audited SET v = 'vingt' WHERE id = 20;\n");
$node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE audited%'})
  or die 'the audited writer did not wait for the prepared transaction';
$node->safe_psql('postgres', q{COMMIT PREPARED 'locker'});
$writer->query_safe('SELECT 1');
$writer->quit;
$node->safe_psql('postgres', q{INSERT INTO audited VALUES (21, 'twenty-one')});
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(action || ':' || resource_id, ',' ORDER BY commit_seq, seq) FROM audit_chain.audit_events WHERE resource_type = 'public.audited' AND action <> 'BASELINE'}),
	'INSERT:1,UPDATE:1,INSERT:20,UPDATE:20,UPDATE:20,INSERT:21',
	'the audited history holds exactly the committed changes, in commit order');
is($node->safe_psql('postgres', q{SELECT v FROM audited WHERE id = 20}), 'vingt', 'the waiting audited writer committed');
chain_checks($node, 'postgres', 'after two-phase transactions');

# Informational: audited changes that were all rolled back to a savepoint. Refusing the
# PREPARE is conservative (nothing audited would commit); either outcome keeps the trail
# exact, so it is reported, not asserted.
{
	my ($rc, $out, $err) = run_sql(
		q{\\set VERBOSITY terse
BEGIN;
SAVEPOINT s;
INSERT INTO audited VALUES (30, 'thirty');
ROLLBACK TO SAVEPOINT s;
\\set ON_ERROR_STOP 0
PREPARE TRANSACTION 'rolled_back_audit';
\\echo SQLSTATE :LAST_ERROR_SQLSTATE
});
	note("PREPARE after audited changes rolled back to a savepoint: $out");
	$node->safe_psql('postgres', q{ROLLBACK PREPARED 'rolled_back_audit'}) if $out =~ /SQLSTATE 00000/;
}

$node->stop;
done_testing();
