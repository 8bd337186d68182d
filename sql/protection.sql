-- protection: the audit tables are append-only for everyone, application roles cannot read
-- or write them, context settings are validated, and two-phase commit cannot carry events.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE TABLE pr_items (id int PRIMARY KEY, v text);
CREATE TABLE pr_plain (id int PRIMARY KEY, v text);
SELECT audit_chain.track('pr_items');
INSERT INTO pr_items VALUES (1, 'a'), (2, 'b');
SELECT valid FROM audit_chain.checkpoint();
-- Row counts of the audit tables, to show nothing was changed.
CREATE TEMP VIEW pr_counts AS
SELECT (SELECT count(*) FROM audit_chain.events) AS events, (SELECT count(*) FROM audit_chain.contexts) AS contexts,
       (SELECT count(*) FROM audit_chain.resources) AS resources, (SELECT count(*) FROM audit_chain.ledger) AS ledger,
       (SELECT count(*) FROM audit_chain.checkpoints) AS checkpoints;
SELECT * FROM pr_counts;

-- Even a superuser cannot UPDATE, DELETE or TRUNCATE the audit tables (even changing nothing).
UPDATE audit_chain.events SET action = action;
\echo :LAST_ERROR_SQLSTATE
UPDATE audit_chain.events SET new_data = '{}' WHERE false;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM audit_chain.events;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE audit_chain.events;
\echo :LAST_ERROR_SQLSTATE
UPDATE audit_chain.contexts SET actor_id = 'someone else';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM audit_chain.contexts;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE audit_chain.contexts;
\echo :LAST_ERROR_SQLSTATE
UPDATE audit_chain.resources SET resource_type = 'public.elsewhere';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM audit_chain.resources;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE audit_chain.resources;
\echo :LAST_ERROR_SQLSTATE
UPDATE audit_chain.ledger SET created_at = now();
\echo :LAST_ERROR_SQLSTATE
DELETE FROM audit_chain.ledger;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE audit_chain.ledger;
\echo :LAST_ERROR_SQLSTATE
UPDATE audit_chain.checkpoints SET events_checked = 0;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM audit_chain.checkpoints;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE audit_chain.checkpoints;
\echo :LAST_ERROR_SQLSTATE
-- TRUNCATE of several tables at once, and with CASCADE, is refused as well.
TRUNCATE audit_chain.events, audit_chain.contexts, audit_chain.resources, audit_chain.ledger CASCADE;
\echo :LAST_ERROR_SQLSTATE
-- A writable CTE and an UPDATE through the view are refused too.
WITH gone AS (DELETE FROM audit_chain.events RETURNING 1) SELECT count(*) FROM gone;
\echo :LAST_ERROR_SQLSTATE
UPDATE audit_chain.audit_events SET action = 'x';
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pr_counts;
SELECT valid FROM audit_chain.verify();

-- An application role that writes the tracked table.
CREATE ROLE regress_protection_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON pr_items, pr_plain TO regress_protection_app;
SET ROLE regress_protection_app;
-- Its writes are audited.
INSERT INTO pr_items VALUES (3, 'by the application');
UPDATE pr_items SET v = 'changed by the application' WHERE id = 1;
-- It can read none of the audit tables and views.
SELECT count(*) FROM audit_chain.events;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.audit_events;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.events_export;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.contexts;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.resources;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.ledger;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.tracked_tables;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.checkpoints;
\echo :LAST_ERROR_SQLSTATE
-- ... nor write them.
INSERT INTO audit_chain.events (seq) VALUES (1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO audit_chain.contexts (context_id, actor_id, actor_type, session_user_name, current_user_name)
VALUES (1000, 'x', 'user', 'x', 'x');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO audit_chain.tracked_tables (relid, resource_type, tracked_at, tracked_by, baseline, columns)
VALUES ('pr_plain', 'public.pr_plain', now(), 'x', false, '[]');
\echo :LAST_ERROR_SQLSTATE
UPDATE audit_chain.events SET action = action;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM audit_chain.events;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM audit_chain.tracked_tables;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE audit_chain.events;
\echo :LAST_ERROR_SQLSTATE
SELECT nextval('audit_chain.commit_seq');
\echo :LAST_ERROR_SQLSTATE
SELECT setval('audit_chain.context_id_seq', 1);
\echo :LAST_ERROR_SQLSTATE
-- ... nor verify, take digests or checkpoints.
SELECT * FROM audit_chain.verify();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify('{}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.digest();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.checkpoint();
\echo :LAST_ERROR_SQLSTATE
-- ... nor get around the guards or the capture.
SET session_replication_role = replica;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE audit_chain.events DISABLE TRIGGER append_only;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE pr_items DISABLE TRIGGER audit_chain_capture;
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER audit_chain_capture ON pr_items;
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.untrack('pr_items');
\echo :LAST_ERROR_SQLSTATE
SET audit_chain.chains = 1;
\echo :LAST_ERROR_SQLSTATE
-- It may call version().
SELECT audit_chain.version() IS NOT NULL AS has_version;

-- Context settings are validated when they are set.
SET audit_chain.actor_type = 'superhero';
\echo :LAST_ERROR_SQLSTATE
SET audit_chain.actor_type = 'User';
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL audit_chain.actor_type = 'root';
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SET audit_chain.client_addr = 'not an address';
\echo :LAST_ERROR_SQLSTATE
SET audit_chain.client_addr = '300.1.2.3';
\echo :LAST_ERROR_SQLSTATE
SET audit_chain.client_addr = '10.0.0.1; DROP TABLE pr_items';
\echo :LAST_ERROR_SQLSTATE
SET audit_chain.client_addr = 'fe80::1::2';
\echo :LAST_ERROR_SQLSTATE
-- Values are limited to 1024 bytes (the long value is not repeated here).
\set VERBOSITY sqlstate
SELECT set_config('audit_chain.actor_id', repeat('x', 1025), true);
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('audit_chain.reason', repeat('y', 1025), false);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT set_config('audit_chain.no_such_setting', 'x', false);
\echo :LAST_ERROR_SQLSTATE
-- Valid values are accepted.
SET audit_chain.actor_type = 'service';
SET audit_chain.actor_type = 'system';
SET audit_chain.actor_type = 'admin';
SET audit_chain.actor_type = 'user';
SET audit_chain.actor_type = '';
SET audit_chain.client_addr = '203.0.113.7';
SET audit_chain.client_addr = '2001:db8::7';
SET audit_chain.client_addr = '';
SELECT length(set_config('audit_chain.actor_id', repeat('x', 1024), false)) AS longest_accepted;
RESET audit_chain.actor_id;
-- Nothing about the rejected values reached the trail.
INSERT INTO pr_items VALUES (4, 'after the rejected settings');
RESET ROLE;
SELECT actor_id, actor_type, client_addr IS NOT DISTINCT FROM inet_client_addr() AS own_client_addr, db_user, new_data
  FROM audit_chain.audit_events WHERE db_user = 'regress_protection_app' ORDER BY commit_seq, seq;

-- With audit_chain_reader it reads, verifies and takes checkpoints, and still cannot write.
GRANT audit_chain_reader TO regress_protection_app;
SET ROLE regress_protection_app;
SELECT count(*) > 0 AS reads_events FROM audit_chain.audit_events;
SELECT valid FROM audit_chain.verify();
SELECT valid FROM audit_chain.verify(audit_chain.digest());
SELECT valid, checkpoint_id IS NOT NULL AS recorded FROM audit_chain.checkpoint();
UPDATE audit_chain.events SET action = action;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO audit_chain.checkpoints SELECT 1000, now(), '{}', 0;
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('pr_plain');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE audit_chain_reader FROM regress_protection_app;

-- Two-phase commit: a transaction with audited changes cannot be prepared (its events are
-- written at COMMIT); it is rolled back.
SELECT * FROM pr_counts \gset before_
SET ROLE regress_protection_app;
BEGIN;
INSERT INTO pr_items VALUES (10, 'prepared');
INSERT INTO pr_plain VALUES (10, 'prepared');
PREPARE TRANSACTION 'regress_protection_audited';
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid LIKE 'regress_protection%';
SELECT (SELECT count(*) FROM pr_items WHERE id = 10) AS audited_rows, (SELECT count(*) FROM pr_plain WHERE id = 10) AS plain_rows;
-- Without audited changes it can.
BEGIN;
INSERT INTO pr_plain VALUES (11, 'prepared, no audited change');
UPDATE pr_items SET v = v WHERE id = 1;
PREPARE TRANSACTION 'regress_protection_plain';
SELECT gid, owner FROM pg_prepared_xacts WHERE gid LIKE 'regress_protection%';
COMMIT PREPARED 'regress_protection_plain';
SELECT v FROM pr_plain WHERE id = 11;
-- Audited changes rolled back to a savepoint do not count.
BEGIN;
SAVEPOINT s;
INSERT INTO pr_items VALUES (12, 'rolled back');
ROLLBACK TO SAVEPOINT s;
INSERT INTO pr_plain VALUES (12, 'prepared after a rolled-back audited change');
PREPARE TRANSACTION 'regress_protection_savepoint';
SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'regress_protection%';
COMMIT PREPARED 'regress_protection_savepoint';
SELECT count(*) AS plain_rows FROM pr_plain WHERE id = 12;
RESET ROLE;
-- track() spools an event too.
BEGIN;
SELECT audit_chain.track('pr_plain');
PREPARE TRANSACTION 'regress_protection_track';
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid LIKE 'regress_protection%';
SELECT count(*) AS registered FROM audit_chain.tracked_tables WHERE relid = 'pr_plain'::regclass;
-- No event came from any of these transactions.
SELECT p.events - :before_events AS new_events FROM pr_counts p;
SELECT valid FROM audit_chain.verify();

DROP VIEW pr_counts;
DROP TABLE pr_items, pr_plain;
DROP OWNED BY regress_protection_app;
DROP ROLE regress_protection_app;
