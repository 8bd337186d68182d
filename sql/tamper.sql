-- tamper: every kind of change to the stored trail makes verify() fail at the damaged
-- event, with a reason. Tampering needs a superuser bypassing the guards with
-- session_replication_role = replica; each tamper is rolled back afterwards.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE TABLE tp_items (id int PRIMARY KEY, v text, n numeric);
SELECT audit_chain.track('tp_items');                                          -- 1
INSERT INTO tp_items VALUES (1, 'a', 1.50);                                   -- 2
INSERT INTO tp_items VALUES (2, 'b', 2), (3, 'c', 3);                         -- 3, 4
UPDATE tp_items SET v = 'b2' WHERE id = 2;                                    -- 5
BEGIN;
SET LOCAL audit_chain.actor_id = 'alice';
UPDATE tp_items SET n = 9 WHERE id = 3;                                       -- 6
COMMIT;
DELETE FROM tp_items WHERE id = 1;                                            -- 7
CREATE TABLE tp_other (id int PRIMARY KEY);
SELECT audit_chain.track('tp_other');                                          -- 8
INSERT INTO tp_other VALUES (1);                                              -- 9
INSERT INTO tp_items VALUES (4, 'd', 4);                                      -- 10
SELECT seq, action, resource_type, resource_id, actor_id FROM audit_chain.audit_events ORDER BY seq;
SELECT count(DISTINCT chain_id) AS chains FROM audit_chain.events;
-- A checkpoint of the intact trail.
SELECT valid, events_checked, checkpoint_id IS NOT NULL AS recorded FROM audit_chain.checkpoint();
SELECT min(chain_id) AS c FROM audit_chain.events \gset

-- The verdict, with the chain's number replaced by C (it depends on the session).
CREATE TEMP VIEW tp_verdict AS
SELECT valid, events_checked, first_invalid_seq, chain_id = :c AS in_chain,
       replace(reason, 'chain ' || :c, 'chain C') AS reason
  FROM audit_chain.verify();
SELECT * FROM tp_verdict;

-- Event data.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET new_data = jsonb_set(new_data, '{v}', '"forged"') WHERE seq = 3;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET new_data = new_data - 'n' WHERE seq = 4;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET new_data = jsonb_set(new_data, '{n}', '1.5') WHERE seq = 2;  -- 1.50 became 1.5
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET old_data = '{"v": "innocent"}' WHERE seq = 5;
SELECT * FROM tp_verdict;
-- Ranges of positions: those before and after the damage are intact, the one holding it not.
SELECT valid, events_checked, first_invalid_seq FROM audit_chain.verify(:c, 1, 4);
SELECT valid, events_checked, first_invalid_seq FROM audit_chain.verify(:c, 6);
SELECT valid, events_checked, first_invalid_seq FROM audit_chain.verify(:c, 5, 5);
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET old_data = NULL WHERE seq = 7;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET new_data = '[1, 2]' WHERE seq = 3;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET details = '{"note": "added later"}' WHERE seq = 4;
SELECT * FROM tp_verdict;
ROLLBACK;

-- The event's identity, time and place.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET resource_id = '33' WHERE seq = 4;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET action = 'UPDATE' WHERE seq = 7;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET outcome = 'd' WHERE seq = 7;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET event_time = event_time + interval '1 microsecond' WHERE seq = 2;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET committed_at = committed_at - interval '1 hour' WHERE seq = 5;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET event_id = '00000000-0000-7000-8000-000000000000' WHERE seq = 6;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET xid = (xid::text::bigint + 1)::text::xid8 WHERE seq = 2;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET commit_seq = commit_seq + 100 WHERE seq = 9;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET context_id = (SELECT context_id FROM audit_chain.events WHERE seq = 6) WHERE seq = 5;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET resource_ref = (SELECT resource_ref FROM audit_chain.events WHERE seq = 8) WHERE seq = 4;
SELECT * FROM tp_verdict;
ROLLBACK;

-- The stored hash and the salt.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET hash = sha256('forged') WHERE seq = 4;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET hash = sha256('forged') WHERE seq = 10;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET hash = '\x0102' WHERE seq = 4;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET salt = sha256(salt)::bytea WHERE seq = 3;
UPDATE audit_chain.events SET salt = substring(sha256(salt) FROM 1 FOR 16) WHERE seq = 3;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET salt = '\x00' WHERE seq = 3;
SELECT * FROM tp_verdict;
ROLLBACK;
-- Without its salt an event's values cannot be checked: that is damage, not an error.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET salt = NULL WHERE seq = 3;
SELECT valid, first_invalid_seq, in_chain FROM tp_verdict;
ROLLBACK;

-- A value replaced, with an erasure record claiming the original value's commitment (the
-- salt is stored, so the commitment can be computed): the value no longer matches it.
-- Units of event 2: 0 = resource_id '1', then the columns in key order n, v, id.
BEGIN;
SET LOCAL session_replication_role = replica;
WITH e AS (SELECT salt FROM audit_chain.events WHERE seq = 2),
     k AS (SELECT substring(sha256('ACK1'::bytea || salt || '\x00000001'::bytea) FROM 1 FOR 16) AS key2 FROM e),
     c AS (SELECT sha256('ACV1'::bytea || key2 || '\x02'::bytea || 's'::bytea || '\x00000001'::bytea
                         || convert_to('a', 'UTF8')) AS c2 FROM k)
UPDATE audit_chain.events
   SET new_data = jsonb_set(new_data, '{v}', '"forged"'),
       erasure = jsonb_build_object('commitments', jsonb_build_object('2', (SELECT encode(c2, 'hex') FROM c)))
 WHERE seq = 2;
SELECT valid, first_invalid_seq, in_chain FROM tp_verdict;
ROLLBACK;
-- The same for the resource_id.
BEGIN;
SET LOCAL session_replication_role = replica;
WITH e AS (SELECT salt FROM audit_chain.events WHERE seq = 2),
     k AS (SELECT substring(sha256('ACK1'::bytea || salt || '\x00000000'::bytea) FROM 1 FOR 16) AS key0 FROM e),
     c AS (SELECT sha256('ACV1'::bytea || key0 || '\x02'::bytea || 's'::bytea || '\x00000001'::bytea
                         || convert_to('1', 'UTF8')) AS c0 FROM k)
UPDATE audit_chain.events
   SET resource_id = '999',
       erasure = jsonb_build_object('commitments', jsonb_build_object('0', (SELECT encode(c0, 'hex') FROM c)))
 WHERE seq = 2;
SELECT valid, first_invalid_seq, in_chain FROM tp_verdict;
ROLLBACK;
-- An erasure record that is not well-formed.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET erasure = '{"commitments": {"99": "00"}}' WHERE seq = 2;
SELECT * FROM tp_verdict;
ROLLBACK;

-- Context and resource rows, shared by events.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET actor_id = 'mallory' WHERE actor_id = 'alice';
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET client_addr = '10.6.6.6'
 WHERE context_id = (SELECT context_id FROM audit_chain.events WHERE seq = 1);
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET reason = 'an excuse' WHERE actor_id = 'alice';
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM audit_chain.contexts WHERE actor_id = 'alice';
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.resources SET resource_type = 'public.tp_elsewhere' WHERE resource_type = 'public.tp_other';
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM audit_chain.resources WHERE resource_type = 'public.tp_other';
SELECT * FROM tp_verdict;
ROLLBACK;

-- The ledger: its identity starts every chain.
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM audit_chain.ledger;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.ledger SET ledger_id = '00000000-0000-4000-8000-000000000000';
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO audit_chain.ledger VALUES ('00000000-0000-4000-8000-000000000000', now(), 2);
SELECT valid FROM tp_verdict;
ROLLBACK;

-- Events removed, added, moved.
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM audit_chain.events WHERE seq = 5;
SELECT * FROM tp_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM audit_chain.events WHERE seq = 1;
SELECT * FROM tp_verdict;
ROLLBACK;
-- A forged event appended at the end.
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO audit_chain.events
SELECT seq + 1, commit_seq + 1, xid, committed_at, event_time, context_id, gen_random_uuid(), chain_id, resource_ref,
       outcome, 'DELETE', '4', '{"id": 4, "n": 4, "v": "d"}', NULL, NULL, salt, sha256('forged'), NULL
  FROM audit_chain.events WHERE seq = 10;
SELECT * FROM tp_verdict;
ROLLBACK;
-- A forged event inserted in the middle, the later events renumbered.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET seq = seq + 1000 WHERE seq >= 5;
UPDATE audit_chain.events SET seq = seq - 999 WHERE seq >= 1000;
INSERT INTO audit_chain.events
SELECT 5, commit_seq, xid, committed_at, event_time, context_id, gen_random_uuid(), chain_id, resource_ref,
       outcome, 'DELETE', '2', '{"id": 2, "n": 2, "v": "b"}', NULL, NULL, salt, hash, NULL
  FROM audit_chain.events WHERE seq = 4;
SELECT * FROM tp_verdict;
ROLLBACK;
-- Two events swapped.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET seq = -4 WHERE seq = 4;
UPDATE audit_chain.events SET seq = 4 WHERE seq = 5;
UPDATE audit_chain.events SET seq = 5 WHERE seq = -4;
SELECT * FROM tp_verdict;
ROLLBACK;
-- An event moved to another chain.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET chain_id = chain_id + 1 WHERE seq = 10;
SELECT valid, events_checked, first_invalid_seq, chain_id = :c + 1 AS in_other_chain,
       replace(reason, 'chain ' || (:c + 1), 'chain D') AS reason
  FROM audit_chain.verify();
ROLLBACK;

-- Only a digest kept elsewhere shows that the tail was removed.
SELECT audit_chain.digest() AS d \gset
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM audit_chain.events WHERE seq >= 9;
SELECT * FROM tp_verdict;
SELECT valid, events_checked, first_invalid_seq, chain_id = :c AS in_chain, replace(reason, 'chain ' || :c, 'chain C') AS reason
  FROM audit_chain.verify(:'d'::jsonb);
SELECT valid, events_checked, first_invalid_seq, chain_id = :c AS in_chain, replace(reason, 'chain ' || :c, 'chain C') AS reason
  FROM audit_chain.verify(:'d'::jsonb, true);
ROLLBACK;
-- ... or that the event it recorded was changed.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.events SET hash = sha256('forged') WHERE seq = 10;
SELECT valid, events_checked, first_invalid_seq, chain_id = :c AS in_chain, replace(reason, 'chain ' || :c, 'chain C') AS reason
  FROM audit_chain.verify(:'d'::jsonb);
SELECT valid, events_checked, first_invalid_seq, chain_id = :c AS in_chain, replace(reason, 'chain ' || :c, 'chain C') AS reason
  FROM audit_chain.verify(:'d'::jsonb, true);
ROLLBACK;
-- The intact trail still matches the digest.
SELECT valid, events_checked FROM audit_chain.verify(:'d'::jsonb);

-- A digest that was altered is refused as a whole.
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,hash}', to_jsonb(repeat('0', 64))));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,seq}', '5'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,committed_at_us}', '0'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,chain_id}', to_jsonb(:c + 1)));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{ledger_id}', '"00000000-0000-4000-8000-000000000000"'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{digest}', to_jsonb(repeat('0', 64))));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads}', '[]'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads}', (:'d'::jsonb->'heads') || (:'d'::jsonb->'heads')));
\echo :LAST_ERROR_SQLSTATE
-- Malformed digests.
SELECT * FROM audit_chain.verify('[]'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify('"a digest"'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify('{}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{format}', '"audit_chain.digest.v2"'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads}', '{}'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads}', '[1]'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,seq}', '"10"'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,seq}', '10.5'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,seq}', '0'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,seq}', '99999999999999999999'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,chain_id}', '-1'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(:'d'::jsonb #- '{heads,0,committed_at_us}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{heads,0,hash}', '"not hex"'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{digest}', '"abc"'));
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY sqlstate
SELECT * FROM audit_chain.verify(jsonb_set(:'d'::jsonb, '{ledger_id}', '"not a uuid"'));
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT * FROM audit_chain.verify('not json'::jsonb);
\echo :LAST_ERROR_SQLSTATE

-- History rewritten and re-hashed: the last two events replaced by new, correctly chained
-- ones. verify() alone cannot tell; a digest taken before can.
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM audit_chain.events WHERE seq >= 9;
SET LOCAL session_replication_role = origin;
INSERT INTO tp_items VALUES (100, 'rewritten', 0), (101, 'rewritten', 0);
COMMIT;
SELECT seq, action, resource_id FROM audit_chain.audit_events WHERE seq >= 8 ORDER BY seq;
SELECT * FROM tp_verdict;
SELECT valid, events_checked, first_invalid_seq, chain_id = :c AS in_chain, replace(reason, 'chain ' || :c, 'chain C') AS reason
  FROM audit_chain.verify(:'d'::jsonb);
SELECT valid, events_checked, first_invalid_seq, chain_id = :c AS in_chain, replace(reason, 'chain ' || :c, 'chain C') AS reason
  FROM audit_chain.verify(:'d'::jsonb, true);
-- The checkpoint taken before the rewrite makes the next checkpoint fail; it records nothing.
SELECT valid, events_checked, first_invalid_seq, chain_id = :c AS in_chain,
       replace(reason, 'chain ' || :c, 'chain C') AS reason, checkpoint_id, digest
  FROM audit_chain.checkpoint();
SELECT count(*) AS checkpoints FROM audit_chain.checkpoints;
DROP VIEW tp_verdict;

-- A digest of another audit trail (the extension dropped and created again).
SET client_min_messages = warning;
DROP EXTENSION audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;
SELECT audit_chain.track('tp_items');
INSERT INTO tp_items SELECT g, 'new trail', g FROM generate_series(200, 212) g;
UPDATE tp_items SET n = 0 WHERE id >= 200;
SELECT valid, first_invalid_seq IS NOT NULL AS located, reason FROM audit_chain.verify(:'d'::jsonb);
SELECT valid, first_invalid_seq IS NOT NULL AS located, reason FROM audit_chain.verify(:'d'::jsonb, true);
-- The new trail is intact.
SELECT valid FROM audit_chain.verify();

DROP TABLE tp_items, tp_other;
