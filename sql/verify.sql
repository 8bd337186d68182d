-- verify: verify(), its range form, digests, incremental verification and checkpoints on an
-- intact trail (tamper.sql damages it).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

-- The empty trail is valid; its digest has no heads and a zero ledger id.
SELECT * FROM audit_chain.verify();
SELECT d->>'format' AS format, d->'heads' AS heads, d->>'ledger_id' AS ledger_id,
       d->>'digest' ~ '^[0-9a-f]{64}$' AS digest_is_hex,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(d) AS k) AS keys
  FROM audit_chain.digest() AS d;
SELECT * FROM audit_chain.verify(audit_chain.digest());
SELECT * FROM audit_chain.verify(audit_chain.digest(), true);
-- checkpoint() of the empty trail: valid, nothing to record.
SELECT valid, events_checked, chain_id, first_invalid_seq, reason, checkpoint_id, digest FROM audit_chain.checkpoint();
SELECT count(*) AS checkpoints FROM audit_chain.checkpoints;

CREATE TABLE vf_items (id int PRIMARY KEY, v text);
SELECT audit_chain.track('vf_items');
INSERT INTO vf_items VALUES (1, 'a');
INSERT INTO vf_items VALUES (2, 'b'), (3, 'c');
UPDATE vf_items SET v = v || '!';
DELETE FROM vf_items WHERE id = 2;
-- 1 TRACK + 1 + 2 + 3 + 1 events, in one chain (this session's).
SELECT count(*) AS events, count(DISTINCT chain_id) AS chains FROM audit_chain.events;
SELECT min(chain_id) AS c FROM audit_chain.events \gset
SELECT valid, events_checked, chain_id, first_invalid_seq, reason FROM audit_chain.verify();

-- The digest: one head per chain, at the chain's last event, with its hash and time.
SELECT audit_chain.digest() AS d1 \gset
SELECT jsonb_array_length(:'d1'::jsonb->'heads') AS heads,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(:'d1'::jsonb->'heads'->0) AS k) AS head_keys;
SELECT bool_and((h->>'seq')::bigint = e.seq AND h->>'hash' = encode(e.hash, 'hex')
                AND (h->>'committed_at_us')::numeric = trunc(extract(epoch FROM e.committed_at) * 1000000)
                AND (h->>'committed_at')::timestamptz = e.committed_at) AS heads_match_chains
  FROM jsonb_array_elements(:'d1'::jsonb->'heads') AS h
  JOIN audit_chain.events e ON e.chain_id = (h->>'chain_id')::int
 WHERE e.seq = (SELECT max(seq) FROM audit_chain.events x WHERE x.chain_id = e.chain_id);
SELECT :'d1'::jsonb->>'ledger_id' = (SELECT ledger_id::text FROM audit_chain.ledger) AS ledger_matches;
-- Nothing changed: a second digest has the same heads and digest value.
SELECT d->'heads' = :'d1'::jsonb->'heads' AS same_heads, d->>'digest' = :'d1'::jsonb->>'digest' AS same_digest
  FROM audit_chain.digest() AS d;

-- Range form: one chain, optionally from and to a position.
SELECT valid, events_checked FROM audit_chain.verify(:c);
SELECT valid, events_checked FROM audit_chain.verify(:c, 3);
SELECT valid, events_checked FROM audit_chain.verify(:c, 2, 4);
SELECT valid, events_checked FROM audit_chain.verify(:c, 1, 1);
SELECT valid, events_checked FROM audit_chain.verify(:c, 8, 8);
SELECT valid, events_checked FROM audit_chain.verify(:c, 1, 1000);
SELECT valid, events_checked FROM audit_chain.verify(:c, 9);
SELECT valid, events_checked FROM audit_chain.verify(chain => :c, to_seq => 2);
-- A to_seq beyond the last event stops there; a from_seq just after it checks nothing.
SELECT valid, events_checked FROM audit_chain.verify(:c, 9, 1000);

-- Argument errors.
SELECT * FROM audit_chain.verify(:c, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(:c, -1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(:c, 5, 4);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(NULL, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(NULL, 1, 3);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(from_seq => 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(-3);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(NULL::jsonb);
\echo :LAST_ERROR_SQLSTATE
-- A chain without events is not an empty success, nor is a range past a chain's end.
SELECT * FROM audit_chain.verify(1000);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(1000, 1, 5);
\echo :LAST_ERROR_SQLSTATE
-- (The message names the chain, whose number depends on the session: SQLSTATE only.)
\set VERBOSITY sqlstate
SELECT * FROM audit_chain.verify(:c, 10);
SELECT * FROM audit_chain.verify(:c, 10, 12);
\set VERBOSITY default
SELECT replace(:'LAST_ERROR_MESSAGE', 'chain ' || :c, 'chain C') AS message;
-- NULL is "every chain" for chain and "to the end" for to_seq; from_seq needs a value.
SELECT * FROM audit_chain.verify(:c, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(NULL::integer, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT valid, events_checked FROM audit_chain.verify(NULL, 1, NULL);
-- An explicit to_seq of 0 or less is below from_seq, not "to the end".
SELECT * FROM audit_chain.verify(:c, 1, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(:c, 1, -1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(NULL, 1, 0);
\echo :LAST_ERROR_SQLSTATE

-- A digest passed as a string literal needs its type: verify() has two forms.
SELECT valid FROM audit_chain.verify('{}');
\echo :LAST_ERROR_SQLSTATE
-- verify(digest) of an untouched trail: valid, everything checked.
SELECT valid, events_checked, chain_id, first_invalid_seq, reason FROM audit_chain.verify(:'d1'::jsonb);
SELECT valid, events_checked FROM audit_chain.verify(:'d1'::jsonb, true);
-- More events: verify(digest) checks everything, incremental only what follows the digest.
INSERT INTO vf_items VALUES (4, 'd'), (5, 'e');
UPDATE vf_items SET v = 'z' WHERE id = 1;
SELECT valid, events_checked FROM audit_chain.verify(:'d1'::jsonb);
SELECT valid, events_checked FROM audit_chain.verify(:'d1'::jsonb, true);
SELECT valid, events_checked FROM audit_chain.verify(:'d1'::jsonb, incremental => true);
SELECT * FROM audit_chain.verify(:'d1'::jsonb, NULL);
\echo :LAST_ERROR_SQLSTATE
-- Malformed digests: each field is checked before the digest's hash.
SELECT * FROM audit_chain.verify('null'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(:'d1'::jsonb - 'heads');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{heads,0}', '"a head"'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{heads,0,seq}', '"8"'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{heads,0,seq}', '8.5'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{heads,0,seq}', '1e30'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{heads,0,seq}', '0'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{heads,0,chain_id}', '-1'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{heads,0,hash}', '"not hex"'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{heads,0,committed_at_us}', 'null'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{ledger_id}', '"not-a-uuid"'));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM audit_chain.verify(jsonb_set(:'d1'::jsonb, '{digest}', 'null'));
\echo :LAST_ERROR_SQLSTATE
SELECT valid, events_checked FROM audit_chain.verify(audit_chain.digest(), true);

-- Another session writes too, into another chain.
CREATE EXTENSION dblink;
SELECT dblink_connect('vf_other', format('host=%s port=%s dbname=%s user=%s',
    coalesce(host(inet_server_addr()), current_setting('unix_socket_directories')),
    current_setting('port'), current_database(), current_user));
SELECT dblink_exec('vf_other', 'INSERT INTO vf_items VALUES (10, ''other session'')');
SELECT dblink_exec('vf_other', 'UPDATE vf_items SET v = ''other session again'' WHERE id = 10');
SELECT count(DISTINCT chain_id) AS chains FROM audit_chain.events;
SELECT valid, events_checked = (SELECT count(*) FROM audit_chain.events) AS all_checked FROM audit_chain.verify();
-- One chain alone.
SELECT valid, events_checked = (SELECT count(*) FROM audit_chain.events WHERE chain_id = :c) AS own_chain_only
  FROM audit_chain.verify(:c);
SELECT valid, events_checked FROM audit_chain.verify((SELECT max(chain_id) FROM audit_chain.events WHERE chain_id <> :c));
-- The digest now has two heads; d1 knew only one chain: incremental verification checks the
-- new events of the old chain and the whole new chain.
SELECT jsonb_array_length(audit_chain.digest()->'heads') AS heads;
SELECT valid, events_checked FROM audit_chain.verify(:'d1'::jsonb, true);
SELECT audit_chain.digest() AS d2 \gset
SELECT valid, events_checked FROM audit_chain.verify(:'d2'::jsonb, true);
SELECT dblink_exec('vf_other', 'DELETE FROM vf_items WHERE id = 10');
SELECT valid, events_checked FROM audit_chain.verify(:'d2'::jsonb, true);
SELECT dblink_disconnect('vf_other');
DROP EXTENSION dblink;

-- checkpoint(): the first verifies everything, the next only what followed the previous one.
SELECT valid, events_checked = (SELECT count(*) FROM audit_chain.events) AS checked_all,
       checkpoint_id IS NOT NULL AS recorded, digest->'heads' = audit_chain.digest()->'heads' AS digest_of_now
  FROM audit_chain.checkpoint();
SELECT valid, events_checked, checkpoint_id IS NOT NULL AS recorded FROM audit_chain.checkpoint();
INSERT INTO vf_items VALUES (6, 'f'), (7, 'g'), (8, 'h');
SELECT valid, events_checked, digest->'heads' = audit_chain.digest()->'heads' AS digest_of_now FROM audit_chain.checkpoint();
SELECT checkpoint_id > lag(checkpoint_id) OVER (ORDER BY checkpoint_id) AS increasing, events_checked,
       digest->>'ledger_id' = (SELECT ledger_id::text FROM audit_chain.ledger) AS same_ledger
  FROM audit_chain.checkpoints ORDER BY checkpoint_id;
-- A checkpoint's digest verifies like any digest.
SELECT valid, events_checked FROM audit_chain.verify((SELECT digest FROM audit_chain.checkpoints ORDER BY checkpoint_id DESC LIMIT 1), true);
-- checkpoint() in a rolled-back transaction records nothing.
BEGIN;
SELECT valid FROM audit_chain.checkpoint();
ROLLBACK;
SELECT count(*) AS checkpoints FROM audit_chain.checkpoints;

SELECT valid FROM audit_chain.verify();
DROP TABLE vf_items;
