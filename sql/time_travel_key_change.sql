-- time_travel_key_change: a change of the columns that identify a tracked table's rows (a
-- new primary key) is recorded as an ALTER TABLE event with "key_changed", and the table's
-- rows are recorded again under their new ids (BASELINE), so table_at() stays exact on both
-- sides of it. A row cannot be named across the change by today's key: row_at() for a
-- moment before it refuses (0A000) rather than answer "no such row", and history() says
-- that earlier events are under the key of their time.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE TEMP TABLE kc_moments (m int PRIMARY KEY, at timestamptz NOT NULL);
CREATE TEMP TABLE kc_truth (m int, id int, code text, v int);
CREATE TABLE kc (id int PRIMARY KEY, code text NOT NULL, v int);
INSERT INTO kc VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30);
CREATE FUNCTION kc_mark(m int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO kc_moments VALUES (m, clock_timestamp());
    INSERT INTO kc_truth SELECT m, id, code, v FROM kc;
$$;
-- table_at(m) against the copy taken at m: rows missing on either side.
CREATE FUNCTION kc_diff(moment int) RETURNS bigint LANGUAGE sql AS $$
    WITH past AS (SELECT (r->>'id')::int AS id, r->>'code' AS code, (r->>'v')::int AS v
                    FROM audit_chain.table_at('kc', (SELECT at FROM kc_moments WHERE m = moment)) r),
         truth AS (SELECT id, code, v FROM kc_truth WHERE m = moment)
    SELECT (SELECT count(*) FROM (SELECT * FROM past EXCEPT ALL SELECT * FROM truth) a)
         + (SELECT count(*) FROM (SELECT * FROM truth EXCEPT ALL SELECT * FROM past) b)
$$;

SELECT audit_chain.track('kc');
UPDATE kc SET v = 11 WHERE id = 1;
DELETE FROM kc WHERE id = 3;
SELECT kc_mark(1);

-- The key becomes code.
ALTER TABLE kc DROP CONSTRAINT kc_pkey, ADD PRIMARY KEY (code);
SELECT kc_mark(2);
UPDATE kc SET v = 12 WHERE code = 'a';
INSERT INTO kc VALUES (4, 'd', 40);
UPDATE kc SET id = 22 WHERE code = 'b';      -- the former key column: no longer the row's id
UPDATE kc SET v = 23 WHERE code = 'b';
SELECT kc_mark(3);

SELECT action, resource_id, details FROM audit_chain.audit_events
 WHERE resource_type = 'public.kc' ORDER BY commit_seq, seq;
SELECT key FROM audit_chain.tracked_tables t, jsonb_array_elements(t.columns) c, jsonb_extract_path_text(c, 'name') n,
       LATERAL (SELECT n || ':' || (c->>'key') AS key) k
 WHERE t.relid = 'kc'::regclass ORDER BY c->>'attnum';

-- table_at is exact before, at and after the change.
SELECT m, kc_diff(m) AS differences FROM kc_moments ORDER BY m;
-- row_at by today's key after the change.
SELECT audit_chain.row_at('kc', '{"code": "a"}', (SELECT at FROM kc_moments WHERE m = 3));
SELECT audit_chain.row_at('kc', '{"code": "b"}', (SELECT at FROM kc_moments WHERE m = 2));
-- Before the change, today's key names no row: refused.
\set VERBOSITY terse
SELECT audit_chain.row_at('kc', '{"code": "a"}', (SELECT at FROM kc_moments WHERE m = 1));
\echo :LAST_ERROR_SQLSTATE
-- history by today's key: the versions since the change, and a notice about the rest.
SELECT action, old_data, new_data, row_data FROM audit_chain.history('kc', '{"code": "b"}') ORDER BY commit_seq, seq;
\set VERBOSITY default

-- Back to a key on id, now under a new name: recorded again.
ALTER TABLE kc RENAME COLUMN id TO ident;
ALTER TABLE kc DROP CONSTRAINT kc_pkey, ADD PRIMARY KEY (ident);
SELECT details FROM audit_chain.audit_events
 WHERE resource_type = 'public.kc' AND action = 'ALTER TABLE' ORDER BY commit_seq, seq;
-- A rename of a key column alone is no key change.
ALTER TABLE kc RENAME COLUMN ident TO id;
SELECT count(*) AS key_changes FROM audit_chain.audit_events
 WHERE resource_type = 'public.kc' AND action = 'ALTER TABLE' AND details ? 'key_changed';
SELECT kc_mark(4);
SELECT kc_diff(4) AS differences;

-- Today's id of one row can be another row's id before the change ("5": id 5 then, code 5
-- now). erase() by key refuses rather than erase the wrong row; history() shows only what
-- follows the change.
CREATE TABLE kc2 (id int PRIMARY KEY, code int NOT NULL, v text);
SELECT audit_chain.track('kc2');
INSERT INTO kc2 VALUES (1, 5, 'first'), (5, 9, 'second');
UPDATE kc2 SET v = 'second, changed' WHERE id = 5;
ALTER TABLE kc2 DROP CONSTRAINT kc2_pkey, ADD PRIMARY KEY (code);
UPDATE kc2 SET v = 'first, changed' WHERE code = 5;
\set VERBOSITY terse
SELECT audit_chain.erase('kc2', '{"code": 5}');
\echo :LAST_ERROR_SQLSTATE
SELECT action, old_data, new_data, row_data FROM audit_chain.history('kc2', '{"code": 5}') ORDER BY commit_seq, seq;
\set VERBOSITY default
SELECT count(*) AS untouched FROM audit_chain.events e JOIN audit_chain.resources r USING (resource_ref)
 WHERE r.resource_type = 'public.kc2' AND e.erasure IS NULL;
SELECT audit_chain.untrack('kc2');
DROP TABLE kc2;

SELECT bool_and(valid) AS valid FROM audit_chain.verify();
SELECT audit_chain.untrack('kc');
DROP TABLE kc;
DROP FUNCTION kc_diff(int);
DROP FUNCTION kc_mark(int);
