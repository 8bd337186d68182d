-- app_events: set_context() and log_event(): who/where/why for a whole transaction
-- (including changes made by cascades and other triggers), and application events that
-- commit, chain and roll back with the transaction that records them.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE TABLE ae_items (id int PRIMARY KEY, v text);
SELECT audit_chain.track('ae_items');
-- Events of this test in trail order, with the context that was recorded for them.
CREATE TEMP VIEW ae_ev AS
SELECT resource_type, resource_id, action, outcome, actor_id, actor_type,
       CASE WHEN client_addr IS NOT DISTINCT FROM inet_client_addr() THEN '(connection)' ELSE host(client_addr) END AS client_addr,
       user_agent, request_id, session_id, reason
  FROM audit_chain.audit_events WHERE action NOT IN ('TRACK', 'BASELINE')
 ORDER BY commit_seq, seq;

--
-- set_context()
--
-- Every field, for the transaction (is_local defaults to true).
BEGIN;
SELECT audit_chain.set_context('user-7', 'service', '198.51.100.7', 'curl/8.0', 'req-1', 'sess-1', 'ticket 1');
SELECT current_setting('audit_chain.actor_id') AS actor_id, current_setting('audit_chain.actor_type') AS actor_type,
       current_setting('audit_chain.client_addr') AS client_addr, current_setting('audit_chain.user_agent') AS user_agent,
       current_setting('audit_chain.request_id') AS request_id, current_setting('audit_chain.session_id') AS session_id,
       current_setting('audit_chain.reason') AS reason;
INSERT INTO ae_items VALUES (1, 'one');
COMMIT;
-- Gone after the transaction.
SELECT current_setting('audit_chain.actor_id') = '' AS actor_unset, current_setting('audit_chain.reason') = '' AS reason_unset;
INSERT INTO ae_items VALUES (2, 'two');
SELECT * FROM ae_ev WHERE resource_id IN ('1', '2');

-- Named arguments; NULL arguments leave the other settings as they are.
BEGIN;
SELECT audit_chain.set_context(actor_id => 'alice', reason => 'first reason', request_id => 'req-2');
SELECT audit_chain.set_context(reason => 'second reason');
SELECT audit_chain.set_context(NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT current_setting('audit_chain.actor_id') AS actor_id, current_setting('audit_chain.request_id') AS request_id,
       current_setting('audit_chain.reason') AS reason;
INSERT INTO ae_items VALUES (3, 'three');
-- An empty string unsets a field (the fallback applies again).
SELECT audit_chain.set_context(actor_id => '');
INSERT INTO ae_items VALUES (4, 'four');
COMMIT;
SELECT resource_id, actor_id = session_user AS actor_is_session_user, actor_id, request_id, reason
  FROM ae_ev WHERE resource_id IN ('3', '4');

-- is_local => false: for the session, across transactions, until changed.
SELECT audit_chain.set_context(actor_id => 'session-actor', actor_type => 'admin', is_local => false);
INSERT INTO ae_items VALUES (5, 'five');
INSERT INTO ae_items VALUES (6, 'six');
-- A transaction-local context overrides it, and the session value comes back afterwards.
BEGIN;
SELECT audit_chain.set_context(actor_id => 'local-actor');
INSERT INTO ae_items VALUES (7, 'seven');
COMMIT;
INSERT INTO ae_items VALUES (8, 'eight');
-- Rolled back: a session-level set_context() inside a rolled-back transaction is undone.
BEGIN;
SELECT audit_chain.set_context(actor_id => 'never', is_local => false);
ROLLBACK;
INSERT INTO ae_items VALUES (9, 'nine');
SELECT audit_chain.set_context(actor_id => '', actor_type => '', is_local => false);
INSERT INTO ae_items VALUES (10, 'ten');
SELECT resource_id, actor_id, actor_type FROM ae_ev WHERE resource_id IN ('5', '6', '7', '8', '9', '10');

-- Invalid values are refused as by SET, and leave the settings as they were.
BEGIN;
SELECT audit_chain.set_context(actor_id => 'kept', actor_type => 'system');
SAVEPOINT s;
SELECT audit_chain.set_context(actor_type => 'root');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SELECT audit_chain.set_context(actor_type => 'USER');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SELECT audit_chain.set_context(client_addr => '999.1.1.1');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SELECT audit_chain.set_context(client_addr => 'example.com');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
-- A network is not where a request came from: refused (a single host's mask is fine).
SELECT audit_chain.set_context(client_addr => '10.0.0.0/8');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SET LOCAL audit_chain.client_addr = '2001:db8::/64';
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SET LOCAL audit_chain.client_addr = '10.1.2.3/33';
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SET LOCAL audit_chain.client_addr = '10.1.2';
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SELECT audit_chain.set_context(reason => repeat('r', 1025));
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SELECT audit_chain.set_context(user_agent => repeat('u', 1025));
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
-- A call with one bad field fails as a whole.
SELECT audit_chain.set_context(actor_id => 'half', actor_type => 'nobody');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SELECT current_setting('audit_chain.actor_id') AS actor_id, current_setting('audit_chain.actor_type') AS actor_type;
-- Longest accepted value, an IPv6 address with a prefix, unicode.
SELECT audit_chain.set_context(reason => repeat('r', 1024), client_addr => '2001:db8::5/128',
                               user_agent => 'Ünïcødé 🙂 agent');
INSERT INTO ae_items VALUES (11, 'eleven');
SELECT audit_chain.set_context(client_addr => '192.0.2.12/32');
INSERT INTO ae_items VALUES (1112, 'twelve');
COMMIT;
SELECT resource_id, actor_id, actor_type, client_addr, length(reason) AS reason_length, user_agent
  FROM ae_ev WHERE resource_id IN ('11', '1112') ORDER BY resource_id;
-- Stored as a host address (no netmask), as verification hashes it.
SELECT e.resource_id, e.client_addr AS stored, masklen(e.client_addr) AS mask, x.event->'context'->>'client_addr' AS exported
  FROM audit_chain.audit_events e JOIN audit_chain.events_export x USING (chain_id, seq)
 WHERE e.resource_type = 'public.ae_items' AND e.resource_id IN ('11', '1112') ORDER BY e.resource_id;

-- Any role may set its context (it only describes the changes that role makes).
CREATE ROLE regress_ae_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ae_items TO regress_ae_app;
SET ROLE regress_ae_app;
BEGIN;
SELECT audit_chain.set_context(actor_id => 'app-user-1', actor_type => 'user', client_addr => '192.0.2.1');
INSERT INTO ae_items VALUES (12, 'by the application role');
COMMIT;
RESET ROLE;
SELECT e.resource_id, e.actor_id, e.db_user, host(e.client_addr) AS client_addr
  FROM audit_chain.audit_events e WHERE e.resource_type = 'public.ae_items' AND e.resource_id = '12';

--
-- One context for every event of the transaction, wherever the change comes from.
--
CREATE TABLE ae_orders (id int PRIMARY KEY, customer text);
CREATE TABLE ae_order_lines (order_id int REFERENCES ae_orders ON DELETE CASCADE, line int, amount numeric,
                             PRIMARY KEY (order_id, line));
CREATE TABLE ae_order_log (n serial PRIMARY KEY, order_id int, what text);
SELECT audit_chain.track('ae_orders'), audit_chain.track('ae_order_lines'), audit_chain.track('ae_order_log');
-- Another trigger writes to a tracked table.
CREATE FUNCTION ae_log_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ae_order_log (order_id, what) VALUES (COALESCE(NEW.id, OLD.id), TG_OP);
    RETURN NULL;
END
$$;
CREATE TRIGGER ae_log_order AFTER INSERT OR DELETE ON ae_orders FOR EACH ROW EXECUTE FUNCTION ae_log_order();
-- A deferred trigger writes to a tracked table while the transaction commits.
CREATE FUNCTION ae_log_deferred() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ae_order_log (order_id, what) VALUES (OLD.id, 'deferred ' || TG_OP);
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER ae_log_deferred AFTER DELETE ON ae_orders DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ae_log_deferred();
-- The cascade runs in a table of another owner; the application works as its own role.
CREATE ROLE regress_ae_owner;
ALTER TABLE ae_order_lines OWNER TO regress_ae_owner;
GRANT REFERENCES ON ae_orders TO regress_ae_owner;
GRANT SELECT, INSERT, DELETE ON ae_orders, ae_order_lines, ae_order_log TO regress_ae_app;
GRANT USAGE ON SEQUENCE ae_order_log_n_seq TO regress_ae_app;
SET ROLE regress_ae_app;
BEGIN;
SELECT audit_chain.set_context('clerk-1', 'user', '203.0.113.50', 'shop-ui', 'req-orders', 'sess-9', 'order entry');
INSERT INTO ae_orders VALUES (100, 'Smith');
INSERT INTO ae_order_lines VALUES (100, 1, 10.00), (100, 2, 20.00);
SELECT audit_chain.log_event('order.submit', 'shop.order', '100') IS NOT NULL AS logged;
COMMIT;
BEGIN;
SELECT audit_chain.set_context('manager-2', 'admin', '203.0.113.51', 'back-office', 'req-cancel', 'sess-10', 'customer cancelled');
-- Deletes the lines by ON DELETE CASCADE, and logs through both triggers.
DELETE FROM ae_orders WHERE id = 100;
COMMIT;
RESET ROLE;
SELECT e.resource_type, e.resource_id, e.action, e.db_user, e.actor_id, e.actor_type, host(e.client_addr) AS client_addr,
       e.user_agent, e.request_id, e.session_id, e.reason
  FROM audit_chain.audit_events e
 WHERE e.resource_type IN ('public.ae_orders', 'public.ae_order_lines', 'public.ae_order_log', 'shop.order')
   AND e.action NOT IN ('TRACK', 'BASELINE')
 ORDER BY e.commit_seq, e.seq;
SELECT * FROM ae_order_log ORDER BY n;
-- All events of each transaction share one context row.
SELECT count(DISTINCT e.context_id) AS contexts, count(*) AS events, count(DISTINCT e.xid) AS transactions
  FROM audit_chain.events e JOIN audit_chain.contexts c USING (context_id)
 WHERE c.request_id = 'req-cancel';
SELECT count(DISTINCT e.context_id) AS contexts, count(*) AS events, count(DISTINCT e.xid) AS transactions
  FROM audit_chain.events e JOIN audit_chain.contexts c USING (context_id)
 WHERE c.request_id = 'req-orders';

--
-- log_event()
--
-- Returns the event_id of the stored event; the event gets the context and resource given.
BEGIN;
SELECT audit_chain.set_context(actor_id => 'user-55', client_addr => '192.0.2.55', request_id => 'req-login');
SELECT audit_chain.log_event('login', 'app.session', 'user-55', 'success', '{"method": "password", "mfa": true}') AS login_id \gset
SELECT audit_chain.log_event('export', 'app.report', 'monthly-2026-01', 'denied', '{"rows": 0}') AS export_id \gset
SELECT audit_chain.log_event('login', 'app.session', 'user-55', 'failure') AS failure_id \gset
-- Defaults: outcome success, details {}.
SELECT audit_chain.log_event('logout', 'app.session', 'user-55') AS logout_id \gset
COMMIT;
SELECT e.action, e.resource_type, e.resource_id, e.outcome, e.details, e.actor_id, host(e.client_addr) AS client_addr,
       e.request_id, e.old_data IS NULL AS no_old_data, e.new_data IS NULL AS no_new_data,
       e.event_id = ANY (ARRAY[:'login_id', :'export_id', :'failure_id', :'logout_id']::uuid[]) AS id_returned
  FROM audit_chain.audit_events e WHERE e.request_id = 'req-login' ORDER BY e.commit_seq, e.seq;
-- Each returned id is exactly one stored event, in the order they were logged.
SELECT (SELECT array_agg(e.action || '/' || e.outcome ORDER BY e.seq) FROM audit_chain.audit_events e
         WHERE e.event_id = ANY (ARRAY[:'login_id', :'export_id', :'failure_id', :'logout_id']::uuid[])) AS by_id,
       (SELECT e.action FROM audit_chain.audit_events e WHERE e.event_id = :'export_id') AS export_event;
-- The outcome is stored as its one-letter code and shown in full.
SELECT e.outcome, count(*) FROM audit_chain.events e
 WHERE e.event_id = ANY (ARRAY[:'login_id', :'export_id', :'failure_id', :'logout_id']::uuid[])
 GROUP BY e.outcome ORDER BY e.outcome;

-- Invalid arguments.
SELECT audit_chain.log_event('login', 'app.session', 'u', 'ok');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('login', 'app.session', 'u', 'Success');
\echo :LAST_ERROR_SQLSTATE
-- An explicit NULL is no outcome: refused rather than recorded as a success.
SELECT audit_chain.log_event('login', 'app.session', 'u', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('login', 'app.session', 'u', '');
\echo :LAST_ERROR_SQLSTATE
-- Actions the extension records itself cannot be forged, whatever their case.
SELECT audit_chain.log_event('INSERT', 'public.ae_items', '1');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('update', 'public.ae_items', '1');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('Delete', 'public.ae_items', '1');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('truncate', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('baseline', 'public.ae_items', '1');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('Track', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('untrack', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('alter table', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('Drop Table', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('erase', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('disable trigger', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('ENABLE TRIGGER', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('drop trigger', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('alter trigger', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('configure', 'public.ae_items', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('Alter Extension', 'audit_chain', NULL);
\echo :LAST_ERROR_SQLSTATE
-- details must be a JSON object.
SELECT audit_chain.log_event('login', 'app.session', 'u', 'success', '[1, 2]');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('login', 'app.session', 'u', 'success', '"text"');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('login', 'app.session', 'u', 'success', '42');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('login', 'app.session', 'u', 'success', 'null');
\echo :LAST_ERROR_SQLSTATE
-- action and resource_type are required and not empty.
SELECT audit_chain.log_event(NULL, 'app.session', 'u');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('login', NULL, 'u');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('', 'app.session', 'u');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('login', '', 'u');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event(repeat('a', 129), 'app.session', 'u');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event('login', 'app.session', repeat('i', 4097));
\echo :LAST_ERROR_SQLSTATE
-- None of the refused calls left an event.
SELECT count(*) AS refused_events FROM audit_chain.audit_events WHERE resource_id = 'u';

-- A NULL resource_id is allowed (an event about a resource type as a whole); nested details
-- keep their JSON types; application resource types are interned like table names.
SELECT audit_chain.log_event('config.reload', 'app.settings', NULL, 'success',
                             '{"changed": ["timeout", "limit"], "limit": 1.50, "by": {"ui": null, "cli": true}}') IS NOT NULL AS logged;
SELECT resource_id IS NULL AS no_resource_id, details, jsonb_typeof(details->'limit') AS limit_type
  FROM audit_chain.audit_events WHERE action = 'config.reload';
SELECT resource_type FROM audit_chain.resources WHERE resource_type LIKE 'app.%' ORDER BY 1;
-- Names that look like reserved actions but are not are application events.
SELECT audit_chain.log_event('INSERTED', 'app.thing', 'x') IS NOT NULL AS a,
       audit_chain.log_event('login failed', 'app.thing', 'x', 'failure') IS NOT NULL AS b;
SELECT action, outcome FROM audit_chain.audit_events WHERE resource_type = 'app.thing' ORDER BY seq;

-- Same transaction, same chain, positions in the order of the statements.
BEGIN;
SELECT audit_chain.set_context(request_id => 'req-mixed');
INSERT INTO ae_items VALUES (20, 'before');
SELECT audit_chain.log_event('approve', 'app.workflow', '20') IS NOT NULL AS logged;
UPDATE ae_items SET v = 'after' WHERE id = 20;
SELECT audit_chain.log_event('notify', 'app.workflow', '20', 'failure', '{"channel": "mail"}') IS NOT NULL AS logged;
DELETE FROM ae_items WHERE id = 20;
COMMIT;
SELECT e.seq - min(e.seq) OVER () + 1 AS position, e.action, e.resource_type, e.outcome
  FROM audit_chain.audit_events e WHERE e.request_id = 'req-mixed' ORDER BY e.seq;
SELECT count(DISTINCT e.chain_id) AS chains, count(DISTINCT e.commit_seq) AS commits, count(DISTINCT e.transaction_id) AS xids,
       count(DISTINCT e.committed_at) AS commit_times, max(e.seq) - min(e.seq) + 1 = count(*) AS contiguous
  FROM audit_chain.audit_events e WHERE e.request_id = 'req-mixed';

-- Rolled back with its transaction, or with its savepoint.
BEGIN;
SELECT audit_chain.log_event('ghost', 'app.session', 'rolled back') IS NOT NULL AS logged;
ROLLBACK;
BEGIN;
SELECT audit_chain.log_event('kept', 'app.session', 'savepoints') IS NOT NULL AS logged;
SAVEPOINT s1;
SELECT audit_chain.log_event('ghost', 'app.session', 'savepoints') IS NOT NULL AS logged;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
SELECT audit_chain.log_event('kept in released savepoint', 'app.session', 'savepoints') IS NOT NULL AS logged;
RELEASE SAVEPOINT s2;
COMMIT;
SELECT action FROM audit_chain.audit_events WHERE resource_id IN ('rolled back', 'savepoints') ORDER BY seq;
-- A PL/pgSQL exception handler runs after its block was rolled back: what the block
-- logged is gone, what the handler logs is kept.
DO $$
BEGIN
    BEGIN
        PERFORM audit_chain.log_event('transfer.attempt', 'app.transfer', 't-1');
        RAISE EXCEPTION 'insufficient funds';
    EXCEPTION WHEN others THEN
        PERFORM audit_chain.log_event('transfer.attempt', 'app.transfer', 't-1', 'failure',
                                      jsonb_build_object('error', SQLERRM));
    END;
END
$$;
SELECT action, outcome, details FROM audit_chain.audit_events WHERE resource_type = 'app.transfer';
-- A failing statement rolls back the whole transaction, its events with it.
BEGIN;
SELECT audit_chain.log_event('doomed', 'app.session', 'failed transaction') IS NOT NULL AS logged;
SELECT 1 / 0;
COMMIT;
SELECT count(*) AS doomed_events FROM audit_chain.audit_events WHERE action = 'doomed';

-- Any role may log events; they are attributed to that role.
SET ROLE regress_ae_app;
SELECT audit_chain.log_event('download', 'app.file', 'f-1', 'denied') IS NOT NULL AS logged;
-- Reading the trail needs audit_chain_reader.
SELECT count(*) FROM audit_chain.audit_events;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT action, outcome, db_user, actor_id = session_user AS actor_is_session_user
  FROM audit_chain.audit_events WHERE resource_type = 'app.file';

-- log_event() writes (at commit): not in a read-only transaction.
BEGIN READ ONLY;
SELECT audit_chain.log_event('read-only', 'app.session', 'ro');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- Read-only by default: refused as a write, before its arguments are looked at; no event.
SET default_transaction_read_only = on;
SELECT audit_chain.log_event('read-only', 'app.session', 'ro-default');
\echo :LAST_ERROR_SQLSTATE
SELECT audit_chain.log_event(NULL::text, NULL::text, NULL::text);
\echo :LAST_ERROR_SQLSTATE
-- A read-write transaction of the same session may.
BEGIN READ WRITE;
SELECT audit_chain.log_event('read-write', 'app.session', 'rw') IS NOT NULL AS logged;
COMMIT;
RESET default_transaction_read_only;
SELECT action, resource_id FROM audit_chain.audit_events WHERE resource_id IN ('ro', 'ro-default', 'rw');

-- Recording a failure that survives the application's rollback: log it from a second
-- connection (dblink), which commits on its own.
CREATE EXTENSION dblink;
SELECT format('host=%s port=%s dbname=%s user=%s',
    coalesce(host(inet_server_addr()), current_setting('unix_socket_directories')),
    current_setting('port'), current_database(), current_user) AS conn \gset
BEGIN;
SELECT audit_chain.set_context(actor_id => 'user-77', request_id => 'req-rollback');
INSERT INTO ae_items VALUES (30, 'never committed');
SELECT audit_chain.log_event('payment', 'app.payment', 'p-30') IS NOT NULL AS logged_locally;
SELECT event_id AS remote_id FROM dblink(:'conn',
    $q$SELECT audit_chain.set_context(actor_id => 'user-77', request_id => 'req-rollback', reason => 'recorded despite rollback'),
              audit_chain.log_event('payment', 'app.payment', 'p-30', 'failure', '{"error": "card declined"}')$q$)
    AS t(set_context text, event_id uuid) \gset
-- The second connection's event is already committed and visible here.
SELECT count(*) AS visible_before_rollback FROM audit_chain.events WHERE event_id = :'remote_id';
ROLLBACK;
SELECT action, resource_type, resource_id, outcome, details, actor_id, request_id, reason, event_id = :'remote_id' AS same_id
  FROM audit_chain.audit_events WHERE request_id = 'req-rollback' OR resource_id = '30' ORDER BY commit_seq, seq;
-- dblink_exec() also works when the remote statement returns no rows.
BEGIN;
SELECT dblink_exec(:'conn',
    $q$DO $d$ BEGIN PERFORM audit_chain.log_event('payment', 'app.payment', 'p-31', 'failure'); END $d$$q$);
ROLLBACK;
SELECT action, resource_id, outcome FROM audit_chain.audit_events WHERE resource_id = 'p-31';
DROP EXTENSION dblink;

-- set_context() for the transaction (the default) outside a transaction block: the values
-- end with the statement, so it warns as SET LOCAL does; that statement still sees them.
SET LOCAL audit_chain.actor_id = 'set-local';
SELECT audit_chain.set_context(actor_id => 'one-statement');
SELECT current_setting('audit_chain.actor_id') = '' AS already_gone;
SELECT audit_chain.set_context(actor_id => 'one-statement', request_id => 'req-one'),
       audit_chain.log_event('ping', 'app.session', 'one-statement') IS NOT NULL AS logged;
SELECT actor_id, request_id FROM audit_chain.audit_events WHERE resource_id = 'one-statement';
-- No warning for the session, in a transaction block, or in a subtransaction.
SELECT audit_chain.set_context(request_id => 'req-session', is_local => false);
RESET audit_chain.request_id;
BEGIN;
SELECT audit_chain.set_context(actor_id => 'in-block');
SAVEPOINT s;
SELECT audit_chain.set_context(actor_id => 'in-savepoint');
RELEASE SAVEPOINT s;
COMMIT;
DO $$ BEGIN PERFORM audit_chain.set_context(actor_id => 'in-exception-block'); EXCEPTION WHEN OTHERS THEN NULL; END $$;
-- NULL is_local means the default (transaction-local).
SELECT audit_chain.set_context(actor_id => 'null-is-local', is_local => NULL);

-- Every event above is covered by the hashes.
SELECT valid, reason FROM audit_chain.verify();

DROP VIEW ae_ev;
DROP TABLE ae_order_lines, ae_orders, ae_order_log, ae_items;
DROP FUNCTION ae_log_order(), ae_log_deferred();
DROP ROLE regress_ae_app, regress_ae_owner;
