# test/t/010_external_verify.pl: exported events verify outside the database.
#
# Claims: what audit_chain.events_export and audit_chain.digest() give is enough to verify
# the trail with nothing but the hash specification in README.md: both standalone verifiers (the independent
# Python reference tools/reference_verifier.py and the C++ tool audit_chain_verify_export)
# accept an export of real, varied traffic (numeric with scale, floats, timestamptz under a
# non-UTC TimeZone, nested jsonb, unicode, arrays, NULLs, a composite key, two concurrent
# sessions with different contexts, TRUNCATE, erasure), agree with each other line by line,
# and reject it after one value of new_data changes, even to a numerically equal literal.
#
# Environment: AUDIT_CHAIN_STAGE (required: "make install DESTDIR=..." tree),
# AUDIT_CHAIN_VERIFY_EXPORT (the C++ tool; default .tmp/build-cmake/audit_chain_verify_export
# under the repository root, skipped if absent), AUDIT_CHAIN_ROOT (repository root; default:
# two levels above this file).
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => 'AUDIT_CHAIN_STAGE is not set (a "make install DESTDIR=..." directory)'
  unless defined $ENV{AUDIT_CHAIN_STAGE} && $ENV{AUDIT_CHAIN_STAGE} ne '';

# PostgreSQL::Test::Cluster->init runs pg_regress --config-auth.
if (!defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '')
{
	my $pkglibdir = `pg_config --pkglibdir 2>/dev/null`;
	chomp $pkglibdir;
	$pkglibdir = '/usr/lib/postgresql/15/lib' if $pkglibdir eq '';
	$ENV{PG_REGRESS} = "$pkglibdir/pgxs/src/test/regress/pg_regress";
}

my $root = $ENV{AUDIT_CHAIN_ROOT} // abs_path(dirname(abs_path(__FILE__)) . '/../..');
my $python_verifier = "$root/tools/reference_verifier.py";
my $cpp_verifier = $ENV{AUDIT_CHAIN_VERIFY_EXPORT}
  // "$root/.tmp/build-cmake/audit_chain_verify_export";
my $have_cpp = -x $cpp_verifier;

my $node = PostgreSQL::Test::Cluster->new('external_verify');
$node->init;
$node->append_conf('postgresql.conf', "extension_destdir = '$ENV{AUDIT_CHAIN_STAGE}'");
$node->append_conf('postgresql.conf', "max_prepared_transactions = 10");
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION audit_chain;
	CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
	CREATE TABLE items (
		region      text        NOT NULL,
		item_no     int         NOT NULL,
		amount      numeric(12,4),
		ratio       float8,
		ratio4      float4,
		happened_at timestamptz,
		day         date,
		attrs       jsonb,
		note        text,
		tags        text[],
		grid        int[],
		flag        boolean,
		big         bigint,
		raw         bytea,
		feeling     mood,
		PRIMARY KEY (region, item_no)
	);
	SELECT audit_chain.track('items');
});

# Two sessions with different contexts and session settings, with overlapping transactions.
my $s1 = $node->background_psql('postgres');
my $s2 = $node->background_psql('postgres');
$s1->query_safe(q{SET TimeZone = 'America/St_Johns'; SET extra_float_digits = 0; SET DateStyle = 'SQL, DMY'});
$s2->query_safe(q{SET TimeZone = 'Asia/Kathmandu'; SET extra_float_digits = 3; SET lc_monetary = 'C'});

$s1->query_safe(
	q{BEGIN;
	SET LOCAL audit_chain.actor_id = 'alice@example.com';
	SET LOCAL audit_chain.actor_type = 'user';
	SET LOCAL audit_chain.request_id = 'req-001';
	SET LOCAL audit_chain.reason = 'import of the spring catalogue – überprüft';
	INSERT INTO items VALUES
	  ('eu', 1, 12.5, 0.1, 0.1, '2026-03-29 01:30:00+01', '2026-03-29',
	   '{"b": {"deep": [1, 2.50, {"z": null, "ä": "ö"}]}, "a": 1.0, "名前": "値", "big": 123456789012345678901234567890}',
	   'tamper-me-ok Grüße aus Zürich 😀', ARRAY['x', 'ÿ', NULL, 'with "quotes" and \\ backslash'],
	   ARRAY[[1, 2], [3, 4]], true, 9223372036854775807, '\x00ff10', 'happy'),
	  ('eu', 2, -0.0001, 'NaN', '-Infinity', '1969-12-31 23:59:59.999999+00', '0044-03-15 BC',
	   '[]', E'line1\nline2\ttab', '{}', NULL, false, -9223372036854775808, '', 'sad'),
	  ('us', 1, NULL, 1e300, 3.4e38, 'infinity', 'infinity', 'null', '', NULL, ARRAY[]::int[], NULL, 0, NULL, NULL)});

$s2->query_safe(
	q{BEGIN;
	SET LOCAL audit_chain.actor_id = 'svc-sync';
	SET LOCAL audit_chain.actor_type = 'service';
	SET LOCAL audit_chain.client_addr = '203.0.113.9';
	SET LOCAL audit_chain.user_agent = 'sync/2.1 (linux)';
	SET LOCAL audit_chain.session_id = 'sess-42';
	INSERT INTO items (region, item_no, amount, ratio, note, attrs)
	  VALUES ('ap', 7, 99999999.9999, 2.5e-308, 'erase-me@example.com', '{"contact": "erase-me@example.com"}')});

$s1->query_safe('COMMIT');
$s2->query_safe('COMMIT');

$s2->query_safe(
	q{BEGIN;
	SET LOCAL audit_chain.actor_id = 'svc-sync';
	SET LOCAL audit_chain.actor_type = 'service';
	UPDATE items SET amount = amount * 2, ratio = ratio / 3, attrs = attrs || '{"c": [true, false]}',
	                 happened_at = happened_at + interval '1 hour 0.5 second'
	 WHERE region = 'eu' AND item_no = 1;
	UPDATE items SET item_no = 8, tags = ARRAY['moved'] WHERE region = 'ap';
	DELETE FROM items WHERE region = 'us';
	COMMIT});

$s1->query_safe(
	q{BEGIN;
	SET LOCAL audit_chain.actor_id = 'root-ops';
	SET LOCAL audit_chain.actor_type = 'admin';
	UPDATE items SET flag = NOT coalesce(flag, false), feeling = 'ok' WHERE region = 'eu';
	COMMIT});

$s1->quit;
$s2->quit;

# TRUNCATE, then new rows, from a third session.
$node->safe_psql(
	'postgres', q{
	BEGIN;
	SET LOCAL audit_chain.actor_id = 'maintenance';
	SET LOCAL audit_chain.reason = 'reset';
	TRUNCATE items;
	INSERT INTO items (region, item_no, amount, note) VALUES ('eu', 1, 0.5000, 'after truncate');
	COMMIT;
});

# Numbers are hashed as the literal PostgreSQL prints: the commit writer and verify() print
# them from the stored digits without numeric_out, so thousands of numerics of every scale
# and magnitude (short and long stored formats, negative weights, trailing zeros, zero with
# a scale) must come out exactly as the export (jsonb's text, numeric_out) shows them.
$node->safe_psql(
	'postgres', q{
	CREATE TABLE nums (id int PRIMARY KEY, n numeric, j jsonb);
	SELECT audit_chain.track('nums');
	SELECT setseed(0.4242);
	INSERT INTO nums
	SELECT g, v, jsonb_build_object('v', v, 'a', jsonb_build_array(v, -v, v * 10), 'z', 0.000)
	  FROM (SELECT g, round(((random() - 0.5) * 10 ^ (random() * 90 - 30))::numeric, (random() * 40)::int) AS v
	          FROM generate_series(1, 1500) g) s;
	INSERT INTO nums VALUES
	  (2001, 0, '0'), (2002, 0.0000, '[0.00, -0.0]'), (2003, -0.0001, '[1e-130]'), (2004, 1e131, '[1e131]'),
	  (2005, 9999.9999, '[10000, 99999999, 100000000]'), (2006, -12345678901234567890.123456789, '{"k": 1.50}'),
	  (2007, 0.1, '[0.01, 0.001, 0.0001, 0.00001]'), (2008, 123.4560000, '[1.000000000000000000001]');
	UPDATE nums SET n = n * 3 + 0.5, j = j || jsonb_build_object('w', n / 7) WHERE id % 3 = 0;
});

# Erasure: the salt goes, an erasure record comes; the trail must still verify outside too.
my $erased = $node->safe_psql('postgres', q{SELECT audit_chain.erase_value('erase-me@example.com')});
cmp_ok($erased, '>=', 1, 'erase_value() erased values in at least one event');
is( $node->safe_psql('postgres',
		q{SELECT count(*) > 0 FROM audit_chain.events WHERE erasure IS NOT NULL AND salt IS NULL}),
	't',
	'some events carry an erasure record and no salt');

# Context attributes: the actor, the client address and the user agent of a context erased
# (one attribute after another, each erasure building on the record of the one before).
for my $value ('alice@example.com', '203.0.113.9', 'sync/2.1 (linux)')
{
	cmp_ok($node->safe_psql('postgres', qq{SELECT audit_chain.erase_value('$value')}),
		'>=', 1, "erase_value('$value') erased a context attribute");
}
is( $node->safe_psql('postgres',
		q{SELECT count(*) FILTER (WHERE erasure IS NOT NULL AND salt IS NULL) >= 2
		     AND count(*) FILTER (WHERE erasure->'commitments' ?& ARRAY['client_addr', 'user_agent']) = 1
		     AND count(*) FILTER (WHERE strpos(contexts::text, 'alice@example.com') > 0) = 0
		    FROM audit_chain.contexts}),
	't',
	'contexts carry erasure records; the erased actor is gone');

# Every event names a table, or audit_chain itself for TRACK/ERASE bookkeeping.
is( $node->safe_psql('postgres',
		q{SELECT count(*) FROM audit_chain.audit_events
		   WHERE resource_type NOT IN ('public.items', 'public.nums', 'audit_chain')}),
	'0',
	'every event has resource_type public.items, public.nums or audit_chain');
is( $node->safe_psql('postgres',
		q{SELECT string_agg(DISTINCT resource_type, ',') FROM audit_chain.audit_events WHERE action = 'ERASE'}),
	'audit_chain',
	'the ERASE bookkeeping event is recorded under resource_type audit_chain');

is($node->safe_psql('postgres', 'SELECT valid FROM audit_chain.verify()'),
	't', 'verify() inside the database: valid');

# ---- export ----
my $dir = PostgreSQL::Test::Utils::tempdir;
my $export = $node->safe_psql('postgres',
	'SELECT event FROM audit_chain.events_export ORDER BY chain_id, seq');
my $digest = $node->safe_psql('postgres', 'SELECT audit_chain.digest()');
my @lines = split /\n/, $export;
my $nevents = $node->safe_psql('postgres', 'SELECT count(*) FROM audit_chain.events');
is(scalar(@lines), $nevents, 'one exported line per event');
cmp_ok($nevents, '>=', 10, 'the workload produced events');
note 'chains used: '
  . $node->safe_psql('postgres', 'SELECT count(DISTINCT chain_id) FROM audit_chain.events');

sub write_file
{
	my ($path, $content) = @_;
	open my $fh, '>:raw', $path or die "cannot write $path: $!";
	print $fh $content;
	close $fh or die "cannot write $path: $!";
	return $path;
}

my $events_file = write_file("$dir/events.jsonl", join('', map { "$_\n" } @lines));
my $digest_file = write_file("$dir/digest.json", "$digest\n");

# Runs a verifier; returns (exit status, stdout, stderr).
sub run_verifier
{
	my ($which, @args) = @_;
	my @cmd = $which eq 'python' ? ('python3', $python_verifier) : ($cpp_verifier);
	my ($out, $err) = ('', '');
	IPC::Run::run([ @cmd, @args ], '<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	note "$which @args: exit $rc\n$out$err";
	return ($rc, $out, $err);
}

sub last_line
{
	my ($text) = @_;
	my @l = split /\n/, $text;
	return @l ? $l[-1] : '';
}

# Checks one input with both verifiers: exit status, verdict, and identical reports.
sub check_both
{
	my ($label, $expect_rc, $expect_verdict, @args) = @_;
	my ($prc, $pout) = run_verifier('python', @args);
	is($prc, $expect_rc, "$label: reference verifier exit status $expect_rc");
	like(last_line($pout), $expect_verdict, "$label: reference verifier verdict");
  SKIP:
	{
		skip "C++ verifier not built ($cpp_verifier)", 3 unless $have_cpp;
		my ($crc, $cout) = run_verifier('cpp', @args);
		is($crc, $expect_rc, "$label: C++ verifier exit status $expect_rc");
		like(last_line($cout), $expect_verdict, "$label: C++ verifier verdict");
		is($cout, $pout, "$label: both verifiers give the same report");
	}
	return $pout;
}

my $report = check_both('untouched export with digest', 0, qr/^valid$/, '--digest', $digest_file, $events_file);
my $nchains = () = $report =~ /^chain \d+: valid, /mg;
is($nchains, $node->safe_psql('postgres', 'SELECT count(DISTINCT chain_id) FROM audit_chain.events'),
	'every chain is reported valid');
like($report, qr/^digest: valid, \d+ heads$/m, 'the digest checks out');

# The same lines in reverse order (any order is allowed).
my $reversed = write_file("$dir/reversed.jsonl", join('', map { "$_\n" } reverse @lines));
check_both('reversed export', 0, qr/^valid$/, $reversed);

# ---- tampering ----
# Where each line is: (chain_id, seq) of line i.
sub position
{
	my ($line) = @_;
	my ($chain) = $line =~ /"chain_id": (\d+)/;
	my ($seq) = $line =~ /"seq": (\d+)/;
	return ($chain, $seq);
}

# One value of new_data changes.
my ($target) = grep { $lines[$_] =~ /"new_data": \{[^\n]*tamper-me-ok/ } 0 .. $#lines;
ok(defined $target, 'found the INSERT event to tamper with');
my @tampered = @lines;
$tampered[$target] =~ s/tamper-me-ok/tamper-me-OK/;
my ($chain, $seq) = position($lines[$target]);
check_both(
	'one text value in new_data changed', 1,
	qr/^INVALID: event $seq of chain $chain does not match its hash/,
	write_file("$dir/tampered.jsonl", join('', map { "$_\n" } @tampered)));

# A numerically equal literal: 12.5000 (numeric(12,4)) rewritten as 12.5.
my ($num_target) = grep { $lines[$_] =~ /"new_data": \{[^\n]*"amount": 12\.5000[,}]/ } 0 .. $#lines;
ok(defined $num_target, 'found an event with amount 12.5000 in new_data');
my @renumbered = @lines;
$renumbered[$num_target] =~ s/("new_data": \{[^\n]*"amount": )12\.5000/${1}12.5/;
isnt($renumbered[$num_target], $lines[$num_target], 'the literal was rewritten');
($chain, $seq) = position($lines[$num_target]);
check_both(
	'12.5000 rewritten as the equal number 12.5', 1,
	qr/^INVALID: event $seq of chain $chain does not match its hash/,
	write_file("$dir/renumbered.jsonl", join('', map { "$_\n" } @renumbered)));

# A deleted event.
my @missing = @lines;
my ($mchain, $mseq) = position($missing[1]);
splice(@missing, 1, 1);
my $next_in_chain = (grep { (position($_))[0] == $mchain && (position($_))[1] > $mseq } @missing) ? 1 : 0;
check_both(
	'one event deleted', 1,
	$next_in_chain
	? qr/^INVALID: event $mseq of chain $mchain is missing/
	: qr/^INVALID: chain $mchain ends at event \d+ but the digest has event \d+: history was truncated$/,
	'--digest', $digest_file,
	write_file("$dir/missing.jsonl", join('', map { "$_\n" } @missing)));

# The digest itself altered.
(my $bad_digest = $digest) =~ s/("digest": ")(.)/$1 . ($2 eq '0' ? '1' : '0')/e;
check_both(
	'digest value altered', 1,
	qr/^INVALID: the digest value does not match its heads: the digest was altered$/,
	'--digest', write_file("$dir/bad_digest.json", "$bad_digest\n"), $events_file);

# An erased context attribute given back its value, and one that was not erased changed.
my ($ctx_target) = grep { $lines[$_] =~ /"context": \{[^\n]*"actor_id": "\[ERASED:[0-9a-f]{16}\]"/ } 0 .. $#lines;
ok(defined $ctx_target, 'found an event under the context whose actor was erased');
my @unerased = @lines;
$unerased[$ctx_target] =~ s/("actor_id": )"\[ERASED:[0-9a-f]{16}\]"/$1"alice\@example.com"/;
($chain, $seq) = position($lines[$ctx_target]);
check_both(
	'an erased context attribute given back its value', 1,
	qr/^INVALID: event $seq of chain $chain /,
	write_file("$dir/unerased.jsonl", join('', map { "$_\n" } @unerased)));
my @reworded = @lines;
$reworded[$ctx_target] =~ s/("request_id": )"req-001"/$1"req-002"/;
isnt($reworded[$ctx_target], $lines[$ctx_target], 'the request_id was rewritten');
check_both(
	'an attribute of an erased context changed', 1,
	qr/^INVALID: event $seq of chain $chain does not match its hash/,
	write_file("$dir/reworded.jsonl", join('', map { "$_\n" } @reworded)));

# Not an export at all: parse error.
check_both('garbage line', 2, qr/^$/,
	write_file("$dir/garbage.jsonl", join('', map { "$_\n" } @lines, 'not json')));

$node->stop;
done_testing();
