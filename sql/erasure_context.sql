-- erasure_context: erase_value() erases a data subject's value from the contexts of events
-- (actor_id, database user names, client address, user agent, request and session ids,
-- reason, application name) as it does from their data: the context hash does not change,
-- verify() stays valid, the salt that could confirm a guess is destroyed, and tampering
-- with an erased context is detected.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

-- A pseudonym is "[ERASED:" and 16 hex digits "]", drawn anew by each erasure: shown as [ERASED:<p>].
CREATE FUNCTION ec_p(v text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT regexp_replace(v, '^\[ERASED:[0-9a-f]{16}\]$', '[ERASED:<p>]') $$;

CREATE TABLE ec_accounts (id int PRIMARY KEY, plan text);
CREATE TABLE ec_notes (id int PRIMARY KEY, body text);
SELECT audit_chain.track('ec_accounts'), audit_chain.track('ec_notes');
CREATE ROLE regress_ec_alice;
CREATE ROLE regress_ec_admin IN ROLE audit_chain_admin;
GRANT ALL ON ec_accounts, ec_notes TO regress_ec_alice;

-- Alice, in two transactions (two contexts), once as her own database role; Bob, who shares
-- her client address and application, in one context per table.
BEGIN;
SELECT audit_chain.set_context(actor_id => 'alice@example.com', client_addr => '203.0.113.7',
                               user_agent => 'Mozilla/5.0 (alice-laptop)', request_id => 'req-alice-1',
                               session_id => 'sess-alice', reason => 'alice@example.com');
INSERT INTO ec_accounts VALUES (1, 'gold');
SELECT audit_chain.log_event('login', 'app.account', '1', 'failure') IS NOT NULL AS logged;
COMMIT;
BEGIN;
SET LOCAL ROLE regress_ec_alice;
SELECT audit_chain.set_context(actor_id => 'alice@example.com', actor_type => 'admin', client_addr => '203.0.113.8',
                               request_id => 'req-alice-2', session_id => 'sess-alice');
UPDATE ec_accounts SET plan = 'free' WHERE id = 1;
SELECT audit_chain.log_event('login', 'app.account', '1', 'denied') IS NOT NULL AS logged;
COMMIT;
BEGIN;
SELECT audit_chain.set_context(actor_id => 'bob@example.com', client_addr => '203.0.113.7', request_id => 'req-bob-1');
INSERT INTO ec_accounts VALUES (2, 'free');
COMMIT;
BEGIN;
SELECT audit_chain.set_context(actor_id => 'bob@example.com', client_addr => '198.51.100.2', request_id => 'req-bob-2');
INSERT INTO ec_notes VALUES (1, 'hello');
COMMIT;

SELECT e.action, e.resource_type, e.actor_id, e.actor_type, e.db_user, e.client_addr, e.user_agent, e.request_id,
       e.session_id, e.reason
  FROM audit_chain.audit_events e WHERE e.action <> 'TRACK' ORDER BY e.commit_seq, e.seq;
SELECT count(*) AS contexts_with_salt FROM audit_chain.contexts WHERE salt IS NOT NULL AND erasure IS NULL;
SELECT audit_chain.digest() AS digest_before \gset
SELECT valid AS checkpoint_valid FROM audit_chain.checkpoint();

-- The commitment of actor_id in Alice's first context, computed by the hash specification
-- from the context's salt: what a guess would be checked against, if the salt survived.
CREATE TEMP TABLE ec_commitment AS
WITH ctx AS (
    SELECT c.* FROM audit_chain.contexts c WHERE c.request_id = 'req-alice-1'
), fields AS (
    SELECT ctx.context_id, ctx.salt, f.name, f.value,
           (row_number() OVER (PARTITION BY ctx.context_id ORDER BY octet_length(f.name), f.name COLLATE "C") - 1)::int AS i
      FROM ctx, LATERAL (VALUES
          ('actor_id', ctx.actor_id), ('actor_type', ctx.actor_type), ('session_user', ctx.session_user_name),
          ('current_user', ctx.current_user_name), ('client_addr', host(ctx.client_addr)),
          ('application_name', ctx.application_name), ('user_agent', ctx.user_agent),
          ('request_id', ctx.request_id), ('session_id', ctx.session_id), ('reason', ctx.reason),
          ('privileged', ctx.privileged::text)) AS f(name, value)
     WHERE f.value IS NOT NULL
), keyed AS (
    SELECT fields.*, substring(sha256(convert_to('ACK1', 'UTF8') || fields.salt || int4send(fields.i / 2))
                               FROM CASE WHEN fields.i % 2 = 0 THEN 1 ELSE 17 END FOR 16) AS value_key
      FROM fields
)
SELECT context_id, name, i,
       encode(sha256(convert_to('ACV1', 'UTF8') || value_key || '\x02'::bytea || convert_to('s', 'UTF8')
                     || int4send(octet_length(convert_to(value, 'UTF8'))) || convert_to(value, 'UTF8')),
              'hex') AS commitment
  FROM keyed;
SELECT name, i FROM ec_commitment ORDER BY i;

--
-- Who may erase: as for event values, members of audit_chain_admin only.
--
SET ROLE regress_ec_alice;
SELECT audit_chain.erase_value('alice@example.com');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

--
-- Erasing the email: actor_id (a pseudonym, the same in both contexts) and the reason equal
-- to it ("[ERASED]"); other attributes, and Bob's contexts, stay.
--
SET ROLE regress_ec_admin;
SELECT audit_chain.set_context(actor_id => 'dpo-1', reason => 'GDPR request 42', is_local => false);
SELECT audit_chain.erase_value('alice@example.com') AS events_erased;
RESET ROLE;
SELECT ec_p(c.actor_id) AS actor_id, c.actor_type, c.client_addr, c.user_agent, c.request_id, c.session_id,
       ec_p(c.reason) AS reason, c.salt IS NULL AS salt_destroyed,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(c.erasure->'commitments') k) AS erased,
       (SELECT count(*) FROM jsonb_object_keys(c.erasure->'value_keys')) AS keys_kept
  FROM audit_chain.contexts c WHERE c.request_id IN ('req-alice-1', 'req-alice-2', 'req-bob-1', 'req-bob-2')
 ORDER BY c.request_id;
SELECT count(DISTINCT actor_id) AS alice_pseudonyms FROM audit_chain.contexts WHERE request_id LIKE 'req-alice-%';
SELECT count(*) AS contexts_naming_alice FROM audit_chain.contexts c WHERE strpos(c::text, 'alice@example.com') > 0;
SELECT count(*) AS events_naming_alice FROM audit_chain.events_export x WHERE strpos(x.event::text, 'alice@example.com') > 0;
-- The erased attribute keeps the commitment the specification gives; the salt is gone.
SELECT c.erasure->'commitments'->>'actor_id' = m.commitment AS commitment_kept,
       c.erasure->'value_keys' ? 'actor_id' AS key_of_erased_kept
  FROM audit_chain.contexts c JOIN ec_commitment m ON m.context_id = c.context_id AND m.name = 'actor_id';
SELECT details FROM audit_chain.audit_events WHERE action = 'ERASE' ORDER BY commit_seq DESC, seq DESC LIMIT 1;
SELECT ec_p(actor_id) AS actor_id, reason FROM audit_chain.audit_events WHERE action = 'ERASE' ORDER BY commit_seq DESC, seq DESC LIMIT 1;
SELECT valid, reason FROM audit_chain.verify();
-- The chains as they were before the erasure are still there (only the ERASE event was added).
SELECT valid FROM audit_chain.verify(:'digest_before'::jsonb);
-- Reports find the erased actor under the pseudonym, and nothing under the email.
SELECT ec_p(actor_id) AS actor_id, failures, denied, client_addrs FROM audit_chain.failed_access_report('-infinity', 'infinity', 1);
SELECT count(*) AS by_email FROM audit_chain.actor_activity('alice@example.com', '-infinity', 'infinity');
SELECT a.resource_type, a.action, a.events
  FROM audit_chain.actor_activity((SELECT actor_id FROM audit_chain.contexts WHERE request_id = 'req-alice-1'),
                                  '-infinity', 'infinity') a ORDER BY 1, 2;
SELECT ec_p(actor_id) AS actor_id, count(*) FROM audit_chain.access_report('public.ec_accounts', '1', '-infinity', 'infinity')
 GROUP BY 1 ORDER BY 1;
-- Erasing again finds nothing more.
SET ROLE regress_ec_admin;
SELECT audit_chain.erase_value('alice@example.com') AS events_erased;
RESET ROLE;

--
-- The other attributes: a client address, a user agent, a session id, a request id; each
-- erasure builds on the previous record.
--
SET ROLE regress_ec_admin;
SELECT audit_chain.erase_value('203.0.113.7') AS events_erased;
SELECT audit_chain.erase_value('Mozilla/5.0 (alice-laptop)') AS events_erased;
SELECT audit_chain.erase_value('sess-alice') AS events_erased;
SELECT audit_chain.erase_value('req-alice-2') AS events_erased;
RESET ROLE;
SELECT ec_p(c.actor_id) AS actor_id, c.client_addr, c.user_agent, ec_p(c.request_id) AS request_id,
       ec_p(c.session_id) AS session_id,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(c.erasure->'commitments') k) AS erased
  FROM audit_chain.contexts c
 WHERE c.context_id IN (SELECT e.context_id FROM audit_chain.events e JOIN audit_chain.resources r USING (resource_ref)
                         WHERE r.resource_type IN ('public.ec_accounts', 'public.ec_notes'))
 ORDER BY c.context_id;
-- The export shows an erased address as "[ERASED]", with the context's salt or erasure record.
SELECT x.event->'context'->>'client_addr' AS client_addr, x.event->'context_salt' IS NULL AS no_salt_member,
       jsonb_typeof(x.event->'context_salt') AS salt, jsonb_typeof(x.event->'context_erasure') AS erasure,
       count(*)
  FROM audit_chain.events_export x JOIN audit_chain.events e ON e.chain_id = x.chain_id AND e.seq = x.seq
  JOIN audit_chain.resources r USING (resource_ref)
 WHERE r.resource_type IN ('public.ec_accounts', 'public.ec_notes') GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
SELECT valid, reason FROM audit_chain.verify();
SELECT valid FROM audit_chain.verify(:'digest_before'::jsonb);

-- A database role name: current_user here (session_user alike) becomes a pseudonym. actor_type
-- and privileged are nobody's personal data and are never erased.
SET ROLE regress_ec_admin;
SELECT audit_chain.erase_value('regress_ec_alice') AS events_erased;
SELECT audit_chain.erase_value('admin') AS events_erased;
SELECT audit_chain.erase_value('true') AS events_erased;
RESET ROLE;
SELECT ec_p(c.current_user_name) AS current_user_name, c.actor_type, c.privileged
  FROM audit_chain.contexts c WHERE c.actor_type = 'admin';
SELECT count(*) AS contexts_naming_role FROM audit_chain.contexts c WHERE strpos(c::text, 'regress_ec_alice') > 0;

-- With a target, only the contexts of that table's events: Bob's context of ec_notes, not
-- the one of ec_accounts.
SET ROLE regress_ec_admin;
SELECT audit_chain.erase_value('bob@example.com', 'ec_notes') AS events_erased;
RESET ROLE;
SELECT c.request_id, ec_p(c.actor_id) AS actor_id FROM audit_chain.contexts c
 WHERE c.request_id LIKE 'req-bob-%' ORDER BY 1;
SELECT details FROM audit_chain.audit_events WHERE action = 'ERASE' ORDER BY commit_seq DESC, seq DESC LIMIT 1;
SELECT valid, reason FROM audit_chain.verify();

-- A value that matches an attribute only in part is not erased (as in event data).
SET ROLE regress_ec_admin;
SELECT audit_chain.erase_value('bob') AS events_erased;
SELECT audit_chain.erase_value('203.0.113') AS events_erased;
RESET ROLE;
SELECT count(*) AS bob_in_clear FROM audit_chain.contexts WHERE actor_id = 'bob@example.com';

-- Hostile values: quotes, backslashes, JSON and SQL metacharacters are matched literally.
BEGIN;
SELECT audit_chain.set_context(actor_id => E'o''brien"\\x", ''); --', reason => E'{"a": 1}\n');
INSERT INTO ec_notes VALUES (2, 'x');
COMMIT;
SET ROLE regress_ec_admin;
SELECT audit_chain.erase_value(E'o''brien"\\x", ''); --') AS events_erased;
SELECT audit_chain.erase_value(E'{"a": 1}\n') AS events_erased;
RESET ROLE;
SELECT ec_p(c.actor_id) AS actor_id, c.reason FROM audit_chain.contexts c
 WHERE c.context_id = (SELECT e.context_id FROM audit_chain.events e WHERE e.resource_id = '2'
                         AND e.resource_ref = (SELECT resource_ref FROM audit_chain.resources WHERE resource_type = 'public.ec_notes'));
SELECT valid, reason FROM audit_chain.verify();

--
-- Tampering with an erased context is detected (as superuser, bypassing the guards).
--
SELECT min(context_id) AS ctx FROM audit_chain.contexts WHERE request_id = 'req-alice-1' \gset
CREATE TEMP VIEW ec_verdict AS
SELECT valid, regexp_replace(reason, '(chain|event|context) [0-9]+', '\1 N', 'g') AS reason
  FROM audit_chain.verify();
-- An erased attribute given back a value in clear.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET actor_id = 'alice@example.com' WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
-- An attribute that was not erased, changed.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET actor_type = 'service' WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
-- A salt put back beside the record.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET salt = '\x00112233445566778899aabbccddeeff' WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
-- The record removed.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET erasure = NULL WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
-- A key dropped.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET erasure = erasure #- '{value_keys,actor_type}' WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
-- A key that is not hex, and one of the wrong length.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET erasure = jsonb_set(erasure, '{value_keys,actor_type}', '"zz"') WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET erasure = jsonb_set(erasure, '{value_keys,actor_type}', '"00ff"') WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
-- A commitment changed.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts
   SET erasure = jsonb_set(erasure, '{commitments,actor_id}', to_jsonb(repeat('0', 64))) WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
-- A record that is not an object.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET erasure = '[]' WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
-- The context row deleted.
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM audit_chain.contexts WHERE context_id = :ctx;
SELECT * FROM ec_verdict;
ROLLBACK;
-- Erasing from a malformed context fails (XX001, data corrupted) rather than writing over it.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE audit_chain.contexts SET erasure = '[]' WHERE context_id = :ctx;
SET LOCAL session_replication_role = origin;
SELECT audit_chain.erase_value('req-alice-1') AS events_erased;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- Not tampered: and without the guards bypassed, contexts cannot be changed at all.
UPDATE audit_chain.contexts SET actor_id = 'x' WHERE context_id = :ctx;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ec_verdict;

RESET ROLE;
SELECT audit_chain.set_context(actor_id => '', reason => '', is_local => false);
DROP TABLE ec_accounts, ec_notes;
DROP ROLE regress_ec_alice;
DROP ROLE regress_ec_admin;
