-- sensitive: columns that must not be recorded in clear. Default sensitive names are
-- redacted; configure() excludes, redacts, records as keyed hashes, or records them anyway;
-- the HMAC key stays secret; the policy applies wherever rows are recorded.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

-- The default list.
SHOW audit_chain.sensitive_columns;

--
-- Default sensitive names: redacted, whatever their case, never on key columns.
--
CREATE TABLE sn_users (id int PRIMARY KEY, login text, password text, "Token" text, "SSN" text, api_key text,
                       "API_KEY2" text, pin int, passwords text, note text);
-- Rows that exist before tracking: their BASELINE is redacted as well.
INSERT INTO sn_users VALUES (1, 'ann', 'pw-ann', 'tok-ann', '111-11-1111', 'key-ann', 'k2-ann', 1111, 'many', 'first');
SELECT audit_chain.track('sn_users');
INSERT INTO sn_users VALUES (2, 'bob', 'pw-bob', 'tok-bob', '222-22-2222', 'key-bob', 'k2-bob', 2222, 'lots', 'second');
-- A change of a redacted column is still visible as a change.
UPDATE sn_users SET password = 'pw-bob-2' WHERE id = 2;
UPDATE sn_users SET note = 'second, edited', pin = NULL WHERE id = 2;
DELETE FROM sn_users WHERE id = 2;
SELECT action, resource_id, old_data, new_data
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_users' AND action <> 'TRACK' ORDER BY commit_seq, seq;
-- A key column with a sensitive name would be recorded in every event's resource_id, where
-- it cannot be redacted: tracking (and configuring) is refused unless the key is listed in
-- record (recorded as is) or hash (its keyed hash). Nothing is tracked by the refused calls.
CREATE TABLE sn_tokens (token text PRIMARY KEY, ssn text, owner text);
SELECT audit_chain.track('sn_tokens');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('sn_tokens', false);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('sn_tokens', exclude => '{owner}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS sn_tokens_registered FROM audit_chain.tracked_tables WHERE relid = 'sn_tokens'::regclass;
SELECT count(*) AS sn_tokens_triggers FROM pg_trigger WHERE tgrelid = 'sn_tokens'::regclass;
CREATE TABLE sn_pins (region text, "PIN" int, PRIMARY KEY (region, "PIN"));
SELECT audit_chain.track('sn_pins');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE sn_pins;
-- Recorded as is when asked for explicitly.
SELECT audit_chain.track('sn_tokens', record => '{token}');
-- configure() keeps that choice; dropping it is refused as well.
SELECT audit_chain.configure('sn_tokens', record => '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_tokens', exclude => '{owner}', record => '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_tokens', exclude => '{}');
INSERT INTO sn_tokens VALUES ('t-123', '333-33-3333', 'carol');
UPDATE sn_tokens SET token = 't-456' WHERE token = 't-123';
SELECT action, resource_id, old_data, new_data, details
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_tokens' AND action <> 'TRACK' ORDER BY commit_seq, seq;
-- None of the secrets is anywhere in the events.
SELECT count(*) AS events_with_secrets FROM audit_chain.events e
 WHERE concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details) ~ '(pw-ann|pw-bob|tok-ann|tok-bob|111-11-1111|222-22-2222|333-33-3333|key-ann|key-bob|1111|2222)';

--
-- configure(): errors
--
CREATE TABLE sn_accounts (id int PRIMARY KEY, email text, phone text, salary numeric, password text,
                          token text, notes text, doc jsonb, "we""ird col" text, "ünï 🙂" text);
-- Not tracked yet.
SELECT audit_chain.configure('sn_accounts', exclude => '{notes}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('sn_accounts');
-- Unknown columns, in any list; names are case-sensitive and exact.
SELECT audit_chain.configure('sn_accounts', exclude => '{nope}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_accounts', redact => '{Email}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_accounts', record => '{"we\"ird col "}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_accounts', hash => '{""}');
\echo :LAST_ERROR_SQLSTATE
-- System columns exist, but are never recorded: no policy for them.
SELECT audit_chain.configure('sn_accounts', exclude => '{ctid}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_accounts', record => '{xmin}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_accounts', hash => '{tableoid}');
\echo :LAST_ERROR_SQLSTATE
-- A column in two lists.
SELECT audit_chain.configure('sn_accounts', exclude => '{notes}', redact => '{notes}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_accounts', redact => '{phone}', record => '{phone}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_accounts', exclude => '{email}', record => '{email}');
\echo :LAST_ERROR_SQLSTATE
-- Key columns cannot be excluded or redacted.
SELECT audit_chain.configure('sn_accounts', exclude => '{id}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_accounts', redact => '{id}');
\echo :LAST_ERROR_SQLSTATE
-- NULL elements.
SELECT audit_chain.configure('sn_accounts', exclude => ARRAY['notes', NULL]);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_accounts', record => ARRAY[NULL]::text[]);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure(NULL, exclude => '{notes}');
\echo :LAST_ERROR_SQLSTATE
-- Hashing needs the key.
SELECT current_setting('audit_chain.hmac_key') = '' AS no_key_yet;
SELECT audit_chain.configure('sn_accounts', hash => '{email}');
\echo :LAST_ERROR_SQLSTATE
-- Only the table's owner (or audit_chain_admin) may configure it.
CREATE ROLE regress_sn_plain;
CREATE ROLE regress_sn_admin IN ROLE audit_chain_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON sn_accounts TO regress_sn_plain;
SET ROLE regress_sn_plain;
SELECT audit_chain.configure('sn_accounts', exclude => '{notes}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- Nothing was configured by the refused calls.
SELECT settings FROM audit_chain.tracked_tables WHERE relid = 'sn_accounts'::regclass;
SELECT count(*) AS configure_events FROM audit_chain.audit_events WHERE action = 'CONFIGURE' AND resource_type <> 'public.sn_tokens';

--
-- The key: set by a superuser (postgresql.conf, ALTER SYSTEM, or SET), never readable by others.
--
SET ROLE regress_sn_plain;
SET audit_chain.hmac_key = 'not allowed';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET audit_chain.hmac_key = 'Sn-K3y: do not leak';
SET ROLE regress_sn_plain;
SHOW audit_chain.hmac_key;
\echo :LAST_ERROR_SQLSTATE
SELECT current_setting('audit_chain.hmac_key');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS visible_in_pg_settings FROM pg_settings WHERE name = 'audit_chain.hmac_key';
-- Nor through keyed_hash(), which is for audit_chain_admin.
SELECT audit_chain.keyed_hash('x');
\echo :LAST_ERROR_SQLSTATE
-- Not even for readers: computing hashes at will would test guesses of hashed values.
RESET ROLE;
CREATE ROLE regress_sn_reader IN ROLE audit_chain_reader;
SET ROLE regress_sn_reader;
SELECT audit_chain.keyed_hash('555-0101');
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_sn_plain;
-- Nor through the configuration files' view.
SELECT count(*) FROM pg_file_settings WHERE name = 'audit_chain.hmac_key';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- Not listed by SHOW ALL even for a superuser.
SELECT count(*) AS in_show_all FROM pg_settings WHERE name = 'audit_chain.hmac_key';
-- Never stored where every role can read it: per role, per database, per function settings
-- are refused, with a message that does not show the value.
ALTER ROLE regress_sn_plain SET audit_chain.hmac_key = 'Sn-K3y: do not leak';
\echo :LAST_ERROR_SQLSTATE
ALTER DATABASE :"DBNAME" SET audit_chain.hmac_key = 'Sn-K3y: do not leak';
\echo :LAST_ERROR_SQLSTATE
ALTER ROLE regress_sn_plain IN DATABASE :"DBNAME" SET audit_chain.hmac_key = 'Sn-K3y: do not leak';
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION sn_with_key() RETURNS int LANGUAGE sql SET audit_chain.hmac_key = 'Sn-K3y: do not leak' AS 'SELECT 1';
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS stored_in_catalogs
  FROM (SELECT setconfig::text AS t FROM pg_db_role_setting UNION ALL SELECT proconfig::text FROM pg_proc) c
 WHERE strpos(c.t, 'Sn-K3y') > 0;
-- Resetting them is allowed.
ALTER ROLE regress_sn_plain RESET audit_chain.hmac_key;

--
-- configure(): exclude, redact, hash, record
--
-- The owner configures; the result is the whole setting, also recorded as a CONFIGURE event.
SELECT audit_chain.configure('sn_accounts', exclude => '{notes}', redact => ARRAY['phone', 'we"ird col'],
                             hash => '{email,salary,doc}', record => ARRAY['token', 'ünï 🙂']);
SELECT settings FROM audit_chain.tracked_tables WHERE relid = 'sn_accounts'::regclass;
SELECT action, resource_type, resource_id, details FROM audit_chain.audit_events WHERE action = 'CONFIGURE';
INSERT INTO sn_accounts VALUES (1, 'ann@example.com', '555-0100', 5000.50, 'pw-1', 'tok-1', 'private notes',
                                '{"a": [1, 2]}', 'odd', 'uni');
INSERT INTO sn_accounts VALUES (2, 'ann@example.com', '555-0199', 5000.50, 'pw-2', 'tok-2', NULL, NULL, NULL, NULL);
-- Excluded and redacted as configured; password still redacted by default; token and the
-- unicode column recorded because they are in record.
SELECT resource_id,
       new_data ? 'notes' AS has_notes,
       new_data->'phone' AS phone, new_data->'we"ird col' AS weird, new_data->'password' AS password,
       new_data->'token' AS token, new_data->'ünï 🙂' AS unicode,
       new_data->>'email' ~ '^hmac-sha256:[0-9a-f]{64}$' AS email_hashed,
       new_data->>'email' = audit_chain.keyed_hash('ann@example.com') AS email_is_keyed_hash,
       new_data->>'salary' = audit_chain.keyed_hash('5000.50') AS salary_is_keyed_hash,
       new_data->>'doc' = audit_chain.keyed_hash('{"a": [1, 2]}') AS doc_is_keyed_hash,
       new_data->'doc' = 'null' AS doc_null_stays_null
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_accounts' AND action = 'INSERT' ORDER BY commit_seq, seq;
-- Equal values, equal hashes (so an administrator can find a value without the key).
SELECT count(DISTINCT new_data->>'email') AS distinct_email_hashes, count(DISTINCT new_data->>'salary') AS distinct_salary_hashes
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_accounts' AND action = 'INSERT';
SELECT count(*) AS found_by_keyed_hash FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_accounts' AND new_data->>'email' = audit_chain.keyed_hash('ann@example.com');
-- An UPDATE that touches only excluded columns records nothing.
UPDATE sn_accounts SET notes = 'more private notes' WHERE id = 1;
SELECT count(*) AS updates FROM audit_chain.audit_events WHERE resource_type = 'public.sn_accounts' AND action = 'UPDATE';
-- Mixed: the excluded column is left out of old and new values.
UPDATE sn_accounts SET notes = 'again', phone = '555-0101', email = 'ann@example.org', salary = 6000 WHERE id = 1;
SELECT old_data ? 'notes' AS old_has_notes, new_data ? 'notes' AS new_has_notes,
       old_data->'phone' AS old_phone, new_data->'phone' AS new_phone,
       old_data->>'email' = audit_chain.keyed_hash('ann@example.com') AS old_email_hash,
       new_data->>'email' = audit_chain.keyed_hash('ann@example.org') AS new_email_hash,
       new_data->>'salary' = audit_chain.keyed_hash('6000') AS new_salary_hash,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(new_data) k) AS changed_columns
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_accounts' AND action = 'UPDATE';
DELETE FROM sn_accounts WHERE id = 2;
SELECT old_data ? 'notes' AS has_notes, old_data->'phone' AS phone,
       old_data->>'email' = audit_chain.keyed_hash('ann@example.com') AS email_hash
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_accounts' AND action = 'DELETE';
-- A plain role's changes follow the same policy.
SET ROLE regress_sn_plain;
INSERT INTO sn_accounts VALUES (3, 'plain@example.com', '555-0300', 1, 'pw-3', 'tok-3', 'secret notes', NULL, NULL, NULL);
RESET ROLE;
SELECT new_data ? 'notes' AS has_notes, new_data->'phone' AS phone,
       new_data->>'email' = audit_chain.keyed_hash('plain@example.com') AS email_hash
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_accounts' AND resource_id = '3';
-- An administrator (not superuser) can compute keyed hashes without seeing the key.
SET ROLE regress_sn_admin;
SELECT audit_chain.keyed_hash('ann@example.com') = (SELECT new_data->>'email' FROM audit_chain.audit_events
                                                     WHERE resource_type = 'public.sn_accounts' AND resource_id = '2'
                                                       AND action = 'INSERT') AS admin_matches;
SHOW audit_chain.hmac_key;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- keyed_hash() is the same function of the key and the text.
SELECT audit_chain.keyed_hash('a') = audit_chain.keyed_hash('a') AS stable,
       audit_chain.keyed_hash('a') <> audit_chain.keyed_hash('b') AS differs,
       audit_chain.keyed_hash(NULL) IS NULL AS strict;

-- The key is stored in none of the audit tables.
SELECT (SELECT count(*) FROM audit_chain.events x WHERE strpos(x::text, 'Sn-K3y') > 0) AS events,
       (SELECT count(*) FROM audit_chain.contexts x WHERE strpos(x::text, 'Sn-K3y') > 0) AS contexts,
       (SELECT count(*) FROM audit_chain.resources x WHERE strpos(x::text, 'Sn-K3y') > 0) AS resources,
       (SELECT count(*) FROM audit_chain.tracked_tables x WHERE strpos(x::text, 'Sn-K3y') > 0) AS tracked_tables,
       (SELECT count(*) FROM audit_chain.checkpoints x WHERE strpos(x::text, 'Sn-K3y') > 0) AS checkpoints,
       (SELECT count(*) FROM audit_chain.ledger x WHERE strpos(x::text, 'Sn-K3y') > 0) AS ledger,
       (SELECT count(*) FROM audit_chain.events_export x WHERE strpos(x::text, 'Sn-K3y') > 0) AS export;
-- Nor any excluded or redacted value.
SELECT count(*) AS events_with_hidden_values FROM audit_chain.events e
 WHERE concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details) ~ '(private notes|more private|secret notes|555-01|555-03|pw-1|pw-2|pw-3|odd)';
-- Hashed values are not in clear either.
SELECT count(*) AS events_with_clear_hashed_values FROM audit_chain.events e
 WHERE concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details) ~ '(ann@example|plain@example|5000\.50|"a": \[1, 2\])';

-- Without the key, capture of a hashed column fails rather than recording it in clear.
RESET audit_chain.hmac_key;
INSERT INTO sn_accounts VALUES (4, 'dan@example.com', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS rows_4 FROM sn_accounts WHERE id = 4;
-- Changes that do not touch hashed columns still work; a DELETE records the whole row, so it fails too.
UPDATE sn_accounts SET phone = '555-0102' WHERE id = 1;
SELECT count(*) AS phone_updates FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_accounts' AND action = 'UPDATE' AND new_data ? 'phone' AND NOT new_data ? 'email';
DELETE FROM sn_accounts WHERE id = 3;
\echo :LAST_ERROR_SQLSTATE
SET audit_chain.hmac_key = 'Sn-K3y: do not leak';

-- NULL lists keep the current lists; an empty list clears one.
SELECT audit_chain.configure('sn_accounts', redact => '{}');
SELECT audit_chain.configure('sn_accounts');
INSERT INTO sn_accounts VALUES (5, 'eve@example.com', '555-0500', 2, 'pw-5', 'tok-5', 'n5', NULL, 'w5', 'u5');
SELECT new_data->'phone' AS phone, new_data->'we"ird col' AS weird, new_data ? 'notes' AS has_notes,
       new_data->'password' AS password
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_accounts' AND resource_id = '5';
-- record overrides the default sensitive names.
SELECT audit_chain.configure('sn_accounts', record => '{password}');
UPDATE sn_accounts SET password = 'pw-5b' WHERE id = 5;
SELECT old_data, new_data FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_accounts' AND resource_id = '5' AND action = 'UPDATE';
-- A hashed key column: the key is recorded as its keyed hash, also as resource_id.
CREATE TABLE sn_emails (email text PRIMARY KEY, plan text);
SELECT audit_chain.track('sn_emails');
SELECT audit_chain.configure('sn_emails', hash => '{email}');
INSERT INTO sn_emails VALUES ('frank@example.com', 'gold');
SELECT resource_id = audit_chain.keyed_hash('frank@example.com') AS id_is_hash,
       new_data->>'email' = audit_chain.keyed_hash('frank@example.com') AS value_is_hash, new_data->'plan' AS plan
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_emails' AND action = 'INSERT';
-- Every CONFIGURE is an event, with the whole setting.
SELECT resource_type, details FROM audit_chain.audit_events WHERE action = 'CONFIGURE' ORDER BY commit_seq, seq;

--
-- The policy applies to BASELINE rows (when capture resumes), to partitions, and to time travel.
--
ALTER TABLE sn_accounts DISABLE TRIGGER audit_chain_capture;
ALTER TABLE sn_accounts ENABLE TRIGGER audit_chain_capture;
SELECT resource_id, new_data ? 'notes' AS has_notes, new_data->'phone' AS phone, new_data->'password' AS password,
       new_data->>'email' = audit_chain.keyed_hash(s.email) AS email_hash
  FROM audit_chain.audit_events e JOIN sn_accounts s ON s.id::text = e.resource_id
 WHERE e.resource_type = 'public.sn_accounts' AND e.action = 'BASELINE' ORDER BY e.resource_id;

CREATE TABLE sn_parted (id int, region text, card_number text, cvv text, internal text, PRIMARY KEY (id, region))
    PARTITION BY LIST (region);
CREATE TABLE sn_parted_eu PARTITION OF sn_parted FOR VALUES IN ('eu');
CREATE TABLE sn_parted_us PARTITION OF sn_parted FOR VALUES IN ('us');
INSERT INTO sn_parted VALUES (1, 'eu', '4111-1111', '123', 'int-1');
SELECT audit_chain.track('sn_parted');
-- A partition is not tracked by itself: configure the tracked table.
SELECT audit_chain.configure('sn_parted_eu', exclude => '{internal}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.configure('sn_parted', exclude => '{internal}', hash => '{cvv}');
INSERT INTO sn_parted VALUES (2, 'us', '5500-0000', '456', 'int-2');
-- A partition created later follows it too.
CREATE TABLE sn_parted_ap PARTITION OF sn_parted FOR VALUES IN ('ap');
INSERT INTO sn_parted VALUES (3, 'ap', '3400-0000', '789', 'int-3');
-- Moving a row between partitions.
UPDATE sn_parted SET region = 'us', internal = 'moved' WHERE id = 1;
-- TRUNCATE of one partition records its rows as DELETE events, under the same policy.
TRUNCATE sn_parted_ap;
SELECT action, resource_id, COALESCE(new_data, old_data) ? 'internal' AS has_internal,
       COALESCE(new_data, old_data)->'card_number' AS card_number,
       COALESCE(new_data, old_data)->>'cvv' IN (audit_chain.keyed_hash('123'), audit_chain.keyed_hash('456'),
                                                 audit_chain.keyed_hash('789')) AS cvv_hashed,
       COALESCE(new_data, old_data)->'cvv' = '"[REDACTED]"' AS cvv_redacted
  FROM audit_chain.audit_events WHERE resource_type = 'public.sn_parted' AND action NOT IN ('TRACK', 'CONFIGURE')
 ORDER BY commit_seq, seq;

-- Time travel shows what was recorded: redacted, hashed, excluded columns absent.
SELECT audit_chain.row_at('sn_users', '{"id": 2}', (SELECT committed_at FROM audit_chain.audit_events
                                                    WHERE resource_type = 'public.sn_users' AND resource_id = '2'
                                                      AND action = 'INSERT')) AS bob_as_inserted;
SELECT j->'id' AS id, j ? 'notes' AS has_notes, j->'phone' AS phone, j->'password' AS password,
       j->>'email' ~ '^hmac-sha256:' AS email_hashed
  FROM audit_chain.table_at('sn_accounts', now()) AS j ORDER BY j->'id';
-- The typed form, for a table whose protected columns are text.
SELECT * FROM audit_chain.table_at(NULL::sn_tokens, now());
SELECT h.action, h.row_data ? 'internal' AS has_internal, h.row_data->'card_number' AS card_number
  FROM audit_chain.history('sn_parted', '{"id": 1, "region": "eu"}') h ORDER BY h.commit_seq, h.seq;

--
-- audit_chain.sensitive_columns: changed by a superuser, applies to later events.
--
CREATE TABLE sn_people (id int PRIMARY KEY, email text, "Home ""Address""" text, password text, "Straße" text);
SELECT audit_chain.track('sn_people');
INSERT INTO sn_people VALUES (1, 'p1@example.com', 'Main St 1', 'pw-p1', 'Weg 1');
SET audit_chain.sensitive_columns = 'email', '"home ""address"""', 'STRASSE', 'straße';
SHOW audit_chain.sensitive_columns;
INSERT INTO sn_people VALUES (2, 'p2@example.com', 'Main St 2', 'pw-p2', 'Weg 2');
-- An empty list redacts nothing by default (configured lists still apply).
SET audit_chain.sensitive_columns = '';
INSERT INTO sn_people VALUES (3, 'p3@example.com', 'Main St 3', 'pw-p3', 'Weg 3');
RESET audit_chain.sensitive_columns;
INSERT INTO sn_people VALUES (4, 'p4@example.com', 'Main St 4', 'pw-p4', 'Weg 4');
SELECT resource_id, new_data FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_people' AND action = 'INSERT' ORDER BY commit_seq, seq;
-- Earlier events keep what was recorded.
SELECT new_data->'password' AS password FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_people' AND resource_id = '1';
-- Only a superuser may change it.
SET ROLE regress_sn_plain;
SET audit_chain.sensitive_columns = '';
\echo :LAST_ERROR_SQLSTATE
SET LOCAL audit_chain.sensitive_columns = '';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- configure() reaches sessions that already wrote the table.
CREATE EXTENSION dblink;
SELECT dblink_connect('sn_other', format('host=%s port=%s dbname=%s user=%s',
    coalesce(host(inet_server_addr()), current_setting('unix_socket_directories')),
    current_setting('port'), current_database(), current_user));
SELECT dblink_exec('sn_other', $$INSERT INTO public.sn_people VALUES (10, 'p10@example.com', 'x', 'y', 'z')$$);
SELECT audit_chain.configure('sn_people', exclude => '{email}', redact => '{Straße}');
SELECT dblink_exec('sn_other', $$INSERT INTO public.sn_people VALUES (11, 'p11@example.com', 'x', 'y', 'z')$$);
SELECT audit_chain.configure('sn_people', exclude => '{}', redact => '{}');
SELECT dblink_exec('sn_other', $$INSERT INTO public.sn_people VALUES (12, 'p12@example.com', 'x', 'y', 'z')$$);
SELECT dblink_disconnect('sn_other');
DROP EXTENSION dblink;
SELECT resource_id, new_data FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_people' AND action = 'INSERT' AND resource_id IN ('10', '11', '12') ORDER BY commit_seq, seq;
-- A rolled-back configure() changes nothing.
BEGIN;
SELECT audit_chain.configure('sn_people', exclude => '{email}') IS NOT NULL AS configured;
ROLLBACK;
INSERT INTO sn_people VALUES (13, 'p13@example.com', 'x', 'y', 'z');
SELECT new_data ? 'email' AS has_email FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_people' AND resource_id = '13';

--
-- track() takes the same lists: the policies apply from its TRACK event on, baseline included.
--
CREATE TABLE sn_new (id int PRIMARY KEY, email text, notes text, nick text, card_number text, phone text);
INSERT INTO sn_new VALUES (1, 'gus@example.com', 'hidden note', 'gussie', '4111-0000', '555-0001'),
                          (2, 'hal@example.com', 'other note', 'hally', '5500-0000', '555-0002');
-- Refused lists leave the table untracked, without triggers.
SELECT audit_chain.track('sn_new', exclude => '{nope}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('sn_new', exclude => '{id}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('sn_new', redact => '{nick}', record => '{nick}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('sn_new', exclude => '{ctid}');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.track('sn_new', redact => ARRAY[NULL]::text[]);
\echo :LAST_ERROR_SQLSTATE
RESET audit_chain.hmac_key;
SELECT audit_chain.track('sn_new', hash => '{email}');
\echo :LAST_ERROR_SQLSTATE
SET audit_chain.hmac_key = 'Sn-K3y: do not leak';
SET ROLE regress_sn_plain;
SELECT audit_chain.track('sn_new', exclude => '{notes}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'sn_new'::regclass) AS triggers,
       (SELECT count(*) FROM audit_chain.tracked_tables WHERE relid = 'sn_new'::regclass) AS registered,
       (SELECT count(*) FROM audit_chain.audit_events WHERE resource_type = 'public.sn_new') AS events;
-- Every list at once (card_number, a default sensitive name, is recorded because it is listed).
SELECT audit_chain.track('sn_new', exclude => '{notes}', redact => '{nick}', hash => '{email}', record => '{card_number}');
SELECT settings FROM audit_chain.tracked_tables WHERE relid = 'sn_new'::regclass;
-- TRACK, then CONFIGURE with the settings, then the rows as they are recorded from now on.
SELECT action, resource_id, new_data - 'email' AS new_data,
       new_data->>'email' = audit_chain.keyed_hash(s.email) AS email_hashed, details
  FROM audit_chain.audit_events e LEFT JOIN sn_new s ON s.id::text = e.resource_id
 WHERE e.resource_type = 'public.sn_new' ORDER BY e.commit_seq, e.seq;
INSERT INTO sn_new VALUES (3, 'ivy@example.com', 'third note', 'ivy', '3400-0000', '555-0003');
SELECT new_data - 'email' AS new_data FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_new' AND action = 'INSERT';
-- No excluded, redacted or hashed value was ever recorded, not even by the baseline.
SELECT count(*) AS events_with_hidden_values FROM audit_chain.events e
 WHERE concat_ws(' ', e.resource_id, e.old_data, e.new_data, e.details) ~ '(hidden note|other note|third note|gussie|hally|"ivy"|@example\.com)'
   AND e.resource_ref = (SELECT resource_ref FROM audit_chain.resources WHERE resource_type = 'public.sn_new');
-- Again on a tracked table: as configure() (NULL lists kept), not a new tracking period.
SELECT audit_chain.track('sn_new', redact => '{}') AS tracked_anew;
SELECT action, details FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_new' AND action IN ('TRACK', 'CONFIGURE') ORDER BY commit_seq, seq;
-- The old calls are unchanged: without lists, track() configures nothing.
CREATE TABLE sn_plain (id int PRIMARY KEY, password text);
SELECT audit_chain.track('sn_plain', false);
SELECT settings, (SELECT count(*) FROM audit_chain.audit_events
                   WHERE resource_type = 'public.sn_plain' AND action = 'CONFIGURE') AS configure_events
  FROM audit_chain.tracked_tables WHERE relid = 'sn_plain'::regclass;
-- A partitioned table: the partitions' rows follow the tracked table's lists from the baseline on.
CREATE TABLE sn_new_parted (id int, region text, notes text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE sn_new_parted_eu PARTITION OF sn_new_parted FOR VALUES IN ('eu');
INSERT INTO sn_new_parted VALUES (1, 'eu', 'partition note');
SELECT audit_chain.track('sn_new_parted', exclude => '{notes}');
SELECT action, resource_id, new_data FROM audit_chain.audit_events
 WHERE resource_type = 'public.sn_new_parted' AND action = 'BASELINE';

-- The trail is valid.
SELECT valid, reason FROM audit_chain.verify();

RESET audit_chain.hmac_key;
DROP TABLE sn_users, sn_tokens, sn_accounts, sn_emails, sn_parted, sn_people, sn_new, sn_plain, sn_new_parted;
DROP ROLE regress_sn_plain, regress_sn_admin, regress_sn_reader;
