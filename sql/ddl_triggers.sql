-- ddl_triggers: the capture triggers are known by the function they execute, not by their
-- name. Renamed capture triggers are still recorded when disabled, enabled or dropped, and
-- still found by track() and untrack(); a trigger that merely has the name is not one.
-- Enabling records capture as on only when capture really is on again.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

-- Trigger DDL events of one table, in trail order, with the rows they re-recorded.
CREATE FUNCTION dt_events(tbl text)
RETURNS TABLE (action text, details jsonb, baseline_rows bigint)
LANGUAGE sql AS $$
    SELECT e.action, e.details,
           (SELECT count(*) FROM audit_chain.events b
             WHERE b.action = 'BASELINE' AND b.resource_ref = e0.resource_ref AND b.commit_seq = e.commit_seq)
      FROM audit_chain.audit_events e
      JOIN audit_chain.events e0 ON (e0.chain_id, e0.seq) = (e.chain_id, e.seq)
     WHERE e.resource_type = tbl AND e.action IN ('TRACK', 'UNTRACK', 'DISABLE TRIGGER', 'ENABLE TRIGGER',
                                                  'DROP TRIGGER', 'ALTER TRIGGER')
     ORDER BY e.commit_seq, e.seq
$$;
-- The capture triggers of a table.
CREATE FUNCTION dt_triggers(tbl regclass)
RETURNS TABLE (tgname name, tgenabled "char", row_level boolean, cloned boolean)
LANGUAGE sql AS $$
    SELECT t.tgname, t.tgenabled, (t.tgtype & 1) = 1, t.tgparentid <> 0
      FROM pg_trigger t WHERE t.tgrelid = tbl AND t.tgfoid = 'audit_chain.capture()'::regprocedure
     ORDER BY t.tgname
$$;
CREATE FUNCTION dt_now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT clock_timestamp() $$;
\set VERBOSITY sqlstate

--
-- A renamed capture trigger: disabled, enabled, renamed again and dropped, all recorded.
--
CREATE TABLE dt_a (id int PRIMARY KEY, v text);
INSERT INTO dt_a VALUES (1, 'one');
SELECT audit_chain.track('dt_a');
ALTER TRIGGER audit_chain_capture ON dt_a RENAME TO "renamed ""capture""";
ALTER TABLE dt_a DISABLE TRIGGER "renamed ""capture""";
INSERT INTO dt_a VALUES (2, 'unseen');
SELECT dt_now() AS t_off \gset
SELECT count(*) FROM audit_chain.table_at('dt_a', :'t_off');
ALTER TABLE dt_a ENABLE TRIGGER "renamed ""capture""";
ALTER TRIGGER "renamed ""capture""" ON dt_a RENAME TO dt_capture;
SELECT j FROM audit_chain.table_at('dt_a', dt_now()) AS j ORDER BY j->>'id';
DROP TRIGGER dt_capture ON dt_a;
SELECT count(*) FROM audit_chain.table_at('dt_a', dt_now());
SELECT * FROM dt_events('public.dt_a');
-- track() resumes capture (no row capture trigger is left), as after any dropped trigger.
SELECT audit_chain.track('dt_a') AS resumed;
SELECT * FROM dt_triggers('dt_a');

--
-- ENABLE ALWAYS is capture on; ENABLE REPLICA is capture off (it fires in replica sessions only).
--
CREATE TABLE dt_r (id int PRIMARY KEY);
INSERT INTO dt_r VALUES (1);
SELECT audit_chain.track('dt_r');
ALTER TABLE dt_r ENABLE REPLICA TRIGGER audit_chain_capture;
ALTER TABLE dt_r ENABLE ALWAYS TRIGGER audit_chain_capture;
ALTER TABLE dt_r ENABLE REPLICA TRIGGER audit_chain_capture_truncate;
ALTER TABLE dt_r ENABLE TRIGGER audit_chain_capture_truncate;
SELECT * FROM dt_events('public.dt_r');
-- A trigger firing always is captured in a replica session too.
SET session_replication_role = replica;
INSERT INTO dt_r VALUES (2);
RESET session_replication_role;
SELECT action, resource_id FROM audit_chain.audit_events WHERE resource_type = 'public.dt_r' AND action = 'INSERT';

--
-- Enabling one capture trigger while another stays off does not turn capture on.
--
CREATE TABLE dt_p (id int PRIMARY KEY, v text);
INSERT INTO dt_p VALUES (1, 'one');
SELECT audit_chain.track('dt_p');
ALTER TABLE dt_p DISABLE TRIGGER audit_chain_capture, DISABLE TRIGGER audit_chain_capture_truncate;
UPDATE dt_p SET v = 'unseen';
ALTER TABLE dt_p ENABLE TRIGGER audit_chain_capture_truncate;
SELECT count(*) FROM audit_chain.table_at('dt_p', dt_now());
ALTER TABLE dt_p ENABLE TRIGGER audit_chain_capture;
SELECT j FROM audit_chain.table_at('dt_p', dt_now()) AS j;
-- Off and on again in one statement: both recorded (with the statement's baseline), capture is on.
ALTER TABLE dt_p DISABLE TRIGGER USER, ENABLE TRIGGER USER;
-- With the row trigger dropped, enabling the rest does not turn capture on either.
DROP TRIGGER audit_chain_capture ON dt_p;
ALTER TABLE dt_p DISABLE TRIGGER ALL;
ALTER TABLE dt_p ENABLE TRIGGER ALL;
SELECT count(*) FROM audit_chain.table_at('dt_p', dt_now());
SELECT * FROM dt_events('public.dt_p');

--
-- A trigger that only has the name is not a capture trigger.
--
CREATE TABLE dt_n (id int PRIMARY KEY);
SELECT audit_chain.track('dt_n');
ALTER TRIGGER audit_chain_capture ON dt_n RENAME TO dt_n_capture;
CREATE FUNCTION dt_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER audit_chain_capture AFTER INSERT ON dt_n FOR EACH ROW EXECUTE FUNCTION dt_noop();
ALTER TABLE dt_n DISABLE TRIGGER audit_chain_capture;
ALTER TABLE dt_n ENABLE TRIGGER audit_chain_capture;
ALTER TRIGGER audit_chain_capture ON dt_n RENAME TO dt_n_other;
DROP TRIGGER dt_n_other ON dt_n;
-- Only the rename of the real one is recorded; track() finds it and adds nothing.
SELECT * FROM dt_events('public.dt_n');
SELECT audit_chain.track('dt_n') AS tracked_again;
SELECT * FROM dt_triggers('dt_n');
INSERT INTO dt_n VALUES (1);
SELECT count(*) AS inserts FROM audit_chain.audit_events WHERE resource_type = 'public.dt_n' AND action = 'INSERT';

--
-- A capture trigger made by hand, under another name: track() uses it, untrack() drops it.
--
CREATE TABLE dt_h (id int PRIMARY KEY);
CREATE TRIGGER dt_h_audit AFTER INSERT OR UPDATE OR DELETE ON dt_h FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
SELECT audit_chain.track('dt_h', baseline => false);
SELECT * FROM dt_triggers('dt_h');
INSERT INTO dt_h VALUES (1);
SELECT count(*) AS inserts FROM audit_chain.audit_events WHERE resource_type = 'public.dt_h' AND action = 'INSERT';
SELECT audit_chain.untrack('dt_h');
SELECT count(*) AS capture_triggers_left FROM dt_triggers('dt_h');
INSERT INTO dt_h VALUES (2);
SELECT count(*) AS inserts FROM audit_chain.audit_events WHERE resource_type = 'public.dt_h' AND action = 'INSERT';
-- Dropped by untrack(): no DROP TRIGGER event.
SELECT action FROM audit_chain.audit_events WHERE resource_type = 'public.dt_h' ORDER BY commit_seq, seq;

--
-- Partitioned: a renamed trigger is renamed on every partition; new partitions still get the
-- TRUNCATE trigger; untrack() leaves no capture trigger anywhere.
--
CREATE TABLE dt_parted (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE dt_parted_eu PARTITION OF dt_parted FOR VALUES IN ('eu');
CREATE TABLE dt_parted_us PARTITION OF dt_parted FOR VALUES IN ('us') PARTITION BY LIST (id);
CREATE TABLE dt_parted_us1 PARTITION OF dt_parted_us FOR VALUES IN (1);
SELECT audit_chain.track('dt_parted');
ALTER TRIGGER audit_chain_capture ON dt_parted RENAME TO dt_parted_capture;
CREATE TABLE dt_parted_ap PARTITION OF dt_parted FOR VALUES IN ('ap');
SELECT c.relname, t.* FROM pg_class c CROSS JOIN LATERAL dt_triggers(c.oid) t
 WHERE c.relname LIKE 'dt_parted%' AND c.relkind IN ('r', 'p') ORDER BY c.relname, t.tgname;
-- TRUNCATE of one partition is still the DELETE of its rows from the tracked table.
INSERT INTO dt_parted VALUES (1, 'eu'), (2, 'eu'), (1, 'us');
TRUNCATE dt_parted_eu;
SELECT action, resource_type, resource_id FROM audit_chain.audit_events
 WHERE resource_type LIKE 'public.dt_parted%' AND action IN ('DELETE', 'TRUNCATE') ORDER BY commit_seq, seq;
SELECT audit_chain.untrack('dt_parted');
SELECT c.relname, t.* FROM pg_class c CROSS JOIN LATERAL dt_triggers(c.oid) t
 WHERE c.relname LIKE 'dt_parted%' AND c.relkind IN ('r', 'p') ORDER BY c.relname, t.tgname;
SELECT * FROM dt_events('public.dt_parted');

SELECT valid, reason FROM audit_chain.verify();

DROP TABLE dt_a, dt_r, dt_p, dt_n, dt_h, dt_parted;
DROP FUNCTION dt_events(text), dt_triggers(regclass), dt_now(), dt_noop();
