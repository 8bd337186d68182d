-- verify_order: verify() of whole chains reads the heap in physical order and puts each
-- chain's events back in position order; its answers are those of the walk along the
-- primary key (verify(chain), which reads one chain in position order), also when events
-- sit far from their neighbours (a re-written row version lands at the end of the table)
-- and when more events wait for their predecessor than verify() keeps in memory.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE TABLE vo_rows (id int PRIMARY KEY, v text);
SELECT audit_chain.track('vo_rows');
-- One transaction: 30,000 events on one chain, about 7 MB of rows.
INSERT INTO vo_rows SELECT g, repeat('x', 100) || g FROM generate_series(1, 30000) g;
SELECT min(chain_id) AS c, max(seq) AS last FROM audit_chain.events \gset
SELECT count(DISTINCT chain_id) AS chains, :last AS last FROM audit_chain.events;

-- Both ways of reading, with the chain's number replaced by C.
CREATE TEMP VIEW vo_both AS
SELECT 'heap scan' AS read, valid, events_checked, first_invalid_seq,
       replace(reason, 'chain ' || :c, 'chain C') AS reason
  FROM audit_chain.verify()
UNION ALL
SELECT 'primary key', valid, events_checked, first_invalid_seq,
       replace(reason, 'chain ' || :c, 'chain C')
  FROM audit_chain.verify(:c);

SELECT * FROM vo_both;

-- work_mem is 64kB here: verify() keeps at most 4 MB of early events, so with the second
-- event moved to the end, the 29,999 after it outgrow that and the chain is finished
-- along the primary key. With a larger work_mem they all wait in memory instead.
SET work_mem = '64kB';
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET seq = seq WHERE chain_id = :c AND seq = 2;   -- same content, new place
SELECT (SELECT ctid FROM audit_chain.events WHERE chain_id = :c AND seq = 2)
     > (SELECT ctid FROM audit_chain.events WHERE chain_id = :c AND seq = :last) AS moved_to_the_end;
SET LOCAL client_min_messages = debug1;
\set VERBOSITY terse
SELECT * FROM vo_both;
SET LOCAL work_mem = '64MB';
SELECT * FROM vo_both;
SET LOCAL client_min_messages = notice;
\set VERBOSITY default
-- The moved event changed: found at its position both ways, with either budget.
UPDATE audit_chain.events SET new_data = jsonb_set(new_data, '{v}', '"forged"') WHERE chain_id = :c AND seq = 2;
SELECT * FROM vo_both;
SET LOCAL work_mem = '64kB';
SELECT * FROM vo_both;
ROLLBACK;

-- An event near the end moved: only a few events wait for it.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET seq = seq WHERE chain_id = :c AND seq = :last - 3;
SELECT * FROM vo_both;
ROLLBACK;

-- A deleted event: the events after it never get their turn in the heap scan; the walk
-- along the primary key then names the missing position.
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM audit_chain.events WHERE chain_id = :c AND seq = 20000;
SELECT * FROM vo_both;
ROLLBACK;

-- Two events swapped (positions exchanged): the first of them no longer links.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET seq = CASE seq WHEN 100 THEN -1 ELSE seq END WHERE chain_id = :c AND seq = 100;
UPDATE audit_chain.events SET seq = 100 WHERE chain_id = :c AND seq = 101;
UPDATE audit_chain.events SET seq = 101 WHERE chain_id = :c AND seq = -1;
SELECT * FROM vo_both;
ROLLBACK;

-- A row below position 1 is out of place, found the same way by both.
BEGIN;
SET LOCAL session_replication_role = replica;
CREATE TEMP TABLE vo_forged ON COMMIT DROP AS SELECT * FROM audit_chain.events WHERE chain_id = :c AND seq = 5;
UPDATE vo_forged SET seq = 0;
INSERT INTO audit_chain.events SELECT * FROM vo_forged;
SELECT * FROM vo_both;
ROLLBACK;

-- Intact again.
SELECT * FROM vo_both;
RESET work_mem;
DROP VIEW vo_both;
SELECT audit_chain.untrack('vo_rows');
DROP TABLE vo_rows;
