-- time_travel_schema: the past of a table whose columns, name and schema changed since.
--
-- The jsonb forms name columns as they were at T; with current_names => true, by today's
-- names. The typed forms give today's row type: columns added since are NULL, dropped ones
-- are left out, values of retyped columns are converted to today's type or fail loudly.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

\set VERBOSITY sqlstate
\set err 'SELECT :''LAST_ERROR_SQLSTATE'' AS sqlstate, regexp_replace(:''LAST_ERROR_MESSAGE'', '' tracked at .*$'', '' tracked at <time>'') AS message;'

-- Moments, by name (values never printed).
CREATE TEMP TABLE tts_moments (m int PRIMARY KEY, what text NOT NULL, at timestamptz NOT NULL);
CREATE FUNCTION tts_mark(m int, what text) RETURNS void LANGUAGE sql
    AS $$ INSERT INTO tts_moments VALUES (m, what, clock_timestamp()) $$;

CREATE TABLE tts (id int PRIMARY KEY, v text, n int, code text, gone text);
INSERT INTO tts VALUES (1, 'one', 10, '12', 'g1'), (2, 'two', 20, '7', 'g2');
SELECT audit_chain.track('tts');
INSERT INTO tts VALUES (3, 'three', 30, 'abc', 'g3');
SELECT tts_mark(0, 'tracked');
ALTER TABLE tts ADD COLUMN a_plain int;
SELECT tts_mark(1, 'added a_plain, no default');
ALTER TABLE tts ADD COLUMN a_const text DEFAULT 'dflt';
UPDATE tts SET a_const = 'set' WHERE id = 2;
SELECT tts_mark(2, 'added a_const with a constant default');
CREATE SEQUENCE tts_seq;
ALTER TABLE tts ADD COLUMN a_vol bigint DEFAULT nextval('tts_seq');
SELECT tts_mark(3, 'added a_vol with a volatile default');
ALTER TABLE tts DROP COLUMN gone;
SELECT tts_mark(4, 'dropped gone');
ALTER TABLE tts RENAME COLUMN v TO label;
SELECT tts_mark(5, 'renamed v to label');
ALTER TABLE tts ALTER COLUMN n TYPE numeric(10,1) USING n / 4.0;
SELECT tts_mark(6, 'n retyped to numeric(10,1)');
ALTER TABLE tts ALTER COLUMN code TYPE int USING length(code);
SELECT tts_mark(7, 'code retyped to int');
ALTER TABLE tts RENAME TO tts_renamed;
SELECT tts_mark(8, 'table renamed');
CREATE SCHEMA tts_other;
ALTER TABLE tts_renamed SET SCHEMA tts_other;
SELECT tts_mark(9, 'moved to schema tts_other');
UPDATE tts_other.tts_renamed SET label = 'ONE', a_plain = 1 WHERE id = 1;
SELECT tts_mark(10, 'row 1 updated');

-- What the trail recorded of the schema changes.
SELECT action, resource_type, details FROM audit_chain.audit_events
 WHERE action = 'ALTER TABLE' AND resource_type LIKE '%tts%' ORDER BY commit_seq, seq;
SELECT count(*) AS baseline_events FROM audit_chain.audit_events
 WHERE action = 'BASELINE' AND resource_type = 'public.tts';

-- Row 1, jsonb form: the names it had then.
SELECT m, what, audit_chain.row_at('tts_other.tts_renamed', '{"id": 1}', at) AS row_1
  FROM tts_moments ORDER BY m;
-- Row 1, jsonb form in today's names.
SELECT m, audit_chain.row_at('tts_other.tts_renamed', '{"id": 1}', at, current_names => true) AS row_1_today_names
  FROM tts_moments ORDER BY m;
-- Row 1, typed: today's columns; added columns NULL before they existed, retyped values converted.
SELECT m, (audit_chain.row_at(NULL::tts_other.tts_renamed, '{"id": 1}', at)).*
  FROM tts_moments ORDER BY m;
-- The volatile default gave each row its own value, recorded by the rows' new baseline.
SELECT m, (SELECT bool_and((audit_chain.row_at('tts_other.tts_renamed', jsonb_build_object('id', t.id), at) -> 'a_vol')
                           = to_jsonb(t.a_vol))
             FROM tts_other.tts_renamed t) AS a_vol_as_today,
          (SELECT count(DISTINCT t.a_vol) FROM tts_other.tts_renamed t) AS distinct_values
  FROM tts_moments WHERE m IN (3, 10) ORDER BY m;
SELECT m, (SELECT bool_and(NOT (audit_chain.row_at('tts_other.tts_renamed', jsonb_build_object('id', t.id), at) ? 'a_vol'))
             FROM tts_other.tts_renamed t) AS a_vol_absent
  FROM tts_moments WHERE m = 2;

-- The whole table, jsonb form, before and after the changes.
SELECT j FROM tts_moments, audit_chain.table_at('tts_other.tts_renamed', at) j WHERE m = 0 ORDER BY j ->> 'id';
SELECT j FROM tts_moments, audit_chain.table_at('tts_other.tts_renamed', at, current_names => true) j WHERE m = 0 ORDER BY j ->> 'id';
SELECT j - 'a_vol' FROM tts_moments, audit_chain.table_at('tts_other.tts_renamed', at) j WHERE m = 10 ORDER BY j ->> 'id';
-- Typed: after the last retype, every row converts; before it, row 3's code ("abc") cannot
-- become an int, and the typed form says so.
SELECT id, label, n, code, a_plain, a_const FROM tts_moments, audit_chain.table_at(NULL::tts_other.tts_renamed, at) WHERE m = 7 ORDER BY id;
SELECT id, label, n, code, a_plain, a_const FROM tts_moments, audit_chain.table_at(NULL::tts_other.tts_renamed, at) WHERE m = 10 ORDER BY id;
SELECT count(*) FROM tts_moments, audit_chain.table_at(NULL::tts_other.tts_renamed, at) WHERE m = 5;
:err
SELECT (audit_chain.row_at(NULL::tts_other.tts_renamed, '{"id": 3}', at)).code FROM tts_moments WHERE m = 0;
:err
-- Now: exactly the table.
SELECT (SELECT count(*) FROM (SELECT * FROM audit_chain.table_at(NULL::tts_other.tts_renamed, clock_timestamp())
                              EXCEPT SELECT * FROM tts_other.tts_renamed) d) AS only_then,
       (SELECT count(*) FROM (SELECT * FROM tts_other.tts_renamed
                              EXCEPT SELECT * FROM audit_chain.table_at(NULL::tts_other.tts_renamed, clock_timestamp())) d) AS only_now;
-- Row 1's history, in the names each version had (its schema changes counted below).
SELECT action, old_data, new_data, row_data - 'a_vol' AS row_data
  FROM audit_chain.history('tts_other.tts_renamed', '{"id": 1}') WHERE action <> 'ALTER TABLE'
 ORDER BY commit_seq, seq;
-- The row existed throughout: no version of it is without a row, and the schema changes that
-- rewrote no row show it as it was then.
SELECT count(*) FILTER (WHERE row_data IS NULL) AS versions_without_row
  FROM audit_chain.history('tts_other.tts_renamed', '{"id": 1}');
SELECT e.details, h.row_data - 'a_vol' AS row_data
  FROM audit_chain.history('tts_other.tts_renamed', '{"id": 1}') h
  JOIN audit_chain.audit_events e ON e.chain_id = h.chain_id AND e.seq = h.seq
 WHERE h.action = 'ALTER TABLE' AND NOT e.details ? 'rebaseline' ORDER BY h.commit_seq, h.seq;
-- The old names are gone.
SELECT audit_chain.row_at('tts', '{"id": 1}', clock_timestamp());
:err

-- ---------------------------------------------------------------------------------------------
-- Renames that reuse names: a chain (a -> b -> c) and a swap through a third name.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tts_names (id int PRIMARY KEY, a text, x text, y text);
INSERT INTO tts_names VALUES (1, 'A', 'X', 'Y');
SELECT audit_chain.track('tts_names');
SELECT clock_timestamp() AS n0 \gset
ALTER TABLE tts_names RENAME COLUMN a TO b;
ALTER TABLE tts_names RENAME COLUMN b TO c;
ALTER TABLE tts_names RENAME COLUMN x TO tmp;
ALTER TABLE tts_names RENAME COLUMN y TO x;
ALTER TABLE tts_names RENAME COLUMN tmp TO y;
SELECT clock_timestamp() AS n1 \gset
SELECT audit_chain.row_at('tts_names', '{"id": 1}', :'n0') AS then_names,
       audit_chain.row_at('tts_names', '{"id": 1}', :'n0', current_names => true) AS today_names;
SELECT * FROM audit_chain.row_at(NULL::tts_names, '{"id": 1}', :'n0');
SELECT * FROM audit_chain.row_at(NULL::tts_names, '{"id": 1}', :'n1');
-- A column renamed away, and a new column taking its old name.
ALTER TABLE tts_names RENAME COLUMN c TO c_old;
ALTER TABLE tts_names ADD COLUMN c text;
SELECT audit_chain.row_at('tts_names', '{"id": 1}', :'n0', current_names => true) AS today_names;
SELECT * FROM audit_chain.row_at(NULL::tts_names, '{"id": 1}', :'n0');

-- ---------------------------------------------------------------------------------------------
-- A column dropped, then a new column of the same name: the old values are not the new
-- column's.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tts_readd (id int PRIMARY KEY, x text, y int);
INSERT INTO tts_readd VALUES (1, 'old x', 5);
SELECT audit_chain.track('tts_readd');
SELECT clock_timestamp() AS r0 \gset
ALTER TABLE tts_readd DROP COLUMN x;
ALTER TABLE tts_readd ADD COLUMN x int;
ALTER TABLE tts_readd DROP COLUMN y;
ALTER TABLE tts_readd ADD COLUMN y int;
UPDATE tts_readd SET y = 6;
SELECT clock_timestamp() AS r1 \gset
SELECT audit_chain.row_at('tts_readd', '{"id": 1}', :'r0') AS then_names;
SELECT (audit_chain.row_at('tts_readd', '{"id": 1}', :'r0', current_names => true) -> 'x') IS DISTINCT FROM '"old x"' AS old_x_not_todays_x,
       (audit_chain.row_at('tts_readd', '{"id": 1}', :'r0', current_names => true) -> 'y') IS DISTINCT FROM '5' AS old_y_not_todays_y;
SELECT * FROM audit_chain.row_at(NULL::tts_readd, '{"id": 1}', :'r0');
SELECT * FROM audit_chain.row_at(NULL::tts_readd, '{"id": 1}', :'r1');

-- ---------------------------------------------------------------------------------------------
-- Key columns renamed and retyped: the key is always given in today's names and types.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tts_key (id int PRIMARY KEY, v text);
INSERT INTO tts_key VALUES (5, 'five'), (6, 'six');
SELECT audit_chain.track('tts_key');
SELECT clock_timestamp() AS k0 \gset
ALTER TABLE tts_key RENAME COLUMN id TO ident;
UPDATE tts_key SET v = 'FIVE' WHERE ident = 5;
SELECT clock_timestamp() AS k1 \gset
ALTER TABLE tts_key ALTER COLUMN ident TYPE bigint;
UPDATE tts_key SET ident = 7 WHERE ident = 6;
SELECT clock_timestamp() AS k2 \gset
SELECT audit_chain.row_at('tts_key', '{"ident": 5}', :'k0') AS k0,
       audit_chain.row_at('tts_key', '{"ident": 5}', :'k1') AS k1,
       audit_chain.row_at('tts_key', '{"ident": 5}', :'k2') AS k2;
SELECT audit_chain.row_at('tts_key', '{"ident": 6}', :'k1') AS six_k1,
       audit_chain.row_at('tts_key', '{"ident": 6}', :'k2') AS six_k2,
       audit_chain.row_at('tts_key', '{"ident": 7}', :'k2') AS seven_k2;
SELECT * FROM audit_chain.table_at(NULL::tts_key, :'k0') ORDER BY ident;
SELECT action, resource_id, row_data FROM audit_chain.history('tts_key', '{"ident": 5}') ORDER BY commit_seq, seq;
-- The key's old name is not accepted.
SELECT audit_chain.row_at('tts_key', '{"id": 5}', :'k0');
:err
-- A retype that changes how key values are written (5 becomes 5.00): the rows recorded
-- before under 5 are still the row 5.00.
ALTER TABLE tts_key ALTER COLUMN ident TYPE numeric(10,2);
SELECT clock_timestamp() AS k3 \gset
SELECT audit_chain.row_at('tts_key', '{"ident": 5}', :'k2') AS before_retype,
       audit_chain.row_at('tts_key', '{"ident": 5}', :'k3') AS after_retype;
-- The key written as today's type writes it finds the row too; a value the type of then could
-- not hold denotes no row then.
SELECT audit_chain.row_at('tts_key', '{"ident": 5.00}', :'k2') AS given_as_5_00,
       audit_chain.row_at('tts_key', '{"ident": 5.5}', :'k2') AS five_and_a_half_then,
       audit_chain.row_at('tts_key', '{"ident": 5.00}', :'k3') AS given_as_5_00_now;
SELECT count(*) AS versions_of_5_5 FROM audit_chain.history('tts_key', '{"ident": 5.5}');
SELECT string_agg(row_data ->> 'v', ', ' ORDER BY commit_seq, seq) AS versions_of_5
  FROM audit_chain.history('tts_key', '{"ident": 5}') WHERE action IN ('BASELINE', 'UPDATE');
-- Erasing the row erases its events under every way its key was written (5, then 5.00).
SELECT count(*) AS events_of_5 FROM audit_chain.audit_events
 WHERE resource_type = 'public.tts_key' AND resource_id IN ('5', '5.00');
SELECT audit_chain.erase('tts_key', '{"ident": 5}') AS events_erased;
SELECT count(*) AS events_still_naming_5 FROM audit_chain.audit_events
 WHERE resource_type = 'public.tts_key' AND resource_id IN ('5', '5.00');
-- A table without key: its rows are known by all their values, which a retype rewrites.
CREATE TABLE tts_nokey (a int, b text);
INSERT INTO tts_nokey VALUES (1, 'x');
SELECT audit_chain.track('tts_nokey');
SELECT clock_timestamp() AS nk0 \gset
ALTER TABLE tts_nokey ALTER COLUMN a TYPE bigint;
SELECT audit_chain.row_at('tts_nokey', '{"a": 1, "b": "x"}', :'nk0');
:err
SELECT count(*) AS rows_then FROM audit_chain.table_at('tts_nokey', :'nk0');

-- ---------------------------------------------------------------------------------------------
-- A tracked table renamed, and a new tracked table taking its old name: each keeps its own past.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE tts_swap (id int PRIMARY KEY, v text);
INSERT INTO tts_swap VALUES (1, 'first table');
SELECT audit_chain.track('tts_swap');
SELECT clock_timestamp() AS w0 \gset
ALTER TABLE tts_swap RENAME TO tts_swap_old;
CREATE TABLE tts_swap (id int PRIMARY KEY, v text);
SELECT audit_chain.track('tts_swap');
INSERT INTO tts_swap VALUES (1, 'second table'), (2, 'second table only');
INSERT INTO tts_swap_old VALUES (3, 'first table, later');
SELECT clock_timestamp() AS w1 \gset
SELECT audit_chain.row_at('tts_swap_old', '{"id": 1}', :'w0') ->> 'v' AS old_w0,
       audit_chain.row_at('tts_swap_old', '{"id": 1}', :'w1') ->> 'v' AS old_w1,
       audit_chain.row_at('tts_swap', '{"id": 1}', :'w1') ->> 'v' AS new_w1;
SELECT j FROM audit_chain.table_at('tts_swap_old', :'w1') j ORDER BY j ->> 'id';
SELECT j FROM audit_chain.table_at('tts_swap', :'w1') j ORDER BY j ->> 'id';
SELECT action, row_data ->> 'v' AS v FROM audit_chain.history('tts_swap_old', '{"id": 1}') ORDER BY commit_seq, seq;
-- The new table was not tracked (did not exist) at w0.
SELECT audit_chain.row_at('tts_swap', '{"id": 1}', :'w0');
:err

-- ---------------------------------------------------------------------------------------------
-- A renamed schema renames its tables.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA tts_s1;
CREATE TABLE tts_s1.t (id int PRIMARY KEY, v text);
SELECT audit_chain.track('tts_s1.t');
INSERT INTO tts_s1.t VALUES (1, 'in s1');
SELECT clock_timestamp() AS s0 \gset
ALTER SCHEMA tts_s1 RENAME TO tts_s2;
UPDATE tts_s2.t SET v = 'in s2';
SELECT clock_timestamp() AS s1 \gset
SELECT details FROM audit_chain.audit_events WHERE resource_type = 'tts_s2.t' AND action = 'ALTER TABLE';
SELECT audit_chain.row_at('tts_s2.t', '{"id": 1}', :'s0') AS s0,
       audit_chain.row_at('tts_s2.t', '{"id": 1}', :'s1') AS s1;

SELECT valid, reason FROM audit_chain.verify();

DROP TABLE tts_other.tts_renamed, tts_names, tts_readd, tts_key, tts_nokey, tts_swap, tts_swap_old, tts_s2.t;
DROP SEQUENCE tts_seq;
DROP SCHEMA tts_other, tts_s2;
DROP FUNCTION tts_mark(int, text);
