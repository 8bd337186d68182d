-- context: who, from where and why, recorded with every event from the audit_chain.*
-- settings, with fallbacks when they are not set.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE TABLE cx_items (id int PRIMARY KEY, v text);
SELECT audit_chain.track('cx_items');
-- The context of the events of cx_items, by row.
CREATE TEMP VIEW cx_ev AS
SELECT resource_id AS id, action, actor_id, actor_type, db_user, db_session_user,
       CASE WHEN client_addr IS NOT DISTINCT FROM inet_client_addr() THEN '(connection)' ELSE host(client_addr) END AS client_addr,
       user_agent, request_id, session_id, reason
  FROM audit_chain.audit_events WHERE resource_type = 'public.cx_items' AND action <> 'TRACK'
 ORDER BY commit_seq, seq;

-- Nothing set: the session user, 'user', the connection's address and application_name.
INSERT INTO cx_items VALUES (1, 'defaults');
SELECT actor_id, actor_id = session_user AS is_session_user, actor_type, db_user, db_session_user,
       client_addr IS NOT DISTINCT FROM inet_client_addr() AS connection_addr,
       application_name IS NOT DISTINCT FROM nullif(current_setting('application_name'), '') AS own_application_name,
       user_agent, request_id, session_id, reason
  FROM audit_chain.audit_events WHERE resource_id = '1';

-- Everything set with SET LOCAL.
BEGIN;
SET LOCAL audit_chain.actor_id = 'user-42';
SET LOCAL audit_chain.actor_type = 'service';
SET LOCAL audit_chain.client_addr = '203.0.113.9';
SET LOCAL audit_chain.user_agent = 'Mozilla/5.0 (X11; Linux) "quoted" \ back';
SET LOCAL audit_chain.request_id = 'req-0001';
SET LOCAL audit_chain.session_id = 'sess-abc';
SET LOCAL audit_chain.reason = 'ticket #123: the customer asked';
INSERT INTO cx_items VALUES (2, 'all set');
COMMIT;
-- SET LOCAL ended with the transaction.
INSERT INTO cx_items VALUES (3, 'defaults again');
SELECT * FROM cx_ev WHERE id IN ('2', '3');
-- events_export carries the same context (absent fields left out).
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((event->'context') - 'application_name') AS k) AS context_fields,
       event->'context'->>'client_addr' AS client_addr, event->'context'->>'user_agent' AS user_agent
  FROM audit_chain.events_export x JOIN audit_chain.events e USING (chain_id, seq)
 WHERE e.resource_id = '2';
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((event->'context') - 'application_name' - 'client_addr') AS k) AS context_fields
  FROM audit_chain.events_export x JOIN audit_chain.events e USING (chain_id, seq)
 WHERE e.resource_id = '3';

-- Changed in the middle of a transaction: later events get the new values.
BEGIN;
SET LOCAL audit_chain.actor_id = 'alice';
INSERT INTO cx_items VALUES (4, 'by alice');
SET LOCAL audit_chain.actor_id = 'bob';
UPDATE cx_items SET v = 'by bob' WHERE id = 4;
SET LOCAL audit_chain.reason = 'second thoughts';
SET LOCAL audit_chain.actor_type = 'admin';
DELETE FROM cx_items WHERE id = 4;
RESET audit_chain.actor_id;
RESET audit_chain.reason;
RESET audit_chain.actor_type;
INSERT INTO cx_items VALUES (5, 'reset');
SELECT set_config('audit_chain.actor_id', 'carol', true);
INSERT INTO cx_items VALUES (6, 'by carol');
COMMIT;
SELECT id, action, actor_id, actor_type, reason FROM cx_ev WHERE id IN ('4', '5', '6');

-- Set for the session: kept across transactions until RESET; empty means unset.
SET audit_chain.actor_id = 'session-actor';
SET audit_chain.actor_type = 'system';
SET audit_chain.client_addr = '2001:db8::1';
INSERT INTO cx_items VALUES (7, 'session');
INSERT INTO cx_items VALUES (8, 'session, next transaction');
SET audit_chain.actor_id = '';
INSERT INTO cx_items VALUES (9, 'empty actor');
RESET audit_chain.actor_type;
RESET audit_chain.client_addr;
INSERT INTO cx_items VALUES (10, 'reset');
SELECT id, actor_id, actor_type, client_addr
  FROM cx_ev WHERE id IN ('7', '8', '9', '10');
RESET audit_chain.actor_id;
-- Events under unchanged settings share one context row.
SELECT count(DISTINCT e.context_id) AS contexts FROM audit_chain.events e WHERE e.resource_id IN ('7', '8');

-- application_name is recorded as it is when the change is made.
SET application_name = 'cx billing service';
INSERT INTO cx_items VALUES (11, 'application name');
RESET application_name;
SELECT application_name FROM audit_chain.audit_events WHERE resource_id = '11';

-- SET ROLE: db_user is the current role, db_session_user and the fallback actor the login.
CREATE ROLE regress_context_role;
CREATE ROLE regress_context_definer;
GRANT SELECT, INSERT, UPDATE, DELETE ON cx_items TO regress_context_role, regress_context_definer;
SET ROLE regress_context_role;
INSERT INTO cx_items VALUES (12, 'as another role');
RESET ROLE;
-- SECURITY DEFINER: db_user is the function's owner, db_session_user stays the login.
CREATE FUNCTION cx_definer_insert(new_id int) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ INSERT INTO public.cx_items VALUES (new_id, 'through a security definer function') $$;
ALTER FUNCTION cx_definer_insert(int) OWNER TO regress_context_definer;
-- A function may set the context for the changes it makes.
CREATE FUNCTION cx_batch_insert(new_id int) RETURNS void
LANGUAGE sql SET audit_chain.actor_id = 'nightly-batch' SET audit_chain.actor_type = 'system'
AS $$ INSERT INTO public.cx_items VALUES (new_id, 'by a function with its own context') $$;
SET ROLE regress_context_role;
SELECT cx_definer_insert(13);
RESET ROLE;
SELECT cx_batch_insert(14);
SELECT current_setting('audit_chain.actor_id') = '' AS actor_unset_again;
INSERT INTO cx_items VALUES (15, 'after the function');
SELECT id, actor_id, actor_type, db_user, db_session_user FROM cx_ev WHERE id IN ('12', '13', '14', '15');

-- A context set inside a savepoint that is rolled back: the events around it keep theirs.
BEGIN;
SET LOCAL audit_chain.actor_id = 'outer';
INSERT INTO cx_items VALUES (16, 'before the savepoint');
SAVEPOINT s;
SET LOCAL audit_chain.actor_id = 'inside the savepoint';
INSERT INTO cx_items VALUES (17, 'rolled back');
ROLLBACK TO SAVEPOINT s;
INSERT INTO cx_items VALUES (18, 'after the savepoint');
SAVEPOINT t;
SET LOCAL audit_chain.request_id = 'released';
INSERT INTO cx_items VALUES (19, 'in a released savepoint');
RELEASE SAVEPOINT t;
INSERT INTO cx_items VALUES (20, 'after the release');
COMMIT;
SELECT id, actor_id, request_id FROM cx_ev WHERE id IN ('16', '17', '18', '19', '20');
-- A context first used in a transaction that rolled back can be used again.
BEGIN;
SET LOCAL audit_chain.actor_id = 'ghost';
INSERT INTO cx_items VALUES (21, 'rolled back');
ROLLBACK;
BEGIN;
SET LOCAL audit_chain.actor_id = 'ghost';
INSERT INTO cx_items VALUES (22, 'committed');
COMMIT;
SELECT id, actor_id FROM cx_ev WHERE id IN ('21', '22');
-- The same after a failed statement.
BEGIN;
SET LOCAL audit_chain.actor_id = 'unlucky';
INSERT INTO cx_items VALUES (23, 'x'), (23, 'duplicate');
ROLLBACK;
BEGIN;
SET LOCAL audit_chain.actor_id = 'unlucky';
INSERT INTO cx_items VALUES (23, 'second try');
COMMIT;
SELECT id, actor_id FROM cx_ev WHERE id = '23';

-- TRACK events have a context too.
BEGIN;
SET LOCAL audit_chain.actor_id = 'dba-on-call';
SET LOCAL audit_chain.reason = 'start auditing';
CREATE TABLE cx_more (id int PRIMARY KEY);
SELECT audit_chain.track('cx_more');
COMMIT;
SELECT action, resource_type, actor_id, reason FROM audit_chain.audit_events WHERE resource_type = 'public.cx_more';

-- Every context is covered by the hashes.
SELECT valid FROM audit_chain.verify();

DROP VIEW cx_ev;
DROP FUNCTION cx_definer_insert(int), cx_batch_insert(int);
DROP TABLE cx_items, cx_more;
DROP OWNED BY regress_context_role;
DROP OWNED BY regress_context_definer;
DROP ROLE regress_context_role, regress_context_definer;
