-- tracking: track() and untrack(), the triggers and registry they maintain, partitioned
-- tables, what cannot be tracked, and who may track.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

-- The audit triggers of the tables whose name starts with tr_.
CREATE TEMP VIEW tr_triggers AS
SELECT c.relname, t.tgname, t.tgparentid <> 0 AS cloned,
       CASE WHEN t.tgtype & 2 <> 0 THEN 'BEFORE' ELSE 'AFTER' END AS timing,
       concat_ws(' OR ', CASE WHEN t.tgtype & 4 <> 0 THEN 'INSERT' END, CASE WHEN t.tgtype & 16 <> 0 THEN 'UPDATE' END,
                 CASE WHEN t.tgtype & 8 <> 0 THEN 'DELETE' END, CASE WHEN t.tgtype & 32 <> 0 THEN 'TRUNCATE' END) AS events,
       CASE WHEN t.tgtype & 1 <> 0 THEN 'ROW' ELSE 'STATEMENT' END AS level,
       t.tgfoid::regproc AS function, t.tgenabled AS enabled
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname LIKE 'audit_chain%' AND c.relname LIKE 'tr\_%'
 ORDER BY c.relname, t.tgname;

CREATE TABLE tr_plain (id int PRIMARY KEY, v text);
-- track(): true when newly tracked, false when it already was.
SELECT audit_chain.track('tr_plain') AS first;
SELECT audit_chain.track('tr_plain') AS second;
SELECT * FROM tr_triggers;
SELECT relid, tracked_by, settings, tracked_at <= now() AS tracked_at_set FROM audit_chain.tracked_tables;
-- One TRACK event, however often track() is called.
SELECT action, resource_type, resource_id, old_data, new_data, details, outcome
  FROM audit_chain.audit_events ORDER BY commit_seq, seq;

-- Twice in one statement: the same.
CREATE TABLE tr_twice (id int PRIMARY KEY);
SELECT audit_chain.track('tr_twice') AS first, audit_chain.track('tr_twice') AS second;
SELECT count(*) AS registered FROM audit_chain.tracked_tables WHERE relid = 'tr_twice'::regclass;
SELECT audit_chain.track('tr_twice') AS third;
SELECT audit_chain.untrack('tr_twice') AS first, audit_chain.untrack('tr_twice') AS second;
SELECT count(*) AS registered FROM audit_chain.tracked_tables WHERE relid = 'tr_twice'::regclass;
SELECT audit_chain.untrack('tr_twice') AS third;
SELECT action FROM audit_chain.audit_events WHERE resource_type = 'public.tr_twice' ORDER BY commit_seq, seq;

-- Tracked: changes are recorded.
INSERT INTO tr_plain VALUES (1, 'tracked');
-- untrack(): true when it was tracked, false otherwise; triggers and registry row go.
SELECT audit_chain.untrack('tr_plain') AS first;
SELECT audit_chain.untrack('tr_plain') AS second;
SELECT * FROM tr_triggers;
SELECT count(*) AS registered FROM audit_chain.tracked_tables;
-- Untracked: changes are not recorded.
INSERT INTO tr_plain VALUES (2, 'not tracked');
TRUNCATE tr_plain;
-- Tracked again: a new TRACK event.
SELECT audit_chain.track('tr_plain');
INSERT INTO tr_plain VALUES (3, 'tracked again');
SELECT action, resource_type, resource_id, new_data
  FROM audit_chain.audit_events WHERE resource_type = 'public.tr_plain' ORDER BY commit_seq, seq;
-- untrack() of a table that was never tracked.
CREATE TABLE tr_never (id int);
SELECT audit_chain.untrack('tr_never');
-- track() in a rolled-back transaction leaves neither triggers nor registry row nor event.
BEGIN;
SELECT audit_chain.track('tr_never');
ROLLBACK;
SELECT * FROM tr_triggers WHERE relname = 'tr_never';
SELECT count(*) AS registered FROM audit_chain.tracked_tables WHERE relid = 'tr_never'::regclass;
SELECT count(*) AS events FROM audit_chain.audit_events WHERE resource_type = 'public.tr_never';

-- Renaming a tracked table (or its schema) renames the resource type of later events.
CREATE SCHEMA tr_schema;
CREATE TABLE tr_schema.tr_renamed (id int PRIMARY KEY);
SELECT audit_chain.track('tr_schema.tr_renamed');
INSERT INTO tr_schema.tr_renamed VALUES (1);
ALTER TABLE tr_schema.tr_renamed RENAME TO tr_renamed_again;
INSERT INTO tr_schema.tr_renamed_again VALUES (2);
ALTER SCHEMA tr_schema RENAME TO tr_schema_again;
INSERT INTO tr_schema_again.tr_renamed_again VALUES (3);
SELECT action, resource_type, resource_id FROM audit_chain.audit_events
 WHERE resource_type LIKE 'tr\_schema%' ORDER BY commit_seq, seq;

-- A dropped table is no longer registered as tracked.
CREATE TABLE tr_dropped (id int PRIMARY KEY);
SELECT audit_chain.track('tr_dropped');
DROP TABLE tr_dropped;
SELECT count(*) AS dangling_rows FROM audit_chain.tracked_tables
 WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = relid);
SELECT relid::text FROM audit_chain.tracked_tables
 WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = relid) ORDER BY 1;

-- Partitioned tables: the row trigger is cloned to every partition, present and future;
-- every partition gets the TRUNCATE trigger; events name the partitioned table.
CREATE TABLE tr_part (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE tr_part_eu PARTITION OF tr_part FOR VALUES IN ('eu');
CREATE TABLE tr_part_us PARTITION OF tr_part FOR VALUES IN ('us');
SELECT audit_chain.track('tr_part');
SELECT * FROM tr_triggers WHERE relname LIKE 'tr\_part%';
SELECT relid FROM audit_chain.tracked_tables WHERE relid::text LIKE 'tr\_part%';
-- Partitions created or attached later.
CREATE TABLE tr_part_asia PARTITION OF tr_part FOR VALUES IN ('asia');
CREATE TABLE tr_part_sub PARTITION OF tr_part FOR VALUES IN ('sub1', 'sub2') PARTITION BY LIST (region);
CREATE TABLE tr_part_sub1 PARTITION OF tr_part_sub FOR VALUES IN ('sub1');
CREATE TABLE tr_part_other (id int NOT NULL, region text NOT NULL, v text);
ALTER TABLE tr_part ATTACH PARTITION tr_part_other DEFAULT;
SELECT * FROM tr_triggers WHERE relname IN ('tr_part_asia', 'tr_part_sub', 'tr_part_sub1', 'tr_part_other');
INSERT INTO tr_part VALUES (1, 'eu', 'a'), (2, 'us', 'b'), (3, 'asia', 'c'), (4, 'sub1', 'd'), (5, 'mars', 'e');
INSERT INTO tr_part_us VALUES (6, 'us', 'written to the partition');
UPDATE tr_part SET v = 'changed' WHERE id = 1;
-- Moving a row to another partition is a DELETE there and an INSERT here.
UPDATE tr_part SET region = 'us' WHERE id = 2 AND region = 'us';
UPDATE tr_part SET region = 'asia' WHERE id = 1;
DELETE FROM tr_part WHERE id = 4;
SELECT action, resource_type, resource_id, old_data, new_data FROM audit_chain.audit_events
 WHERE resource_type LIKE '%tr\_part%' AND action IN ('INSERT', 'UPDATE', 'DELETE') ORDER BY commit_seq, seq;
-- The events of the last transaction.
CREATE TEMP VIEW tr_last AS
SELECT action, resource_type, resource_id, old_data FROM audit_chain.audit_events
 WHERE commit_seq = (SELECT max(commit_seq) FROM audit_chain.events) ORDER BY seq;
-- TRUNCATE of the partitioned table: one TRUNCATE event of the partitioned table.
TRUNCATE tr_part;
SELECT * FROM tr_last;
-- TRUNCATE of single partitions (created with the table, partitioned themselves, or
-- attached) empties part of the table: their rows become DELETE events of the
-- partitioned table.
INSERT INTO tr_part VALUES (1, 'eu', 'a'), (2, 'eu', 'b'), (3, 'us', 'c'), (4, 'sub1', 'd'), (5, 'mars', 'e'), (6, 'asia', 'f');
TRUNCATE tr_part_eu;
SELECT * FROM tr_last;
TRUNCATE tr_part_sub;
SELECT * FROM tr_last;
TRUNCATE tr_part_other;
SELECT * FROM tr_last;
TRUNCATE tr_part_us, tr_part_asia;
SELECT * FROM tr_last;
-- A detached partition is no longer tracked: none of its changes are recorded.
ALTER TABLE tr_part DETACH PARTITION tr_part_asia;
SELECT * FROM tr_triggers WHERE relname = 'tr_part_asia';
SELECT count(*) AS events_before FROM audit_chain.events \gset
INSERT INTO tr_part_asia VALUES (8, 'asia', 'detached');
TRUNCATE tr_part_asia;
SELECT count(*) - :events_before AS new_events FROM audit_chain.events;
-- untrack() of the partitioned table removes the triggers of all partitions.
SELECT audit_chain.untrack('tr_part');
SELECT * FROM tr_triggers WHERE relname LIKE 'tr\_part%';
INSERT INTO tr_part VALUES (9, 'eu', 'untracked');
TRUNCATE tr_part;
TRUNCATE tr_part_eu;
SELECT * FROM tr_last;
-- Tracking a partition alone: its events name the partition.
SELECT audit_chain.track('tr_part_eu');
INSERT INTO tr_part VALUES (10, 'eu', 'through the parent');
INSERT INTO tr_part VALUES (11, 'us', 'other partition, untracked');
SELECT action, resource_type, resource_id FROM audit_chain.audit_events
 WHERE commit_seq > (SELECT max(commit_seq) - 2 FROM audit_chain.events) ORDER BY commit_seq, seq;
TRUNCATE tr_part;
SELECT * FROM tr_last;
SELECT audit_chain.untrack('tr_part_eu');

-- What cannot be tracked, with its SQLSTATE.
CREATE VIEW tr_view AS SELECT * FROM tr_plain;
CREATE MATERIALIZED VIEW tr_matview AS SELECT * FROM tr_plain;
CREATE SEQUENCE tr_sequence;
CREATE INDEX tr_index ON tr_plain (v);
CREATE TYPE tr_composite AS (a int);
CREATE TEMP TABLE tr_temp (id int);
CREATE UNLOGGED TABLE tr_unlogged (id int);
SELECT audit_chain.track('tr_view');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('tr_matview');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('tr_sequence');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('tr_index');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('tr_composite');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('tr_temp');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('tr_unlogged');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('audit_chain.events');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('audit_chain.tracked_tables');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('pg_catalog.pg_class');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('pg_toast.pg_toast_1255');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('tr_no_such_table');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track(0::oid::regclass);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.untrack(NULL);
\echo :LAST_ERROR_SQLSTATE
-- A foreign table (file_fdw ships with the server; skipped where it is missing).
SELECT count(*) > 0 AS have_file_fdw FROM pg_available_extensions WHERE name = 'file_fdw' \gset
\if :have_file_fdw
CREATE EXTENSION file_fdw;
CREATE SERVER tr_files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE tr_foreign (id int) SERVER tr_files OPTIONS (filename '/dev/null');
SELECT audit_chain.track('tr_foreign');
\echo :LAST_ERROR_SQLSTATE
-- Nor can a capture trigger be put on it by hand.
CREATE TRIGGER tr_foreign_capture AFTER INSERT OR UPDATE OR DELETE ON tr_foreign
    FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
DROP EXTENSION file_fdw CASCADE;
\endif
-- Nothing of the above was registered or recorded.
SELECT relid::text FROM audit_chain.tracked_tables
 WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = relid) ORDER BY 1;
SELECT count(*) AS track_events FROM audit_chain.audit_events
 WHERE action = 'TRACK' AND resource_type NOT IN ('public.tr_plain', 'public.tr_twice', 'tr_schema.tr_renamed',
                                                  'public.tr_dropped', 'public.tr_part', 'public.tr_part_eu');

-- Who may track: the table's owner, or a member of audit_chain_admin.
CREATE ROLE regress_tracking_owner;
CREATE ROLE regress_tracking_other;
CREATE ROLE regress_tracking_admin;
GRANT audit_chain_admin TO regress_tracking_admin;
CREATE TABLE tr_owned (id int PRIMARY KEY, v text);
ALTER TABLE tr_owned OWNER TO regress_tracking_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON tr_owned TO regress_tracking_other;
-- Someone who may write the table but does not own it may not track or untrack it.
SET ROLE regress_tracking_other;
SELECT audit_chain.track('tr_owned');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT * FROM tr_triggers WHERE relname = 'tr_owned';
-- Permission is checked before the table is locked: a role that may not track a table
-- cannot queue for a lock on it (and so hold up everyone queued behind it).
CREATE EXTENSION dblink;
SELECT dblink_connect('tr_locker', format('host=%s port=%s dbname=%s user=%s',
    coalesce(host(inet_server_addr()), current_setting('unix_socket_directories')),
    current_setting('port'), current_database(), current_user));
SELECT dblink_exec('tr_locker', 'BEGIN');
SELECT dblink_exec('tr_locker', 'LOCK TABLE public.tr_owned IN ACCESS EXCLUSIVE MODE');
SET ROLE regress_tracking_other;
SET lock_timeout = '200ms';
\set VERBOSITY sqlstate
SELECT audit_chain.track('tr_owned');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.untrack('tr_owned');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET lock_timeout;
RESET ROLE;
SELECT dblink_exec('tr_locker', 'ROLLBACK');
SELECT dblink_disconnect('tr_locker');
DROP EXTENSION dblink;
-- The owner may.
SET ROLE regress_tracking_owner;
SELECT audit_chain.track('tr_owned');
SELECT audit_chain.untrack('tr_owned');
RESET ROLE;
-- A member of audit_chain_admin may track a table it does not own.
SET ROLE regress_tracking_admin;
SELECT audit_chain.track('tr_owned');
RESET ROLE;
SELECT * FROM tr_triggers WHERE relname = 'tr_owned';
SELECT tracked_by FROM audit_chain.tracked_tables WHERE relid = 'tr_owned'::regclass;
-- The non-owner may still not untrack it (nor drop its triggers).
SET ROLE regress_tracking_other;
SELECT audit_chain.untrack('tr_owned');
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER audit_chain_capture ON tr_owned;
\echo :LAST_ERROR_SQLSTATE
-- Its writes are recorded, under its name.
INSERT INTO tr_owned VALUES (1, 'by other');
RESET ROLE;
SELECT action, resource_type, actor_id, db_user FROM audit_chain.audit_events
 WHERE resource_type = 'public.tr_owned' ORDER BY commit_seq, seq;
-- The admin member untracks.
SET ROLE regress_tracking_admin;
SELECT audit_chain.untrack('tr_owned');
RESET ROLE;
SELECT * FROM tr_triggers WHERE relname = 'tr_owned';

SELECT valid FROM audit_chain.verify();

DROP VIEW tr_triggers, tr_last;
DROP VIEW tr_view;
DROP MATERIALIZED VIEW tr_matview;
DROP SEQUENCE tr_sequence;
DROP TYPE tr_composite;
DROP TABLE tr_temp, tr_unlogged, tr_plain, tr_twice, tr_never, tr_part, tr_part_asia, tr_owned;
DROP SCHEMA tr_schema_again CASCADE;
DROP ROLE regress_tracking_owner, regress_tracking_other, regress_tracking_admin;
