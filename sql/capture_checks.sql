-- capture_checks: what capture() refuses to audit, checked when a trigger executing it is
-- created (and again when it fires); one capture trigger per table and kind; partitions of
-- tracked tables (tracked with it, not by themselves; dropped partitions recorded); capture
-- triggers replaced by CREATE OR REPLACE TRIGGER; ALTER EXTENSION audit_chain; the event
-- triggers firing in replica sessions too.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

-- The events of one resource type, in trail order.
CREATE FUNCTION cc_events(tbl text)
RETURNS TABLE (action text, resource_id text, details jsonb)
LANGUAGE sql AS $$
    SELECT e.action, e.resource_id, e.details FROM audit_chain.audit_events e
     WHERE e.resource_type = tbl AND e.action NOT IN ('BASELINE', 'INSERT', 'UPDATE', 'DELETE')
     ORDER BY e.commit_seq, e.seq
$$;
CREATE FUNCTION cc_now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT clock_timestamp() $$;
CREATE FUNCTION cc_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
-- The capture triggers of a table, as PostgreSQL would create them again.
CREATE FUNCTION cc_triggers(tbl regclass) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT regexp_replace(pg_get_triggerdef(oid), ' ON \S+ ', ' ON … ')
      FROM pg_trigger WHERE tgrelid = tbl AND tgfoid = 'audit_chain.capture()'::regprocedure ORDER BY tgname
$$;

--
-- Relations capture() cannot audit: refused by track() and by CREATE TRIGGER.
--
CREATE TEMP TABLE cc_temp (id int PRIMARY KEY);
CREATE UNLOGGED TABLE cc_unlogged (id int PRIMARY KEY);
CREATE TABLE cc_base (id int PRIMARY KEY, v text);
CREATE VIEW cc_view AS SELECT * FROM cc_base;
SELECT audit_chain.track('cc_unlogged');
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_t AFTER INSERT OR UPDATE OR DELETE ON cc_temp FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_t AFTER INSERT OR UPDATE OR DELETE ON cc_unlogged FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_t BEFORE TRUNCATE ON cc_unlogged FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_t INSTEAD OF INSERT ON cc_view FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_t AFTER INSERT ON cc_view FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_t AFTER INSERT ON audit_chain.checkpoints FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
-- Timing and level: row changes AFTER and FOR EACH ROW; a statement trigger on TRUNCATE only.
CREATE TRIGGER cc_t BEFORE INSERT OR UPDATE OR DELETE ON cc_base FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_t AFTER INSERT ON cc_base FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_t BEFORE DELETE ON cc_base FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_t AFTER INSERT OR TRUNCATE ON cc_base FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
-- None of them was created; the tables can be written.
SELECT count(*) AS capture_triggers FROM pg_trigger WHERE tgfoid = 'audit_chain.capture()'::regprocedure;
INSERT INTO cc_temp VALUES (1);
INSERT INTO cc_unlogged VALUES (1);
-- A capture trigger created while the event trigger was disabled is refused when it fires.
ALTER EVENT TRIGGER audit_chain_ddl_command_end DISABLE;
CREATE TRIGGER cc_t AFTER INSERT OR UPDATE OR DELETE ON cc_temp FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
CREATE TRIGGER cc_t AFTER INSERT OR UPDATE OR DELETE ON cc_unlogged FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
ALTER EVENT TRIGGER audit_chain_ddl_command_end ENABLE ALWAYS;
INSERT INTO cc_temp VALUES (2);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO cc_unlogged VALUES (2);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER cc_t ON cc_temp;
DROP TRIGGER cc_t ON cc_unlogged;
-- A tracked table cannot become unlogged.
SELECT audit_chain.track('cc_base');
ALTER TABLE cc_base SET UNLOGGED;
\echo :LAST_ERROR_SQLSTATE
SELECT relpersistence FROM pg_class WHERE oid = 'cc_base'::regclass;

--
-- One capture trigger per table and kind; a tracked table's captures every row change.
--
CREATE TRIGGER cc_second AFTER INSERT OR UPDATE OR DELETE ON cc_base FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER cc_second AFTER TRUNCATE ON cc_base FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
-- Replacing the capture trigger by a weaker one is refused.
CREATE OR REPLACE TRIGGER audit_chain_capture AFTER INSERT OR UPDATE OR DELETE ON cc_base
    FOR EACH ROW WHEN (false) EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE OR REPLACE TRIGGER audit_chain_capture AFTER INSERT OR DELETE ON cc_base
    FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE OR REPLACE TRIGGER audit_chain_capture AFTER INSERT OR UPDATE OF v OR DELETE ON cc_base
    FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE OR REPLACE TRIGGER audit_chain_capture BEFORE INSERT OR UPDATE OR DELETE ON cc_base
    FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
-- Replacing it by the same definition is harmless and records nothing.
CREATE OR REPLACE TRIGGER audit_chain_capture AFTER INSERT OR UPDATE OR DELETE ON cc_base
    FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
SELECT * FROM cc_triggers('cc_base');
-- Replacing it by another function turns capture off: recorded as DROP TRIGGER.
INSERT INTO cc_base VALUES (1, 'captured');
BEGIN;
SELECT audit_chain.set_context(actor_id => 'mallory', reason => 'quiet please');
CREATE OR REPLACE TRIGGER audit_chain_capture AFTER INSERT OR UPDATE OR DELETE ON cc_base
    FOR EACH ROW EXECUTE FUNCTION cc_noop();
COMMIT;
INSERT INTO cc_base VALUES (2, 'not captured');
\set VERBOSITY sqlstate
SELECT count(*) FROM audit_chain.table_at('cc_base', cc_now());
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT * FROM cc_events('public.cc_base');
SELECT r.action, r.actor_id, r.reason FROM audit_chain.privileged_action_report() r
 WHERE r.resource_type = 'public.cc_base' AND r.action = 'DROP TRIGGER';
-- track() resumes capture under a free name, since the other trigger kept the old one.
SELECT audit_chain.track('cc_base') AS resumed;
SELECT * FROM cc_triggers('cc_base');
INSERT INTO cc_base VALUES (3, 'captured again');
SELECT j FROM audit_chain.table_at('cc_base', cc_now()) j ORDER BY j->>'id';
-- A partial capture trigger made by hand on an untracked table is its owner's choice; track()
-- will not take it for a capture trigger of every change.
CREATE TABLE cc_partial (id int PRIMARY KEY);
CREATE TRIGGER cc_inserts AFTER INSERT ON cc_partial FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
INSERT INTO cc_partial VALUES (1);
SELECT action, resource_id FROM audit_chain.audit_events WHERE resource_type = 'public.cc_partial';
SELECT audit_chain.track('cc_partial');
\echo :LAST_ERROR_SQLSTATE

--
-- Partitioned tables: partitions are tracked with their table, not by themselves.
--
CREATE TABLE cc_parted (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE cc_parted_eu PARTITION OF cc_parted FOR VALUES IN ('eu');
CREATE TABLE cc_parted_us PARTITION OF cc_parted FOR VALUES IN ('us') PARTITION BY LIST (id);
CREATE TABLE cc_parted_us1 PARTITION OF cc_parted_us FOR VALUES IN (1);
CREATE TABLE cc_parted_us2 PARTITION OF cc_parted_us FOR VALUES IN (2);
CREATE TABLE cc_parted_ap PARTITION OF cc_parted FOR VALUES IN ('ap');
INSERT INTO cc_parted VALUES (1, 'eu', 'a'), (1, 'us', 'b'), (2, 'us', 'c'), (1, 'ap', 'd');
-- A partition tracked by itself keeps its table from being tracked (changes twice).
SELECT audit_chain.track('cc_parted_eu');
SELECT audit_chain.track('cc_parted');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.untrack('cc_parted_eu');
SELECT audit_chain.track('cc_parted');
-- Tracking a partition of a tracked table changes nothing.
SELECT audit_chain.track('cc_parted_eu') AS tracked_by_itself;
SELECT audit_chain.track('cc_parted_us1', redact => '{v}');
\echo :LAST_ERROR_SQLSTATE
SELECT relid FROM audit_chain.tracked_tables WHERE relid::text LIKE 'cc\_parted%';
-- Nor can a partition get a capture trigger of its own.
CREATE TRIGGER cc_own AFTER INSERT OR UPDATE OR DELETE ON cc_parted_eu FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
-- Nor can a table tracked by itself, or an unlogged one, be attached.
CREATE TABLE cc_parted_sa (id int NOT NULL, region text NOT NULL, v text);
SELECT audit_chain.track('cc_parted_sa', baseline => false);
-- (PostgreSQL itself refuses to clone the capture trigger onto one of the same name.)
ALTER TABLE cc_parted ATTACH PARTITION cc_parted_sa FOR VALUES IN ('sa');
\echo :LAST_ERROR_SQLSTATE
ALTER TRIGGER audit_chain_capture ON cc_parted_sa RENAME TO cc_parted_sa_capture;
ALTER TABLE cc_parted ATTACH PARTITION cc_parted_sa FOR VALUES IN ('sa');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.untrack('cc_parted_sa');
CREATE UNLOGGED TABLE cc_parted_af (id int NOT NULL, region text NOT NULL, v text);
ALTER TABLE cc_parted ATTACH PARTITION cc_parted_af FOR VALUES IN ('af');
\echo :LAST_ERROR_SQLSTATE
CREATE UNLOGGED TABLE cc_parted_an PARTITION OF cc_parted FOR VALUES IN ('an');
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE cc_parted_eu SET UNLOGGED;
\echo :LAST_ERROR_SQLSTATE
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'cc_parted'::regclass ORDER BY 1;
-- A partitioned table with an unlogged partition cannot be tracked.
CREATE TABLE cc_mixed (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE UNLOGGED TABLE cc_mixed_1 PARTITION OF cc_mixed FOR VALUES FROM (0) TO (10);
SELECT audit_chain.track('cc_mixed');
\echo :LAST_ERROR_SQLSTATE

-- Partitions created, attached, detached and dropped: each recorded with the rows again.
SELECT max(commit_seq) AS before_partitions FROM audit_chain.events \gset
CREATE TABLE cc_parted_sa2 PARTITION OF cc_parted FOR VALUES IN ('sa');
ALTER TABLE cc_parted ATTACH PARTITION cc_parted_af FOR VALUES IN ('af');
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE cc_parted_af SET LOGGED;
ALTER TABLE cc_parted ATTACH PARTITION cc_parted_af FOR VALUES IN ('af');
INSERT INTO cc_parted VALUES (2, 'sa', 'e'), (3, 'af', 'f');
ALTER TABLE cc_parted DETACH PARTITION cc_parted_ap;
DROP TABLE cc_parted_eu;
DROP TABLE cc_parted_us2;
SELECT e.action, e.resource_id, e.details,
       (SELECT count(*) FROM audit_chain.events b JOIN audit_chain.resources r ON r.resource_ref = b.resource_ref
         WHERE b.action = 'BASELINE' AND r.resource_type = 'public.cc_parted' AND b.commit_seq = e.commit_seq) AS baseline_rows
  FROM audit_chain.audit_events e
 WHERE e.resource_type = 'public.cc_parted' AND e.commit_seq > :before_partitions
   AND e.action NOT IN ('BASELINE', 'INSERT')
 ORDER BY e.commit_seq, e.seq;
-- Time travel knows the rows that are left.
SELECT j FROM audit_chain.table_at('cc_parted', cc_now()) j ORDER BY j->>'region', j->>'id';
SELECT to_jsonb(p) FROM cc_parted p ORDER BY region, id;
-- Dropping the tracked table itself is one DROP TABLE event.
SELECT max(commit_seq) AS before_drop FROM audit_chain.events \gset
DROP TABLE cc_parted;
SELECT action, resource_type, details FROM audit_chain.audit_events WHERE commit_seq > :before_drop ORDER BY seq;

--
-- Replica sessions: row triggers do not fire, the extension's event triggers do.
--
SELECT evtname, evtenabled FROM pg_event_trigger WHERE evtname LIKE 'audit_chain%' ORDER BY 1;
CREATE TABLE cc_rep (id int PRIMARY KEY, v text);
INSERT INTO cc_rep VALUES (1, 'one');
SELECT audit_chain.track('cc_rep');
SET session_replication_role = replica;
ALTER TABLE cc_rep DISABLE TRIGGER audit_chain_capture;
ALTER TABLE cc_rep ENABLE TRIGGER audit_chain_capture;
ALTER TABLE cc_rep ADD COLUMN note text;
DROP TRIGGER audit_chain_capture ON cc_rep;
RESET session_replication_role;
SELECT * FROM cc_events('public.cc_rep');

--
-- ALTER EXTENSION audit_chain is recorded.
--
ALTER EXTENSION audit_chain DROP FUNCTION audit_chain.version();
ALTER EXTENSION audit_chain ADD FUNCTION audit_chain.version();
ALTER EXTENSION audit_chain UPDATE;
SELECT action, resource_id, details, db_user_privileged FROM audit_chain.audit_events
 WHERE resource_type = 'audit_chain' ORDER BY commit_seq, seq;
SELECT action FROM audit_chain.privileged_action_report() WHERE resource_type = 'audit_chain';

SELECT valid, reason FROM audit_chain.verify();

DROP TABLE cc_temp, cc_unlogged, cc_base, cc_partial, cc_parted_sa, cc_parted_ap, cc_mixed, cc_rep CASCADE;
DROP FUNCTION cc_events(text), cc_now(), cc_noop(), cc_triggers(regclass);
