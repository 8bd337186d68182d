-- reports: the compliance reports over a seeded trail with fixed actors, contexts and
-- outcomes. Every report must return exactly the expected rows; times are shown as their
-- order or as facts about them, never as values.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;
SET application_name = 'rp-app';
-- The burst detail gives its window in seconds, whatever the session's IntervalStyle.
SET IntervalStyle = 'postgres';

-- The documented signatures and defaults.
SELECT p.proname, pg_get_function_arguments(p.oid) AS arguments
  FROM pg_proc p
 WHERE p.pronamespace = 'audit_chain'::regnamespace
   AND p.proname IN ('access_report', 'privileged_action_report', 'failed_access_report', 'actor_activity',
                     'daily_summary', 'suspicious_activity')
 ORDER BY p.proname;

CREATE ROLE regress_rp_app;                    -- an application role
CREATE ROLE regress_rp_ops CREATEROLE;         -- privileged without being superuser
CREATE ROLE regress_rp_reader IN ROLE audit_chain_reader;
CREATE TABLE rp_patients (id int PRIMARY KEY, name text, balance numeric);
CREATE TABLE rp_items (id int PRIMARY KEY, qty int, price numeric, label text);
SELECT audit_chain.track('rp_patients'), audit_chain.track('rp_items');
GRANT SELECT, INSERT, UPDATE, DELETE ON rp_patients, rp_items TO regress_rp_app, regress_rp_ops;
INSERT INTO rp_patients VALUES (7, 'Seven', 0);
-- Everything before this moment is setup.
SELECT statement_timestamp() AS t0 \gset

-- T1: a doctor creates and views patient 42.
SET ROLE regress_rp_app;
BEGIN;
SELECT audit_chain.set_context('dr-house', 'user', '10.0.0.1', 'ehr-web', 'req-1', 'sess-1', 'treatment');
INSERT INTO rp_patients VALUES (42, 'Forty-Two', 100);
SELECT audit_chain.log_event('view', 'public.rp_patients', '42') IS NOT NULL AS logged;
COMMIT;
-- T2: a nurse changes the balance (a large change) and is denied a view.
BEGIN;
SELECT audit_chain.set_context('nurse-joy', 'user', '10.0.0.2', 'ehr-web', 'req-2', 'sess-2', 'billing');
UPDATE rp_patients SET balance = 40 WHERE id = 42;
SELECT audit_chain.log_event('view', 'public.rp_patients', '42', 'denied', '{"why": "not on the care team"}') IS NOT NULL AS logged;
COMMIT;
RESET ROLE;
-- T3: an operator (a CREATEROLE role) acting as admin.
SET ROLE regress_rp_ops;
BEGIN;
SELECT audit_chain.set_context('ops-1', 'admin', '10.0.0.9', 'console', 'req-3', 'sess-3', 'fix typo');
UPDATE rp_patients SET name = 'Forty Two' WHERE id = 42;
COMMIT;
RESET ROLE;
-- T4: the superuser, as a plain user actor, on another patient.
BEGIN;
SELECT audit_chain.set_context('dba-1', 'user', '10.0.0.10', 'psql', 'req-4', 'sess-4', 'data repair');
UPDATE rp_patients SET name = 'Seven!' WHERE id = 7;
COMMIT;
-- T5: repeated failures and denials from two addresses.
SET ROLE regress_rp_app;
BEGIN;
SELECT audit_chain.set_context('mallory', 'user', '10.6.6.6', 'curl', 'req-5', 'sess-5');
SELECT audit_chain.log_event('login', 'app.session', 'mallory', 'failure') IS NOT NULL FROM generate_series(1, 3);
SELECT audit_chain.log_event('export', 'app.report', 'patients-all', 'denied') IS NOT NULL;
COMMIT;
BEGIN;
SELECT audit_chain.set_context('mallory', 'user', '10.6.6.7', 'curl', 'req-6', 'sess-6');
SELECT audit_chain.log_event('login', 'app.session', 'mallory', 'failure') IS NOT NULL;
SELECT audit_chain.log_event('view', 'public.rp_patients', '42', 'denied') IS NOT NULL;
SELECT audit_chain.log_event('login', 'app.session', 'mallory', 'success') IS NOT NULL;
COMMIT;
-- T6: two failures of a careless user.
BEGIN;
SELECT audit_chain.set_context('clumsy', 'user', '10.0.0.3');
SELECT audit_chain.log_event('login', 'app.session', 'clumsy', 'failure') IS NOT NULL FROM generate_series(1, 2);
COMMIT;
-- T6b: one actor recorded under two actor types: it is one actor, with both types.
BEGIN;
SELECT audit_chain.set_context('shifty', 'user', '10.0.0.4');
SELECT audit_chain.log_event('login', 'app.session', 'shifty', 'failure') IS NOT NULL FROM generate_series(1, 2);
COMMIT;
BEGIN;
SELECT audit_chain.set_context('shifty', 'service', '10.0.0.5');
SELECT audit_chain.log_event('token', 'app.session', 'shifty', 'denied') IS NOT NULL;
COMMIT;
-- T7: a service inserts 150 rows at once (a burst), then 60 more.
BEGIN;
SELECT audit_chain.set_context('svc-import', 'service', '10.0.0.20', 'importer', 'req-7');
INSERT INTO rp_items SELECT g, 100, 10, 'item ' || g FROM generate_series(1, 150) g;
COMMIT;
BEGIN;
SELECT audit_chain.set_context('svc-import', 'service', '10.0.0.20', 'importer', 'req-8');
INSERT INTO rp_items SELECT g, 0, 10, 'item ' || g FROM generate_series(151, 210) g;
COMMIT;
-- T8: a nightly job (system actor, plain role) adjusts quantities and prices.
BEGIN;
SELECT audit_chain.set_context('nightly', 'system', '10.0.0.30', 'cron', 'req-9', NULL, 'inventory');
UPDATE rp_items SET qty = 150 WHERE id = 1;          -- +50%: not above the threshold
UPDATE rp_items SET qty = 151 WHERE id = 2;          -- +51%
UPDATE rp_items SET qty = -100 WHERE id = 3;
COMMIT;
BEGIN;
SELECT audit_chain.set_context('nightly', 'system', '10.0.0.30', 'cron', 'req-10', NULL, 'inventory');
UPDATE rp_items SET qty = -40 WHERE id = 3;          -- -100 to -40: 60%
UPDATE rp_items SET qty = 0 WHERE id = 4;            -- 100 to 0
UPDATE rp_items SET qty = 5 WHERE id = 151;          -- from 0
UPDATE rp_items SET price = 10.0 WHERE id = 5;       -- another scale: recorded, but the value did not change
UPDATE rp_items SET price = 25, label = 'big' WHERE id = 6;
COMMIT;
RESET ROLE;
SELECT statement_timestamp() AS t_end \gset

-- Times of the events of patient 42, for the windows below.
SELECT event_time AS t_insert FROM audit_chain.audit_events
 WHERE resource_type = 'public.rp_patients' AND resource_id = '42' AND action = 'INSERT' \gset
SELECT event_time AS t_update FROM audit_chain.audit_events
 WHERE resource_type = 'public.rp_patients' AND resource_id = '42' AND action = 'UPDATE' AND actor_id = 'nurse-joy' \gset
SELECT event_time AS t_ops FROM audit_chain.audit_events
 WHERE resource_type = 'public.rp_patients' AND resource_id = '42' AND actor_id = 'ops-1' \gset
SELECT :'t_insert'::timestamptz < :'t_update'::timestamptz AND :'t_update'::timestamptz < :'t_ops'::timestamptz AS times_ordered;

--
-- access_report(): who touched patient 42, and when.
--
-- Report rows with their own position, times as their order, the event each row names.
CREATE TEMP VIEW rp_access_all AS
SELECT n AS position, dense_rank() OVER (ORDER BY r.event_time) AS time_order,
       r.committed_at >= r.event_time AS committed_after, r.action, r.actor_id, r.actor_type, r.db_user,
       host(r.client_addr) AS client_addr, r.application_name, r.outcome, r.reason, r.request_id,
       EXISTS (SELECT FROM audit_chain.audit_events x
                WHERE (x.chain_id, x.seq) = (r.chain_id, r.seq) AND x.action = r.action
                  AND x.event_time = r.event_time AND x.committed_at = r.committed_at) AS names_its_event
  FROM audit_chain.access_report('public.rp_patients', '42') WITH ORDINALITY AS r(event_time, committed_at, action, actor_id, actor_type,
       db_user, client_addr, application_name, outcome, reason, request_id, chain_id, seq, n);
SELECT * FROM rp_access_all ORDER BY position;
-- The window is [from, to): an event exactly at from is in, one exactly at to is out.
SELECT r.action, r.actor_id, r.outcome FROM audit_chain.access_report('public.rp_patients', '42', :'t_insert', :'t_update') r;
SELECT r.action, r.actor_id, r.outcome FROM audit_chain.access_report('public.rp_patients', '42', :'t_update', :'t_ops') r;
SELECT r.action, r.actor_id, r.outcome
  FROM audit_chain.access_report('public.rp_patients', '42', :'t_ops', :'t_ops'::timestamptz + interval '1 microsecond') r;
SELECT count(*) AS empty_window FROM audit_chain.access_report('public.rp_patients', '42', :'t_ops', :'t_ops');
-- Other resources, unknown resources.
SELECT r.action, r.actor_id, r.db_user FROM audit_chain.access_report('public.rp_patients', '7', :'t0') r;
SELECT count(*) AS unknown_id FROM audit_chain.access_report('public.rp_patients', '4242');
SELECT count(*) AS unknown_type FROM audit_chain.access_report('public.nothing', '42');
SELECT r.action, r.outcome, r.actor_id FROM audit_chain.access_report('app.report', 'patients-all') r;

--
-- privileged_action_report(): admin and system actors, and privileged database roles.
--
-- [from, to): the operator's event exactly at to is out, exactly at from is in.
SELECT count(*) AS up_to_ops FROM audit_chain.privileged_action_report(:'t_insert', :'t_ops');
SELECT r.action, r.actor_id, r.db_user
  FROM audit_chain.privileged_action_report(:'t_ops', :'t_ops'::timestamptz + interval '1 microsecond') r;
SELECT n AS position, dense_rank() OVER (ORDER BY r.event_time) AS time_order, r.action, r.resource_type, r.resource_id,
       r.actor_id, r.actor_type, r.db_user, r.db_user_privileged, host(r.client_addr) AS client_addr, r.reason, r.outcome,
       EXISTS (SELECT FROM audit_chain.audit_events x WHERE (x.chain_id, x.seq) = (r.chain_id, r.seq) AND x.action = r.action) AS names_its_event
  FROM audit_chain.privileged_action_report(:'t0', :'t_end') WITH ORDINALITY AS r(event_time, action, resource_type, resource_id,
       actor_id, actor_type, db_user, db_user_privileged, client_addr, reason, outcome, chain_id, seq, n)
 ORDER BY n;
-- Before t0: the setup, all by the superuser.
SELECT r.action, r.resource_type, r.db_user, r.db_user_privileged, r.actor_type
  FROM audit_chain.privileged_action_report(to_time => :'t0') r;
-- The context says whether the database role was privileged: superuser, CREATEROLE, not a plain role.
SELECT db_user, db_user_privileged, count(*) AS events
  FROM audit_chain.audit_events WHERE event_time >= :'t0' GROUP BY 1, 2 ORDER BY 1;
-- A role granted BYPASSRLS or REPLICATION is privileged too.
CREATE ROLE regress_rp_bypass BYPASSRLS;
CREATE ROLE regress_rp_repl REPLICATION;
GRANT SELECT, INSERT, UPDATE, DELETE ON rp_patients TO regress_rp_bypass, regress_rp_repl;
SET ROLE regress_rp_bypass;
INSERT INTO rp_patients VALUES (100, 'by bypassrls', 0);
SET ROLE regress_rp_repl;
INSERT INTO rp_patients VALUES (101, 'by replication', 0);
RESET ROLE;
SELECT r.resource_id, r.db_user, r.db_user_privileged, r.actor_type
  FROM audit_chain.privileged_action_report(:'t_end') r ORDER BY r.resource_id;

--
-- failed_access_report(): actors with at least min_failures failures or denials.
--
SELECT n AS position, r.actor_id, r.actor_types, r.failures, r.denied, r.first_time <= r.last_time AS times_ordered,
       r.first_time >= :'t0' AS after_t0, r.resources, r.client_addrs
  FROM audit_chain.failed_access_report(:'t0') WITH ORDINALITY AS r(actor_id, actor_types, failures, denied, first_time,
       last_time, resources, client_addrs, n)
 ORDER BY n;
-- first_time and last_time are the first and last failure or denial (not the later success).
SELECT r.first_time = (SELECT min(event_time) FROM audit_chain.audit_events WHERE actor_id = 'mallory' AND outcome <> 'success') AS first_ok,
       r.last_time = (SELECT max(event_time) FROM audit_chain.audit_events WHERE actor_id = 'mallory' AND outcome <> 'success') AS last_ok,
       r.last_time < (SELECT max(event_time) FROM audit_chain.audit_events WHERE actor_id = 'mallory') AS success_was_later
  FROM audit_chain.failed_access_report(:'t0') r WHERE r.actor_id = 'mallory';
-- The threshold counts failures and denials together, inclusively.
SELECT r.actor_id, r.actor_types, r.failures, r.denied, r.resources, r.client_addrs
  FROM audit_chain.failed_access_report(:'t0', min_failures => 2) r;
-- An actor is its actor_id: two failures as a user and a denial as a service are three.
SELECT r.actor_id, r.actor_types, r.failures, r.denied, r.client_addrs
  FROM audit_chain.failed_access_report(:'t0', min_failures => 3) r WHERE r.actor_id = 'shifty';
SELECT r.actor_id FROM audit_chain.failed_access_report(:'t0', min_failures => 6) r;
SELECT count(*) AS above_7 FROM audit_chain.failed_access_report(:'t0', min_failures => 7);
-- [from, to): mallory's first failures (one statement) exactly at from are in, at to out.
SELECT min(event_time) AS t_mallory FROM audit_chain.audit_events WHERE actor_id = 'mallory' \gset
SELECT r.actor_id, r.failures, r.denied FROM audit_chain.failed_access_report(:'t0', :'t_mallory', 1) r;
SELECT r.actor_id, r.failures, r.denied
  FROM audit_chain.failed_access_report(:'t_mallory', :'t_mallory'::timestamptz + interval '1 microsecond', 1) r;
-- The window applies: the first transaction of mallory only.
SELECT r.actor_id, r.failures, r.denied, r.client_addrs
  FROM audit_chain.failed_access_report(:'t0', (SELECT min(event_time) FROM audit_chain.audit_events WHERE request_id = 'req-6'), 1) r;

--
-- actor_activity(): what one actor did.
--
SELECT n AS position, r.resource_type, r.action, r.events, r.failures, r.first_time <= r.last_time AS times_ordered
  FROM audit_chain.actor_activity('mallory') WITH ORDINALITY AS r(resource_type, action, events, failures, first_time, last_time, n)
 ORDER BY n;
SELECT r.resource_type, r.action, r.events, r.failures, r.first_time = r.last_time AS one_statement
  FROM audit_chain.actor_activity('svc-import') r;
SELECT r.resource_type, r.action, r.events, r.failures FROM audit_chain.actor_activity('nightly', :'t0', :'t_end') r;
SELECT r.resource_type, r.action, r.events FROM audit_chain.actor_activity('dr-house', :'t_insert', :'t_update') r;
SELECT r.resource_type, r.action, r.events FROM audit_chain.actor_activity('dr-house', :'t_update') r;
SELECT count(*) AS nobody FROM audit_chain.actor_activity('nobody');
-- The fallback actor (the login) is an actor too.
SELECT r.resource_type, r.action, r.events FROM audit_chain.actor_activity(session_user, to_time => :'t0') r;

--
-- daily_summary(): today, per resource type, action and actor.
--
SELECT n AS position, r.resource_type, r.action, r.actor_id, r.events, r.failures
  FROM audit_chain.daily_summary(current_date) WITH ORDINALITY AS r(resource_type, action, actor_id, events, failures, n)
 ORDER BY n;
SELECT sum(r.events) = (SELECT count(*) FROM audit_chain.events) AS every_event_counted
  FROM audit_chain.daily_summary(current_date) r;
SELECT count(*) AS yesterday FROM audit_chain.daily_summary(current_date - 1);
SELECT count(*) AS tomorrow FROM audit_chain.daily_summary(current_date + 1);

--
-- suspicious_activity(): bursts and large numeric changes.
--
-- Defaults: more than 100 changes within 1 minute; changes above 50% (or from 0).
SELECT r.kind, r.actor_id, r.event_time >= :'t0' AS in_window, r.resource_type, r.resource_id, r.detail
  FROM audit_chain.suspicious_activity(:'t0') r
 ORDER BY r.event_time, r.kind, r.actor_id, r.resource_id, r.detail::text;
-- The report's own order: by time, then kind and actor.
SELECT bool_and(ok) AS ordered FROM (
    SELECT (r.event_time, r.kind, r.actor_id) >= lag((r.event_time, r.kind, r.actor_id)) OVER (ORDER BY n)
           OR lag(r.event_time) OVER (ORDER BY n) IS NULL AS ok
      FROM audit_chain.suspicious_activity(:'t0') WITH ORDINALITY AS r(kind, actor_id, event_time, resource_type, resource_id, detail, n)) s;
-- A burst is reported at the moment its window holds the most changes.
SELECT r.event_time = (SELECT max(event_time) FROM audit_chain.audit_events WHERE request_id = 'req-8') AS at_second_insert
  FROM audit_chain.suspicious_activity(:'t0') r WHERE r.kind = 'burst';
-- max_changes is exclusive: 210 changes are not more than 210. (A change from 0 counts
-- whatever the relative threshold.)
SELECT r.kind, r.actor_id, r.detail FROM audit_chain.suspicious_activity(:'t0', max_changes => 209, relative_change => 100) r;
SELECT r.kind, r.actor_id, r.detail FROM audit_chain.suspicious_activity(:'t0', max_changes => 210, relative_change => 100) r;
-- A zero window holds one statement's changes only.
SELECT r.kind, r.actor_id, r.detail FROM audit_chain.suspicious_activity(:'t0', max_changes => 149, "window" => '0 seconds', relative_change => 100) r;
SELECT r.kind, r.actor_id, r.detail FROM audit_chain.suspicious_activity(:'t0', max_changes => 150, "window" => '0 seconds', relative_change => 100) r;
-- A larger relative threshold, and one so small that every numeric change counts.
SELECT r.resource_id, r.detail FROM audit_chain.suspicious_activity(:'t0', max_changes => 1000, relative_change => 0.99) r
 ORDER BY r.resource_id::int, r.detail::text;
SELECT r.resource_id, r.detail FROM audit_chain.suspicious_activity(:'t0', max_changes => 1000, relative_change => 0) r
 ORDER BY r.resource_id::int, r.detail::text;
-- The window applies to both kinds.
SELECT count(*) AS before_t0 FROM audit_chain.suspicious_activity(to_time => :'t0');
-- [from, to): the nurse's large change exactly at to is out, exactly at from is in.
SELECT count(*) AS up_to_update FROM audit_chain.suspicious_activity(:'t0', :'t_update');
SELECT r.kind, r.actor_id, r.resource_id, r.detail
  FROM audit_chain.suspicious_activity(:'t_update', :'t_update'::timestamptz + interval '1 microsecond') r;

--
-- Who may run the reports: audit_chain_reader, not a plain role.
--
SET ROLE regress_rp_app;
SELECT count(*) FROM audit_chain.access_report('public.rp_patients', '42');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.privileged_action_report();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.failed_access_report();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.actor_activity('mallory');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.daily_summary(current_date);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity();
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_rp_ops;
SELECT count(*) FROM audit_chain.privileged_action_report();
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_rp_reader;
SELECT (SELECT count(*) FROM audit_chain.access_report('public.rp_patients', '42')) AS access,
       (SELECT count(*) FROM audit_chain.privileged_action_report(:'t0', :'t_end')) AS privileged,
       (SELECT count(*) FROM audit_chain.failed_access_report(:'t0')) AS failed,
       (SELECT count(*) FROM audit_chain.actor_activity('mallory')) AS activity,
       (SELECT count(*) FROM audit_chain.daily_summary(current_date)) AS daily,
       (SELECT count(*) FROM audit_chain.suspicious_activity(:'t0')) AS suspicious;
RESET ROLE;

--
-- privileged_action_report(): whoever changes what is audited, privileged or not.
--
CREATE ROLE regress_rp_owner;                   -- owns a table, no other privilege
CREATE ROLE regress_rp_dpo IN ROLE audit_chain_admin;  -- may erase, not a privileged role
CREATE TABLE rp_owned (id int PRIMARY KEY, secret text, n int);
ALTER TABLE rp_owned OWNER TO regress_rp_owner;
INSERT INTO rp_owned VALUES (1, 's1', 1), (2, 's2', 2);
SELECT statement_timestamp() AS t_config \gset
SET ROLE regress_rp_owner;
SELECT audit_chain.set_context(actor_id => 'owner-1', is_local => false);
SELECT audit_chain.track('rp_owned');
SELECT audit_chain.configure('rp_owned', exclude => '{secret}') IS NOT NULL AS configured;
ALTER TABLE rp_owned DISABLE TRIGGER audit_chain_capture;
ALTER TABLE rp_owned ENABLE TRIGGER audit_chain_capture;
ALTER TABLE rp_owned ENABLE REPLICA TRIGGER audit_chain_capture;
ALTER TABLE rp_owned ENABLE ALWAYS TRIGGER audit_chain_capture;
ALTER TRIGGER audit_chain_capture ON rp_owned RENAME TO rp_capture;
UPDATE rp_owned SET n = 10 WHERE id = 1;        -- an ordinary change: not reported
SELECT audit_chain.log_event('export', 'app.report', 'owned') IS NOT NULL AS logged;  -- nor this
DROP TRIGGER audit_chain_capture_truncate ON rp_owned;
SELECT audit_chain.untrack('rp_owned');
SELECT audit_chain.track('rp_owned', baseline => false);
SET ROLE regress_rp_dpo;
SELECT audit_chain.set_context(actor_id => 'dpo-1', is_local => false);
SELECT audit_chain.erase('rp_owned', '{"id": 2}') AS erased;
SET ROLE regress_rp_owner;
SELECT audit_chain.set_context(actor_id => 'owner-1', is_local => false);
DROP TABLE rp_owned;
RESET ROLE;
RESET audit_chain.actor_id;
SELECT n AS position, r.action, r.resource_type, r.resource_id, r.actor_id, r.actor_type, r.db_user,
       r.db_user_privileged, r.outcome,
       EXISTS (SELECT FROM audit_chain.audit_events x WHERE (x.chain_id, x.seq) = (r.chain_id, r.seq) AND x.action = r.action) AS names_its_event
  FROM audit_chain.privileged_action_report(:'t_config') WITH ORDINALITY AS r(event_time, action, resource_type, resource_id,
       actor_id, actor_type, db_user, db_user_privileged, client_addr, reason, outcome, chain_id, seq, n)
 ORDER BY n;
-- Every change of what is audited is reported (TRACK too: with UNTRACK it bounds the time a
-- table was not audited); the plain role's row changes and application events are in the
-- trail only.
SELECT e.action, count(*) AS events, bool_or(r.seq IS NOT NULL) AS reported
  FROM audit_chain.audit_events e
  LEFT JOIN audit_chain.privileged_action_report(:'t_config') r ON (r.chain_id, r.seq) = (e.chain_id, e.seq)
 WHERE e.event_time >= :'t_config'
 GROUP BY e.action ORDER BY e.action;

--
-- actor_activity(): an actor with a context per event (one per request) counts as one.
--
SELECT statement_timestamp() AS t_many \gset
BEGIN;
SELECT audit_chain.set_context(actor_id => 'svc-web', actor_type => 'service');
SELECT count(audit_chain.log_event('page.view', 'app.page', 'p' || (g % 3),
                                   CASE WHEN g % 4 = 0 THEN 'denied' ELSE 'success' END))
  FROM (SELECT g, set_config('audit_chain.request_id', 'web-' || g, true) FROM generate_series(1, 40) g) s;
COMMIT;
SELECT count(DISTINCT context_id) AS contexts FROM audit_chain.events e
 WHERE e.context_id IN (SELECT context_id FROM audit_chain.contexts WHERE actor_id = 'svc-web');
SELECT r.resource_type, r.action, r.events, r.failures, r.first_time = r.last_time AS one_statement
  FROM audit_chain.actor_activity('svc-web') r;
SELECT count(*) AS before_window FROM audit_chain.actor_activity('svc-web', to_time => :'t_many');

--
-- suspicious_activity(): the window in seconds whatever the IntervalStyle, and a total order.
--
SET IntervalStyle = 'iso_8601';
SELECT r.kind, r.actor_id, r.detail FROM audit_chain.suspicious_activity(:'t0', :'t_end') r WHERE r.kind = 'burst';
SELECT r.detail FROM audit_chain.suspicious_activity(:'t0', :'t_end', max_changes => 149, "window" => '1.5 seconds') r
 WHERE r.kind = 'burst';
SELECT r.detail FROM audit_chain.suspicious_activity(:'t0', :'t_end', max_changes => 209, "window" => '1 day 2 hours') r
 WHERE r.kind = 'burst';
RESET IntervalStyle;
-- Changes of one statement share their time, kind and actor: then trail order, then column.
CREATE TABLE rp_nums (id int PRIMARY KEY, b int, a int, c int);
SELECT audit_chain.track('rp_nums');
INSERT INTO rp_nums VALUES (1, 1, 1, 1), (2, 2, 2, 2), (3, 3, 3, 3);
SELECT statement_timestamp() AS t_nums \gset
BEGIN;
SELECT audit_chain.set_context(actor_id => 'bulk-fix');
UPDATE rp_nums SET a = a * 10, b = b * 10, c = c + 1 WHERE id IN (3, 1);
UPDATE rp_nums SET c = 0 WHERE id = 2;
COMMIT;
SELECT n AS position, r.kind, r.actor_id, r.resource_id, r.detail
  FROM audit_chain.suspicious_activity(:'t_nums', max_changes => 1000) WITH ORDINALITY AS r(kind, actor_id, event_time,
       resource_type, resource_id, detail, n)
 ORDER BY n;

--
-- Arguments: NULL where a value is required (22004), invalid values (22023); never an
-- empty report that looks like "nothing happened".
--
SELECT count(*) FROM audit_chain.access_report(NULL, '42');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.access_report('public.rp_patients', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.access_report('public.rp_patients', '42', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.access_report('public.rp_patients', '42', to_time => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.access_report('public.rp_patients', '42', :'t_ops', :'t_insert');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.privileged_action_report(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.privileged_action_report(:'t0', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.privileged_action_report(:'t_end', :'t0');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.failed_access_report(NULL::timestamptz);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.failed_access_report(:'t0', 'infinity', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.failed_access_report(:'t0', min_failures => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.failed_access_report(:'t0', min_failures => -5);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.failed_access_report('infinity', '-infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.actor_activity(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.actor_activity('mallory', NULL, :'t_end');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.actor_activity('mallory', :'t_end', :'t0');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.daily_summary(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.daily_summary('infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity(:'t_end', :'t0');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity(max_changes => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity(max_changes => -1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity("window" => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity("window" => '-1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity(relative_change => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity(relative_change => -0.1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.suspicious_activity(relative_change => 'NaN');
\echo :LAST_ERROR_SQLSTATE
-- The limits themselves are accepted: an empty window, max_changes 0, relative_change 0.
SELECT count(*) AS empty_window FROM audit_chain.privileged_action_report(:'t_ops', :'t_ops');
SELECT count(*) > 0 AS every_change_a_burst FROM audit_chain.suspicious_activity(:'t0', :'t_end', 0, '0 seconds', 0);

SELECT valid, reason FROM audit_chain.verify();

DROP VIEW rp_access_all;
DROP TABLE rp_patients, rp_items, rp_nums;
DROP ROLE regress_rp_app, regress_rp_ops, regress_rp_reader, regress_rp_bypass, regress_rp_repl, regress_rp_owner,
    regress_rp_dpo;
