# test/t/011_time_travel_random.pl: time travel against recorded ground truth.
#
# A random workload (fixed seed, printed; AUDIT_CHAIN_TT_SEED repeats another run) of a few
# hundred transactions from three concurrent sessions changes two tracked tables: tb with an
# int key and ta with a composite (int, text) key, with int, numeric(10,2), unicode text,
# timestamptz, int[], nested jsonb and boolean columns and NULLs. Operations: inserts, updates
# of random columns (to NULL too), deletes, re-inserts of deleted keys, key changes, multi-row
# updates, savepoints rolled back, rolled-back transactions, and TRUNCATE.
#
# At about twenty moments the committed state of both tables is copied (CREATE TABLE gt_* AS)
# and clock_timestamp() is recorded right after; other sessions often have uncommitted
# statements at that point, which must not be part of the past. Claims, for every moment:
#   - table_at(NULL::t, T) equals the copy exactly (EXCEPT ALL both ways, same count);
#   - table_at('t', T) gives the same rows through jsonb_populate_record, each object having
#     exactly the table's columns;
#   - row_at, typed and jsonb, equals the copy's row or NULL for a sample of keys: present,
#     deleted, changed, never existing.
# Also: a change whose statement ran before T and whose commit came after T is not visible
# at T, and is at a later moment; the chains stay dense and valid.
#
# JSON null as a whole jsonb value is left out (it comes back as SQL NULL; see
# sql/time_travel.sql), as are tables without a key (see the same file).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use AuditChainTest;

skip_unless_staged();

my $seed = $ENV{AUDIT_CHAIN_TT_SEED} // 20261123;
srand($seed);
note("random seed $seed (AUDIT_CHAIN_TT_SEED=$seed repeats this run)");

my $rounds = 600;         # each round adds to or ends a session's transaction
my $moment_every = 30;    # rounds between moments
my $nsessions = 3;
my $db = 'tt';
my $t_start = time;

my $node = new_audit_node('time_travel', conf => "log_statement = none", create_extension => 0);
$node->safe_psql('postgres',
	q{CREATE DATABASE tt ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'});
$node->safe_psql(
	$db, q{
	CREATE EXTENSION audit_chain;
	CREATE TABLE ta (k1 int, k2 text, i int, n numeric(10,2), t text, ts timestamptz, arr int[], doc jsonb,
	                 b boolean, PRIMARY KEY (k1, k2));
	CREATE TABLE tb (id int PRIMARY KEY, i int, n numeric(10,2), t text, ts timestamptz, arr int[], doc jsonb,
	                 b boolean);
	-- Not tracked: the recorded moments, and the keys whose rows are compared one by one.
	CREATE TABLE moments (n int PRIMARY KEY, at timestamptz NOT NULL, pending int NOT NULL);
	CREATE TABLE sample_a (k1 int NOT NULL, k2 text NOT NULL);
	CREATE TABLE sample_b (id int NOT NULL);

	-- table_at in both forms against the copy gt_<tbl>_<n>: rows then, rows in the copy, rows
	-- only in the typed form, only in the copy, only in the jsonb form (typed through the row
	-- type), only in the copy, and jsonb objects whose keys are not exactly the columns.
	CREATE FUNCTION check_table(tbl text, n int)
	RETURNS TABLE (rows_then bigint, rows_truth bigint, typed_only_then bigint, typed_only_truth bigint,
	               json_only_then bigint, json_only_truth bigint, json_other_keys bigint)
	LANGUAGE plpgsql AS $f$
	DECLARE
	    at timestamptz := (SELECT m.at FROM moments m WHERE m.n = check_table.n);
	    gt text := format('gt_%s_%s', tbl, n);
	    typed text := format('SELECT * FROM audit_chain.table_at(NULL::%s, %L)', tbl, at);
	    json text := format('SELECT (jsonb_populate_record(NULL::%s, j)).* FROM audit_chain.table_at(%L::regclass, %L) j',
	                        tbl, tbl, at);
	BEGIN
	    RETURN QUERY EXECUTE format(
	        'SELECT (SELECT count(*) FROM (%1$s) x), (SELECT count(*) FROM %3$I),
	                (SELECT count(*) FROM (%1$s EXCEPT ALL SELECT * FROM %3$I) x),
	                (SELECT count(*) FROM (SELECT * FROM %3$I EXCEPT ALL %1$s) x),
	                (SELECT count(*) FROM (%2$s EXCEPT ALL SELECT * FROM %3$I) x),
	                (SELECT count(*) FROM (SELECT * FROM %3$I EXCEPT ALL %2$s) x),
	                (SELECT count(*) FROM audit_chain.table_at(%4$L::regclass, %5$L) j
	                  WHERE (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(j) k)
	                        IS DISTINCT FROM (SELECT array_agg(attname::text ORDER BY attname::text) FROM pg_attribute
	                                           WHERE attrelid = %4$L::regclass AND attnum > 0 AND NOT attisdropped))',
	        typed, json, gt, tbl, at);
	END
	$f$;

	-- row_at for every sampled key at moment n: keys checked, present in the copy, typed
	-- answers that differ from the copy's row (or from NULL), jsonb answers that differ.
	CREATE FUNCTION check_rows(tbl text, n int)
	RETURNS TABLE (checked bigint, present bigint, typed_wrong bigint, json_wrong bigint)
	LANGUAGE plpgsql AS $f$
	DECLARE
	    at timestamptz := (SELECT m.at FROM moments m WHERE m.n = check_rows.n);
	    gt text := format('gt_%s_%s', tbl, n);
	    key_expr text := CASE tbl WHEN 'ta' THEN 'jsonb_build_object(''k1'', s.k1, ''k2'', s.k2)'
	                              ELSE 'jsonb_build_object(''id'', s.id)' END;
	    join_cond text := CASE tbl WHEN 'ta' THEN 'g.k1 = s.k1 AND g.k2 = s.k2' ELSE 'g.id = s.id' END;
	    present text := CASE tbl WHEN 'ta' THEN 'g.k1' ELSE 'g.id' END;
	BEGIN
	    RETURN QUERY EXECUTE format(
	        'SELECT count(*), count(%7$s),
	                count(*) FILTER (WHERE to_jsonb(audit_chain.row_at(NULL::%1$s, %3$s, %5$L)) IS DISTINCT FROM to_jsonb(g)),
	                count(*) FILTER (WHERE (SELECT CASE WHEN j IS NULL THEN NULL ELSE to_jsonb(jsonb_populate_record(NULL::%1$s, j)) END
	                                          FROM audit_chain.row_at(%1$L::regclass, %3$s, %5$L) j)
	                                       IS DISTINCT FROM to_jsonb(g))
	           FROM %2$I s LEFT JOIN %4$I g ON %6$s',
	        tbl, 'sample_' || right(tbl, 1), key_expr, gt, at, join_cond, present);
	END
	$f$;
});

# Rows that exist before tracking: known from the baseline.
$node->safe_psql(
	$db, q{
	INSERT INTO tb SELECT g, g * 10, g * 1.5, 'before tracking ' || g, '2026-01-01 00:00:00+00', ARRAY[g], jsonb_build_object('g', g), g % 2 = 0
	  FROM generate_series(1, 12) g;
	INSERT INTO ta SELECT g, 'pre', g, NULL, E'vorher \u00e4', NULL, '{}', '[]', NULL FROM generate_series(1, 9) g;
	SELECT audit_chain.track('ta'), audit_chain.track('tb');
});

# ---------------------------------------------------------------------------------- values
sub pick { return $_[ int(rand(scalar @_)) ]; }

sub lit
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

sub v_int { return rand() < 0.12 ? 'NULL' : int(rand(2001)) - 1000; }

sub v_num
{
	my $r = rand();
	return 'NULL' if $r < 0.12;
	return "'0.10'" if $r < 0.17;
	return int(rand(100)) if $r < 0.25;    # an integer: stored with two decimals
	return sprintf('%.2f', rand(2e6) - 1e6);
}

my @texts = (
	q{E'Z\u00fcrich \u2713'}, q{E'\u65e5\u672c\u8a9e'}, q{E'emoji \U0001F600 !'},
	q{'quote '' and "double"'}, q{E'back\\\\slash \\\\n'}, q{''}, q{'  spaces  '}, 'NULL');

sub v_text { return rand() < 0.3 ? lit('plain ' . int(rand(1000))) : pick(@texts); }

sub v_ts
{
	my $r = rand();
	return 'NULL' if $r < 0.1;
	return "'infinity'" if $r < 0.12;
	return "'-infinity'" if $r < 0.14;
	return sprintf(
		"'%04d-%02d-%02d %02d:%02d:%02d.%06d%s'",
		1990 + int(rand(60)), 1 + int(rand(12)), 1 + int(rand(28)), int(rand(24)), int(rand(60)), int(rand(60)),
		int(rand(1_000_000)), pick('+00', '+05:45', '-03:30', '+14', '-12', '+01'));
}

sub v_arr
{
	my $r = rand();
	return 'NULL' if $r < 0.1;
	return "'{}'" if $r < 0.2;
	return "'{" . join(',', map { rand() < 0.15 ? 'NULL' : int(rand(201)) - 100 } 1 .. 1 + int(rand(4))) . "}'";
}

sub json_value
{
	my ($depth) = @_;
	my $r = rand();
	if ($depth < 3 && $r < 0.25)
	{
		my @keys = grep { rand() < 0.5 } ('a', 'b', 'c d', 'e', "f\\u00e9", 'g');
		return '{' . join(', ', map { "\"$_\": " . json_value($depth + 1) } @keys) . '}';
	}
	if ($depth < 3 && $r < 0.45)
	{
		return '[' . join(', ', map { json_value($depth + 1) } 1 .. int(rand(4))) . ']';
	}
	return pick('null', 'true', 'false', int(rand(100)), '1.50', '-0.001', '1e3', '"text"', '"caf\\u00e9"',
		'"\\"quoted\\""', '""');
}

sub v_doc
{
	return 'NULL' if rand() < 0.12;
	# a whole value of JSON null is left out (see the header)
	my $doc = rand() < 0.8 ? '{"top": ' . json_value(1) . ', "n": ' . int(rand(10)) . '}' : '[' . json_value(1) . ']';
	return lit($doc) . '::jsonb';
}

sub v_bool { return pick('true', 'false', 'NULL'); }

my @value_columns = qw(i n t ts arr doc b);
my %gen = (i => \&v_int, n => \&v_num, t => \&v_text, ts => \&v_ts, arr => \&v_arr, doc => \&v_doc, b => \&v_bool);

sub row_values { return join(', ', map { $gen{$_}->() } @value_columns); }

sub set_list
{
	my @cols = grep { rand() < 0.35 } @value_columns;
	@cols = (pick(@value_columns)) unless @cols;
	return join(', ', map { "$_ = " . $gen{$_}->() } @cols);
}

# ---------------------------------------------------------------------------------- sessions
# Session s owns the keys with id % 3 = s (tb) and k1 % 3 = s (ta), so sessions never wait
# for each other's row locks; TRUNCATE runs only when no other transaction is open.
my @zones = ('Asia/Kathmandu', 'America/St_Johns', 'UTC');
my @sess = map { $node->background_psql($db) } 1 .. $nsessions;
for my $s (0 .. $nsessions - 1)
{
	$sess[$s]->query_safe("SET TimeZone = '$zones[$s]'");
}
my $observer = $node->background_psql($db);

my @open = (0) x $nsessions;       # in a transaction
my @pending = (0) x $nsessions;    # statements not yet committed
my (%used_b, %used_a);             # keys ever written, "id" and "k1|k2"
my @k2_values = ('a', 'b', 'x y', "o'k", "\xc3\xbcber", "\xe2\x9c\x93");

sub existing_b
{
	my ($s) = @_;
	return grep { length } split /\n/, $sess[$s]->query_safe("SELECT id FROM tb WHERE id % 3 = $s ORDER BY id");
}

sub existing_a
{
	my ($s) = @_;
	return grep { length }
	  split /\n/, $sess[$s]->query_safe("SELECT k1 || '|' || k2 FROM ta WHERE k1 % 3 = $s ORDER BY k1, k2");
}

sub key_b_cond { my ($id) = @_; return "id = $id"; }

sub key_a_cond
{
	my ($key) = @_;
	my ($k1, $k2) = split /\|/, $key, 2;
	return "k1 = $k1 AND k2 = " . lit($k2);
}

# A key of session s's class that does not exist now: never used (new) or used (re-insert).
sub free_b
{
	my ($s, $reuse, $existing) = @_;
	my %ex = map { $_ => 1 } @$existing;
	if ($reuse)
	{
		my @old = sort { $a <=> $b } grep { !$ex{$_} && $_ % 3 == $s } keys %used_b;
		return pick(@old) if @old;
	}
	for (1 .. 50)
	{
		my $id = 3 * int(rand(100)) + $s;
		next if $id == 0 || $ex{$id};
		return $id;
	}
	return undef;
}

sub free_a
{
	my ($s, $reuse, $existing) = @_;
	my %ex = map { $_ => 1 } @$existing;
	if ($reuse)
	{
		my @old = sort { $a cmp $b } grep { !$ex{$_} && (split /\|/, $_)[0] % 3 == $s } keys %used_a;
		return pick(@old) if @old;
	}
	for (1 .. 50)
	{
		my $key = (3 * int(rand(15)) + $s) . '|' . pick(@k2_values);
		next if $ex{$key} || $key =~ /^0\|/;
		return $key;
	}
	return undef;
}

my %op_count;

# One random statement of session s on one of the tables.
sub random_op
{
	my ($s) = @_;
	my $on_a = rand() < 0.45;
	my @existing = $on_a ? existing_a($s) : existing_b($s);
	my $r = rand();
	my $sql;
	my $kind;
	if ($r < 0.30 || !@existing)
	{
		my $reuse = rand() < 0.35;
		my $key = $on_a ? free_a($s, $reuse, \@existing) : free_b($s, $reuse, \@existing);
		return unless defined $key;
		$kind = $reuse ? 'reinsert' : 'insert';
		if ($on_a)
		{
			my ($k1, $k2) = split /\|/, $key, 2;
			$sql = "INSERT INTO ta VALUES ($k1, " . lit($k2) . ', ' . row_values() . ')';
			$used_a{$key} = 1;
		}
		else
		{
			$sql = "INSERT INTO tb VALUES ($key, " . row_values() . ')';
			$used_b{$key} = 1;
		}
	}
	elsif ($r < 0.70)
	{
		$kind = 'update';
		my $key = pick(@existing);
		my $set = rand() < 0.05 ? 'b = b' : set_list();    # sometimes a change of nothing
		$sql = $on_a ? "UPDATE ta SET $set WHERE " . key_a_cond($key) : "UPDATE tb SET $set WHERE " . key_b_cond($key);
	}
	elsif ($r < 0.76)
	{
		$kind = 'update_many';
		my $m = 2 + int(rand(3));
		my $k = int(rand($m));
		$sql = $on_a
		  ? "UPDATE ta SET i = coalesce(i, 0) + 1, b = NOT b WHERE k1 % 3 = $s AND k1 % $m = $k"
		  : "UPDATE tb SET n = n + 0.01, t = NULL WHERE id % 3 = $s AND id % $m = $k";
	}
	elsif ($r < 0.90)
	{
		$kind = 'delete';
		my $key = pick(@existing);
		$sql = $on_a ? 'DELETE FROM ta WHERE ' . key_a_cond($key) : 'DELETE FROM tb WHERE ' . key_b_cond($key);
	}
	else
	{
		$kind = 'rekey';
		my $key = pick(@existing);
		my $new = $on_a ? free_a($s, rand() < 0.3, \@existing) : free_b($s, rand() < 0.3, \@existing);
		return unless defined $new;
		my $also = rand() < 0.5 ? ', ' . set_list() : '';
		if ($on_a)
		{
			my ($k1, $k2) = split /\|/, $new, 2;
			$sql = "UPDATE ta SET k1 = $k1, k2 = " . lit($k2) . "$also WHERE " . key_a_cond($key);
			$used_a{$new} = 1;
		}
		else
		{
			$sql = "UPDATE tb SET id = $new$also WHERE " . key_b_cond($key);
			$used_b{$new} = 1;
		}
	}
	$op_count{$kind}++;
	$sess[$s]->query_safe($sql);
	$pending[$s]++;
	return 1;
}

sub begin_tx
{
	my ($s) = @_;
	return if $open[$s];
	$sess[$s]->query_safe(pick('BEGIN', 'BEGIN', 'BEGIN ISOLATION LEVEL REPEATABLE READ'));
	$open[$s] = 1;
	$pending[$s] = 0;
}

sub end_tx
{
	my ($s, $commit) = @_;
	return unless $open[$s];
	$sess[$s]->query_safe($commit ? 'COMMIT' : 'ROLLBACK');
	$op_count{ $commit ? 'commit' : 'rollback' }++;
	$open[$s] = 0;
	$pending[$s] = 0;
}

# Copies the committed state, then records the moment.
my $moments = 0;
my $moments_with_pending = 0;

sub record_moment
{
	my $n = $moments++;
	my $p = grep { $_ > 0 } @pending;
	$moments_with_pending++ if $p;
	$observer->query_safe("CREATE TABLE gt_ta_$n AS SELECT * FROM ta");
	$observer->query_safe("CREATE TABLE gt_tb_$n AS SELECT * FROM tb");
	$observer->query_safe("INSERT INTO moments VALUES ($n, clock_timestamp(), $p)");
	return $n;
}

# ---------------------------------------------------------------------------------- workload
record_moment();
for my $round (1 .. $rounds)
{
	my $s = int(rand($nsessions));
	if ($round == 250 || $round == 470 || ($round > 30 && rand() < 0.004))
	{
		# TRUNCATE, alone or followed by inserts in its transaction.
		end_tx($_, rand() < 0.8) for 0 .. $nsessions - 1;
		begin_tx($s);
		$sess[$s]->query_safe(pick('TRUNCATE ta', 'TRUNCATE tb', 'TRUNCATE ta, tb'));
		$op_count{truncate}++;
		$pending[$s]++;
		random_op($s) for 1 .. int(rand(3));
		end_tx($s, 1);
	}
	else
	{
		begin_tx($s);
		for (1 .. 1 + int(rand(3)))
		{
			if (rand() < 0.08)
			{
				$sess[$s]->query_safe('SAVEPOINT sp');
				random_op($s);
				$sess[$s]->query_safe('ROLLBACK TO SAVEPOINT sp');
				$op_count{savepoint_rollback}++;
			}
			else
			{
				random_op($s);
			}
		}
		# Often left open while other sessions work; closed now or later.
		end_tx($s, rand() < 0.9) if rand() < 0.6;
	}
	if ($round % $moment_every == 0)
	{
		# Make sure some moments fall between a statement and its commit.
		if (!grep { $_ > 0 } @pending)
		{
			my $w = int(rand($nsessions));
			begin_tx($w);
			random_op($w);
		}
		record_moment();
	}
}
end_tx($_, 1) for 0 .. $nsessions - 1;

# A statement before T, its commit after T: not visible at T, visible at the next moment.
my ($marked) = existing_b(0);
if (!defined $marked)
{
	$sess[0]->query_safe('INSERT INTO tb (id, t) VALUES (3, NULL)');
	$marked = 3;
}
begin_tx(0);
$sess[0]->query_safe("UPDATE tb SET t = 'pending marker' WHERE id = $marked");
$pending[0]++;
my $before_commit = record_moment();
end_tx(0, 1);
my $after_commit = record_moment();
$_->quit for @sess;
$observer->quit;
my $t_workload = time - $t_start;
note(sprintf('workload: %d rounds, %d moments (%d with uncommitted statements), %.1fs; operations: %s',
		$rounds, $moments, $moments_with_pending, $t_workload,
		join(', ', map { "$_ $op_count{$_}" } sort keys %op_count)));

is( $node->safe_psql(
		$db, qq{SELECT (audit_chain.row_at('tb', '{"id": $marked}', at) ->> 't') IS DISTINCT FROM 'pending marker'
	          FROM moments WHERE n = $before_commit}),
	't',
	'a change whose statement ran before T but committed after T is not visible at T');
is( $node->safe_psql(
		$db, qq{SELECT audit_chain.row_at('tb', '{"id": $marked}', at) ->> 't' FROM moments WHERE n = $after_commit}),
	'pending marker',
	'it is visible once committed');
cmp_ok($moments_with_pending, '>=', 5, 'several moments fell between statements and their commits');
cmp_ok($op_count{$_} // 0, '>', 0, "the workload did some $_") for qw(insert reinsert update delete rekey truncate);

# ---------------------------------------------------------------------------------- checks
# Sampled keys: about 60 ever used per table, and keys that never existed.
my @sample_b = (sort { $a <=> $b } keys %used_b);
@sample_b = (grep { rand() < 60 / @sample_b } @sample_b) if @sample_b > 60;
my @sample_a = sort keys %used_a;
@sample_a = (grep { rand() < 60 / @sample_a } @sample_a) if @sample_a > 60;
$node->safe_psql($db,
	'INSERT INTO sample_b VALUES ' . join(', ', map { "($_)" } @sample_b, 1, 5, 9999, -1));
$node->safe_psql($db,
	'INSERT INTO sample_a VALUES '
	  . join(', ', map { my ($k1, $k2) = split /\|/, $_, 2; "($k1, " . lit($k2) . ')' } @sample_a, '1|pre', '4|pre', '1|never'));

my $t_checks = time;
for my $n (0 .. $moments - 1)
{
	for my $tbl ('ta', 'tb')
	{
		my ($then, $truth, @diff) = split /\|/, $node->safe_psql($db, "SELECT * FROM check_table('$tbl', $n)");
		is(join('|', $then, @diff), join('|', $truth, 0, 0, 0, 0, 0),
			"moment $n, $tbl: table_at has the $truth rows of the truth, typed and as jsonb");
		my ($checked, $present, $typed_wrong, $json_wrong) =
		  split /\|/, $node->safe_psql($db, "SELECT * FROM check_rows('$tbl', $n)");
		is("$typed_wrong|$json_wrong", '0|0',
			"moment $n, $tbl: row_at of $checked keys ($present present) matches the truth, typed and as jsonb");
	}
}
note(sprintf('checks took %.1fs', time - $t_checks));

chain_checks($node, $db, 'after the random workload');

$node->stop;
note(sprintf('total %.1fs', time - $t_start));
done_testing();
