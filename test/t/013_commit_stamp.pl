# test/t/013_commit_stamp.pl: committed_at precedes the real commit (README, Time travel).
#
# Claims: committed_at is stamped inside COMMIT before the transaction becomes visible. A
# commit held after its stamp (here: waiting for a synchronous standby that does not exist)
# is invisible to others, and so are its events: time travel to a moment T taken meanwhile
# answers without it. Once the commit completes, its committed_at is before T, so the same
# question about T now includes it; while a change that was visible at T is always included.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use AuditChainTest;

skip_unless_staged();

# Synchronous replication needs WAL senders (the test cluster has none by default).
my $node = new_audit_node('stamp', conf => "wal_level = replica\nmax_wal_senders = 2");
$node->safe_psql(
	'postgres', q{
	CREATE TABLE stamped (id int PRIMARY KEY, v text);
	INSERT INTO stamped VALUES (1, 'old'), (2, 'old');
	SELECT audit_chain.track('stamped');
	UPDATE stamped SET v = 'visible before T' WHERE id = 2;
});

# Commits wait for a standby that never comes.
$node->safe_psql('postgres', q{ALTER SYSTEM SET synchronous_standby_names = 'nobody'; SELECT pg_reload_conf()});
$node->poll_query_until('postgres', q{SELECT current_setting('synchronous_standby_names') = 'nobody'})
  or die 'synchronous_standby_names was not reloaded';

my $writer = $node->background_psql('postgres');
$writer->query_until(qr/committing/, "\\echo committing\nUPDATE stamped SET v = 'held' WHERE id = 1;\n");
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND query LIKE 'UPDATE stamped%'})
  or die 'the commit did not wait for the standby';

# T: after the held commit's stamp, before it is visible.
my $t = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
my $ask = qq{SELECT audit_chain.row_at('stamped', '{"id": 1}', '$t') ->> 'v'};
is($node->safe_psql('postgres', 'SELECT v FROM stamped WHERE id = 1'), 'old', 'the held commit is not visible');
is($node->safe_psql('postgres', $ask), 'old', 'as of T, while the commit is held: without it');
is($node->safe_psql('postgres', qq{SELECT audit_chain.row_at('stamped', '{"id": 2}', '$t') ->> 'v'}),
	'visible before T', 'a change visible before T is part of the state as of T');

# Release the commit.
$node->safe_psql('postgres', q{ALTER SYSTEM RESET synchronous_standby_names; SELECT pg_reload_conf()});
$writer->query_safe('SELECT 1');
$writer->quit;

is($node->safe_psql('postgres', 'SELECT v FROM stamped WHERE id = 1'), 'held', 'the commit completed');
is( $node->safe_psql(
		'postgres', qq{
	SELECT committed_at < '$t' FROM audit_chain.audit_events
	 WHERE resource_type = 'public.stamped' AND action = 'UPDATE' AND resource_id = '1'}),
	't', 'its committed_at is before T');
is($node->safe_psql('postgres', $ask), 'held', 'as of T, asked again after the commit: with it');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM audit_chain.table_at('stamped', '$t') j WHERE j ->> 'v' = 'held'}),
	'1', 'table_at agrees');
is($node->safe_psql('postgres', 'SELECT valid FROM audit_chain.verify()'), 't', 'the trail is valid');

$node->stop;
done_testing();
