# test/t/002_dump_restore.pl: the audit trail survives pg_dump and restore.
#
# Claims: pg_dump (plain and custom format) carries the whole trail; restored into a new
# database of the same cluster or of another cluster (psql, pg_restore), the copy has the
# same ledger_id and the same events, verify() and verify(digest of the source) are valid,
# the restore itself adds no event, and new audited writes in the copy continue the chains
# (positions and commit order go on, nothing collides) and still extend the source digest.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use AuditChainTest;

skip_unless_staged();

my $source = new_audit_node('source', dbname => 'src');

# Audited activity over several kinds of tables, with application context.
$source->safe_psql(
	'src', q{
	CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2),
	                    tags text[], seen timestamptz, data jsonb);
	CREATE TABLE pairs (a int, b text, v int, PRIMARY KEY (a, b));
	CREATE TABLE nokey (x int, y text);
	CREATE TABLE measurements (id int, day date, v int, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
	CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
	CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
	INSERT INTO items VALUES (1, 'before tracking', 1.50, '{a}', '2025-01-01 00:00+00', '{"k": 1}');
	SELECT audit_chain.track('items');
	SELECT audit_chain.track('pairs');
	SELECT audit_chain.track('nokey');
	SELECT audit_chain.track('measurements');
	BEGIN;
	SET LOCAL audit_chain.actor_id = 'alice';
	SET LOCAL audit_chain.reason = 'ticket 42';
	INSERT INTO items SELECT g, 'item ' || g, g * 1.25, ARRAY['x', g::text], '2025-06-01 12:00+00', jsonb_build_object('g', g)
	  FROM generate_series(2, 200) g;
	COMMIT;
	UPDATE items SET price = price + 1 WHERE id % 3 = 0;
	DELETE FROM items WHERE id % 10 = 0;
	INSERT INTO pairs SELECT g, 'k' || g, g FROM generate_series(1, 50) g;
	UPDATE pairs SET v = v * 2 WHERE a <= 10;
	INSERT INTO nokey SELECT g, 'y' || g FROM generate_series(1, 20) g;
	DELETE FROM nokey WHERE x <= 5;
	INSERT INTO measurements SELECT g, DATE '2025-12-25' + g, g FROM generate_series(1, 20) g;
	TRUNCATE measurements_2025;
	BEGIN;
	UPDATE items SET name = 'kept' WHERE id = 1;
	SAVEPOINT s;
	UPDATE items SET name = 'rolled back' WHERE id = 2;
	ROLLBACK TO SAVEPOINT s;
	COMMIT;
	SELECT valid FROM audit_chain.checkpoint();
	UPDATE items SET tags = tags || '{after checkpoint}'::text[] WHERE id <= 5;
});

# A few commits from concurrent sessions, so that several chains have events.
my @sessions = map { $source->background_psql('src') } 1 .. 3;
$_->query_safe('BEGIN') for @sessions;
$sessions[$_]->query_safe("UPDATE pairs SET v = v + 1 WHERE a = " . ($_ + 20)) for 0 .. 2;
$_->query_safe('COMMIT') for @sessions;
$_->quit for @sessions;

my $digest = $source->safe_psql('src', 'SELECT audit_chain.digest()');
my $ledger = $source->safe_psql('src', 'SELECT ledger_id FROM audit_chain.ledger');
my $count = $source->safe_psql('src', 'SELECT count(*) FROM audit_chain.events');
# The whole trail, in the form the hash specification hashes, as one fingerprint.
my $fingerprint_sql = q{SELECT md5(string_agg(event::text, E'\n' ORDER BY chain_id, seq)) FROM audit_chain.events_export};
my $fingerprint = $source->safe_psql('src', $fingerprint_sql);
my $tracked_sql = q{SELECT string_agg(relid::text, ',' ORDER BY relid::text) FROM audit_chain.tracked_tables};
my $tracked = $source->safe_psql('src', $tracked_sql);
my $triggers_sql = q{SELECT string_agg(format('%s.%s%s', tgrelid::regclass, tgname, CASE WHEN tgparentid <> 0 THEN ' (cloned)' ELSE '' END), ',' ORDER BY tgrelid::regclass::text, tgname)
                       FROM pg_trigger WHERE tgname LIKE 'audit_chain%'};
my $triggers = $source->safe_psql('src', $triggers_sql);
my $chains = $source->safe_psql('src', 'SELECT count(DISTINCT chain_id) FROM audit_chain.events');
note("source: $count events in $chains chains");
cmp_ok($chains, '>', 1, 'the source trail has several chains');
is($source->safe_psql('src', 'SELECT valid FROM audit_chain.verify()'), 't', 'the source trail is valid');

my $dumps = PostgreSQL::Test::Utils::tempdir;
$source->command_ok([ 'pg_dump', '-Fp', '-f', "$dumps/src.sql", 'src' ], 'pg_dump, plain format');
$source->command_ok([ 'pg_dump', '-Fc', '-f', "$dumps/src.dump", 'src' ], 'pg_dump, custom format');

my $target = new_audit_node('target', create_extension => 0);

my @copies = (
	[ $source, 'same_plain', 'plain' ],
	[ $source, 'same_custom', 'custom' ],
	[ $target, 'other_plain', 'plain' ],
	[ $target, 'other_custom', 'custom' ]);

for my $copy (@copies)
{
	my ($node, $db, $format) = @$copy;
	my $where = ($node == $source ? 'same cluster' : 'other cluster') . ", $format format";
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	if ($format eq 'plain')
	{
		$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db, '-f', "$dumps/src.sql" ],
			"$where: restored with psql");
	}
	else
	{
		$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $db, "$dumps/src.dump" ],
			"$where: restored with pg_restore");
	}

	is($node->safe_psql($db, 'SELECT ledger_id FROM audit_chain.ledger'), $ledger, "$where: same ledger_id");
	is($node->safe_psql($db, 'SELECT count(*) FROM audit_chain.events'), $count,
		"$where: same number of events (the restore added none)");
	is($node->safe_psql($db, $fingerprint_sql), $fingerprint, "$where: the events are identical");
	is($node->safe_psql($db, $tracked_sql), $tracked, "$where: the same tables are tracked");
	is($node->safe_psql($db, $triggers_sql), $triggers, "$where: the same capture triggers, none twice");
	is( $node->safe_psql(
			$db, q{SELECT valid, events_checked, reason IS NULL FROM audit_chain.verify()}),
		"t|$count|t",
		"$where: verify() is valid");
	is($node->safe_psql($db, "SELECT valid, reason IS NULL FROM audit_chain.verify('$digest'::jsonb)"),
		't|t', "$where: verify(digest of the source) is valid");
	is($node->safe_psql($db, "SELECT valid FROM audit_chain.verify('$digest'::jsonb, true)"),
		't', "$where: incremental verify(digest of the source) is valid");
	is($node->safe_psql($db, 'SELECT valid FROM audit_chain.checkpoint()'), 't',
		"$where: checkpoint() over the restored trail is valid");

	# New audited writes continue the chains.
	my ($max_commit_seq, $max_context) = split /\|/,
	  $node->safe_psql($db, 'SELECT max(commit_seq), max(context_id) FROM audit_chain.events');
	$node->safe_psql(
		$db, q{
		UPDATE items SET price = price * 2 WHERE id <= 3;
		INSERT INTO pairs VALUES (1000, 'new', 1);
		INSERT INTO nokey VALUES (1000, 'new');
		INSERT INTO measurements VALUES (1000, '2026-03-01', 1), (1001, '2025-05-01', 2);
		TRUNCATE measurements_2025;  -- a partition: its row becomes a DELETE event
		BEGIN;
		SET LOCAL audit_chain.actor_id = 'restored';
		DELETE FROM items WHERE id = 4;
		COMMIT;
	});
	my @sess = map { $node->background_psql($db) } 1 .. 3;
	$_->query_safe('BEGIN') for @sess;
	$sess[$_]->query_safe("UPDATE pairs SET v = v + 100 WHERE a = " . ($_ + 30)) for 0 .. 2;
	$_->query_safe('COMMIT') for @sess;
	$_->quit for @sess;

	is( $node->safe_psql(
			$db, qq{
		SELECT count(*), count(*) FILTER (WHERE commit_seq <= $max_commit_seq)
		  FROM audit_chain.events WHERE seq > coalesce(
		    (SELECT (h->>'seq')::bigint FROM jsonb_array_elements('$digest'::jsonb->'heads') h
		      WHERE (h->>'chain_id')::int = events.chain_id), 0)}),
		"12|0",
		"$where: the 12 new events follow the source heads, with later commit_seq");
	is( $node->safe_psql(
			$db, qq{SELECT count(*) FROM audit_chain.audit_events WHERE actor_id = 'restored'}),
		'1', "$where: new context recorded");
	chain_checks($node, $db, "$where, after new writes");
	is($node->safe_psql($db, "SELECT valid, reason IS NULL FROM audit_chain.verify('$digest'::jsonb)"),
		't|t', "$where: after new writes the trail still extends the source digest");
}

# The source goes on independently.
$source->safe_psql('src', q{UPDATE items SET price = 0 WHERE id = 1});
is($source->safe_psql('src', "SELECT valid FROM audit_chain.verify('$digest'::jsonb)"), 't',
	'the source still extends its digest');

$source->stop;
$target->stop;
done_testing();
