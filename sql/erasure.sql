-- erasure: erase(table, key) and erase_value(value [, table]) replace recorded values by
-- "[ERASED]" and destroy the salt that could confirm a guess; the chains stay valid, time
-- travel still works, and tampering with erased events is detected.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

-- An erased row id reads as a pseudonym, "[ERASED:" and 16 hex digits "]", drawn anew by each
-- erasure: shown here as [ERASED:<row>].
CREATE FUNCTION er_id(id text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT regexp_replace(id, '^\[ERASED:[0-9a-f]{16}\]$', '[ERASED:<row>]') $$;
CREATE FUNCTION er_id(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE
    AS $$ SELECT regexp_replace(j::text, '"\[ERASED:[0-9a-f]{16}\]"', '"[ERASED:<row>]"', 'g')::jsonb $$;

CREATE TABLE er_customers (id int PRIMARY KEY, email text, name text, phone text, profile jsonb, balance numeric);
CREATE TABLE er_orders (order_no text PRIMARY KEY, customer_email text, amount int);
CREATE TABLE er_pairs (region text, email text, plan text, PRIMARY KEY (region, email));
SELECT audit_chain.track('er_customers'), audit_chain.track('er_orders'), audit_chain.track('er_pairs');

BEGIN;
SELECT audit_chain.set_context(actor_id => 'support-1', reason => 'onboarding');
INSERT INTO er_customers VALUES
    (1, 'alice@example.com', 'Alice', '+1 555 0101', '{"emails": ["alice@example.com", "a2@example.com"], "pin_code": 123456}', 10),
    (2, 'bob@example.com', 'Bob', '+1 555 0102', '{"tags": ["x123456", 1234567]}', 123456),
    (3, 'carol@example.com', 'Carol', '+1 555 0103', '{"alice@example.com": "friend of"}', 5),
    (4, 'dave@example.com', 'Dave', '123456', '{}', 7);
INSERT INTO er_orders VALUES ('o-1', 'alice@example.com', 100), ('o-2', 'bob@example.com', 123456);
INSERT INTO er_pairs VALUES ('eu', 'alice@example.com', 'gold'), ('us', 'bob@example.com', 'free');
SELECT audit_chain.log_event('login', 'app.account', 'alice@example.com', 'failure',
                             '{"to": "alice@example.com", "attempts": [{"who": "alice@example.com"}], "n": 123456}') IS NOT NULL AS logged;
COMMIT;
UPDATE er_customers SET email = 'alice@example.org', phone = '+1 555 0199' WHERE id = 1;
UPDATE er_customers SET email = 'alice@example.com' WHERE id = 1;
UPDATE er_customers SET name = 'Robert' WHERE id = 2;
-- The state to travel back to, and the digest and checkpoint from before any erasure.
SELECT now() AS before_erasure \gset
SELECT audit_chain.digest() AS digest_before \gset
SELECT valid AS checkpoint_valid FROM audit_chain.checkpoint();

-- The salts as they were, kept outside the trail to show they are gone afterwards.
CREATE TEMP TABLE er_saved AS
SELECT e.chain_id, e.seq, e.action, e.resource_id, e.salt, e.old_data, e.new_data, e.details
  FROM audit_chain.events e;
-- The commitment of the email of Alice's INSERT, computed by the hash specification from
-- the salt and the value: this is what a guess would be checked against, if the salt survived.
CREATE TEMP TABLE er_commitment AS
WITH ev AS (
    SELECT e.chain_id, e.seq, e.salt, e.new_data FROM audit_chain.events e
      JOIN audit_chain.resources r USING (resource_ref)
     WHERE r.resource_type = 'public.er_customers' AND e.action = 'INSERT' AND e.resource_id = '1'
), unit AS (
    -- Unit 0 is the resource_id; the columns follow in jsonb key order.
    SELECT ev.*, k.ord::int AS i FROM ev, jsonb_object_keys(ev.new_data) WITH ORDINALITY AS k(key, ord) WHERE k.key = 'email'
), keyed AS (
    SELECT unit.*, substring(sha256(convert_to('ACK1', 'UTF8') || unit.salt || int4send(unit.i / 2))
                             FROM CASE WHEN unit.i % 2 = 0 THEN 1 ELSE 17 END FOR 16) AS value_key
      FROM unit
)
SELECT chain_id, seq, i, value_key,
       encode(sha256(convert_to('ACV1', 'UTF8') || value_key || '\x02'::bytea || convert_to('s', 'UTF8')
                     || int4send(octet_length(convert_to(new_data->>'email', 'UTF8'))) || convert_to(new_data->>'email', 'UTF8')),
              'hex') AS commitment
  FROM keyed;
SELECT i AS email_unit FROM er_commitment;

--
-- Who may erase: members of audit_chain_admin (and superusers), nobody else.
--
CREATE ROLE regress_er_plain;
CREATE ROLE regress_er_reader IN ROLE audit_chain_reader;
CREATE ROLE regress_er_admin IN ROLE audit_chain_admin;
ALTER TABLE er_orders OWNER TO regress_er_plain;
SET ROLE regress_er_plain;
-- Not even the owner of the table.
SELECT audit_chain.erase('er_orders', '{"order_no": "o-1"}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.erase_value('alice@example.com');
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_er_reader;
SELECT audit_chain.erase_value('alice@example.com');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.erase('er_customers', '{"id": 1}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- Arguments.
SELECT audit_chain.erase_value(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.erase_value('');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.erase('er_customers', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.erase('er_customers', '[1]');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.erase('er_customers', '{"email": "alice@example.com"}');
\echo :LAST_ERROR_SQLSTATE
-- Nothing was erased by the refused calls.
SELECT count(*) AS erased_events, count(*) FILTER (WHERE action = 'ERASE') AS erase_events
  FROM audit_chain.events WHERE salt IS NULL OR erasure IS NOT NULL OR action = 'ERASE';

--
-- erase_value(): every recorded value equal to the value, in every event.
--
SET ROLE regress_er_admin;
BEGIN;
SELECT audit_chain.set_context(actor_id => 'dpo-1', reason => 'GDPR request 17');
SELECT audit_chain.erase_value('alice@example.com') AS events_changed;
COMMIT;
RESET ROLE;
-- What the events of Alice now hold.
SELECT e.resource_type, e.action, er_id(e.resource_id) AS resource_id, e.old_data, e.new_data, e.details
  FROM audit_chain.audit_events e JOIN audit_chain.events x USING (chain_id, seq)
 WHERE x.erasure IS NOT NULL ORDER BY e.commit_seq, e.seq;
-- Every changed event lost its salt and has an erasure record; no other event changed.
SELECT count(*) FILTER (WHERE e.salt IS NULL) AS without_salt,
       count(*) FILTER (WHERE e.erasure IS NOT NULL) AS with_erasure_record,
       count(*) FILTER (WHERE (e.salt IS NULL) <> (e.erasure IS NOT NULL)) AS inconsistent
  FROM audit_chain.events e;
SELECT count(*) AS unchanged_events_modified
  FROM audit_chain.events e JOIN er_saved s USING (chain_id, seq)
 WHERE e.erasure IS NULL AND (e.salt IS DISTINCT FROM s.salt OR e.old_data IS DISTINCT FROM s.old_data
                              OR e.new_data IS DISTINCT FROM s.new_data OR e.details IS DISTINCT FROM s.details
                              OR e.resource_id IS DISTINCT FROM s.resource_id);
-- The ERASE event: who, why, how many, and not the value; erase_value() over all tables is
-- recorded under the resource type audit_chain.
SELECT e.action, e.resource_type, e.resource_id, e.details, e.actor_id, e.db_user, e.reason,
       strpos(e::text, 'alice') = 0 AS value_not_in_event
  FROM audit_chain.audit_events e WHERE e.action = 'ERASE';
SELECT resource_type FROM audit_chain.resources WHERE resource_type !~ '^(public\.er_|app\.)' ORDER BY 1;
-- The value is nowhere in the audit tables any more.
SELECT (SELECT count(*) FROM audit_chain.events x WHERE strpos(x.resource_id, 'alice@example.com') > 0) AS resource_ids,
       (SELECT count(*) FROM audit_chain.events x WHERE strpos(concat_ws(' ', x.old_data, x.new_data, x.details), 'alice@example.com') > 0) AS values_,
       (SELECT count(*) FROM audit_chain.events x WHERE strpos(COALESCE(x.erasure::text, ''), 'alice@example.com') > 0) AS erasure_records,
       (SELECT count(*) FROM audit_chain.events x WHERE strpos(x::text, 'alice@example.com') > 0) AS events,
       (SELECT count(*) FROM audit_chain.events_export x WHERE strpos(x::text, 'alice@example.com') > 0) AS export,
       (SELECT count(*) FROM audit_chain.contexts x WHERE strpos(x::text, 'alice@example.com') > 0) AS contexts,
       (SELECT count(*) FROM audit_chain.resources x WHERE strpos(x::text, 'alice@example.com') > 0) AS resources,
       (SELECT count(*) FROM audit_chain.checkpoints x WHERE strpos(x::text, 'alice@example.com') > 0) AS checkpoints,
       (SELECT count(*) FROM audit_chain.tracked_tables x WHERE strpos(x::text, 'alice@example.com') > 0) AS tracked_tables;
-- A unit is erased as a whole: the column's old and new value together (the address Alice
-- had in between goes too), a whole nested value (the other address in the same array).
-- Other units of the same events and other values are kept.
SELECT count(*) FILTER (WHERE strpos(concat_ws(' ', e.old_data, e.new_data), 'alice@example.org') > 0) AS address_in_between,
       count(*) FILTER (WHERE strpos(concat_ws(' ', e.old_data, e.new_data), 'a2@example.com') > 0) AS same_array_other_value,
       count(*) FILTER (WHERE strpos(concat_ws(' ', e.old_data, e.new_data), '+1 555 0199') > 0) AS alice_new_phone,
       count(*) FILTER (WHERE strpos(concat_ws(' ', e.old_data, e.new_data), 'carol@example.com') > 0) AS carol,
       count(*) FILTER (WHERE strpos(concat_ws(' ', e.old_data, e.new_data), 'bob@example.com') > 0) AS bob
  FROM audit_chain.events e;

-- The salt is gone: no column of any audit table holds it (nor the key it derived for the
-- erased value), so the commitment of the erased value cannot be recomputed to test a guess.
SELECT count(*) AS salts_left
  FROM er_saved s JOIN audit_chain.events e USING (chain_id, seq)
 WHERE e.erasure IS NOT NULL
   AND (e.salt IS NOT NULL
        OR EXISTS (SELECT FROM audit_chain.events x WHERE strpos(x::text, encode(s.salt, 'hex')) > 0)
        OR EXISTS (SELECT FROM audit_chain.events_export x WHERE strpos(x::text, encode(s.salt, 'hex')) > 0));
SELECT EXISTS (SELECT FROM audit_chain.events x WHERE strpos(x::text, encode(c.value_key, 'hex')) > 0) AS erased_value_key_stored,
       EXISTS (SELECT FROM audit_chain.events_export x WHERE strpos(x::text, encode(c.value_key, 'hex')) > 0) AS erased_value_key_exported
  FROM er_commitment c;
-- The erasure record keeps exactly the commitment the salt and the value gave, and no key for it.
SELECT e.erasure->'commitments'->>c.i::text = c.commitment AS commitment_matches,
       e.erasure->'value_keys' ? c.i::text AS key_kept_for_erased_value,
       (SELECT count(*) FROM jsonb_object_keys(e.erasure->'value_keys')) AS keys_kept,
       (SELECT count(*) FROM jsonb_object_keys(e.erasure->'commitments')) AS commitments
  FROM er_commitment c JOIN audit_chain.events e USING (chain_id, seq);
-- The keys kept for the other values are the ones the old salt derived (verification needs them).
SELECT bool_and(e.erasure->'value_keys'->>k.key =
                encode(substring(sha256(convert_to('ACK1', 'UTF8') || c.salt || int4send(k.key::int / 2))
                                 FROM CASE WHEN k.key::int % 2 = 0 THEN 1 ELSE 17 END FOR 16), 'hex')) AS kept_keys_match
  FROM er_saved c JOIN audit_chain.events e USING (chain_id, seq), jsonb_object_keys(e.erasure->'value_keys') AS k(key)
 WHERE e.erasure IS NOT NULL;

-- The chains are as valid as before, also against the digest taken before the erasure.
SELECT valid, reason FROM audit_chain.verify();
SELECT valid, reason FROM audit_chain.verify(:'digest_before'::jsonb);
SELECT valid, reason FROM audit_chain.verify(:'digest_before'::jsonb, true);
SELECT valid, reason FROM audit_chain.checkpoint();

-- Erased events still time-travel; the images show "[ERASED]".
SELECT audit_chain.row_at('er_customers', '{"id": 1}', :'before_erasure') AS alice_before_erasure;
SELECT h.action, h.old_data, h.new_data, h.row_data
  FROM audit_chain.history('er_customers', '{"id": 1}') h ORDER BY h.commit_seq, h.seq;
SELECT j FROM audit_chain.table_at('er_orders', :'before_erasure') AS j ORDER BY j->>'order_no';

-- Erasing again is harmless: nothing left to erase, still valid.
SELECT audit_chain.erase_value('alice@example.com') AS events_changed_again;
SELECT details FROM audit_chain.audit_events WHERE action = 'ERASE' ORDER BY commit_seq, seq;
SELECT valid, reason FROM audit_chain.verify();

--
-- Numbers: erase_value('123456') erases the number 123456 and the string "123456", not
-- numbers or strings that merely contain those digits.
--
SELECT audit_chain.erase_value('123456') AS events_changed;
SELECT e.resource_type, er_id(e.resource_id) AS resource_id, e.action, e.new_data, e.details
  FROM audit_chain.audit_events e JOIN audit_chain.events x USING (chain_id, seq)
 WHERE e.resource_type IN ('public.er_customers', 'public.er_orders', 'app.account') AND e.resource_id <> '1'
   AND x.erasure IS NOT NULL
 ORDER BY e.commit_seq, e.seq;
SELECT count(*) AS events_holding_123456
  FROM audit_chain.events x
 WHERE EXISTS (SELECT FROM jsonb_each(COALESCE(x.old_data, '{}') || COALESCE(x.new_data, '{}') || COALESCE(x.details, '{}')) m
                WHERE m.value::text ~ '(^|[^0-9x])123456([^0-9]|$)');
SELECT count(*) FILTER (WHERE strpos(e.new_data::text, 'x123456') > 0) AS kept_x123456,
       count(*) FILTER (WHERE strpos(e.new_data::text, '1234567') > 0) AS kept_1234567
  FROM audit_chain.events e;

-- Scoped to one table: the value is erased there only.
SELECT audit_chain.erase_value('bob@example.com', 'er_orders') AS events_changed;
SELECT e.resource_type, count(*) FILTER (WHERE strpos(e.new_data::text, 'bob@example.com') > 0) AS events_with_bob
  FROM audit_chain.audit_events e WHERE e.resource_type LIKE 'public.er_%'
 GROUP BY e.resource_type ORDER BY 1;
SELECT resource_type, details FROM audit_chain.audit_events WHERE action = 'ERASE' ORDER BY commit_seq DESC, seq DESC LIMIT 1;

-- A composite key holding the value: the resource_id is erased too.
SELECT er_id(e.resource_id) AS resource_id, e.new_data FROM audit_chain.audit_events e
 WHERE e.resource_type = 'public.er_pairs' AND e.action = 'INSERT' ORDER BY e.commit_seq, e.seq;
-- The login event's resource_id held the value too: one erasure, two rows, two pseudonyms.
SELECT count(DISTINCT resource_id) AS pseudonyms, count(*) AS events FROM audit_chain.events
 WHERE resource_id ~ '^\[ERASED:';
SELECT count(*) AS resource_ids_with_alice FROM audit_chain.events WHERE strpos(resource_id, 'alice@example.com') > 0;

--
-- erase(table, key): every recorded value of one row, its key included.
--
-- The usual order: delete the row, then erase what the trail recorded of it.
DELETE FROM er_customers WHERE id = 2;
SELECT audit_chain.erase('er_customers', '{"id": 2}') AS events_changed;
SELECT e.action, er_id(e.resource_id) AS resource_id, e.old_data, e.new_data, e.details
  FROM audit_chain.audit_events e
 WHERE e.resource_type = 'public.er_customers' AND e.resource_id ~ '^\[ERASED:'
 ORDER BY e.commit_seq, e.seq;
-- All of the row's events carry one pseudonym, so the row is still one row.
SELECT count(DISTINCT e.resource_id) AS pseudonyms_of_row_2 FROM audit_chain.audit_events e
 WHERE e.resource_type = 'public.er_customers' AND e.resource_id ~ '^\[ERASED:';
SELECT count(*) AS events_with_bob_or_robert FROM audit_chain.events e
 WHERE e.resource_id = '2' OR strpos(concat_ws(' ', e.old_data, e.new_data, e.details), 'Robert') > 0
    OR strpos(concat_ws(' ', e.old_data, e.new_data, e.details), '+1 555 0102') > 0;
SELECT resource_type, details FROM audit_chain.audit_events WHERE action = 'ERASE' ORDER BY commit_seq DESC, seq DESC LIMIT 1;
SELECT valid, reason FROM audit_chain.verify();
SELECT valid, reason FROM audit_chain.verify(:'digest_before'::jsonb);
-- Time travel: the erased row is an image of "[ERASED]" values; the others are intact.
SELECT j FROM audit_chain.table_at('er_customers', :'before_erasure') AS j ORDER BY j::text;
SELECT j FROM audit_chain.table_at('er_customers', now()) AS j ORDER BY j::text;
-- A second erased row is a second erased image, not merged with the first.
DELETE FROM er_customers WHERE id = 3;
SELECT audit_chain.erase('er_customers', '{"id": 3}') AS events_changed;
SELECT j FROM audit_chain.table_at('er_customers', :'before_erasure') AS j ORDER BY j::text;
SELECT j FROM audit_chain.table_at('er_customers', now()) AS j ORDER BY j::text;
SELECT count(DISTINCT e.resource_id) AS erased_rows FROM audit_chain.audit_events e
 WHERE e.resource_type = 'public.er_customers' AND e.resource_id ~ '^\[ERASED:';
-- Erasing the same row again changes nothing.
SELECT audit_chain.erase('er_customers', '{"id": 3}') AS events_changed_again;
-- A row whose key changed: its events under the former key are erased as well.
SELECT max(commit_seq) AS before_erin FROM audit_chain.events \gset
INSERT INTO er_customers VALUES (5, 'erin@example.com', 'Erin', '+1 555 0105', '{}', 1);
UPDATE er_customers SET id = 50 WHERE id = 5;
UPDATE er_customers SET name = 'Erin E.' WHERE id = 50;
DELETE FROM er_customers WHERE id = 50;
SELECT audit_chain.erase('er_customers', '{"id": 50}') AS events_changed;
SELECT e.action, er_id(e.resource_id) AS resource_id, e.old_data, e.new_data, er_id(e.details) AS details
  FROM audit_chain.audit_events e
 WHERE e.commit_seq > :before_erin AND e.action IN ('INSERT', 'UPDATE', 'DELETE')
 ORDER BY e.commit_seq, e.seq;
-- Its former key and its key after the change are one pseudonym: the row stays one row.
SELECT count(DISTINCT e.resource_id) AS pseudonyms,
       bool_and(e.details ->> 'new_resource_id' = e.resource_id) FILTER (WHERE e.details ? 'new_resource_id') AS moved_onto_itself
  FROM audit_chain.audit_events e
 WHERE e.commit_seq > :before_erin AND e.action IN ('INSERT', 'UPDATE', 'DELETE');
SELECT count(*) AS events_with_erin FROM audit_chain.events e
 WHERE concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details) ~ '(erin|Erin|555 0105)';
SELECT valid, reason FROM audit_chain.verify();

--
-- Tampering with erased events is detected.
--
INSERT INTO er_orders VALUES ('o-9', 'zed@example.com', 9);
-- verify() in a stable form: where the damage is found is compared with the event changed.
CREATE TEMP VIEW er_verify AS
SELECT valid, chain_id, first_invalid_seq, regexp_replace(reason, 'event \d+ of chain \d+', 'event N of chain C') AS reason
  FROM audit_chain.verify();
SET session_replication_role = replica;
-- A value put back where one was erased.
UPDATE audit_chain.events SET new_data = jsonb_set(new_data, '{email}', '"alice@example.com"')
 WHERE (chain_id, seq) = (SELECT chain_id, seq FROM er_commitment);
SELECT valid, (chain_id, first_invalid_seq) = (SELECT chain_id, seq FROM er_commitment) AS at_changed_event, reason FROM er_verify;
UPDATE audit_chain.events SET new_data = jsonb_set(new_data, '{email}', '"[ERASED]"')
 WHERE (chain_id, seq) = (SELECT chain_id, seq FROM er_commitment);
SELECT valid, (chain_id, first_invalid_seq) = (SELECT chain_id, seq FROM er_commitment) AS at_changed_event, reason FROM er_verify;
-- An erasure record added to an event that still has its salt, with the right commitment
-- of the value replaced by "[ERASED]" and the right keys of the others (anyone who can read
-- the salt can compute them): detected, because erasure destroys the salt.
CREATE TEMP TABLE er_victim AS
SELECT e.chain_id, e.seq, e.salt, e.new_data, e.erasure FROM audit_chain.events e
  JOIN audit_chain.resources r USING (resource_ref)
 WHERE r.resource_type = 'public.er_orders' AND e.resource_id = 'o-9';
SELECT salt IS NOT NULL AS has_salt, erasure IS NULL AS no_erasure_record FROM er_victim;
-- Units: 0 resource_id, 1 amount, 2 order_no, 3 customer_email.
CREATE TEMP TABLE er_forged AS
WITH k AS (
    SELECT v.chain_id, v.seq, i,
           substring(sha256(convert_to('ACK1', 'UTF8') || v.salt || int4send(i / 2)) FROM CASE WHEN i % 2 = 0 THEN 1 ELSE 17 END FOR 16) AS value_key
      FROM er_victim v, generate_series(0, 3) AS i
)
SELECT k.chain_id, k.seq,
       jsonb_build_object(
           'value_keys', (SELECT jsonb_object_agg(k2.i::text, encode(k2.value_key, 'hex')) FROM k k2 WHERE k2.i <> 3),
           'commitments', jsonb_build_object('3', encode(sha256(convert_to('ACV1', 'UTF8') || k.value_key || '\x02'::bytea
                                                                 || convert_to('s', 'UTF8') || int4send(15)
                                                                 || convert_to('zed@example.com', 'UTF8')), 'hex'))) AS erasure
  FROM k WHERE k.i = 3;
UPDATE audit_chain.events e
   SET new_data = jsonb_set(e.new_data, '{customer_email}', '"[ERASED]"'), erasure = f.erasure
  FROM er_forged f WHERE (e.chain_id, e.seq) = (f.chain_id, f.seq);
SELECT valid, (chain_id, first_invalid_seq) = (SELECT chain_id, seq FROM er_victim) AS at_changed_event, reason FROM er_verify;
UPDATE audit_chain.events e SET new_data = v.new_data, erasure = NULL
  FROM er_victim v WHERE (e.chain_id, e.seq) = (v.chain_id, v.seq);
SELECT valid, (chain_id, first_invalid_seq) = (SELECT chain_id, seq FROM er_victim) AS at_changed_event, reason FROM er_verify;
-- A salt removed without an erasure record.
UPDATE audit_chain.events e SET salt = NULL FROM er_victim v WHERE (e.chain_id, e.seq) = (v.chain_id, v.seq);
SELECT valid, (chain_id, first_invalid_seq) = (SELECT chain_id, seq FROM er_victim) AS at_changed_event, reason FROM er_verify;
UPDATE audit_chain.events e SET salt = v.salt FROM er_victim v WHERE (e.chain_id, e.seq) = (v.chain_id, v.seq);
SELECT valid, (chain_id, first_invalid_seq) = (SELECT chain_id, seq FROM er_victim) AS at_changed_event, reason FROM er_verify;
-- A kept key dropped from an erasure record, or a commitment changed.
CREATE TEMP TABLE er_erased AS
SELECT e.chain_id, e.seq, e.erasure FROM audit_chain.events e JOIN er_commitment c USING (chain_id, seq);
UPDATE audit_chain.events e SET erasure = jsonb_set(e.erasure, '{value_keys}', '{}')
  FROM er_erased x WHERE (e.chain_id, e.seq) = (x.chain_id, x.seq);
SELECT valid, (chain_id, first_invalid_seq) = (SELECT chain_id, seq FROM er_commitment) AS at_changed_event, reason FROM er_verify;
UPDATE audit_chain.events e
   SET erasure = jsonb_set(x.erasure, ARRAY['commitments', c.i::text], to_jsonb(repeat('00', 32)))
  FROM er_erased x JOIN er_commitment c USING (chain_id, seq) WHERE (e.chain_id, e.seq) = (x.chain_id, x.seq);
SELECT valid, (chain_id, first_invalid_seq) = (SELECT chain_id, seq FROM er_commitment) AS at_changed_event, reason FROM er_verify;
UPDATE audit_chain.events e SET erasure = x.erasure FROM er_erased x WHERE (e.chain_id, e.seq) = (x.chain_id, x.seq);
RESET session_replication_role;
SELECT valid, (chain_id, first_invalid_seq) = (SELECT chain_id, seq FROM er_commitment) AS at_changed_event, reason FROM er_verify;

--
-- Keyed hashes: a column (or a key) recorded as HMAC(key, value) is erased by erase_value()
-- of the value too, and erase() finds a row by its key in clear.
--
SET audit_chain.hmac_key = 'Er-K3y';
CREATE TABLE er_hashed (id int PRIMARY KEY, email text, plan text);
CREATE TABLE er_hashed_keys (email text PRIMARY KEY, plan text);
CREATE TABLE er_hashed_pairs (region text, email text, plan text, PRIMARY KEY (region, email));
SELECT audit_chain.track('er_hashed', hash => '{email}'), audit_chain.track('er_hashed_keys', hash => '{email}'),
       audit_chain.track('er_hashed_pairs', hash => '{email}');
INSERT INTO er_hashed VALUES (1, 'hana@example.com', 'gold'), (2, 'ivan@example.com', 'gold');
UPDATE er_hashed SET plan = 'free' WHERE id = 1;
INSERT INTO er_hashed_keys VALUES ('hana@example.com', 'gold'), ('ivan@example.com', 'gold'), ('jo@example.com', 'free');
UPDATE er_hashed_keys SET email = 'hana@example.org' WHERE email = 'hana@example.com';
INSERT INTO er_hashed_pairs VALUES ('eu', 'hana@example.com', 'gold'), ('eu', 'ivan@example.com', 'gold');
SELECT count(*) AS events_with_hana_hash FROM audit_chain.events e
 WHERE strpos(concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details), audit_chain.keyed_hash('hana@example.com')) > 0;
SELECT audit_chain.erase_value('hana@example.com') AS events_changed;
-- The hash is gone from the columns, the keys (one, or part of a composite) and the former
-- key. The UPDATE's new key is another value (erased from new_data with the column, as a
-- unit) and stays its new_resource_id, the id of the row's later events.
SELECT r.resource_type, e.action, er_id(e.resource_id) AS resource_id, e.old_data, e.new_data, er_id(e.details) AS details
  FROM audit_chain.events e JOIN audit_chain.resources r USING (resource_ref)
 WHERE r.resource_type LIKE 'public.er_hashed%' AND e.erasure IS NOT NULL ORDER BY e.commit_seq, e.seq;
SELECT count(*) AS events_with_hana_hash FROM audit_chain.events e
 WHERE strpos(concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details), audit_chain.keyed_hash('hana@example.com')) > 0;
-- Ivan's hashes are kept.
SELECT count(*) AS events_with_ivan_hash FROM audit_chain.events e
 WHERE strpos(concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details), audit_chain.keyed_hash('ivan@example.com')) > 0;
-- erase() of a row whose key is hashed: found by the key in clear.
SELECT audit_chain.erase('er_hashed_keys', '{"email": "jo@example.com"}') AS events_changed;
SELECT count(*) AS events_with_jo_hash FROM audit_chain.events e
 WHERE strpos(concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details), audit_chain.keyed_hash('jo@example.com')) > 0;
SELECT audit_chain.erase('er_hashed_pairs', '{"region": "eu", "email": "ivan@example.com"}') AS events_changed;
SELECT count(*) AS pair_events_with_ivan_hash FROM audit_chain.events e JOIN audit_chain.resources r USING (resource_ref)
 WHERE r.resource_type = 'public.er_hashed_pairs'
   AND strpos(concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details), audit_chain.keyed_hash('ivan@example.com')) > 0;
SELECT valid, reason FROM audit_chain.verify();
RESET audit_chain.hmac_key;

--
-- A table without key: its rows are named by the SHA-256 of the whole row, which would
-- confirm a guess of an erased value. Every id of a row holding the value becomes a
-- pseudonym, in all of the row's events (also those that do not hold the value).
--
CREATE TABLE er_nokey (email text, plan text, visits int);
SELECT audit_chain.track('er_nokey');
INSERT INTO er_nokey VALUES ('kim@example.com', 'gold', 1), ('lee@example.com', 'gold', 1);
UPDATE er_nokey SET visits = 2 WHERE email = 'kim@example.com';
UPDATE er_nokey SET plan = 'free' WHERE email = 'kim@example.com';
SELECT now() AS before_nokey_erasure \gset
-- The digests of Kim's row versions, as recorded.
CREATE TEMP TABLE er_kim_ids AS
SELECT DISTINCT id FROM audit_chain.events e JOIN audit_chain.resources r USING (resource_ref),
       LATERAL (VALUES (e.resource_id), (e.details->>'new_resource_id')) AS v(id)
 WHERE r.resource_type = 'public.er_nokey' AND e.action IN ('INSERT', 'UPDATE')
   AND (e.new_data->>'email' = 'kim@example.com' OR e.action = 'UPDATE') AND v.id IS NOT NULL;
SELECT count(*) AS kim_row_versions FROM er_kim_ids;
SELECT audit_chain.erase_value('kim@example.com', 'er_nokey') AS events_changed;
SELECT e.action, er_id(e.resource_id) AS resource_id, e.old_data, e.new_data, er_id(e.details) AS details
  FROM audit_chain.events e JOIN audit_chain.resources r USING (resource_ref)
 WHERE r.resource_type = 'public.er_nokey' AND e.action <> 'TRACK' ORDER BY e.commit_seq, e.seq;
SELECT count(*) AS digests_of_kim_left FROM audit_chain.events e
 WHERE e.resource_id IN (SELECT id FROM er_kim_ids) OR e.details->>'new_resource_id' IN (SELECT id FROM er_kim_ids);
-- Lee's row keeps its digest; Kim's row is still one row in time travel.
SELECT count(*) AS lee_events FROM audit_chain.events e JOIN audit_chain.resources r USING (resource_ref)
 WHERE r.resource_type = 'public.er_nokey' AND e.resource_id ~ '^[0-9a-f]{64}$';
SELECT j FROM audit_chain.table_at('er_nokey', :'before_nokey_erasure') AS j ORDER BY j::text;
SELECT details FROM audit_chain.audit_events WHERE action = 'ERASE' ORDER BY commit_seq DESC, seq DESC LIMIT 1;
SELECT valid, reason FROM audit_chain.verify();

-- erase() also erases the application events logged about the row (its resource type and id).
SELECT max(commit_seq) AS before_mia FROM audit_chain.events \gset
INSERT INTO er_orders VALUES ('o-7', 'mia@example.com', 7);
SELECT audit_chain.log_event('export', 'public.er_orders', 'o-7', 'success', '{"to": "mia@example.com"}') IS NOT NULL AS logged;
SELECT audit_chain.erase('er_orders', '{"order_no": "o-7"}') AS events_changed;
SELECT e.action, er_id(e.resource_id) AS resource_id, e.new_data, e.details
  FROM audit_chain.audit_events e WHERE e.commit_seq > :before_mia AND e.action IN ('INSERT', 'export')
 ORDER BY e.commit_seq, e.seq;
SELECT count(*) AS events_with_mia FROM audit_chain.events e WHERE strpos(e::text, 'mia@example.com') > 0 OR e.resource_id = 'o-7';
SELECT valid, reason FROM audit_chain.verify();

-- Not in a transaction that has recorded events of its own: they are written at its COMMIT,
-- after the erasure, and would keep the values (here the DELETE event, with the whole row).
BEGIN;
DELETE FROM er_nokey WHERE email = 'lee@example.com';
SELECT audit_chain.erase_value('lee@example.com', 'er_nokey');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT audit_chain.log_event('export', 'app.account', 'x-1', 'success', '{"to": "lee@example.com"}') IS NOT NULL AS logged;
SELECT audit_chain.erase('er_orders', '{"order_no": "o-2"}');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- Committed first, then erased; several erasures in one transaction are fine.
DELETE FROM er_nokey WHERE email = 'lee@example.com';
BEGIN;
SELECT audit_chain.erase_value('lee@example.com', 'er_nokey') AS lee_events, audit_chain.erase('er_orders', '{"order_no": "o-2"}') AS o2_events;
COMMIT;
SELECT count(*) AS events_with_lee_or_o2 FROM audit_chain.events e
 WHERE strpos(e::text, 'lee@example.com') > 0 OR e.resource_id = 'o-2';
SELECT valid, reason FROM audit_chain.verify();

DROP VIEW er_verify;
DROP TABLE er_hashed, er_hashed_keys, er_hashed_pairs, er_nokey;
DROP TABLE er_customers, er_orders, er_pairs;
DROP ROLE regress_er_plain, regress_er_reader, regress_er_admin;
