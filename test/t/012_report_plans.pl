# test/t/012_report_plans.pl: the compliance reports on a trail of about 1,000,000 events.
#
# Claim: with a narrow time window, one day that is a small part of the trail, a specific
# resource or the failures, every report reaches the events through an index (BRIN on
# event_time, events_resource_idx, events_failures_idx; contexts_actor_id_idx for an
# actor's contexts), never reads audit_chain.events sequentially, and (once VACUUM has
# summarized the BRIN ranges) reads only a small part of it: the buffers its scans of
# audit_chain.events touch are counted, so an index scan that matches everything does not
# pass. (Without a window, actor_activity reads every event: there is no index from
# contexts to events.)
#
# The reports are PL/pgSQL functions planned for each call with the argument values
# (plan_cache_mode = force_custom_plan), with statistics from ANALYZE. The plans asserted
# here are the ones that actually run, logged by auto_explain (nested statements) and
# returned to the client as notices. The test also reports the bytes per event, indexes
# included.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use AuditChainTest;

skip_unless_staged();

# No autovacuum: the BRIN summaries change only when this test vacuums, so what it
# measures before and after does not depend on timing.
my $node = new_audit_node(
	'report_plans',
	conf => "shared_buffers = 128MB\nmax_wal_size = 2GB\ncheckpoint_timeout = 30min\n"
	  . "autovacuum = off\nlog_statement = none");

$node->safe_psql(
	'postgres', q{
	CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, amount numeric NOT NULL);
	SELECT audit_chain.track('orders', baseline => false);
});

# About 1,000,000 events in 100 transactions (one statement each, so event_time grows
# from one transaction to the next): row inserts and updates of orders by 12 actors of
# every type from several addresses, and application events (logins) with a few percent
# of failures and denials, some of them one request (one context) per event.
my @script;
my $next_id = 1;
for my $t (0 .. 99)
{
	# A pause before the last five transactions: a whole second starts between them and
	# the others, and a day can start there (daily_summary below).
	push @script, 'SELECT pg_sleep(1.1);' if $t == 95;
	my $actor = 'actor-' . ($t % 12);
	my $type = (qw(user service admin system))[ $t % 4 ];
	my $addr = '10.0.' . ($t % 5) . '.' . ($t % 7 + 1);
	push @script,
	  "SELECT audit_chain.set_context('$actor', '$type', '$addr', 'loadgen', 'req-$t', 'sess-$t', NULL, false);";
	my $kind = $t % 4;
	if ($kind == 0 || $kind == 3)
	{
		my $last = $next_id + 9999;
		push @script,
		  "INSERT INTO orders SELECT g, g % 1000, g FROM generate_series($next_id, $last) g;";
		$next_id = $last + 1;
	}
	elsif ($kind == 1)
	{
		my $lo = 1 + int(($next_id - 10000) * (($t * 37) % 100) / 100);
		my $hi = $lo + 9999;
		push @script, "UPDATE orders SET amount = amount * 2 WHERE id BETWEEN $lo AND $hi;";
	}
	elsif ($t % 8 == 2)
	{
		push @script,
		  "SELECT count(audit_chain.log_event('login', 'app.session', 'u' || (g % 5000), "
		  . "CASE WHEN g % 20 = 0 THEN 'failure' WHEN g % 50 = 0 THEN 'denied' ELSE 'success' END)) "
		  . "FROM generate_series(1, 10000) g;";
	}
	else
	{
		# One web request per event: a context row per event.
		push @script,
		  "SELECT count(audit_chain.log_event('page.view', 'app.page', 'p' || (g % 100), "
		  . "CASE WHEN g % 25 = 0 THEN 'denied' ELSE 'success' END)) "
		  . "FROM (SELECT g, set_config('audit_chain.request_id', 'web-$t-' || g, false) FROM generate_series(1, 10000) g) s;";
	}
}
my $t0 = time;
$node->safe_psql('postgres', join("\n", @script));
my $gen_secs = time - $t0;
$t0 = time;
$node->safe_psql('postgres',
	'ANALYZE audit_chain.events; ANALYZE audit_chain.contexts; ANALYZE audit_chain.resources; ANALYZE orders');
my $analyze_secs = time - $t0;

my $stats = $node->safe_psql(
	'postgres', q{
	SELECT count(*), count(DISTINCT commit_seq), count(*) FILTER (WHERE outcome <> 's'),
	       (SELECT count(*) FROM audit_chain.contexts),
	       (SELECT relpages FROM pg_class WHERE oid = 'audit_chain.events'::regclass),
	       extract(epoch FROM max(event_time) - min(event_time))::numeric(10, 1)
	  FROM audit_chain.events});
my ($events, $commits, $failures, $contexts, $relpages, $span) = split /\|/, $stats;
note sprintf(
	"generated %d events in %d transactions in %.1f s (ANALYZE %.1f s): %d failed or denied, "
	  . "%d contexts, %d pages, event times spread over %s s",
	$events, $commits, $gen_secs, $analyze_secs, $failures, $contexts, $relpages, $span);
# Storage: the events table with all its indexes, per event, and each index's share.
note "storage per event (bytes), table and every index:\n" . $node->safe_psql(
	'postgres', q{
	SELECT rpad(c.relname, 28) || round(pg_relation_size(c.oid)::numeric / n.events, 1)
	  FROM pg_class c, (SELECT count(*) AS events FROM audit_chain.events) n
	 WHERE c.oid = 'audit_chain.events'::regclass
	    OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'audit_chain.events'::regclass)
	UNION ALL
	SELECT rpad('total', 28) || round(pg_total_relation_size('audit_chain.events')::numeric / count(*), 1)
	  FROM audit_chain.events});
cmp_ok($events, '>=', 1_000_000, 'about a million events');
cmp_ok($failures, '>', 10_000, 'more than 10,000 of them failed or were denied');
cmp_ok($contexts, '>', 10_000, 'many contexts (one per web request)');

# The narrow window: 1 ms around the statement of a transaction in the middle (the 7th
# batch of logins), and the actor of that transaction.
my ($from, $to, $window_actor) = split /\|/, $node->safe_psql(
	'postgres', q{
	SELECT min(e.event_time), min(e.event_time) + interval '1 millisecond', min(c.actor_id)
	  FROM audit_chain.events e JOIN audit_chain.contexts c USING (context_id)
	 WHERE e.commit_seq = (SELECT commit_seq FROM audit_chain.events WHERE action = 'login'
	                        GROUP BY commit_seq ORDER BY commit_seq OFFSET 6 LIMIT 1)});
my $actor_contexts = $node->safe_psql('postgres',
	"SELECT count(*) FROM audit_chain.contexts WHERE actor_id = '$window_actor'");
note "narrow window [$from, $to), actor $window_actor with $actor_contexts contexts";

# One day that holds only the last five transactions: a time zone whose midnight is the
# first whole second after the 95th transaction (in the pause), as a UTC offset in hours
# (PostgreSQL truncates the offset to whole seconds: half a second is added for that).
my ($day_tz, $day) = split /\|/, $node->safe_psql(
	'postgres', q{
	WITH b AS (
	    SELECT floor(extract(epoch FROM max(event_time)))::bigint + 1 AS secs
	      FROM audit_chain.events
	     WHERE commit_seq = (SELECT DISTINCT commit_seq FROM audit_chain.events ORDER BY 1 OFFSET 95 LIMIT 1)),
	o AS (SELECT (86400 - secs % 86400) % 86400 AS off, secs FROM b),
	z AS (SELECT CASE WHEN off > 43200 THEN off - 86400 ELSE off END AS off, secs FROM o)
	SELECT to_char((off + 0.5 * sign(off::numeric)) / 3600.0, 'FM990.0000000000'),
	       (to_timestamp(secs + off) AT TIME ZONE 'UTC')::date
	  FROM z});
my ($day_events, $day_from, $day_to) = split /\|/, $node->safe_psql('postgres',
	"SET TimeZone = '$day_tz'; SELECT count(*), extract(epoch FROM '$day'::date::timestamptz), "
	  . "extract(epoch FROM ('$day'::date + 1)::timestamptz) FROM audit_chain.events "
	  . "WHERE event_time >= '$day'::date::timestamptz AND event_time < ('$day'::date + 1)::timestamptz");
note "day $day in time zone $day_tz holds $day_events events";
cmp_ok($day_events, '>', 0, 'the day holds some events');
cmp_ok($day_events, '<', $events / 10, 'the day holds a small part of the trail');

# Runs one report with auto_explain on; returns (seconds, result, plan of its body). With
# $analyze the plan has the buffers it read.
sub report_plan
{
	my ($call, $pre, $analyze) = @_;
	my ($out, $err) = ('', '');
	my $analyze_on = $analyze ? 'on' : 'off';
	my $sql = qq{
		$pre
		LOAD 'auto_explain';
		SET auto_explain.log_min_duration = 0;
		SET auto_explain.log_nested_statements = on;
		SET auto_explain.log_level = notice;
		SET auto_explain.log_analyze = $analyze_on;
		SET auto_explain.log_buffers = $analyze_on;
		SET auto_explain.log_timing = off;
		SET auto_explain.log_format = text;
		SELECT count(*) FROM $call;
	};
	my $start = time;
	$node->psql('postgres', $sql, stdout => \$out, stderr => \$err, on_error_die => 1);
	my $secs = time - $start;
	# One notice per executed statement: the function body is the one that reads the
	# audit tables (the outer query only scans the function).
	my @plans = grep { /FROM audit_chain\.(events|resources)/ } split /NOTICE:  duration: /, $err;
	s/\s*psql:<stdin>:\d+:\s*\z// for @plans;
	return ($secs, $out, join("\n---\n", @plans));
}

my $q_from = "'$from'::timestamptz";
my $q_to = "'$to'::timestamptz";
my @cases = (
	{
		name => 'access_report, one row, all time',
		call => "audit_chain.access_report('public.orders', '123456')",
		uses => [qr/events_resource_idx/],
		check => q{SELECT count(*) FROM audit_chain.audit_events
		            WHERE resource_type = 'public.orders' AND resource_id = '123456'},
	},
	{
		name => 'access_report, one resource, narrow window',
		call => "audit_chain.access_report('app.session', 'u77', $q_from, $q_to)",
		uses => [qr/events_resource_idx/],
		check => qq{SELECT count(*) FROM audit_chain.audit_events WHERE resource_type = 'app.session'
		            AND resource_id = 'u77' AND event_time >= $q_from AND event_time < $q_to},
	},
	{
		name => 'privileged_action_report, narrow window',
		call => "audit_chain.privileged_action_report($q_from, $q_to)",
		uses => [qr/events_time_brin/],
		check => qq{SELECT count(*) FROM audit_chain.audit_events
		            WHERE event_time >= $q_from AND event_time < $q_to
		              AND (actor_type IN ('admin', 'system') OR db_user_privileged
		                   OR action IN ('TRACK', 'UNTRACK', 'CONFIGURE', 'ERASE', 'ALTER TABLE', 'DROP TABLE',
		                                 'DISABLE TRIGGER', 'ENABLE TRIGGER', 'DROP TRIGGER', 'ALTER TRIGGER'))},
	},
	{
		name => 'failed_access_report, narrow window',
		call => "audit_chain.failed_access_report($q_from, $q_to, 1)",
		uses => [qr/events_failures_idx/],
		check => qq{SELECT count(DISTINCT actor_id) FROM audit_chain.audit_events
		            WHERE outcome <> 'success' AND event_time >= $q_from AND event_time < $q_to},
	},
	{
		name => 'failed_access_report, all time',
		call => "audit_chain.failed_access_report()",
		uses => [qr/events_failures_idx/],
		# Reads the pages holding failures and denials: those of the logins and page views.
		max_share => 0.3,
		check => q{SELECT count(*) FROM (SELECT actor_id FROM audit_chain.audit_events
		            WHERE outcome <> 'success' GROUP BY 1 HAVING count(*) >= 5) s},
	},
	{
		# The actor has tens of thousands of contexts (one per web request).
		name => 'actor_activity, one actor, narrow window',
		call => "audit_chain.actor_activity('$window_actor', $q_from, $q_to)",
		uses => [ qr/events_time_brin/, qr/contexts_actor_id_idx/ ],
		# Matching each event's context against an array of all the actor's contexts costs
		# events x contexts comparisons (no hashing for an array computed at run time).
		avoid => [qr/context_id = ANY \(\$\d+\)/],
		check => qq{SELECT count(DISTINCT (resource_type, action)) FROM audit_chain.audit_events
		            WHERE actor_id = '$window_actor' AND event_time >= $q_from AND event_time < $q_to},
	},
	{
		# actor-3 only inserts rows: a few contexts.
		# actor-3 only inserts rows: a few contexts.
		name => 'actor_activity, an actor with few contexts, the last transactions',
		call => "audit_chain.actor_activity('actor-3', to_timestamp($day_from), to_timestamp($day_to))",
		uses => [ qr/events_time_brin/, qr/contexts_actor_id_idx|contexts_pkey/ ],
		max_share => 0.2,
		check => qq{SELECT count(DISTINCT (resource_type, action)) FROM audit_chain.audit_events
		            WHERE actor_id = 'actor-3' AND event_time >= to_timestamp($day_from)
		              AND event_time < to_timestamp($day_to)},
	},
	{
		name => 'daily_summary, a day holding the last transactions',
		pre => "SET TimeZone = '$day_tz';",
		call => "audit_chain.daily_summary('$day')",
		uses => [qr/events_time_brin/],
		max_share => 0.2,
		check => qq{SET TimeZone = '$day_tz';
		            SELECT count(DISTINCT (resource_type, action, actor_id)) FROM audit_chain.audit_events
		            WHERE event_time >= '$day'::date::timestamptz AND event_time < ('$day'::date + 1)::timestamptz},
	},
	{
		name => 'suspicious_activity, narrow window',
		call => "audit_chain.suspicious_activity($q_from, $q_to)",
		uses => [qr/events_time_brin/],
		check => undef,
	},);

# Buffers touched by the scans of audit_chain.events in an analyzed plan (each scan node's
# Buffers line includes its index and, in parallel plans, its workers).
sub events_buffers
{
	my ($plan) = @_;
	my ($total, $in_events_scan) = (0, 0);
	for my $line (split /\n/, $plan)
	{
		if ($line =~ /\(cost=/)
		{
			$in_events_scan = $line =~ / on events e\b/ ? 1 : 0;
		}
		elsif ($in_events_scan && $line =~ /Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?/)
		{
			$total += ($1 // 0) + ($2 // 0);
			$in_events_scan = 0;
		}
	}
	return $total;
}

sub run_cases
{
	my ($label, $analyze) = @_;
	my %secs;
	for my $c (@cases)
	{
		my ($secs, $count, $plan) = report_plan($c->{call}, $c->{pre} // '', $analyze);
		$secs{ $c->{name} } = $secs;
		note sprintf("%s [%s]: %.3f s, %s rows; plan of the report's body:\n%s",
			$c->{name}, $label, $secs, $count, $plan);
		isnt($plan, '', "$c->{name} [$label]: the body's plan was logged");
		for my $re (@{ $c->{uses} })
		{
			like($plan, $re, "$c->{name} [$label]: uses $re");
		}
		unlike($plan, qr/Seq Scan on events/, "$c->{name} [$label]: no sequential scan of audit_chain.events");
		for my $re (@{ $c->{avoid} // [] })
		{
			unlike($plan, $re, "$c->{name} [$label]: avoids $re");
		}
		if ($analyze)
		{
			my $buffers = events_buffers($plan);
			my $limit = int($relpages * ($c->{max_share} // 0.1));
			cmp_ok($buffers, '>', 0, "$c->{name} [$label]: buffers of audit_chain.events counted");
			cmp_ok($buffers, '<', $limit,
				"$c->{name} [$label]: its scans of audit_chain.events touch $buffers buffers, under $limit "
				  . "($relpages pages)");
		}
		if (defined $c->{check})
		{
			is($count, $node->safe_psql('postgres', $c->{check}),
				"$c->{name} [$label]: returns as many rows as the trail says");
		}
	}
	return \%secs;
}

my $before = run_cases('fresh trail');

# A BRIN index only knows the page ranges it has summarized; until VACUUM (or
# autosummarize) summarizes them, every unsummarized range matches any window.
sub window_blocks
{
	my $plan = $node->safe_psql(
		'postgres', qq{
		EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF)
		SELECT count(*) FROM audit_chain.events WHERE event_time >= $q_from AND event_time < $q_to});
	my ($exact) = $plan =~ /exact=(\d+)/;
	my ($lossy) = $plan =~ /lossy=(\d+)/;
	return (($exact // 0) + ($lossy // 0), $plan);
}
my ($blocks_fresh, $plan_fresh) = window_blocks();
note "narrow window on the fresh trail reads $blocks_fresh of $relpages heap pages:\n$plan_fresh";
# With autovacuum on (as in production), autosummarize has autovacuum summarize each page
# range as soon as it fills, rather than at the table's next VACUUM; this node runs without
# autovacuum, so only the setting is checked here.
is( $node->safe_psql(
		'postgres', q{
		SELECT string_agg(c.relname || ':' || array_to_string(c.reloptions, ','), ' ' ORDER BY c.relname)
		  FROM pg_class c JOIN pg_am am ON am.oid = c.relam
		 WHERE c.relnamespace = 'audit_chain'::regnamespace AND am.amname = 'brin'}),
	'events_time_brin:autosummarize=on',
	'every BRIN index on events summarizes new page ranges as they fill (autosummarize)');

$t0 = time;
$node->safe_psql('postgres', 'VACUUM ANALYZE audit_chain.events');
note sprintf('VACUUM ANALYZE audit_chain.events: %.1f s', time - $t0);
my ($blocks_vacuumed, $plan_vacuumed) = window_blocks();
note "narrow window after VACUUM reads $blocks_vacuumed of $relpages heap pages:\n$plan_vacuumed";
cmp_ok($blocks_vacuumed, '<', $relpages / 20,
	'after VACUUM, a narrow window reads a small part of the events (events are stored in time order)');

my $after = run_cases('vacuumed', 1);
for my $c (@cases)
{
	note sprintf('%-45s fresh %.3f s, vacuumed %.3f s', $c->{name}, $before->{ $c->{name} }, $after->{ $c->{name} });
}

$node->stop;
done_testing();
