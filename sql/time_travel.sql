-- time_travel: history(), row_at() and table_at() in their jsonb and typed forms.
--
-- Moments are taken with clock_timestamp() between transactions and kept in psql variables;
-- they are never printed. "As of T" means committed at or before T. Errors are shown by
-- SQLSTATE and by message, with the time a message names masked.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

\set VERBOSITY sqlstate
\set err 'SELECT :''LAST_ERROR_SQLSTATE'' AS sqlstate, regexp_replace(:''LAST_ERROR_MESSAGE'', '' tracked at .*$'', '' tracked at <time>'') AS message;'
-- Not UTC, and not a whole hour away from it.
SET TimeZone = 'Asia/Kathmandu';

-- The parts of history() that do not vary between runs.
CREATE FUNCTION tt_history(tbl regclass, key jsonb)
RETURNS TABLE (action text, resource_id text, old_data jsonb, new_data jsonb, row_data jsonb)
LANGUAGE sql AS $$
    SELECT h.action, h.resource_id, h.old_data, h.new_data, h.row_data
      FROM audit_chain.history(tbl, key) h ORDER BY h.commit_seq, h.seq
$$;

-- ---------------------------------------------------------------------------------------------
-- One row's life: insert, update, delete, insert again under the same key, then a key change.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_item (id int PRIMARY KEY, label text, price numeric(10,2), seen timestamptz,
                      tags text[], doc jsonb, flag boolean);
INSERT INTO tt_item VALUES (100, 'before tracking', 9.90, '2026-01-01 00:00:00+00', '{}', '{}', true);
SELECT clock_timestamp() AS t_before_track \gset
SELECT audit_chain.track('tt_item');
SELECT clock_timestamp() AS t0 \gset
INSERT INTO tt_item VALUES
    (1, 'first', 1.50, '2026-03-01 12:00:00+01', '{a,b}', '{"x": {"y": [1, 2]}}', false),
    (2, 'second', 20.00, NULL, NULL, NULL, NULL);
SELECT clock_timestamp() AS t1 \gset
BEGIN;
UPDATE tt_item SET label = 'first, renamed', price = NULL WHERE id = 1;
UPDATE tt_item SET tags = tags || '{c}', doc = jsonb_set(doc, '{x,z}', '"new"') WHERE id = 1;
COMMIT;
SELECT clock_timestamp() AS t2 \gset
DELETE FROM tt_item WHERE id = 1;
SELECT clock_timestamp() AS t3 \gset
INSERT INTO tt_item VALUES (1, 'reborn', 0.10, '2026-03-02 00:00:00-05', '{}', '[]', true);
SELECT clock_timestamp() AS t4 \gset
UPDATE tt_item SET id = 3, label = 'second, now 3' WHERE id = 2;
SELECT clock_timestamp() AS t5 \gset

-- Row 1 at each moment (jsonb form): absent, inserted, updated, deleted, inserted again.
SELECT m, audit_chain.row_at('tt_item'::regclass, '{"id": 1}', at) AS row_1
  FROM (VALUES (0, :'t0'::timestamptz), (1, :'t1'), (2, :'t2'), (3, :'t3'), (4, :'t4'), (5, :'t5')) v(m, at)
 ORDER BY m;
-- The typed form gives the same rows in the table's type.
SELECT m, (audit_chain.row_at(NULL::tt_item, '{"id": 1}', at)).*
  FROM (VALUES (0, :'t0'::timestamptz), (1, :'t1'), (2, :'t2'), (3, :'t3'), (4, :'t4'), (5, :'t5')) v(m, at)
 ORDER BY m;
SELECT audit_chain.row_at(NULL::tt_item, '{"id": 1}', :'t1') IS NOT DISTINCT FROM
       jsonb_populate_record(NULL::tt_item, audit_chain.row_at('tt_item'::regclass, '{"id": 1}', :'t1')) AS typed_is_jsonb_typed;
-- The value written at t1 in another zone is the same instant.
SELECT (audit_chain.row_at(NULL::tt_item, '{"id": 1}', :'t1')).seen = '2026-03-01 11:00:00+00' AS same_instant,
       audit_chain.row_at('tt_item'::regclass, '{"id": 1}', :'t1') ->> 'seen' AS recorded_in_utc;

-- The key change at t5: the row is under key 3 afterwards, under key 2 before.
SELECT audit_chain.row_at('tt_item'::regclass, '{"id": 2}', :'t4') AS key_2_before,
       audit_chain.row_at('tt_item'::regclass, '{"id": 3}', :'t4') AS key_3_before;
SELECT audit_chain.row_at('tt_item'::regclass, '{"id": 2}', :'t5') AS key_2_after,
       audit_chain.row_at('tt_item'::regclass, '{"id": 3}', :'t5') AS key_3_after;
-- A row that existed before tracking is known from the baseline.
SELECT audit_chain.row_at('tt_item'::regclass, '{"id": 100}', :'t0') AS baseline_row;
-- A key that never existed.
SELECT audit_chain.row_at('tt_item'::regclass, '{"id": 99}', :'t5') AS never;

-- The whole table at each moment, typed and as jsonb.
SELECT * FROM audit_chain.table_at(NULL::tt_item, :'t0') ORDER BY id;
SELECT * FROM audit_chain.table_at(NULL::tt_item, :'t2') ORDER BY id;
SELECT * FROM audit_chain.table_at(NULL::tt_item, :'t3') ORDER BY id;
SELECT * FROM audit_chain.table_at(NULL::tt_item, :'t5') ORDER BY id;
SELECT j FROM audit_chain.table_at('tt_item'::regclass, :'t4') j ORDER BY (j ->> 'id')::int;
-- Now: exactly the table.
SELECT (SELECT count(*) FROM audit_chain.table_at(NULL::tt_item, clock_timestamp())) AS rows_then,
       (SELECT count(*) FROM tt_item) AS rows_now,
       (SELECT count(*) FROM (SELECT * FROM audit_chain.table_at(NULL::tt_item, clock_timestamp())
                              EXCEPT SELECT * FROM tt_item) d) AS only_then,
       (SELECT count(*) FROM (SELECT * FROM tt_item
                              EXCEPT SELECT * FROM audit_chain.table_at(NULL::tt_item, clock_timestamp())) d) AS only_now;

-- The target as a string: a regclass literal, text, or an untyped literal, all the same.
SELECT audit_chain.row_at('tt_item', '{"id": 3}', :'t5') AS untyped,
       audit_chain.row_at('public.tt_item'::text, '{"id": 3}', :'t5') = audit_chain.row_at('tt_item'::regclass, '{"id": 3}', :'t5') AS text_is_regclass;
SELECT count(*) AS rows_text_form FROM audit_chain.table_at('public.tt_item', :'t5');
SELECT count(*) AS rows_text_typed FROM audit_chain.table_at('tt_item'::text, :'t5');

-- Committed at exactly T is visible at T, one microsecond earlier it is not.
SELECT committed_at AS t_delete FROM audit_chain.audit_events
 WHERE resource_type = 'public.tt_item' AND action = 'DELETE' \gset
SELECT audit_chain.row_at('tt_item'::regclass, '{"id": 1}', :'t_delete') IS NULL AS deleted_at_commit,
       audit_chain.row_at('tt_item'::regclass, '{"id": 1}', :'t_delete'::timestamptz - interval '1 microsecond') IS NOT NULL AS present_just_before;

-- A change not yet committed is not part of the past, even in its own transaction.
BEGIN;
UPDATE tt_item SET label = 'uncommitted' WHERE id = 3;
SELECT audit_chain.row_at('tt_item'::regclass, '{"id": 3}', clock_timestamp()) ->> 'label' AS committed_label;
ROLLBACK;

-- history(): every version, oldest first; a key change moves the row to its new key.
SELECT * FROM tt_history('tt_item', '{"id": 1}');
SELECT * FROM tt_history('tt_item', '{"id": 2}');
SELECT * FROM tt_history('tt_item', '{"id": 3}');
SELECT * FROM tt_history('tt_item', '{"id": 99}');
-- A new row takes the key the changed row left: the key's history holds both rows.
INSERT INTO tt_item VALUES (2, 'another second', 2.00, NULL, '{}', '{}', false);
SELECT clock_timestamp() AS t6 \gset
SELECT audit_chain.row_at('tt_item', '{"id": 2}', :'t6') ->> 'label' AS key_2_t6,
       audit_chain.row_at('tt_item', '{"id": 3}', :'t6') ->> 'label' AS key_3_t6;
SELECT action, resource_id, new_data ->> 'label' AS new_label, row_data ->> 'label' AS row_label
  FROM tt_history('tt_item', '{"id": 2}');

-- ---------------------------------------------------------------------------------------------
-- Composite key (in another order than the columns), and a change of one of its columns.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_comp (region text, n int, v text, PRIMARY KEY (n, region));
SELECT audit_chain.track('tt_comp');
INSERT INTO tt_comp VALUES ('eu', 1, 'eu one'), ('us', 1, 'us one'), (E'z\u00fcrich "q"', 2, 'quoted');
SELECT clock_timestamp() AS c1 \gset
UPDATE tt_comp SET region = 'ap' WHERE region = 'eu' AND n = 1;
UPDATE tt_comp SET v = 'us one, changed' WHERE region = 'us';
SELECT clock_timestamp() AS c2 \gset
SELECT audit_chain.row_at('tt_comp', '{"n": 1, "region": "eu"}', :'c1') AS eu_1_c1,
       audit_chain.row_at('tt_comp', '{"region": "eu", "n": 1}', :'c2') AS eu_1_c2,
       audit_chain.row_at('tt_comp', '{"region": "ap", "n": 1}', :'c1') AS ap_1_c1,
       audit_chain.row_at('tt_comp', '{"region": "ap", "n": 1}', :'c2') AS ap_1_c2;
SELECT audit_chain.row_at('tt_comp', jsonb_build_object('region', E'z\u00fcrich "q"', 'n', 2), :'c2') ->> 'v' AS quoted_key;
SELECT * FROM audit_chain.table_at(NULL::tt_comp, :'c1') ORDER BY n, region;
SELECT * FROM audit_chain.table_at(NULL::tt_comp, :'c2') ORDER BY n, region;
SELECT * FROM tt_history('tt_comp', '{"region": "eu", "n": 1}');
-- Every key column must be given.
SELECT audit_chain.row_at('tt_comp', '{"n": 1}', :'c2');
:err

-- ---------------------------------------------------------------------------------------------
-- A table without any key: rows are known by the digest of their whole content, and the key
-- is the whole row.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_nokey (a int, b text);
SELECT audit_chain.track('tt_nokey');
INSERT INTO tt_nokey VALUES (1, 'x'), (2, 'y');
SELECT clock_timestamp() AS k1 \gset
UPDATE tt_nokey SET b = 'z' WHERE a = 2;
DELETE FROM tt_nokey WHERE a = 1;
SELECT clock_timestamp() AS k2 \gset
SELECT audit_chain.row_at('tt_nokey', '{"a": 1, "b": "x"}', :'k1') AS x_k1,
       audit_chain.row_at('tt_nokey', '{"a": 1, "b": "x"}', :'k2') AS x_k2,
       audit_chain.row_at('tt_nokey', '{"b": "z", "a": 2}', :'k1') AS z_k1,
       audit_chain.row_at('tt_nokey', '{"b": "z", "a": 2}', :'k2') AS z_k2;
SELECT * FROM audit_chain.table_at(NULL::tt_nokey, :'k1') ORDER BY a;
SELECT * FROM audit_chain.table_at(NULL::tt_nokey, :'k2') ORDER BY a;
SELECT count(*) AS digest_ids FROM audit_chain.audit_events
 WHERE resource_type = 'public.tt_nokey' AND resource_id ~ '^[0-9a-f]{64}$';
-- Identical rows are several rows: the past holds as many copies as the table did.
INSERT INTO tt_nokey VALUES (5, 'dup'), (5, 'dup'), (5, 'dup');
SELECT clock_timestamp() AS k3 \gset
DELETE FROM tt_nokey WHERE ctid = (SELECT min(ctid) FROM tt_nokey WHERE a = 5);
UPDATE tt_nokey SET b = 'dup, changed' WHERE ctid = (SELECT min(ctid) FROM tt_nokey WHERE a = 5);
SELECT clock_timestamp() AS k4 \gset
SELECT * FROM audit_chain.table_at(NULL::tt_nokey, :'k3') ORDER BY a, b;
SELECT * FROM audit_chain.table_at(NULL::tt_nokey, :'k4') ORDER BY a, b;
SELECT * FROM tt_nokey ORDER BY a, b;
-- A NULL in the row is part of it; a column left out of the key is NULL.
INSERT INTO tt_nokey VALUES (7, NULL);
SELECT clock_timestamp() AS k5 \gset
SELECT audit_chain.row_at('tt_nokey', '{"a": 7, "b": null}', :'k5') AS with_null,
       audit_chain.row_at('tt_nokey', '{"a": 7}', :'k5') AS left_out;

-- ---------------------------------------------------------------------------------------------
-- A DEFERRABLE primary key is the key too, and rows may swap keys within one statement.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_defer (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text);
SELECT audit_chain.track('tt_defer');
INSERT INTO tt_defer VALUES (1, 'one'), (2, 'two');
SELECT clock_timestamp() AS f1 \gset
UPDATE tt_defer SET id = 3 - id;
SELECT clock_timestamp() AS f2 \gset
SELECT action, resource_id FROM audit_chain.audit_events
 WHERE resource_type = 'public.tt_defer' AND action = 'INSERT' ORDER BY commit_seq, seq;
SELECT audit_chain.row_at('tt_defer', '{"id": 1}', :'f1') AS key_1_f1,
       audit_chain.row_at('tt_defer', '{"id": 1}', :'f2') AS key_1_f2,
       audit_chain.row_at('tt_defer', '{"id": 2}', :'f2') AS key_2_f2;
SELECT * FROM audit_chain.table_at(NULL::tt_defer, :'f2') ORDER BY id;
-- Across statements two rows may share a key until commit. A change that names the values it
-- found tells the rows apart; one that could be about either leaves the key's state unknown
-- rather than guessed.
CREATE TABLE tt_defer2 (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text, w text);
SELECT audit_chain.track('tt_defer2');
INSERT INTO tt_defer2 VALUES (1, 'a', 'x'), (2, 'b', 'x'), (5, 'e', 'x'), (6, 'f', 'x');
BEGIN;
UPDATE tt_defer2 SET id = 2 WHERE id = 1;
UPDATE tt_defer2 SET v = 'A' WHERE id = 2 AND v = 'a';
UPDATE tt_defer2 SET id = 3, v = 'AA' WHERE v = 'A';
UPDATE tt_defer2 SET id = 6 WHERE id = 5;
UPDATE tt_defer2 SET w = 'y' WHERE id = 6 AND v = 'e';
UPDATE tt_defer2 SET id = 7 WHERE w = 'y';
COMMIT;
SELECT clock_timestamp() AS f3 \gset
SELECT audit_chain.row_at('tt_defer2', '{"id": 2}', :'f3') AS key_2,
       audit_chain.row_at('tt_defer2', '{"id": 3}', :'f3') AS key_3;
SELECT audit_chain.row_at('tt_defer2', '{"id": 6}', :'f3');
SELECT :'LAST_ERROR_SQLSTATE' AS key_6_unknown;
SELECT * FROM tt_defer2 ORDER BY id;

-- ---------------------------------------------------------------------------------------------
-- Values: NULLs, numeric scale, time zones, arrays, nested jsonb, unicode and other types come
-- back exactly in the typed form.
-- ---------------------------------------------------------------------------------------------
CREATE TYPE tt_mood AS ENUM ('calm', 'busy');
CREATE TYPE tt_pair AS (k text, v numeric);
CREATE DOMAIN tt_positive AS int CHECK (VALUE > 0);
CREATE TABLE tt_values (
    id int PRIMARY KEY, i2 smallint, i8 bigint, num numeric(10,2), num_free numeric, f4 real, f8 double precision,
    t text, vc varchar(10), ch char(4), b boolean, d date, ts timestamp, tstz timestamptz, iv interval,
    bin bytea, u uuid, ip inet, jb jsonb, ia int[], ta text[], grid int[][], mood tt_mood, pair tt_pair,
    pos tt_positive, r int4range, tr tstzrange, bits varbit, tm time, tmz timetz);
SELECT audit_chain.track('tt_values');
INSERT INTO tt_values VALUES
    (1, -32768, 9007199254740993, 1.50, 1.500, 0.1, 1e-300,
     E'Z\u00fcrich \u2713 \u65e5\u672c \U0001F600 "q" \\ /', 'short', 'ab', true, '2026-02-28', '2026-02-28 23:59:59.999999',
     '2026-06-30 23:30:00+05:45', '1 year 2 mons -3 days 04:05:06.7', '\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
     '192.168.0.1/24', '{"a": {"b": [1, {"c": null}], "d": 1.50}, "e": "\u00e9"}', '{1,NULL,3}', '{"x y",NULL,""}',
     '{{1,2},{3,4}}', 'busy', '("k ""1""",2.50)', 7, '[1,5)', '[2026-01-01 00:00:00+00,2026-01-02 00:00:00+00)',
     B'1011', '12:34:56.789', '12:34:56+05:30'),
    (2, NULL, NULL, 0.00, 'NaN', 'NaN', '-Infinity', '', NULL, NULL, false, 'infinity', '-infinity', 'infinity',
     '0', '\x', NULL, NULL, '[]', '{}', '{}', NULL, NULL, '(,)', NULL, 'empty', NULL, NULL, NULL, NULL),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'null',
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE tt_values SET num = 12345678.99, f8 = -0.0, ta = ta || NULL::text, jb = jb #- '{a,b}' WHERE id = 1;
SELECT clock_timestamp() AS v1 \gset
-- jsonb form: timestamps in UTC, numbers keep their scale, JSON has no NaN.
SELECT audit_chain.row_at('tt_values', '{"id": 1}', :'v1') -> 'tstz' AS tstz,
       audit_chain.row_at('tt_values', '{"id": 1}', :'v1') -> 'num' AS num,
       audit_chain.row_at('tt_values', '{"id": 1}', :'v1') -> 'jb' AS jb,
       audit_chain.row_at('tt_values', '{"id": 2}', :'v1') -> 'num_free' AS nan,
       audit_chain.row_at('tt_values', '{"id": 3}', :'v1') -> 'jb' AS json_null,
       audit_chain.row_at('tt_values', '{"id": 3}', :'v1') -> 't' AS sql_null;
-- Typed form: exactly the table (other than the row identity, every column compared), but for
-- row 3's jsonb column (below).
SELECT (SELECT count(*) FROM audit_chain.table_at(NULL::tt_values, :'v1')) AS rows_then,
       (SELECT count(*) FROM (SELECT * FROM audit_chain.table_at(NULL::tt_values, :'v1')
                              EXCEPT SELECT * FROM tt_values) d) AS only_then,
       (SELECT count(*) FROM (SELECT * FROM tt_values
                              EXCEPT SELECT * FROM audit_chain.table_at(NULL::tt_values, :'v1')) d) AS only_now;
-- Column by column, so that a difference names its column.
SELECT c.column_name
  FROM information_schema.columns c
 WHERE c.table_name = 'tt_values'
   AND EXISTS (SELECT FROM tt_values cur JOIN audit_chain.table_at(NULL::tt_values, :'v1') past USING (id)
                WHERE to_jsonb(cur) -> c.column_name IS DISTINCT FROM to_jsonb(past) -> c.column_name)
 ORDER BY c.ordinal_position;
SELECT t, ch, iv, grid, pair, tstz FROM audit_chain.row_at(NULL::tt_values, '{"id": 1}', :'v1');
-- Limit (README): a row image holds JSON null for a jsonb column holding JSON null and for one
-- that is SQL NULL alike; the typed form gives SQL NULL for both.  The jsonb form shows null.
SELECT id, cur.jb IS NULL AS sql_null_now, past.jb IS NULL AS sql_null_then
  FROM tt_values cur JOIN audit_chain.table_at(NULL::tt_values, :'v1') past USING (id)
 ORDER BY id;

-- ---------------------------------------------------------------------------------------------
-- TRUNCATE empties the table in the past too; a row's history shows it.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_trunc (id int PRIMARY KEY, v text);
SELECT audit_chain.track('tt_trunc');
INSERT INTO tt_trunc VALUES (1, 'a'), (2, 'b');
SELECT clock_timestamp() AS r1 \gset
TRUNCATE tt_trunc;
SELECT clock_timestamp() AS r2 \gset
INSERT INTO tt_trunc VALUES (2, 'b again');
SELECT clock_timestamp() AS r3 \gset
SELECT m, (SELECT string_agg(j::text, ', ' ORDER BY j ->> 'id') FROM audit_chain.table_at('tt_trunc', at) j) AS rows
  FROM (VALUES (1, :'r1'::timestamptz), (2, :'r2'), (3, :'r3')) v(m, at) ORDER BY m;
SELECT audit_chain.row_at('tt_trunc', '{"id": 1}', :'r2') AS row_1_after_truncate;
SELECT * FROM tt_history('tt_trunc', '{"id": 2}');

-- ---------------------------------------------------------------------------------------------
-- Partitioned table: TRUNCATE of one partition is recorded as DELETE events of its rows; a row
-- moving to another partition is a DELETE and an INSERT.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_part (region text, id int, v text, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE tt_part_eu PARTITION OF tt_part FOR VALUES IN ('eu');
CREATE TABLE tt_part_us PARTITION OF tt_part FOR VALUES IN ('us');
INSERT INTO tt_part VALUES ('eu', 1, 'eu 1'), ('us', 2, 'us 2');
SELECT audit_chain.track('tt_part');
INSERT INTO tt_part VALUES ('eu', 3, 'eu 3'), ('us', 4, 'us 4');
SELECT clock_timestamp() AS p1 \gset
TRUNCATE tt_part_eu;
SELECT clock_timestamp() AS p2 \gset
UPDATE tt_part SET region = 'eu' WHERE id = 2;
SELECT clock_timestamp() AS p3 \gset
TRUNCATE tt_part;
SELECT clock_timestamp() AS p4 \gset
SELECT action, count(*) FROM audit_chain.audit_events WHERE resource_type = 'public.tt_part'
 GROUP BY action ORDER BY action;
SELECT * FROM audit_chain.table_at(NULL::tt_part, :'p1') ORDER BY region, id;
SELECT * FROM audit_chain.table_at(NULL::tt_part, :'p2') ORDER BY region, id;
SELECT * FROM audit_chain.table_at(NULL::tt_part, :'p3') ORDER BY region, id;
SELECT * FROM audit_chain.table_at(NULL::tt_part, :'p4') ORDER BY region, id;
SELECT audit_chain.row_at('tt_part', '{"region": "eu", "id": 1}', :'p1') AS eu_1_p1,
       audit_chain.row_at('tt_part', '{"region": "eu", "id": 1}', :'p2') AS eu_1_p2,
       audit_chain.row_at('tt_part', '{"region": "eu", "id": 2}', :'p3') AS eu_2_p3;
-- A partition is not the tracked table.
SELECT * FROM audit_chain.table_at('tt_part_us', :'p1');
:err

-- ---------------------------------------------------------------------------------------------
-- Tracked without a baseline: rows never seen are unknown, rows inserted later are known.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_nobase (id int PRIMARY KEY, v text);
INSERT INTO tt_nobase VALUES (1, 'pre 1'), (2, 'pre 2'), (3, 'pre 3');
SELECT audit_chain.track('tt_nobase', baseline => false);
SELECT clock_timestamp() AS n0 \gset
INSERT INTO tt_nobase VALUES (10, 'new 10');
SELECT clock_timestamp() AS n1 \gset
UPDATE tt_nobase SET v = 'updated' WHERE id IN (1, 10);
DELETE FROM tt_nobase WHERE id = 2;
SELECT clock_timestamp() AS n2 \gset
-- Known: rows inserted since, and a deleted row (known not to exist).
SELECT audit_chain.row_at('tt_nobase', '{"id": 10}', :'n1') AS row_10_n1,
       audit_chain.row_at('tt_nobase', '{"id": 10}', :'n2') AS row_10_n2,
       audit_chain.row_at('tt_nobase', '{"id": 2}', :'n2') AS row_2_n2;
SELECT (audit_chain.row_at(NULL::tt_nobase, '{"id": 10}', :'n2')).*;
-- Unknown: a row never changed, a row only partly recorded by an UPDATE, the table.
SELECT audit_chain.row_at('tt_nobase', '{"id": 3}', :'n2');
:err
SELECT audit_chain.row_at('tt_nobase', '{"id": 1}', :'n2');
:err
SELECT audit_chain.row_at('tt_nobase', '{"id": 2}', :'n1');
:err
SELECT count(*) FROM audit_chain.table_at('tt_nobase', :'n2');
:err
SELECT count(*) FROM audit_chain.table_at(NULL::tt_nobase, :'n0');
:err

-- ---------------------------------------------------------------------------------------------
-- Before tracking started nothing is known.
-- ---------------------------------------------------------------------------------------------
SELECT audit_chain.row_at('tt_item', '{"id": 100}', :'t_before_track');
:err
SELECT count(*) FROM audit_chain.table_at(NULL::tt_item, :'t_before_track');
:err
SELECT count(*) FROM audit_chain.table_at('tt_item', '-infinity');
:err
-- A table that was never tracked.
CREATE TABLE tt_never (id int PRIMARY KEY);
SELECT audit_chain.row_at('tt_never', '{"id": 1}', clock_timestamp());
:err

-- ---------------------------------------------------------------------------------------------
-- Untracked, then tracked again: the gap is unknown, the new baseline makes it whole again.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_gap (id int PRIMARY KEY, v text);
SELECT audit_chain.track('tt_gap');
INSERT INTO tt_gap VALUES (1, 'one');
SELECT clock_timestamp() AS g1 \gset
SELECT audit_chain.untrack('tt_gap');
SELECT clock_timestamp() AS g2 \gset
UPDATE tt_gap SET v = 'changed while untracked';
INSERT INTO tt_gap VALUES (2, 'inserted while untracked');
SELECT clock_timestamp() AS g3 \gset
SELECT audit_chain.track('tt_gap');
SELECT clock_timestamp() AS g4 \gset
DELETE FROM tt_gap WHERE id = 2;
SELECT clock_timestamp() AS g5 \gset
SELECT audit_chain.row_at('tt_gap', '{"id": 1}', :'g1') AS before_gap;
SELECT audit_chain.row_at('tt_gap', '{"id": 1}', :'g2');
:err
SELECT audit_chain.row_at('tt_gap', '{"id": 2}', :'g3');
:err
SELECT count(*) FROM audit_chain.table_at('tt_gap', :'g3');
:err
SELECT * FROM audit_chain.table_at(NULL::tt_gap, :'g4') ORDER BY id;
SELECT * FROM audit_chain.table_at(NULL::tt_gap, :'g5') ORDER BY id;
SELECT * FROM tt_history('tt_gap', '{"id": 1}');

-- Tracked again without a baseline: only what is seen afterwards is known.
SELECT audit_chain.untrack('tt_gap');
SELECT audit_chain.track('tt_gap', baseline => false);
INSERT INTO tt_gap VALUES (3, 'three');
SELECT clock_timestamp() AS g6 \gset
SELECT audit_chain.row_at('tt_gap', '{"id": 3}', :'g6') AS row_3;
SELECT audit_chain.row_at('tt_gap', '{"id": 1}', :'g6');
:err
SELECT audit_chain.row_at('tt_gap', '{"id": 1}', :'g5') AS row_1_earlier_period;

-- ---------------------------------------------------------------------------------------------
-- Capture disabled (DISABLE TRIGGER) leaves a gap; enabling it again records every row anew.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_dis (id int PRIMARY KEY, v text);
SELECT audit_chain.track('tt_dis');
INSERT INTO tt_dis VALUES (1, 'one');
SELECT clock_timestamp() AS d1 \gset
ALTER TABLE tt_dis DISABLE TRIGGER audit_chain_capture;
SELECT clock_timestamp() AS d2 \gset
UPDATE tt_dis SET v = 'silently changed';
INSERT INTO tt_dis VALUES (2, 'silently inserted');
ALTER TABLE tt_dis ENABLE TRIGGER audit_chain_capture;
SELECT clock_timestamp() AS d3 \gset
UPDATE tt_dis SET v = 'seen' WHERE id = 2;
SELECT clock_timestamp() AS d4 \gset
SELECT audit_chain.row_at('tt_dis', '{"id": 1}', :'d1') AS before_disable;
SELECT audit_chain.row_at('tt_dis', '{"id": 1}', :'d2');
:err
SELECT count(*) FROM audit_chain.table_at('tt_dis', :'d2');
:err
SELECT * FROM audit_chain.table_at(NULL::tt_dis, :'d3') ORDER BY id;
SELECT * FROM audit_chain.table_at(NULL::tt_dis, :'d4') ORDER BY id;
SELECT * FROM tt_history('tt_dis', '{"id": 2}');
-- DISABLE TRIGGER USER covers the capture triggers too.
ALTER TABLE tt_dis DISABLE TRIGGER USER;
SELECT clock_timestamp() AS d5 \gset
DELETE FROM tt_dis WHERE id = 1;
ALTER TABLE tt_dis ENABLE TRIGGER USER;
SELECT clock_timestamp() AS d6 \gset
SELECT count(*) FROM audit_chain.table_at('tt_dis', :'d5');
:err
SELECT * FROM audit_chain.table_at(NULL::tt_dis, :'d6') ORDER BY id;

-- Capture trigger dropped, then track() again: capture resumes and its rows are recorded anew,
-- so the past is known again from then on.
CREATE TABLE tt_drop (id int PRIMARY KEY, v text);
SELECT audit_chain.track('tt_drop');
INSERT INTO tt_drop VALUES (1, 'one');
DROP TRIGGER audit_chain_capture ON tt_drop;
SELECT clock_timestamp() AS e1 \gset
UPDATE tt_drop SET v = 'unseen';
SELECT audit_chain.track('tt_drop') AS capture_restored;
SELECT clock_timestamp() AS e2 \gset
INSERT INTO tt_drop VALUES (2, 'two');
SELECT clock_timestamp() AS e3 \gset
SELECT audit_chain.row_at('tt_drop', '{"id": 1}', :'e1');
:err
SELECT * FROM audit_chain.table_at(NULL::tt_drop, :'e2') ORDER BY id;
SELECT audit_chain.row_at('tt_drop', '{"id": 2}', :'e3') AS row_2;

-- ---------------------------------------------------------------------------------------------
-- Names that need quoting: schema, table and columns.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA "TT Schema";
CREATE TABLE "TT Schema"."Odd ""Table""" ("Key Col" int PRIMARY KEY, "Value; DROP" text, "MiXeD" int);
SELECT audit_chain.track('"TT Schema"."Odd ""Table"""');
INSERT INTO "TT Schema"."Odd ""Table""" VALUES (1, 'one', 1), (2, 'two', NULL);
SELECT clock_timestamp() AS o1 \gset
UPDATE "TT Schema"."Odd ""Table""" SET "Key Col" = 3, "MiXeD" = 3 WHERE "Key Col" = 1;
SELECT clock_timestamp() AS o2 \gset
SELECT audit_chain.row_at('"TT Schema"."Odd ""Table"""', '{"Key Col": 1}', :'o1') AS key_1_o1,
       audit_chain.row_at('"TT Schema"."Odd ""Table"""', '{"Key Col": 3}', :'o2') AS key_3_o2;
SELECT * FROM audit_chain.table_at(NULL::"TT Schema"."Odd ""Table""", :'o1') ORDER BY 1;
SELECT * FROM audit_chain.table_at(NULL::"TT Schema"."Odd ""Table""", :'o2') ORDER BY 1;
SELECT * FROM tt_history('"TT Schema"."Odd ""Table"""', '{"Key Col": 3}');

-- ---------------------------------------------------------------------------------------------
-- Erased rows keep their place in the past: their values are gone, not the rows.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_erased (id int PRIMARY KEY, name text);
SELECT audit_chain.track('tt_erased');
INSERT INTO tt_erased VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cid');
SELECT audit_chain.erase('tt_erased', '{"id": 1}') AS erased_1, audit_chain.erase('tt_erased', '{"id": 2}') AS erased_2;
SELECT count(*) AS rows_then, count(*) FILTER (WHERE j ->> 'name' = 'Cid') AS kept
  FROM audit_chain.table_at('tt_erased', clock_timestamp()) j;

-- ---------------------------------------------------------------------------------------------
-- Column policies changed while tracked. A column excluded from capture is not known from the
-- exclusion on (its changes are not recorded), so it leaves the rows then, not only for rows
-- changed later; once recorded again it comes back row by row. Redacted values are shown as
-- recorded; a row not changed since keeps the value recorded before.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tt_pol (id int PRIMARY KEY, a text, b text, c int);
SELECT audit_chain.track('tt_pol');
INSERT INTO tt_pol VALUES (1, 'a1', 'b1', 1), (2, 'a2', 'b2', 2);
SELECT clock_timestamp() AS q1 \gset
SELECT audit_chain.configure('tt_pol', exclude => '{a}', redact => '{b}') IS NOT NULL AS configured;
SELECT clock_timestamp() AS q2 \gset
UPDATE tt_pol SET a = 'a1, not recorded' WHERE id = 1;
UPDATE tt_pol SET b = 'b2, redacted', c = 20 WHERE id = 2;
INSERT INTO tt_pol VALUES (3, 'a3', 'b3', 3);
SELECT clock_timestamp() AS q3 \gset
SELECT audit_chain.configure('tt_pol', exclude => '{}', redact => '{}') IS NOT NULL AS configured;
UPDATE tt_pol SET a = 'a2, recorded again' WHERE id = 2;
SELECT clock_timestamp() AS q4 \gset
SELECT m, j FROM (VALUES (1, :'q1'::timestamptz), (2, :'q2'), (3, :'q3'), (4, :'q4')) v(m, at),
                 audit_chain.table_at('tt_pol', at) j
 ORDER BY m, j ->> 'id';
SELECT m, t.* FROM (VALUES (1, :'q1'::timestamptz), (2, :'q2'), (3, :'q3'), (4, :'q4')) v(m, at),
                   audit_chain.table_at(NULL::tt_pol, at) t
 ORDER BY m, t.id;
SELECT audit_chain.row_at('tt_pol', '{"id": 1}', :'q2') AS row_1_q2,
       audit_chain.row_at('tt_pol', '{"id": 2}', :'q4') AS row_2_q4;
-- The CONFIGURE that dropped the column from the row is one of its versions.
SELECT action, row_data FROM tt_history('tt_pol', '{"id": 1}');
-- Untracked and tracked again: the new baseline records every column again.
SELECT audit_chain.untrack('tt_pol'), audit_chain.track('tt_pol');
SELECT clock_timestamp() AS q5 \gset
SELECT * FROM audit_chain.table_at(NULL::tt_pol, :'q5') ORDER BY id;
SELECT (SELECT count(*) FROM (SELECT * FROM audit_chain.table_at(NULL::tt_pol, :'q5') EXCEPT SELECT * FROM tt_pol) d)
       AS only_then;

-- ---------------------------------------------------------------------------------------------
-- Wrong inputs.
-- ---------------------------------------------------------------------------------------------
SELECT audit_chain.row_at('tt_item', '[1]', :'t5');
:err
SELECT audit_chain.row_at('tt_item', '1', :'t5');
:err
SELECT audit_chain.row_at('tt_item', '{"label": "first"}', :'t5');
:err
SELECT audit_chain.row_at('tt_item', '{"id": 1, "label": "reborn"}', :'t5');
:err
SELECT audit_chain.row_at('tt_item', '{}', :'t5');
:err
SELECT audit_chain.row_at('tt_item', '{"id": "one"}', :'t5');
:err
SELECT audit_chain.row_at('tt_item', '{"id": null}', :'t5');
:err
SELECT * FROM tt_history('tt_item', '"x"');
:err
-- The typed forms need a table's row type.
SELECT audit_chain.row_at(NULL::numeric, '{"id": 1}', :'t5');
:err
SELECT * FROM audit_chain.table_at(NULL::numeric, :'t5');
:err
SELECT audit_chain.row_at(NULL::tt_pair, '{"id": 1}', :'t5');
:err
SELECT * FROM audit_chain.table_at(NULL::tt_pair, :'t5');
:err
-- Not a table.
CREATE VIEW tt_view AS SELECT * FROM tt_item;
SELECT audit_chain.row_at('tt_view', '{"id": 1}', :'t5');
:err
SELECT * FROM audit_chain.table_at('tt_view', :'t5');
:err
SELECT audit_chain.row_at('tt_no_such_table', '{"id": 1}', :'t5');
:err
-- NULL arguments are refused: a NULL answer would read as "the row did not exist".
SELECT audit_chain.row_at(NULL::regclass, '{"id": 1}', :'t5');
:err
SELECT audit_chain.row_at('tt_item'::regclass, NULL, :'t5');
:err
SELECT audit_chain.row_at('tt_item'::regclass, '{"id": 1}', NULL);
:err
SELECT audit_chain.row_at('tt_item'::regclass, '{"id": 1}', :'t5', NULL);
:err
SELECT audit_chain.row_at('tt_item'::text, NULL, :'t5');
:err
SELECT audit_chain.row_at(NULL::tt_item, NULL, :'t5');
:err
SELECT audit_chain.row_at(NULL::tt_item, '{"id": 1}', NULL);
:err
SELECT count(*) FROM audit_chain.table_at('tt_item'::regclass, :'t5', NULL);
:err
SELECT count(*) FROM audit_chain.table_at(NULL::tt_item, NULL);
:err
SELECT count(*) FROM audit_chain.table_at(NULL::regclass, :'t5');
:err
SELECT count(*) FROM audit_chain.table_at('tt_item'::regclass, NULL);
:err
SELECT count(*) FROM audit_chain.history(NULL, '{"id": 1}');
:err
SELECT count(*) FROM audit_chain.history('tt_item', NULL);
:err

-- Readers may travel in time; other roles may not.
CREATE ROLE regress_tt_reader IN ROLE audit_chain_reader;
CREATE ROLE regress_tt_nobody;
SET ROLE regress_tt_reader;
SELECT audit_chain.row_at('tt_item', '{"id": 3}', :'t5') ->> 'label' AS reader_sees;
SELECT count(*) AS reader_rows FROM audit_chain.table_at(NULL::tt_item, :'t5');
SET ROLE regress_tt_nobody;
SELECT audit_chain.row_at('tt_item', '{"id": 3}', :'t5');
:err
RESET ROLE;
DROP ROLE regress_tt_reader, regress_tt_nobody;

-- The trail stays valid through all of this.
SELECT valid, reason FROM audit_chain.verify();

RESET TimeZone;
DROP VIEW tt_view;
DROP TABLE tt_item, tt_comp, tt_nokey, tt_values, tt_trunc, tt_part, tt_nobase, tt_never, tt_gap, tt_dis, tt_drop;
DROP SCHEMA "TT Schema" CASCADE;
DROP TABLE tt_erased, tt_defer, tt_defer2, tt_pol;
DROP TYPE tt_mood, tt_pair;
DROP DOMAIN tt_positive;
DROP FUNCTION tt_history(regclass, jsonb);
