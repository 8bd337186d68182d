# test/t/003_crash_recovery.pl: crash (immediate shutdown) during audited writes.
#
# Claims: events are written in the transaction they describe, so after crash recovery
# the trail holds exactly the events of the committed transactions: chains are dense and
# verify() is valid, an open transaction has no event, a transaction that was committing
# its events when the server died has all of them or none (and its data agrees), and
# audited writes continue afterwards.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use AuditChainTest;

skip_unless_staged();

my $rows = 100;
my $node = new_audit_node('crash', conf => "log_statement = none\ndeadlock_timeout = 100ms");
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL);
	INSERT INTO acct SELECT g, 0 FROM generate_series(1, $rows) g;
	CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL);
	INSERT INTO big SELECT g, 0 FROM generate_series(1, 200000) g;
	SELECT audit_chain.track('acct');
	SELECT audit_chain.track('big', baseline => false);
});

my $dir = PostgreSQL::Test::Utils::tempdir;
my $head = join('', map { "\\set $_ random(1, $rows)\n" } qw(a b c));
my %scripts = (
	plain => "$head
BEGIN;
UPDATE acct SET v = v + 1 WHERE id = :a;
UPDATE acct SET v = v + 1 WHERE id = :b;
COMMIT;
",
	savepoint => "$head
BEGIN;
UPDATE acct SET v = v + 1 WHERE id = :a;
SAVEPOINT s;
UPDATE acct SET v = v + 1 WHERE id = :b;
ROLLBACK TO SAVEPOINT s;
UPDATE acct SET v = v + 1 WHERE id = :c;
COMMIT;
",
	rollback => "$head
BEGIN;
UPDATE acct SET v = v + 1 WHERE id = :a;
ROLLBACK;
");
for my $name (keys %scripts)
{
	open my $fh, '>', "$dir/$name.sql" or die $!;
	print $fh $scripts{$name};
	close $fh;
}

sub start_pgbench
{
	my ($seconds, $out, $err) = @_;
	my @cmd = (
		'pgbench', '-n', '-M', 'simple', '-h', $node->host, '-p', $node->port, '-U', 'postgres',
		'-c', 8, '-j', 2, '-T', $seconds, '--max-tries', 100,
		'-f', "$dir/plain.sql\@5", '-f', "$dir/savepoint.sql\@3", '-f', "$dir/rollback.sql\@2",
		'postgres');
	return IPC::Run::start(\@cmd, '>', $out, '2>', $err);
}

# Exactness and chain invariants; acct's events must match its values exactly.
sub checks
{
	my ($label) = @_;
	is( $node->safe_psql(
			'postgres',
			q{SELECT (SELECT sum(v) FROM acct) = (SELECT count(*) FROM audit_chain.audit_events
			                                       WHERE action = 'UPDATE' AND resource_type = 'public.acct')}),
		't',
		"$label: the UPDATE events of acct are exactly its committed increments");
	is( $node->safe_psql(
			'postgres', q{
		SELECT count(*) FROM (
		  SELECT old_data, new_data,
		         row_number() OVER (PARTITION BY resource_id ORDER BY commit_seq, seq) AS k
		    FROM audit_chain.audit_events
		   WHERE action = 'UPDATE' AND resource_type = 'public.acct') s
		 WHERE old_data <> jsonb_build_object('v', k - 1) OR new_data <> jsonb_build_object('v', k)}),
		'0',
		"$label: each acct row's events step through its values one by one in commit order");
	return chain_checks($node, 'postgres', $label);
}

# 1. Short audited transactions from 8 clients.
my ($bench_out, $bench_err) = ('', '');
my $bench = start_pgbench(60, \$bench_out, \$bench_err);

# 2. An open transaction with many audited changes.
my $open = $node->background_psql('postgres', on_error_stop => 0);
$open->query_safe('BEGIN');
$open->query_safe('UPDATE big SET v = v + 1 WHERE id <= 50000');
my $open_xid = $open->query_safe('SELECT pg_current_xact_id()');

# 3. A transaction with 100,000 audited changes whose COMMIT is running at the crash.
my $committer = $node->background_psql('postgres', on_error_stop => 0);
$committer->query_safe('BEGIN');
$committer->query_safe('UPDATE big SET v = v + 1 WHERE id > 100000');
my $commit_xid = $committer->query_safe('SELECT pg_current_xact_id()');

# Let the short transactions run a while, then start the big COMMIT and crash while it runs.
$node->poll_query_until('postgres', q{SELECT count(*) >= 500 FROM audit_chain.events WHERE action = 'UPDATE'})
  or die 'pgbench made no progress';
my $committed_before = $node->safe_psql('postgres', 'SELECT count(*) FROM audit_chain.events');
$committer->{stdin} .= "COMMIT;\n";
$committer->{run}->pump_nb;
my $seen_committing = 0;
for (1 .. 200)
{
	my $active = $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = 'COMMIT;'});
	if ($active eq '1')
	{
		$seen_committing = 1;
		last;
	}
	usleep(10_000);
}
note("the big COMMIT was seen running at the crash: $seen_committing; events before: $committed_before");
$node->stop('immediate');

$bench->finish;    # pgbench ends with connection errors
note('pgbench before the crash: ' . join(' ', grep { /processed|failed/ } split /\n/, $bench_out));
eval { $open->quit };
eval { $committer->quit };

$node->start;

my $events = checks('after the crash');
cmp_ok($events, '>=', $committed_before, 'events committed before the crash are still there');
is($node->safe_psql('postgres', "SELECT count(*) FROM audit_chain.events WHERE xid = '$open_xid'"),
	'0', 'the open transaction left no event');
is($node->safe_psql('postgres', 'SELECT count(*) FROM big WHERE id <= 50000 AND v <> 0'),
	'0', 'and no change');
my ($big_events, $big_rows) = split /\|/,
  $node->safe_psql(
	'postgres',
	"SELECT (SELECT count(*) FROM audit_chain.events WHERE xid = '$commit_xid'),
	        (SELECT count(*) FROM big WHERE id > 100000 AND v = 1)");
note("the transaction committing at the crash: $big_events events, $big_rows changed rows");
ok(($big_events == 0 && $big_rows == 0) || ($big_events == 100000 && $big_rows == 100000),
	'the transaction committing at the crash has all of its events and changes or none');

# Audited writes go on, continuing the chains.
my $heads = $node->safe_psql('postgres', 'SELECT max(commit_seq) FROM audit_chain.events');
($bench_out, $bench_err) = ('', '');
$bench = start_pgbench(3, \$bench_out, \$bench_err);
$bench->finish;
is($? >> 8, 0, 'pgbench after recovery succeeded') or diag("stdout:\n$bench_out\nstderr:\n$bench_err");
$node->safe_psql('postgres', 'UPDATE big SET v = v + 1 WHERE id <= 10');
cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM audit_chain.events WHERE commit_seq > $heads"),
	'>', 0, 'new events after recovery');
checks('after writes following recovery');

$node->stop;
done_testing();
