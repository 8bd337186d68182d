-- keys: the resource_id of an event identifies the row: its primary key, else its replica
-- identity index, else a SHA-256 of the whole row.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

-- resource_id of the events of one table, in order.
CREATE FUNCTION keys_ids(tbl regclass) RETURNS TABLE (action text, resource_id text)
LANGUAGE sql AS $$
    SELECT e.action, e.resource_id FROM audit_chain.audit_events e
     WHERE e.resource_type = (SELECT format('%I.%I', n.nspname, c.relname)
                                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE c.oid = tbl)
       AND e.action <> 'TRACK'
     ORDER BY e.commit_seq, e.seq
$$;

-- Single-column primary keys: the value as text.
CREATE TABLE keys_int (id int PRIMARY KEY, v text);
CREATE TABLE keys_bigint (id bigint PRIMARY KEY, v text);
CREATE TABLE keys_text (code text PRIMARY KEY, v text);
CREATE TABLE keys_uuid (id uuid PRIMARY KEY, v text);
CREATE TABLE keys_numeric (id numeric PRIMARY KEY, v text);
CREATE TABLE keys_tstz (at timestamptz PRIMARY KEY, v text);
CREATE TABLE keys_bool (flag boolean PRIMARY KEY, v text);
SELECT audit_chain.track(t) FROM unnest(ARRAY['keys_int', 'keys_bigint', 'keys_text', 'keys_uuid',
    'keys_numeric', 'keys_tstz', 'keys_bool']::regclass[]) AS t;
INSERT INTO keys_int VALUES (-42, 'x');
INSERT INTO keys_bigint VALUES (9007199254740993, 'x');
INSERT INTO keys_text VALUES (E'Z\u00fcrich \u2713 "quoted" back\\slash', 'x'), ('', 'empty'), ('42', 'digits'), ('null', 'word');
INSERT INTO keys_uuid VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'x');
INSERT INTO keys_numeric VALUES (1.50, 'x'), ('NaN', 'nan');
INSERT INTO keys_tstz VALUES ('2026-01-01 12:00:00+05', 'x');
INSERT INTO keys_bool VALUES (true, 'x');
SELECT * FROM keys_ids('keys_int');
SELECT * FROM keys_ids('keys_bigint');
SELECT * FROM keys_ids('keys_text');
SELECT resource_id = E'Z\u00fcrich \u2713 "quoted" back\\slash' AS exact_text FROM keys_ids('keys_text') LIMIT 1;
SELECT * FROM keys_ids('keys_uuid');
SELECT * FROM keys_ids('keys_numeric');
SELECT * FROM keys_ids('keys_tstz');
SELECT * FROM keys_ids('keys_bool');

-- Composite primary key: a JSON array of the key columns, in the key's column order.
CREATE TABLE keys_composite (region text, n int, day date, v text, PRIMARY KEY (n, region, day));
SELECT audit_chain.track('keys_composite');
INSERT INTO keys_composite VALUES ('eu "west"', 7, '2026-02-03', 'x');
UPDATE keys_composite SET v = 'y';
DELETE FROM keys_composite;
SELECT * FROM keys_ids('keys_composite');
SELECT resource_id::jsonb = jsonb_build_array(7, 'eu "west"', '2026-02-03') AS parses_as_json
  FROM keys_ids('keys_composite') LIMIT 1;

-- No primary key, but a replica identity index: its columns are the key.
CREATE TABLE keys_replica (a int NOT NULL, b text NOT NULL, v text);
CREATE UNIQUE INDEX keys_replica_ab ON keys_replica (b, a);
ALTER TABLE keys_replica REPLICA IDENTITY USING INDEX keys_replica_ab;
CREATE TABLE keys_replica_single (email text NOT NULL, v text);
CREATE UNIQUE INDEX keys_replica_single_email ON keys_replica_single (email);
ALTER TABLE keys_replica_single REPLICA IDENTITY USING INDEX keys_replica_single_email;
SELECT audit_chain.track('keys_replica'), audit_chain.track('keys_replica_single');
INSERT INTO keys_replica VALUES (1, 'one', 'x');
INSERT INTO keys_replica_single VALUES ('someone@example.org', 'x');
SELECT * FROM keys_ids('keys_replica');
SELECT * FROM keys_ids('keys_replica_single');

-- A primary key wins over another replica identity index.
CREATE TABLE keys_both (id int PRIMARY KEY, alt int NOT NULL, v text);
CREATE UNIQUE INDEX keys_both_alt ON keys_both (alt);
ALTER TABLE keys_both REPLICA IDENTITY USING INDEX keys_both_alt;
SELECT audit_chain.track('keys_both');
INSERT INTO keys_both VALUES (1, 100, 'x');
SELECT * FROM keys_ids('keys_both');

-- No key at all (a plain unique constraint on a nullable column is not one, nor is REPLICA
-- IDENTITY FULL): the SHA-256 of the whole row's JSON text.
CREATE TABLE keys_none (a int, b text, c jsonb);
CREATE TABLE keys_unique_only (a int UNIQUE, b text);
CREATE TABLE keys_full (a int, b text);
ALTER TABLE keys_full REPLICA IDENTITY FULL;
SELECT audit_chain.track('keys_none'), audit_chain.track('keys_unique_only'), audit_chain.track('keys_full');
INSERT INTO keys_none VALUES (1, E'\u00e9t\u00e9 \U0001F600', '{"k": [1, 2.50]}'), (1, E'\u00e9t\u00e9 \U0001F600', '{"k": [1, 2.50]}'), (NULL, NULL, NULL);
INSERT INTO keys_unique_only VALUES (1, 'x');
INSERT INTO keys_full VALUES (1, 'x');
DELETE FROM keys_none WHERE a IS NULL;
SELECT e.action,
       length(e.resource_id) AS len,
       e.resource_id ~ '^[0-9a-f]{64}$' AS lowercase_hex,
       e.resource_id = encode(sha256(convert_to(coalesce(e.new_data, e.old_data)::text, 'UTF8')), 'hex') AS sha256_of_row
  FROM audit_chain.audit_events e
 WHERE e.resource_type IN ('public.keys_none', 'public.keys_unique_only', 'public.keys_full') AND e.action <> 'TRACK'
 ORDER BY e.commit_seq, e.seq;
-- Identical rows get the same identity; different rows different ones.
SELECT count(*) AS events, count(DISTINCT resource_id) AS identities
  FROM audit_chain.audit_events WHERE resource_type = 'public.keys_none' AND action = 'INSERT';
-- UPDATE of a keyless row: the identity is that of the row before the change.
UPDATE keys_full SET b = 'y';
SELECT e.resource_id = (SELECT resource_id FROM audit_chain.audit_events
                         WHERE resource_type = 'public.keys_full' AND action = 'INSERT') AS identity_of_old_row,
       e.resource_id = encode(sha256(convert_to('{"a": 1, "b": "x"}', 'UTF8')), 'hex') AS hash_of_old_row,
       e.old_data, e.new_data
  FROM audit_chain.audit_events e WHERE e.resource_type = 'public.keys_full' AND e.action = 'UPDATE';

-- UPDATE of a key column: resource_id is the old key; the new key is in new_data.
UPDATE keys_int SET id = 43 WHERE id = -42;
UPDATE keys_composite SET n = 8;  -- no row left: nothing recorded
INSERT INTO keys_composite VALUES ('eu', 1, '2026-01-01', 'x');
UPDATE keys_composite SET region = 'us', v = 'moved' WHERE n = 1;
UPDATE keys_replica SET b = 'uno' WHERE a = 1;
SELECT e.resource_type, e.resource_id, e.old_data, e.new_data
  FROM audit_chain.audit_events e
 WHERE e.action = 'UPDATE' AND e.resource_type IN ('public.keys_int', 'public.keys_composite', 'public.keys_replica')
 ORDER BY e.commit_seq, e.seq;
-- ... and later events of the row use the new key.
DELETE FROM keys_int;
SELECT * FROM keys_ids('keys_int');

-- The key is looked up again when it changes after tracking.
CREATE TABLE keys_later (id int NOT NULL, v text);
SELECT audit_chain.track('keys_later');
INSERT INTO keys_later VALUES (1, 'before the key');
ALTER TABLE keys_later ADD PRIMARY KEY (id);
INSERT INTO keys_later VALUES (2, 'after the key');
ALTER TABLE keys_later DROP CONSTRAINT keys_later_pkey;
INSERT INTO keys_later VALUES (3, 'key dropped again');
SELECT new_data->>'v' AS v, resource_id ~ '^[0-9a-f]{64}$' AS row_hash, CASE WHEN resource_id ~ '^[0-9a-f]{64}$' THEN NULL ELSE resource_id END AS key
  FROM audit_chain.audit_events WHERE resource_type = 'public.keys_later' AND action = 'INSERT'
 ORDER BY commit_seq, seq;

SELECT valid FROM audit_chain.verify();

DROP TABLE keys_int, keys_bigint, keys_text, keys_uuid, keys_numeric, keys_tstz, keys_bool, keys_composite,
    keys_replica, keys_replica_single, keys_both, keys_none, keys_unique_only, keys_full, keys_later;
DROP FUNCTION keys_ids(regclass);
