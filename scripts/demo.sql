-- scripts/demo.sql: a short tour of audit_chain (run by scripts/demo.sh in a throwaway cluster).
\set ON_ERROR_STOP 1
\pset null '(null)'
\pset pager off
SET client_min_messages = warning;

\echo
\echo '== 1. Install the extension and a small schema: accounts (finance) and patients (health)'
CREATE EXTENSION audit_chain;
CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL, password text);
CREATE TABLE patients (id int PRIMARY KEY, name text NOT NULL, email text, diagnosis text);
INSERT INTO accounts VALUES (1, 'Ada', 1000.00, 'hunter2'), (2, 'Grace', 250.00, 's3cret');
INSERT INTO patients VALUES (7, 'Linus', 'linus@example.org', 'flu');

-- Two application roles; they write the tables but get no privilege on the audit trail.
CREATE ROLE teller NOLOGIN;
CREATE ROLE nurse NOLOGIN;
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO teller;
GRANT SELECT, INSERT, UPDATE, DELETE ON patients TO nurse;

\echo
\echo '== 2. Track both tables (their current rows are recorded as a baseline)'
SELECT audit_chain.track('accounts') AS accounts_tracked, audit_chain.track('patients') AS patients_tracked;
SELECT clock_timestamp() AS before_changes \gset

\echo
\echo '== 3. Changes by two actors: the teller (on behalf of alice) and the nurse (on behalf of bob)'
UPDATE accounts SET password = 'correct horse' WHERE id = 2;   -- a sensitive column: redacted
BEGIN;
SET LOCAL ROLE teller;
SELECT audit_chain.set_context(actor_id => 'alice', client_addr => '198.51.100.7', request_id => 'req-1001');
UPDATE accounts SET balance = balance - 100 WHERE id = 1;
UPDATE accounts SET balance = balance + 100 WHERE id = 2;
COMMIT;

BEGIN;
SET LOCAL ROLE nurse;
SELECT audit_chain.set_context(actor_id => 'bob', reason => 'ticket HC-42');
UPDATE patients SET diagnosis = 'pneumonia' WHERE id = 7;
INSERT INTO patients VALUES (8, 'Margaret', 'margaret@example.org', 'checkup');
SELECT audit_chain.log_event('export', 'report', 'monthly-patients', 'success', '{"rows": 2}');
COMMIT;

-- An application records a denial it decided itself.
SELECT audit_chain.log_event('login', 'app.session', 'mallory', 'denied', '{"why": "bad password"}');

\echo
\echo '== 4. The audit trail (one row per event; UPDATE records changed columns only)'
SELECT seq, action, resource_type, resource_id, actor_id, db_user, old_data, new_data, outcome
  FROM audit_chain.audit_events
 ORDER BY commit_seq, seq;

\echo
\echo '== 5. Verify every hash of every chain, and keep a digest outside the database'
SELECT * FROM audit_chain.verify();
SELECT audit_chain.digest() AS digest \gset
\echo digest taken (a user stores this JSON somewhere the database cannot change)

\echo
\echo '== 6. A superuser tampers with history, bypassing the append-only guard'
\set ON_ERROR_STOP 0
UPDATE audit_chain.events SET new_data = '{"balance": 10000.00}' WHERE action = 'UPDATE' AND resource_id = '2'
   AND new_data ? 'balance';   -- refused, even for a superuser
\set ON_ERROR_STOP 1
SET session_replication_role = replica;   -- what only a superuser can do
UPDATE audit_chain.events SET new_data = '{"balance": 10000.00}' WHERE action = 'UPDATE' AND resource_id = '2'
   AND new_data ? 'balance';
RESET session_replication_role;

\echo
\echo '== 7. verify() pinpoints the altered event; the digest check says the same'
SELECT * FROM audit_chain.verify();
SELECT valid, chain_id, first_invalid_seq, reason FROM audit_chain.verify(digest => :'digest');

-- Put it back as it was (the demonstration goes on with an intact trail).
SET session_replication_role = replica;
UPDATE audit_chain.events SET new_data = '{"balance": 350.00}' WHERE action = 'UPDATE' AND resource_id = '2'
   AND new_data ? 'balance';
RESET session_replication_role;
SELECT valid FROM audit_chain.verify();

\echo
\echo '== 8. Time travel: account 1 before the transfer, the whole table then, and its history'
SELECT audit_chain.row_at('accounts', '{"id": 1}', :'before_changes') AS account_1_before;
SELECT * FROM audit_chain.table_at(NULL::accounts, :'before_changes') ORDER BY id;
SELECT seq, action, actor_id, old_data, new_data, row_data FROM audit_chain.history('accounts', '{"id": 2}');

\echo
\echo '== 9. Compliance: who touched patient 7, and who was denied'
SELECT event_time::time(0) AS at, action, actor_id, db_user, reason, outcome
  FROM audit_chain.access_report('public.patients', '7');
SELECT actor_id, failures, denied FROM audit_chain.failed_access_report(min_failures => 1);

\echo
\echo '== 10. Undo a transaction: revert the transfer (audited like any change), and verify again'
SELECT transaction_id AS transfer FROM audit_chain.audit_events
 WHERE actor_id = 'alice' AND action = 'UPDATE' LIMIT 1 \gset
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'transfer', apply => true);
SELECT id, owner, balance FROM accounts ORDER BY id;
SELECT seq, action, resource_id, old_data, new_data FROM audit_chain.audit_events ORDER BY commit_seq DESC, seq DESC LIMIT 2;
SELECT valid, events_checked FROM audit_chain.verify();

\echo
\echo 'Done: the trail above is verified, tamper-evident, and queryable as of any moment.'
