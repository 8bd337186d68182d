# test/t/004_bulk_statement.pl: one UPDATE of 1,000,000 rows of a tracked table.
#
# Claim: the events of a transaction are spooled to a tuplestore bounded by work_mem (and
# spilled to temporary files beyond it), not kept in backend memory, so a bulk statement
# completes, produces exactly one event per changed row, and the backend's memory does
# not grow with the number of events.
#
# PostgreSQL itself keeps an AFTER-trigger queue entry per changed row (about 16-24 bytes
# per row, in memory), which the extension cannot avoid: the memory allowance below covers
# that queue (about 16-22 MB for 900,000 rows) but not a copy of the events themselves.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use AuditChainTest;

skip_unless_staged();

# Small shared_buffers: shared memory pages a backend touches count in its resident set
# (VmHWM); keeping them few makes the peak mostly the backend's private memory.
# log_temp_files = 0 reports every temporary file with its size.
my $node = new_audit_node(
	'bulk',
	conf => "shared_buffers = 16MB\nlog_temp_files = 0\nlog_statement = none\n"
	  . "max_wal_size = 2GB\ncheckpoint_timeout = 30min");

$node->safe_psql(
	'postgres', q{
	CREATE TABLE bulk (id int PRIMARY KEY, v int NOT NULL);
	INSERT INTO bulk SELECT g, 0 FROM generate_series(1, 1000000) g;
	VACUUM ANALYZE bulk;
	CREATE TABLE warmup (id int PRIMARY KEY, v int NOT NULL);
	INSERT INTO warmup VALUES (1, 0);
	SELECT audit_chain.track('bulk', baseline => false);
	SELECT audit_chain.track('warmup');
});

sub kb_field
{
	my ($pid, $field) = @_;
	my $status = slurp_file("/proc/$pid/status");
	$status =~ /^\Q$field\E:\s+(\d+)\s+kB/m
	  or die "no $field in /proc/$pid/status";
	return $1;
}

# Runs $sql in a fresh session, in an explicit transaction so that the statement and its
# COMMIT (where the events are chained and written) are measured apart; a warm-up first
# loads the library and its caches. Returns a hash of figures (kB, seconds, bytes).
sub measure
{
	my ($label, $settings, $sql) = @_;
	my $session = $node->background_psql('postgres');
	my $pid = $session->query_safe('SELECT pg_backend_pid()');
	$session->query_safe($settings) if $settings ne '';
	$session->query_safe(
		'UPDATE warmup SET v = v + 1; SELECT count(*) FROM bulk WHERE id = 1');
	my %m;
	$m{before} = kb_field($pid, 'VmHWM');
	my $log_offset = -s $node->logfile;
	my $t0 = time;
	$session->query_safe("BEGIN; $sql");
	$m{statement_secs} = time - $t0;
	$m{after_statement} = kb_field($pid, 'VmHWM');
	$t0 = time;
	$session->query_safe('COMMIT');
	$m{commit_secs} = time - $t0;
	$m{after_commit} = kb_field($pid, 'VmHWM');
	my $rss_anon = kb_field($pid, 'RssAnon');
	my $rss_shmem = kb_field($pid, 'RssShmem');
	$session->quit;
	$m{statement_growth} = $m{after_statement} - $m{before};
	$m{commit_growth} = $m{after_commit} - $m{after_statement};
	$m{growth} = $m{after_commit} - $m{before};
	$m{temp_bytes} = 0;
	my $log = slurp_file($node->logfile, $log_offset);
	$m{temp_bytes} += $1 while $log =~ /temporary file: path "[^"]*", size (\d+)/g;
	note(sprintf(
			'%s: statement %.1f s, COMMIT %.1f s; VmHWM %d kB -> %d kB after the statement -> %d kB after COMMIT '
			  . '(growth %d kB: statement %d kB, commit %d kB); RssAnon %d kB, RssShmem %d kB at the end; '
			  . 'temporary files %d bytes',
			$label, $m{statement_secs}, $m{commit_secs}, $m{before}, $m{after_statement}, $m{after_commit},
			$m{growth}, $m{statement_growth}, $m{commit_growth}, $rss_anon, $rss_shmem, $m{temp_bytes}));
	return \%m;
}

sub update_events
{
	return $node->safe_psql('postgres',
		q{SELECT count(*) FROM audit_chain.audit_events WHERE action = 'UPDATE' AND resource_type = 'public.bulk'});
}

my $m100k = measure('100,000-row UPDATE', '', 'UPDATE bulk SET v = v + 1 WHERE id <= 100000');
is(update_events(), '100000', '100,000-row UPDATE: exactly 100,000 UPDATE events');

my $m1m = measure('1,000,000-row UPDATE', '', 'UPDATE bulk SET v = v + 1');
is(update_events(), '1100000', '1,000,000-row UPDATE in one statement: exactly 1,000,000 more UPDATE events');

# Every row's events add up to its value: 2 for the first 100,000 rows, 1 for the others.
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM bulk b
	  LEFT JOIN (SELECT resource_id, count(*) AS n FROM audit_chain.audit_events
	              WHERE resource_type = 'public.bulk' AND action = 'UPDATE'
	              GROUP BY resource_id) e ON e.resource_id = b.id::text
	 WHERE coalesce(e.n, 0) <> b.v}),
	'0',
	'each row has exactly as many UPDATE events as it was updated');

# One transaction, one chain, dense positions.
is( $node->safe_psql(
		'postgres', q{
	SELECT count(DISTINCT commit_seq), count(DISTINCT chain_id), max(seq) - min(seq) + 1
	  FROM audit_chain.audit_events WHERE resource_type = 'public.bulk' AND action = 'UPDATE'
	   AND new_data = jsonb_build_object('v', CASE WHEN resource_id::int <= 100000 THEN 2 ELSE 1 END)}),
	'1|1|1000000',
	'the 1,000,000 events of the statement are one transaction in one chain, positions contiguous');

# Size of the event data an in-memory buffer would have to hold.
my $avg_event = $node->safe_psql('postgres',
	q{SELECT round(avg(pg_column_size(e.*))) FROM (SELECT * FROM audit_chain.events ORDER BY chain_id, seq DESC LIMIT 10000) e});
my $extra_rows = 900000;
my $buffer_kb = int($extra_rows * $avg_event / 1024);
my $extra_kb = $m1m->{growth} - $m100k->{growth};
my $extra_statement_kb = $m1m->{statement_growth} - $m100k->{statement_growth};
note(sprintf('stored event size %d bytes: %d more events need %d kB in memory; measured extra peak %d kB '
		  . '(statement %d kB, i.e. %.1f bytes per extra row)',
		$avg_event, $extra_rows, $buffer_kb, $extra_kb, $extra_statement_kb, $extra_statement_kb * 1024 / $extra_rows));
cmp_ok($buffer_kb, '>', 150 * 1024, 'the extra 900,000 events are more than 150 MB of event data');
cmp_ok($extra_kb, '<', 100 * 1024,
	'peak backend memory of the 1,000,000-row UPDATE exceeds the 100,000-row one by less than 100 MB');
cmp_ok($extra_kb, '<', $buffer_kb / 2,
	'and by less than half of what buffering the extra events in memory would need');
# During the statement: PostgreSQL's trigger queue (16-24 bytes per row, 14-21 MB for
# 900,000 rows) plus the spool's work_mem; 48 MB leaves room for both and for noise.
cmp_ok($extra_statement_kb, '<', 48 * 1024,
	'during the statement the extra 900,000 rows cost less than 48 MB (trigger queue and work_mem only)');
# COMMIT reads the spool back and inserts in batches: its peak must not depend on the
# number of events.
cmp_ok($m1m->{commit_growth}, '<', 32 * 1024,
	'COMMIT of 1,000,000 events raises the peak by less than 32 MB (memory per event is released)');
cmp_ok($m1m->{temp_bytes}, '>', 50 * 1024 * 1024,
	'the 1,000,000-event spool went to temporary files (work_mem 4MB)');

# work_mem bounds the in-memory part of the spool: with 1MB the same statement spills
# (nearly) all its events and the peak stays as low.
my $mwm = measure('1,000,000-row UPDATE, work_mem 1MB', "SET work_mem = '1MB'", 'UPDATE bulk SET v = v + 1');
is(update_events(), '2100000', 'work_mem 1MB: exactly 1,000,000 more UPDATE events');
cmp_ok($mwm->{temp_bytes}, '>', 50 * 1024 * 1024, 'work_mem 1MB: the spool went to temporary files');
cmp_ok($mwm->{statement_growth} - $m100k->{statement_growth}, '<', 48 * 1024,
	'work_mem 1MB: during the statement the extra rows cost less than 48 MB');
cmp_ok($mwm->{growth} - $m100k->{growth}, '<', 100 * 1024,
	'work_mem 1MB: peak exceeds the 100,000-row UPDATE by less than 100 MB');

my $t0 = time;
chain_checks($node, 'postgres', 'after 2,100,000 events');
note(sprintf('chain checks and verify() of all events: %.1f s', time - $t0));

$node->stop;
done_testing();
