-- capture_dml: which changes become events, with which data, and when they are written.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE TABLE cd_items (id int PRIMARY KEY, name text NOT NULL, qty int, note text);
SELECT audit_chain.track('cd_items');

-- Events in commit order; tx numbers the transactions, pos is the position within one.
CREATE TEMP VIEW cd_ev AS
SELECT dense_rank() OVER (ORDER BY commit_seq) AS tx,
       seq - min(seq) OVER (PARTITION BY commit_seq) + 1 AS pos,
       action, resource_type, resource_id, old_data, new_data
  FROM audit_chain.audit_events
 ORDER BY commit_seq, seq;
-- The number of events so far.
CREATE TEMP VIEW cd_count AS SELECT count(*) AS events FROM audit_chain.events;

-- INSERT: the whole new row.
INSERT INTO cd_items VALUES (1, 'apple', 10, NULL);
-- UPDATE: only the columns that changed, old and new values.
UPDATE cd_items SET qty = 11 WHERE id = 1;
-- Assigning the same value to a column does not make it changed.
UPDATE cd_items SET name = 'apple', qty = 12, note = 'fresh' WHERE id = 1;
-- NULL to value and value to NULL are changes.
UPDATE cd_items SET note = NULL WHERE id = 1;
-- DELETE: the whole old row.
DELETE FROM cd_items WHERE id = 1;
SELECT * FROM cd_ev;

-- An UPDATE that changes nothing records nothing (and a transaction with nothing to
-- record leaves no trace).
INSERT INTO cd_items VALUES (2, 'pear', 5, 'green');
SELECT * FROM cd_count;
UPDATE cd_items SET name = name, qty = qty, note = note WHERE id = 2;
UPDATE cd_items SET qty = 5 WHERE id = 2;
UPDATE cd_items SET id = id;
SELECT * FROM cd_count;

-- TRUNCATE: one event for the table, without data.
TRUNCATE cd_items;
SELECT tx, pos, action, resource_type, resource_id, old_data, new_data FROM cd_ev WHERE action = 'TRUNCATE';

-- Multi-row statements: one event per row, all in one transaction at consecutive positions.
INSERT INTO cd_items VALUES (10, 'a', 1, NULL), (11, 'b', 2, NULL), (12, 'c', 3, NULL);
UPDATE cd_items SET qty = qty * 10 WHERE id >= 11;
DELETE FROM cd_items WHERE id IN (10, 12);
SELECT * FROM cd_ev WHERE tx > (SELECT max(tx) FROM cd_ev WHERE action = 'TRUNCATE');

-- Other ways of writing: INSERT ... ON CONFLICT, MERGE, COPY, a writable CTE.
INSERT INTO cd_items VALUES (11, 'b', 0, NULL), (13, 'd', 4, NULL)
    ON CONFLICT (id) DO UPDATE SET qty = excluded.qty;
MERGE INTO cd_items t
USING (VALUES (11, 'bb'), (14, 'e')) AS s(id, name) ON t.id = s.id
WHEN MATCHED THEN UPDATE SET name = s.name
WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name, 0, 'merged');
COPY cd_items (id, name, qty, note) FROM stdin;
15	f	6	copied
16	g	\N	\N
\.
WITH moved AS (DELETE FROM cd_items WHERE id = 16 RETURNING *)
INSERT INTO cd_items SELECT id + 1, name, qty, 'moved' FROM moved;
SELECT * FROM cd_ev WHERE tx > (SELECT max(tx) FROM cd_ev WHERE action = 'TRUNCATE') + 3;

-- Events are written when the transaction commits: inside it, nothing is visible yet.
SELECT * FROM cd_count;
BEGIN;
INSERT INTO cd_items VALUES (20, 'h', 1, NULL);
UPDATE cd_items SET qty = 2 WHERE id = 20;
SELECT * FROM cd_count;
COMMIT;
SELECT * FROM cd_count;

-- A rolled-back transaction leaves nothing, and does not disturb the chain.
BEGIN;
INSERT INTO cd_items VALUES (21, 'rolled back', 1, NULL);
DELETE FROM cd_items WHERE id = 20;
ROLLBACK;
SELECT * FROM cd_count;
-- A transaction that fails leaves nothing either.
BEGIN;
INSERT INTO cd_items VALUES (22, 'failed', 1, NULL);
INSERT INTO cd_items VALUES (20, 'duplicate', 1, NULL);
COMMIT;
SELECT * FROM cd_count;
SELECT count(*) AS leaked FROM audit_chain.audit_events WHERE new_data->>'name' IN ('rolled back', 'failed');

-- Savepoints: events of a rolled-back savepoint are skipped, the others kept in order.
TRUNCATE cd_items;
BEGIN;
INSERT INTO cd_items VALUES (30, 'kept 1', 1, NULL);
SAVEPOINT s1;
INSERT INTO cd_items VALUES (31, 'dropped', 1, NULL);
ROLLBACK TO SAVEPOINT s1;
INSERT INTO cd_items VALUES (32, 'kept 2 (after rollback to s1)', 1, NULL);
SAVEPOINT s2;
INSERT INTO cd_items VALUES (33, 'kept 3 (released)', 1, NULL);
RELEASE SAVEPOINT s2;
COMMIT;
SELECT pos, action, resource_id, new_data->>'name' AS name FROM cd_ev WHERE tx = (SELECT max(tx) FROM cd_ev);

-- Nested savepoints.
BEGIN;
INSERT INTO cd_items VALUES (40, 'a: top', 1, NULL);
SAVEPOINT outer_sp;
INSERT INTO cd_items VALUES (41, 'b: outer, kept', 1, NULL);
SAVEPOINT inner_sp;
INSERT INTO cd_items VALUES (42, 'x: inner, rolled back', 1, NULL);
UPDATE cd_items SET qty = 99 WHERE id = 40;
ROLLBACK TO SAVEPOINT inner_sp;
INSERT INTO cd_items VALUES (43, 'c: inner again, kept', 1, NULL);
RELEASE SAVEPOINT outer_sp;
SAVEPOINT third_sp;
SAVEPOINT fourth_sp;
INSERT INTO cd_items VALUES (44, 'y: nested in a rolled-back savepoint', 1, NULL);
RELEASE SAVEPOINT fourth_sp;
ROLLBACK TO SAVEPOINT third_sp;
UPDATE cd_items SET qty = 2 WHERE id = 40;
COMMIT;
SELECT pos, action, resource_id, new_data->>'name' AS name, new_data->>'qty' AS qty
  FROM cd_ev WHERE tx = (SELECT max(tx) FROM cd_ev);
SELECT id, name, qty FROM cd_items WHERE id >= 40 ORDER BY id;

-- A transaction whose every event was rolled back to a savepoint writes nothing.
SELECT * FROM cd_count;
BEGIN;
SAVEPOINT s;
INSERT INTO cd_items VALUES (50, 'gone', 1, NULL);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT * FROM cd_count;

-- PL/pgSQL exception blocks are savepoints too.
CREATE FUNCTION cd_exception_block() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cd_items VALUES (60, 'before the block', 1, NULL);
    BEGIN
        INSERT INTO cd_items VALUES (61, 'inside the failing block', 1, NULL);
        PERFORM 1 / 0;
    EXCEPTION WHEN division_by_zero THEN
        INSERT INTO cd_items VALUES (62, 'in the handler', 1, NULL);
    END;
    BEGIN
        INSERT INTO cd_items VALUES (63, 'inside a block that succeeds', 1, NULL);
    EXCEPTION WHEN others THEN
        RAISE;
    END;
    BEGIN
        BEGIN
            INSERT INTO cd_items VALUES (64, 'nested, caught outside', 1, NULL);
            INSERT INTO cd_items VALUES (60, 'duplicate', 1, NULL);
        EXCEPTION WHEN division_by_zero THEN
            NULL;
        END;
    EXCEPTION WHEN unique_violation THEN
        INSERT INTO cd_items VALUES (65, 'after the nested failure', 1, NULL);
    END;
END
$$;
SELECT cd_exception_block();
SELECT pos, action, resource_id, new_data->>'name' AS name FROM cd_ev WHERE tx = (SELECT max(tx) FROM cd_ev);

-- Within a transaction: dense positions, one committed_at, one transaction id, one
-- commit_seq. Across transactions: commit_seq grows with the position in the chain, and
-- every chain is numbered 1, 2, 3, ... without gaps.
SELECT commit_seq_count = xid_count AS one_commit_seq_per_transaction,
       bool_and(dense) AS positions_dense,
       bool_and(one_time) AS one_committed_at
  FROM (SELECT count(*) OVER () AS commit_seq_count,
               (SELECT count(DISTINCT transaction_id) FROM audit_chain.audit_events) AS xid_count,
               max(seq) - min(seq) + 1 = count(*) AS dense,
               count(DISTINCT committed_at) = 1 AND count(DISTINCT transaction_id) = 1 AS one_time
          FROM audit_chain.audit_events GROUP BY commit_seq) t
 GROUP BY commit_seq_count, xid_count;
SELECT bool_and(commit_seq >= prev_commit_seq) AS commit_seq_follows_chain,
       bool_and(committed_at >= prev_committed_at) AS committed_at_follows_chain,
       bool_and(event_time <= committed_at) AS event_before_commit
  FROM (SELECT commit_seq, committed_at, event_time,
               lag(commit_seq, 1, 0::bigint) OVER w AS prev_commit_seq,
               lag(committed_at, 1, '-infinity') OVER w AS prev_committed_at
          FROM audit_chain.events WINDOW w AS (PARTITION BY chain_id ORDER BY seq)) t;
SELECT bool_and(n = max_seq AND min_seq = 1) AS chains_dense
  FROM (SELECT count(*) AS n, max(seq) AS max_seq, min(seq) AS min_seq FROM audit_chain.events GROUP BY chain_id) t;
-- Events of one statement share the statement's start time; later statements do not go back.
BEGIN;
INSERT INTO cd_items VALUES (70, 'first statement', 1, NULL), (71, 'first statement', 1, NULL);
SELECT pg_sleep(0.01);
INSERT INTO cd_items VALUES (72, 'second statement', 1, NULL);
COMMIT;
SELECT count(DISTINCT event_time) FILTER (WHERE resource_id IN ('70', '71')) AS first_statement_times,
       min(event_time) FILTER (WHERE resource_id = '72') > max(event_time) FILTER (WHERE resource_id IN ('70', '71')) AS later
  FROM audit_chain.audit_events WHERE resource_id IN ('70', '71', '72');

-- Column changes after tracking are picked up: added, dropped and renamed columns.
ALTER TABLE cd_items ADD COLUMN price numeric DEFAULT 1.00;
INSERT INTO cd_items VALUES (80, 'with price', 1, NULL, 2.50);
ALTER TABLE cd_items DROP COLUMN note;
UPDATE cd_items SET price = 3.00 WHERE id = 80;
ALTER TABLE cd_items RENAME COLUMN qty TO quantity;
DELETE FROM cd_items WHERE id = 80;
SELECT pos, action, resource_id, old_data, new_data FROM cd_ev WHERE resource_id = '80';

-- A large value stored out of line (TOAST) is compared by content: unchanged, it is not
-- recorded, even when it is written again as a new copy.
ALTER TABLE cd_items ALTER COLUMN name SET STORAGE EXTERNAL;
INSERT INTO cd_items VALUES (90, repeat('long ', 100000), 1, 1);
SELECT pg_column_size(name) > 100000 AS stored_uncompressed FROM cd_items WHERE id = 90;
UPDATE cd_items SET quantity = 2 WHERE id = 90;
UPDATE cd_items SET name = repeat('long ', 100000) WHERE id = 90;
UPDATE cd_items SET name = repeat('long ', 100000) || '!' WHERE id = 90;
SELECT pos, action, jsonb_object_keys(coalesce(new_data, '{}')) AS key,
       length(new_data->>'name') AS name_length
  FROM cd_ev WHERE resource_id = '90' ORDER BY tx, pos, key;

-- Generated columns are recorded with their computed values.
CREATE TABLE cd_generated (id int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED);
SELECT audit_chain.track('cd_generated');
INSERT INTO cd_generated (id, a) VALUES (1, 5);
UPDATE cd_generated SET a = 6;
SELECT pos, action, old_data, new_data FROM cd_ev WHERE resource_type = 'public.cd_generated' AND action <> 'TRACK';

-- One transaction writing two tables: its events are in the order the rows changed.
BEGIN;
INSERT INTO cd_items VALUES (100, 'interleaved', 1, 1);
INSERT INTO cd_generated (id, a) VALUES (100, 1);
UPDATE cd_items SET quantity = 2 WHERE id = 100;
DELETE FROM cd_generated WHERE id = 100;
COMMIT;
SELECT pos, action, resource_type, resource_id FROM cd_ev WHERE tx = (SELECT max(tx) FROM cd_ev);

-- The capture trigger created by hand (not by track()) works the same way.
CREATE TABLE cd_manual (id int PRIMARY KEY, v text);
CREATE TRIGGER manual_audit AFTER INSERT OR UPDATE OR DELETE ON cd_manual
    FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
CREATE TRIGGER manual_audit_truncate AFTER TRUNCATE ON cd_manual
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.capture();
INSERT INTO cd_manual VALUES (1, 'x');
UPDATE cd_manual SET v = 'y';
DELETE FROM cd_manual;
TRUNCATE cd_manual;
SELECT pos, action, resource_type, resource_id, old_data, new_data FROM cd_ev WHERE resource_type = 'public.cd_manual';
-- Not registered as tracked, and no TRACK event.
SELECT count(*) AS registered FROM audit_chain.tracked_tables WHERE relid = 'cd_manual'::regclass;

-- capture() is a trigger for AFTER ... FOR EACH ROW (and TRUNCATE) only.
SELECT audit_chain.capture();
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE cd_misuse (id int PRIMARY KEY);
INSERT INTO cd_misuse VALUES (1);
-- Such triggers are refused when they are created (capture_checks); created while the
-- event trigger is disabled, they are refused when they fire.
ALTER EVENT TRIGGER audit_chain_ddl_command_end DISABLE;
CREATE TRIGGER misuse_before BEFORE INSERT ON cd_misuse
    FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
INSERT INTO cd_misuse VALUES (2);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER misuse_before ON cd_misuse;
CREATE TRIGGER misuse_statement AFTER INSERT ON cd_misuse
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.capture();
INSERT INTO cd_misuse VALUES (2);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER misuse_statement ON cd_misuse;
CREATE TRIGGER misuse_before_statement BEFORE DELETE ON cd_misuse
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.capture();
DELETE FROM cd_misuse;
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER misuse_before_statement ON cd_misuse;
CREATE VIEW cd_misuse_view AS SELECT * FROM cd_misuse;
CREATE TRIGGER misuse_instead INSTEAD OF UPDATE ON cd_misuse_view
    FOR EACH ROW EXECUTE FUNCTION audit_chain.capture();
UPDATE cd_misuse_view SET id = 3;
\echo :LAST_ERROR_SQLSTATE
DROP VIEW cd_misuse_view;
ALTER EVENT TRIGGER audit_chain_ddl_command_end ENABLE ALWAYS;
-- Nothing was recorded, and the failed statements changed nothing.
SELECT count(*) AS misuse_events FROM audit_chain.audit_events WHERE resource_type LIKE 'public.cd\_misuse%';
SELECT id FROM cd_misuse;

-- Everything above verifies.
SELECT valid, events_checked = (SELECT count(*) FROM audit_chain.events) AS all_checked FROM audit_chain.verify();

DROP VIEW cd_ev, cd_count;
DROP FUNCTION cd_exception_block();
DROP TABLE cd_items, cd_generated, cd_manual, cd_misuse;
