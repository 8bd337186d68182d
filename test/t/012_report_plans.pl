# test/t/012_report_plans.pl: the compliance reports on a trail of about 1,000,000 events.
#
# Claim: with a narrow time window, a specific resource or a specific actor, every report
# reaches the events through an index (BRIN on event_time, events_resource_idx,
# events_failures_idx; contexts_actor_id_idx for an actor's contexts) and never reads
# audit_chain.events sequentially.
#
# The reports are SQL functions with a pinned search_path, so they are not inlined: each
# runs its body with a plan made without the argument values (a generic plan). The plans
# asserted here are the ones that actually run, logged by auto_explain (nested statements)
# and returned to the client as notices.
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

# Runs one report with auto_explain on; returns (seconds, result, plan of its body).
sub report_plan
{
	my ($call) = @_;
	my ($out, $err) = ('', '');
	my $sql = qq{
		LOAD 'auto_explain';
		SET auto_explain.log_min_duration = 0;
		SET auto_explain.log_nested_statements = on;
		SET auto_explain.log_level = notice;
		SET auto_explain.log_analyze = off;
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
		uses => [qr/events_event_time_brin/],
		check => qq{SELECT count(*) FROM audit_chain.audit_events
		            WHERE event_time >= $q_from AND event_time < $q_to
		              AND (actor_type IN ('admin', 'system') OR db_user_privileged)},
	},
	{
		name => 'failed_access_report, narrow window',
		call => "audit_chain.failed_access_report($q_from, $q_to, 1)",
		uses => [qr/events_failures_idx/],
		check => qq{SELECT count(DISTINCT (actor_id, actor_type)) FROM audit_chain.audit_events
		            WHERE outcome <> 'success' AND event_time >= $q_from AND event_time < $q_to},
	},
	{
		name => 'failed_access_report, all time',
		call => "audit_chain.failed_access_report()",
		uses => [qr/events_failures_idx/],
		check => q{SELECT count(*) FROM (SELECT actor_id, actor_type FROM audit_chain.audit_events
		            WHERE outcome <> 'success' GROUP BY 1, 2 HAVING count(*) >= 5) s},
	},
	{
		# The actor has tens of thousands of contexts (one per web request).
		name => 'actor_activity, one actor, narrow window',
		call => "audit_chain.actor_activity('$window_actor', $q_from, $q_to)",
		uses => [ qr/events_event_time_brin/, qr/contexts_actor_id_idx/ ],
		# Matching each event's context against an array of all the actor's contexts costs
		# events x contexts comparisons (no hashing for an array computed at run time).
		avoid => [qr/context_id = ANY \(\$\d+\)/],
		check => qq{SELECT count(DISTINCT (resource_type, action)) FROM audit_chain.audit_events
		            WHERE actor_id = '$window_actor' AND event_time >= $q_from AND event_time < $q_to},
	},
	{
		# actor-3 only inserts rows: a few contexts.
		name => 'actor_activity, an actor with few contexts, all time',
		call => "audit_chain.actor_activity('actor-3')",
		uses => [qr/contexts_actor_id_idx/],
		check => q{SELECT count(DISTINCT (resource_type, action)) FROM audit_chain.audit_events
		            WHERE actor_id = 'actor-3'},
	},
	{
		name => 'daily_summary, today',
		call => "audit_chain.daily_summary(current_date)",
		uses => [qr/events_event_time_brin/],
		check => q{SELECT count(DISTINCT (resource_type, action, actor_id)) FROM audit_chain.audit_events
		            WHERE event_time >= current_date::timestamptz AND event_time < (current_date + 1)::timestamptz},
	},
	{
		name => 'suspicious_activity, narrow window',
		call => "audit_chain.suspicious_activity($q_from, $q_to)",
		uses => [qr/events_event_time_brin/],
		check => undef,
	},);

sub run_cases
{
	my ($label) = @_;
	my %secs;
	for my $c (@cases)
	{
		my ($secs, $count, $plan) = report_plan($c->{call});
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
	'events_committed_at_brin:autosummarize=on events_event_time_brin:autosummarize=on '
	  . 'events_xid_brin:autosummarize=on',
	'every BRIN index on events summarizes new page ranges as they fill (autosummarize)');

$t0 = time;
$node->safe_psql('postgres', 'VACUUM ANALYZE audit_chain.events');
note sprintf('VACUUM ANALYZE audit_chain.events: %.1f s', time - $t0);
my ($blocks_vacuumed, $plan_vacuumed) = window_blocks();
note "narrow window after VACUUM reads $blocks_vacuumed of $relpages heap pages:\n$plan_vacuumed";
cmp_ok($blocks_vacuumed, '<', $relpages / 20,
	'after VACUUM, a narrow window reads a small part of the events (events are stored in time order)');

my $after = run_cases('vacuumed');
for my $c (@cases)
{
	note sprintf('%-45s fresh %.3f s, vacuumed %.3f s', $c->{name}, $before->{ $c->{name} }, $after->{ $c->{name} });
}

$node->stop;
done_testing();
