-- ddl_audit: turning auditing off and on leaves events (track, untrack, configure, trigger
-- DDL, schema changes, drops), the privileged action report shows who did it; and what a
-- superuser can still do unseen.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

-- The events of one table in trail order.
CREATE FUNCTION da_events(tbl text)
RETURNS TABLE (action text, resource_id text, old_data jsonb, new_data jsonb, details jsonb)
LANGUAGE sql AS $$
    SELECT e.action, e.resource_id, e.old_data, e.new_data, e.details
      FROM audit_chain.audit_events e
     WHERE e.resource_type = tbl OR e.details->>'renamed_from' = tbl
     ORDER BY e.commit_seq, e.seq
$$;
-- A point in time after everything committed so far.
CREATE FUNCTION da_now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT clock_timestamp() $$;
-- Time travel errors name times and transactions: show their SQLSTATE only.
\set VERBOSITY sqlstate

--
-- track(), untrack(), configure()
--
CREATE TABLE da_t (id int PRIMARY KEY, v text);
INSERT INTO da_t VALUES (1, 'one');
SELECT audit_chain.track('da_t');
SELECT audit_chain.track('da_t') AS tracked_again;
SELECT audit_chain.configure('da_t', exclude => '{}') IS NOT NULL AS configured;
SELECT audit_chain.untrack('da_t');
SELECT audit_chain.untrack('da_t') AS untracked_again;
INSERT INTO da_t VALUES (2, 'not tracked');
SELECT audit_chain.track('da_t', baseline => false);
INSERT INTO da_t VALUES (3, 'three');
SELECT * FROM da_events('public.da_t');
-- A rolled-back untrack() leaves nothing and changes nothing.
BEGIN;
SELECT audit_chain.untrack('da_t');
ROLLBACK;
SELECT count(*) AS untrack_events FROM audit_chain.audit_events WHERE action = 'UNTRACK';
SELECT tgname FROM pg_trigger WHERE tgrelid = 'da_t'::regclass ORDER BY tgname;

--
-- Trigger DDL on the capture triggers.
--
CREATE TABLE da_acct (id int PRIMARY KEY, balance int);
INSERT INTO da_acct VALUES (1, 100), (2, 200);
SELECT audit_chain.track('da_acct');
SELECT da_now() AS t_start \gset
BEGIN;
SELECT audit_chain.set_context(actor_id => 'dba-on-call', actor_type => 'admin', reason => 'bulk fix, INC-42');
ALTER TABLE da_acct DISABLE TRIGGER audit_chain_capture;
COMMIT;
-- Unseen while capture is off.
UPDATE da_acct SET balance = 0 WHERE id = 1;
INSERT INTO da_acct VALUES (3, 300);
SELECT da_now() AS t_off \gset
-- Time travel refuses to answer for the time capture was off.
SELECT audit_chain.row_at('da_acct', '{"id": 1}', :'t_off');
SELECT count(*) FROM audit_chain.table_at('da_acct', :'t_off');
-- Before that, it still answers.
SELECT audit_chain.row_at('da_acct', '{"id": 1}', :'t_start') AS before_disable;
BEGIN;
SELECT audit_chain.set_context(actor_id => 'dba-on-call', actor_type => 'admin', reason => 'bulk fix done');
ALTER TABLE da_acct ENABLE TRIGGER audit_chain_capture;
COMMIT;
-- Enabling records every row again, so the state is known from then on.
SELECT * FROM da_events('public.da_acct');
SELECT j FROM audit_chain.table_at('da_acct', da_now()) AS j ORDER BY j->>'id';
-- ALL and USER include the capture triggers; the TRUNCATE trigger counts too.
ALTER TABLE da_acct DISABLE TRIGGER ALL;
ALTER TABLE da_acct ENABLE TRIGGER ALL;
ALTER TABLE da_acct DISABLE TRIGGER USER;
ALTER TABLE da_acct ENABLE TRIGGER USER;
ALTER TABLE da_acct DISABLE TRIGGER audit_chain_capture_truncate;
ALTER TABLE da_acct ENABLE TRIGGER audit_chain_capture_truncate;
SELECT action, details, (SELECT count(*) FROM audit_chain.audit_events b
                          WHERE b.action = 'BASELINE' AND b.resource_type = 'public.da_acct'
                            AND b.commit_seq = e.commit_seq) AS baseline_rows
  FROM audit_chain.audit_events e
 WHERE e.resource_type = 'public.da_acct' AND e.action LIKE '% TRIGGER' ORDER BY e.commit_seq, e.seq;
-- Other triggers of the table are not auditing: no event.
CREATE FUNCTION da_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER da_other BEFORE INSERT ON da_acct FOR EACH ROW EXECUTE FUNCTION da_noop();
ALTER TABLE da_acct DISABLE TRIGGER da_other;
ALTER TABLE da_acct ENABLE TRIGGER da_other;
ALTER TRIGGER da_other ON da_acct RENAME TO da_other2;
DROP TRIGGER da_other2 ON da_acct;
SELECT count(*) AS events_for_other_triggers FROM audit_chain.audit_events WHERE details->>'trigger' LIKE 'da_other%';

-- A partition's cloned capture trigger: recorded for the tracked table.
CREATE TABLE da_parted (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE da_parted_eu PARTITION OF da_parted FOR VALUES IN ('eu');
SELECT audit_chain.track('da_parted');
ALTER TABLE da_parted_eu DISABLE TRIGGER audit_chain_capture;
INSERT INTO da_parted VALUES (1, 'eu', 1);
ALTER TABLE da_parted_eu ENABLE TRIGGER audit_chain_capture;
SELECT action, resource_type, resource_id, details FROM audit_chain.audit_events
 WHERE resource_type = 'public.da_parted' AND action <> 'TRACK' ORDER BY commit_seq, seq;

-- DROP TRIGGER: recorded; time travel refuses until capture resumes; track() resumes it and
-- records every row again, so time travel works from then on.
CREATE TABLE da_drop (id int PRIMARY KEY, v text);
SELECT audit_chain.track('da_drop');
INSERT INTO da_drop VALUES (1, 'captured');
DROP TRIGGER audit_chain_capture ON da_drop;
INSERT INTO da_drop VALUES (2, 'while the trigger was gone');
SELECT action, resource_id, new_data, details FROM audit_chain.audit_events
 WHERE resource_type = 'public.da_drop' ORDER BY commit_seq, seq;
SELECT max(commit_seq) AS dropped FROM audit_chain.events \gset
SELECT da_now() AS t_dropped \gset
SELECT count(*) FROM audit_chain.table_at('da_drop', :'t_dropped');
SELECT audit_chain.track('da_drop') AS capture_resumed;
INSERT INTO da_drop VALUES (3, 'captured again');
SELECT count(*) FILTER (WHERE action = 'BASELINE') AS rows_recorded_again,
       count(*) FILTER (WHERE action = 'INSERT') AS inserts
  FROM audit_chain.audit_events WHERE resource_type = 'public.da_drop' AND commit_seq > :dropped;
SELECT j FROM audit_chain.table_at('da_drop', da_now()) AS j ORDER BY j->>'id';

-- ALTER TRIGGER ... RENAME: recorded; capture goes on under the new name, and untrack() and
-- track() still know the trigger.
CREATE TABLE da_ren (id int PRIMARY KEY, v text);
SELECT audit_chain.track('da_ren');
ALTER TRIGGER audit_chain_capture ON da_ren RENAME TO not_an_audit_trigger;
INSERT INTO da_ren VALUES (1, 'still captured');
SELECT audit_chain.untrack('da_ren');
INSERT INTO da_ren VALUES (2, 'after untrack');
SELECT audit_chain.track('da_ren', baseline => false);
INSERT INTO da_ren VALUES (3, 'tracked again');
SELECT action, resource_id, details FROM audit_chain.audit_events
 WHERE resource_type = 'public.da_ren' ORDER BY commit_seq, seq;
SELECT count(*) AS capture_triggers FROM pg_trigger
 WHERE tgrelid = 'da_ren'::regclass AND tgfoid = 'audit_chain.capture()'::regprocedure AND NOT tgisinternal;

-- ENABLE REPLICA TRIGGER makes the capture trigger fire only in replica sessions: capture is
-- off for every ordinary session, and must not be recorded as enabled.
CREATE TABLE da_rep (id int PRIMARY KEY, v text);
INSERT INTO da_rep VALUES (1, 'one');
SELECT audit_chain.track('da_rep');
SELECT max(commit_seq) AS before_replica FROM audit_chain.events \gset
ALTER TABLE da_rep ENABLE REPLICA TRIGGER audit_chain_capture;
INSERT INTO da_rep VALUES (2, 'not captured');
SELECT da_now() AS t_replica_only \gset
SELECT count(*) AS captured FROM audit_chain.audit_events WHERE resource_type = 'public.da_rep' AND resource_id = '2';
SELECT count(*) FILTER (WHERE action = 'ENABLE TRIGGER') AS recorded_as_enabled
  FROM audit_chain.audit_events WHERE resource_type = 'public.da_rep' AND commit_seq > :before_replica;
SELECT count(*) FROM audit_chain.table_at('da_rep', :'t_replica_only');
ALTER TABLE da_rep ENABLE TRIGGER audit_chain_capture;
SELECT j FROM audit_chain.table_at('da_rep', da_now()) AS j ORDER BY j->>'id';

--
-- Schema changes: RENAME, ADD COLUMN, DROP TABLE.
--
CREATE TABLE da_s (id int PRIMARY KEY, v text);
INSERT INTO da_s VALUES (1, 'x');
SELECT audit_chain.track('da_s');
ALTER TABLE da_s RENAME TO da_s2;
ALTER TABLE da_s2 ADD COLUMN note text DEFAULT 'none';
ALTER TABLE da_s2 RENAME COLUMN v TO value;
ALTER TABLE da_s2 ADD COLUMN stamp timestamptz DEFAULT clock_timestamp();
SELECT action, resource_type, resource_id, details - 'columns_added' AS details,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(details->'columns_added') k) AS columns_added,
       details->'columns_added'->'note' AS note_default
  FROM audit_chain.audit_events
 WHERE resource_type IN ('public.da_s', 'public.da_s2') AND action IN ('TRACK', 'ALTER TABLE')
 ORDER BY commit_seq, seq;
SELECT resource_type, baseline, tracked_by = session_user AS by_me FROM audit_chain.tracked_tables
 WHERE relid = 'da_s2'::regclass;
-- A rolled-back DROP TABLE leaves nothing.
BEGIN;
DROP TABLE da_s2;
ROLLBACK;
DROP TABLE da_s2;
SELECT action, resource_type, resource_id, details FROM audit_chain.audit_events
 WHERE action = 'DROP TABLE' ORDER BY commit_seq, seq;
SELECT count(*) AS registered FROM audit_chain.tracked_tables WHERE resource_type = 'public.da_s2';
-- Dropping an untracked table records nothing.
CREATE TABLE da_untracked (id int);
DROP TABLE da_untracked;
SELECT count(*) AS drop_events FROM audit_chain.audit_events WHERE action = 'DROP TABLE';

--
-- Who turned auditing off, and when: the privileged action report.
--
CREATE ROLE regress_da_owner;
CREATE TABLE da_owned (id int PRIMARY KEY);
ALTER TABLE da_owned OWNER TO regress_da_owner;
SET ROLE regress_da_owner;
SELECT audit_chain.track('da_owned');
RESET ROLE;
SELECT r.action, r.resource_type, r.actor_id, r.actor_type, r.db_user, r.db_user_privileged, r.reason,
       r.event_time >= :'t_start' AS after_start
  FROM audit_chain.privileged_action_report(:'t_start') WITH ORDINALITY AS r(event_time, action, resource_type, resource_id,
       actor_id, actor_type, db_user, db_user_privileged, client_addr, reason, outcome, chain_id, seq, n)
 WHERE r.action IN ('DISABLE TRIGGER', 'ENABLE TRIGGER', 'DROP TRIGGER', 'ALTER TRIGGER', 'UNTRACK', 'TRACK',
                    'DROP TABLE', 'ALTER TABLE', 'CONFIGURE')
   AND r.resource_type IN ('public.da_acct', 'public.da_parted', 'public.da_s', 'public.da_s2')
 ORDER BY r.n;
-- Their order and times match the trail.
SELECT bool_and(r.event_time = e.event_time) AS times_match
  FROM audit_chain.privileged_action_report(:'t_start') r
  JOIN audit_chain.audit_events e ON (e.chain_id, e.seq) = (r.chain_id, r.seq);
-- The owner's own TRACK (a plain role) is in the trail and, as every change of what is
-- audited, in the privileged report.
SELECT action, db_user, db_user_privileged FROM audit_chain.audit_events WHERE resource_type = 'public.da_owned';
SELECT count(*) AS in_privileged_report FROM audit_chain.privileged_action_report() r WHERE r.resource_type = 'public.da_owned';

--
-- What a superuser can still do unseen.
--
CREATE TABLE da_su (id int PRIMARY KEY, v text);
INSERT INTO da_su VALUES (1, 'one');
SELECT audit_chain.track('da_su');
SELECT count(*) AS events_before FROM audit_chain.events \gset
-- session_replication_role = replica: row triggers do not fire.
SET session_replication_role = replica;
INSERT INTO da_su VALUES (2, 'written unseen');
UPDATE da_su SET v = 'changed unseen' WHERE id = 1;
RESET session_replication_role;
SELECT count(*) - :events_before AS new_events FROM audit_chain.events;
-- The trail itself is intact, so verify() has nothing to report.
SELECT valid, reason FROM audit_chain.verify();
-- Time travel silently answers from the trail: the table says otherwise.
SELECT audit_chain.row_at('da_su', '{"id": 1}', da_now()) AS trail_row_1,
       (SELECT to_jsonb(d) FROM da_su d WHERE id = 1) AS table_row_1,
       audit_chain.row_at('da_su', '{"id": 2}', da_now()) AS trail_row_2;
-- The next captured change of the unseen row makes the history inconsistent.
UPDATE da_su SET v = 'changed in the open' WHERE id = 2;
SELECT count(*) FROM audit_chain.table_at('da_su', da_now());
-- DDL in a replica session is recorded all the same: the event triggers fire ALWAYS.
SET session_replication_role = replica;
ALTER TABLE da_su ADD COLUMN hidden int;
RESET session_replication_role;
SELECT action, details FROM audit_chain.audit_events
 WHERE resource_type = 'public.da_su' AND action = 'ALTER TABLE' ORDER BY commit_seq, seq;
-- A superuser may also disable the extension's event triggers: trigger DDL is then unseen.
ALTER EVENT TRIGGER audit_chain_ddl_command_end DISABLE;
ALTER TABLE da_su DISABLE TRIGGER audit_chain_capture;
ALTER EVENT TRIGGER audit_chain_ddl_command_end ENABLE ALWAYS;
SELECT count(*) AS disable_events FROM audit_chain.audit_events WHERE resource_type = 'public.da_su' AND action = 'DISABLE TRIGGER';
ALTER TABLE da_su ENABLE TRIGGER audit_chain_capture;
-- Enabling again records every row: from then on time travel matches the table.
SELECT (SELECT jsonb_agg(j ORDER BY j->>'id') FROM audit_chain.table_at('da_su', da_now()) j)
     = (SELECT jsonb_agg(to_jsonb(d) ORDER BY d.id::text) FROM da_su d) AS consistent_again;

SELECT valid, reason FROM audit_chain.verify();

DROP TABLE da_t, da_acct, da_parted, da_drop, da_ren, da_rep, da_owned, da_su;
DROP FUNCTION da_events(text), da_now(), da_noop();
DROP ROLE regress_da_owner;
