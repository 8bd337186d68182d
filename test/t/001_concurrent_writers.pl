# test/t/001_concurrent_writers.pl: many concurrent audited writers, exact accounting.
#
# Claims: under READ COMMITTED, REPEATABLE READ and SERIALIZABLE, with 8 and 16 clients,
# every committed change has exactly one event and nothing else has one (rolled-back
# transactions and savepoints leave nothing); chains stay dense and valid; commit_seq
# orders the transactions that changed the same row in the order they really changed it;
# and with audit_chain.chains = 1 all commits share one chain and all of this still holds.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use AuditChainTest;

skip_unless_staged();

my $rows = 100;    # few rows: concurrent transactions often change the same row

my $node = new_audit_node('writers', conf => "log_statement = none\nmax_connections = 40\ndeadlock_timeout = 100ms");
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL);
	INSERT INTO acct SELECT g, 0 FROM generate_series(1, $rows) g;
	-- Not tracked: how many changes each committed transaction made.
	CREATE TABLE applied (n int NOT NULL);
	SELECT audit_chain.track('acct');
});

my $scripts_dir = PostgreSQL::Test::Utils::tempdir;

# Three kinds of transaction; the INSERT into applied counts the row changes that commit.
#   plain:    three increments
#   savepoint: one increment, one rolled back to a savepoint, one in a released savepoint,
#             one more: three that commit
#   rollback: two increments, then ROLLBACK: none
sub write_scripts
{
	my ($level) = @_;
	my $head = join('', map { "\\set $_ random(1, $rows)\n" } qw(a b c d));
	my %scripts = (
		plain => qq{$head
BEGIN ISOLATION LEVEL $level;
UPDATE acct SET v = v + 1 WHERE id = :a;
UPDATE acct SET v = v + 1 WHERE id = :b;
UPDATE acct SET v = v + 1 WHERE id = :c;
INSERT INTO applied VALUES (3);
COMMIT;
},
		savepoint => qq{$head
BEGIN ISOLATION LEVEL $level;
UPDATE acct SET v = v + 1 WHERE id = :a;
SAVEPOINT s1;
UPDATE acct SET v = v + 1 WHERE id = :b;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
UPDATE acct SET v = v + 1 WHERE id = :c;
RELEASE SAVEPOINT s2;
UPDATE acct SET v = v + 1 WHERE id = :d;
INSERT INTO applied VALUES (3);
COMMIT;
},
		rollback => qq{$head
BEGIN ISOLATION LEVEL $level;
UPDATE acct SET v = v + 1 WHERE id = :a;
UPDATE acct SET v = v + 1 WHERE id = :b;
INSERT INTO applied VALUES (2);
ROLLBACK;
});
	(my $tag = lc $level) =~ s/ /_/g;
	my %files;
	for my $name (keys %scripts)
	{
		my $file = "$scripts_dir/${tag}_$name.sql";
		open my $fh, '>', $file or die "cannot write $file: $!";
		print $fh $scripts{$name};
		close $fh;
		$files{$name} = $file;
	}
	return \%files;
}

# Runs pgbench; returns (exit status, stdout, stderr, seconds). One pgbench thread drives
# all clients (they still run concurrently, each on its own connection): pgbench's
# per-script transaction counts, which the exact checks rely on, are shared by its threads
# without a lock and can lose an increment when there are several.
sub run_pgbench
{
	my ($clients, $transactions, $files) = @_;
	my @cmd = (
		'pgbench', '-n', '-M', 'simple',
		'-h', $node->host, '-p', $node->port, '-U', 'postgres',
		'-c', $clients, '-j', 1, '-t', $transactions,
		'--max-tries', 1000,
		'-f', "$files->{plain}\@5", '-f', "$files->{savepoint}\@3", '-f', "$files->{rollback}\@2",
		'postgres');
	my ($out, $err) = ('', '');
	my $t0 = time;
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err, time - $t0);
}

# Per script (1 plain, 2 savepoint, 3 rollback): transactions pgbench counted as done.
sub script_counts
{
	my ($out) = @_;
	my %n;
	while ($out =~ /^SQL script (\d+): .*?\n(?:.*\n)*? - (\d+) transactions /mg)
	{
		$n{$1} = $2;
	}
	return \%n;
}

# The exact accounting, cumulative over all runs so far.
sub exact_checks
{
	my ($label, $committed_by_pgbench) = @_;
	my $applied = $node->safe_psql('postgres', 'SELECT coalesce(sum(n), 0) FROM applied');
	is($node->safe_psql('postgres', 'SELECT sum(v) FROM acct'),
		$applied, "$label: row values add up to the counted committed changes");
	is($applied, $committed_by_pgbench, "$label: counted committed changes match pgbench's transaction counts");
	is( $node->safe_psql(
			'postgres',
			q{SELECT count(*) FROM audit_chain.audit_events WHERE action = 'UPDATE' AND resource_type = 'public.acct'}),
		$applied,
		"$label: number of UPDATE events = number of committed changes");
	is( $node->safe_psql(
			'postgres', q{
		SELECT count(*) FROM acct a
		  LEFT JOIN (SELECT resource_id, count(*) AS n FROM audit_chain.audit_events
		              WHERE action = 'UPDATE' AND resource_type = 'public.acct' GROUP BY resource_id) e
		    ON e.resource_id = a.id::text
		 WHERE coalesce(e.n, 0) <> a.v}),
		'0',
		"$label: every row has as many UPDATE events as committed increments");
	# In commit order (commit_seq, then position), a row's events step 0->1->2->...: no
	# event of a rolled-back change, none missing, none out of order.
	is( $node->safe_psql(
			'postgres', q{
		SELECT count(*) FROM (
		  SELECT old_data, new_data,
		         row_number() OVER (PARTITION BY resource_id ORDER BY commit_seq, seq) AS k
		    FROM audit_chain.audit_events
		   WHERE action = 'UPDATE' AND resource_type = 'public.acct') s
		 WHERE old_data <> jsonb_build_object('v', k - 1) OR new_data <> jsonb_build_object('v', k)}),
		'0',
		"$label: each row's events, in commit_seq order, step through its values one by one");
	chain_checks($node, 'postgres', $label);
	return;
}

my $expected = 0;
my %per_clients = (8 => 200, 16 => 100);
for my $clients (8, 16)
{
	for my $level ('READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE')
	{
		my $label = "$clients clients, $level";
		my ($rc, $out, $err, $secs) = run_pgbench($clients, $per_clients{$clients}, write_scripts($level));
		is($rc, 0, "$label: pgbench succeeded") or diag("pgbench stdout:\n$out\nstderr:\n$err");
		my $n = script_counts($out);
		my ($failed) = $out =~ /number of failed transactions: (\d+)/;
		my ($retried) = $out =~ /number of transactions retried: (\d+)/;
		$retried //= 0;
		note(sprintf('%s: %.1f s; plain %s, savepoint %s, rollback %s transactions; %s failed, %s retried',
				$label, $secs, $n->{1} // '?', $n->{2} // '?', $n->{3} // '?', $failed // '?', $retried));
		is(($n->{1} // 0) + ($n->{2} // 0) + ($n->{3} // 0) + ($failed // 0),
			$clients * $per_clients{$clients}, "$label: pgbench reports every transaction");
		$expected += 3 * ($n->{1} // 0) + 3 * ($n->{2} // 0);
		exact_checks($label, $expected);
	}
}

is( $node->safe_psql('postgres', 'SELECT count(DISTINCT chain_id) > 1 FROM audit_chain.events'),
	't', 'concurrent commits used more than one chain');

# One chain: commits queue for it, and it stays exact and valid.
my $before = $node->safe_psql('postgres', 'SELECT max(commit_seq) FROM audit_chain.events');
$node->append_conf('postgresql.conf', 'audit_chain.chains = 1');
$node->reload;
$node->poll_query_until('postgres', 'SHOW audit_chain.chains', '1')
  or die 'audit_chain.chains = 1 was not applied';
for my $level ('READ COMMITTED', 'SERIALIZABLE')
{
	my $label = "audit_chain.chains = 1, 16 clients, $level";
	my ($rc, $out, $err, $secs) = run_pgbench(16, 50, write_scripts($level));
	is($rc, 0, "$label: pgbench succeeded") or diag("pgbench stdout:\n$out\nstderr:\n$err");
	my $n = script_counts($out);
	my ($failed) = $out =~ /number of failed transactions: (\d+)/;
	my ($retried) = $out =~ /number of transactions retried: (\d+)/;
	note(sprintf('%s: %.1f s; plain %s, savepoint %s, rollback %s transactions; %s failed, %s retried',
			$label, $secs, $n->{1} // '?', $n->{2} // '?', $n->{3} // '?', $failed // '?', $retried // 0));
	is(($n->{1} // 0) + ($n->{2} // 0) + ($n->{3} // 0) + ($failed // 0), 800, "$label: pgbench reports every transaction");
	$expected += 3 * ($n->{1} // 0) + 3 * ($n->{2} // 0);
	is( $node->safe_psql(
			'postgres',
			"SELECT count(*) > 0, count(*) FILTER (WHERE chain_id <> 1) FROM audit_chain.events WHERE commit_seq > $before"),
		't|0',
		"$label: every new event is in chain 1");
	exact_checks($label, $expected);
}

# First commits of a trail, all at once: a database whose trail has no event yet (the
# trigger is created by hand, so no TRACK event creates the ledger first). The concurrent
# first commits must agree on one ledger row.
$node->append_conf('postgresql.conf', 'audit_chain.chains = 16');
$node->reload;
$node->poll_query_until('postgres', 'SHOW audit_chain.chains', '16')
  or die 'audit_chain.chains = 16 was not applied';
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql(
	'fresh', q{
	CREATE EXTENSION audit_chain;
	CREATE TABLE hits (id bigserial PRIMARY KEY, client int NOT NULL);
	CREATE TRIGGER audit_chain_capture AFTER INSERT OR UPDATE OR DELETE ON hits
	    FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
});
is($node->safe_psql('fresh', 'SELECT count(*) FROM audit_chain.ledger'), '0', 'fresh trail: no ledger row yet');
{
	my $file = "$scripts_dir/first_commits.sql";
	open my $fh, '>', $file or die $!;
	print $fh "INSERT INTO hits (client) VALUES (:client_id);\n";
	close $fh;
	my ($out, $err) = ('', '');
	# -C: a new connection per transaction, so that many sessions make their first commit.
	IPC::Run::run(
		[
			'pgbench', '-n', '-C', '-M', 'simple', '-h', $node->host, '-p', $node->port, '-U', 'postgres',
			'-c', 16, '-j', 2, '-t', 20, '-f', $file, 'fresh'
		],
		'>', \$out, '2>', \$err);
	is($? >> 8, 0, 'fresh trail: 16 clients made their first commits') or diag("stdout:\n$out\nstderr:\n$err");
}
is($node->safe_psql('fresh', 'SELECT count(*) FROM audit_chain.ledger'), '1', 'fresh trail: exactly one ledger row');
is( $node->safe_psql('fresh', q{SELECT count(*) FROM audit_chain.audit_events WHERE action = 'INSERT'}),
	$node->safe_psql('fresh', 'SELECT count(*) FROM hits'),
	'fresh trail: one INSERT event per committed row');
chain_checks($node, 'fresh', 'fresh trail after concurrent first commits');

$node->stop;
done_testing();
