-- revert: the statements that undo one transaction, applying them, and what cannot be undone.
--
-- Transaction ids are kept in psql variables and never printed; messages are shown with the
-- transaction id masked.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

\set VERBOSITY sqlstate
\set err 'SELECT :''LAST_ERROR_SQLSTATE'' AS sqlstate, regexp_replace(:''LAST_ERROR_MESSAGE'', ''transaction [0-9]+'', ''transaction <xid>'') AS message;'

CREATE TABLE rv_acc (id int PRIMARY KEY, owner text, balance numeric(10,2), tags text[], meta jsonb, note text);
SELECT audit_chain.track('rv_acc');

-- The table's rows compared with a saved copy: rows only in one of them.
CREATE FUNCTION rv_diff(saved regclass) RETURNS TABLE (only_saved bigint, only_now bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT (SELECT count(*) FROM (TABLE %1$s EXCEPT ALL TABLE rv_acc) d),
                (SELECT count(*) FROM (TABLE rv_acc EXCEPT ALL TABLE %1$s) d)', saved);
END
$$;
-- Events recorded since a commit_seq, in order.
CREATE FUNCTION rv_events_since(since bigint) RETURNS TABLE (action text, resource_id text, old_data jsonb, new_data jsonb)
LANGUAGE sql AS $$
    SELECT action, resource_id, old_data, new_data FROM audit_chain.audit_events
     WHERE commit_seq > since ORDER BY commit_seq, seq
$$;

-- ---------------------------------------------------------------------------------------------
-- INSERT: undone by deleting the rows it inserted.
-- ---------------------------------------------------------------------------------------------
BEGIN;
INSERT INTO rv_acc VALUES (1, 'ann', 100.00, '{a,b}', '{"x": {"y": [1, 2]}}', NULL),
                          (2, 'bob', 50.50, NULL, NULL, E'caf\u00e9 \u2713');
SELECT pg_current_xact_id() AS x_insert \gset
COMMIT;
SELECT * FROM audit_chain.revert(:'x_insert');
-- Only shown, not applied.
SELECT count(*) AS rows_still_there FROM rv_acc;
SELECT max(commit_seq) AS seq_before FROM audit_chain.events \gset
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_insert', apply => true);
SELECT count(*) AS rows_left FROM rv_acc;
-- Applying is audited like any change.
SELECT * FROM rv_events_since(:seq_before);

-- ---------------------------------------------------------------------------------------------
-- UPDATE (several columns, to and from NULL, arrays, nested jsonb, numeric scale).
-- ---------------------------------------------------------------------------------------------
INSERT INTO rv_acc VALUES (10, 'carl', 10.10, '{x}', '{"k": [1, {"m": null}]}', 'note'),
                          (11, 'dora', 0.00, NULL, '{}', NULL);
CREATE TEMP TABLE rv_saved_1 AS TABLE rv_acc;
BEGIN;
UPDATE rv_acc SET balance = balance * 3, tags = NULL, meta = meta || '{"added": true}', note = NULL WHERE id = 10;
UPDATE rv_acc SET tags = '{"with space", NULL}', note = 'now set' WHERE id = 11;
SELECT pg_current_xact_id() AS x_update \gset
COMMIT;
SELECT * FROM audit_chain.revert(:'x_update');
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_update', true);
SELECT * FROM rv_diff('rv_saved_1');

-- ---------------------------------------------------------------------------------------------
-- DELETE: the row comes back exactly.
-- ---------------------------------------------------------------------------------------------
BEGIN;
DELETE FROM rv_acc WHERE id = 10;
SELECT pg_current_xact_id() AS x_delete \gset
COMMIT;
SELECT * FROM audit_chain.revert(:'x_delete');
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_delete', true);
SELECT * FROM rv_diff('rv_saved_1');

-- ---------------------------------------------------------------------------------------------
-- A change of key: the row goes back to its old key.
-- ---------------------------------------------------------------------------------------------
BEGIN;
UPDATE rv_acc SET id = 12, owner = 'dora moved' WHERE id = 11;
SELECT pg_current_xact_id() AS x_rekey \gset
COMMIT;
SELECT * FROM audit_chain.revert(:'x_rekey');
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_rekey', true);
SELECT * FROM rv_diff('rv_saved_1');

-- ---------------------------------------------------------------------------------------------
-- Many statements in one transaction, some on the same rows: undone newest first.
-- ---------------------------------------------------------------------------------------------
BEGIN;
INSERT INTO rv_acc VALUES (20, 'eve', 1.00, NULL, NULL, NULL);
UPDATE rv_acc SET balance = balance + 1 WHERE id IN (10, 20);
UPDATE rv_acc SET id = 21 WHERE id = 20;
UPDATE rv_acc SET note = 'second change' WHERE id = 10;
DELETE FROM rv_acc WHERE id = 11;
INSERT INTO rv_acc VALUES (11, 'dora again', 9.99, NULL, NULL, NULL);
INSERT INTO rv_acc VALUES (30, 'short-lived', NULL, NULL, NULL, NULL);
DELETE FROM rv_acc WHERE id = 30;
SELECT pg_current_xact_id() AS x_many \gset
COMMIT;
SELECT count(*) AS events FROM audit_chain.audit_events WHERE transaction_id = :'x_many';
SELECT left(s, 6) AS statement FROM audit_chain.revert(:'x_many') s;
BEGIN;
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_many', true);
SELECT pg_current_xact_id() AS x_revert_many \gset
COMMIT;
SELECT * FROM rv_diff('rv_saved_1');
-- A revert is a transaction like any other: it can be reverted too, which redoes the changes.
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_revert_many', true);
SELECT id, owner, balance, note FROM rv_acc ORDER BY id;

-- ---------------------------------------------------------------------------------------------
-- Conflicts with later transactions (40001).
-- ---------------------------------------------------------------------------------------------
TRUNCATE rv_acc;
INSERT INTO rv_acc VALUES (40, 'a', 1, NULL, NULL, NULL), (41, 'b', 2, NULL, NULL, NULL), (42, 'c', 3, NULL, NULL, NULL);
BEGIN;
UPDATE rv_acc SET balance = 10 WHERE id = 40;
SELECT pg_current_xact_id() AS x_first \gset
COMMIT;
BEGIN;
UPDATE rv_acc SET balance = 20 WHERE id = 40;
SELECT pg_current_xact_id() AS x_second \gset
COMMIT;
-- The row was changed later: refused, dry run or not.
SELECT count(*) FROM audit_chain.revert(:'x_first');
:err
SELECT count(*) FROM audit_chain.revert(:'x_first', true);
:err
SELECT balance FROM rv_acc WHERE id = 40;
-- Reverting the later one first, as the hint says, makes the earlier one revertible.
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_second', true);
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_first', true);
SELECT balance FROM rv_acc WHERE id = 40;

-- Later transactions deleted the row and moved another row to its key.
BEGIN;
UPDATE rv_acc SET note = 'changed' WHERE id = 41;
SELECT pg_current_xact_id() AS x_note \gset
COMMIT;
DELETE FROM rv_acc WHERE id = 41;
UPDATE rv_acc SET id = 41 WHERE id = 42;
SELECT count(*) FROM audit_chain.revert(:'x_note');
:err
-- The key a row left was taken by a new row later: putting the row back would collide.
BEGIN;
UPDATE rv_acc SET id = 43 WHERE id = 41;
SELECT pg_current_xact_id() AS x_move \gset
COMMIT;
INSERT INTO rv_acc VALUES (41, 'new 41', 0, NULL, NULL, NULL);
SELECT count(*) FROM audit_chain.revert(:'x_move');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.revert(:'x_move', true);
\echo :LAST_ERROR_SQLSTATE
SELECT id, owner FROM rv_acc WHERE id IN (41, 43) ORDER BY id;
-- A deleted key inserted again later.
BEGIN;
DELETE FROM rv_acc WHERE id = 41;
SELECT pg_current_xact_id() AS x_del41 \gset
COMMIT;
INSERT INTO rv_acc VALUES (41, 'newer 41', 0, NULL, NULL, NULL);
SELECT count(*) FROM audit_chain.revert(:'x_del41');
:err
-- The table was truncated later, or its structure changed.
BEGIN;
UPDATE rv_acc SET note = 'before truncate' WHERE id = 43;
SELECT pg_current_xact_id() AS x_before_truncate \gset
COMMIT;
CREATE TEMP TABLE rv_keep AS TABLE rv_acc;
TRUNCATE rv_acc;
SELECT count(*) FROM audit_chain.revert(:'x_before_truncate');
:err
INSERT INTO rv_acc TABLE rv_keep;
BEGIN;
UPDATE rv_acc SET note = 'before alter' WHERE id = 43;
SELECT pg_current_xact_id() AS x_before_alter \gset
COMMIT;
ALTER TABLE rv_acc ADD COLUMN extra int;
SELECT count(*) FROM audit_chain.revert(:'x_before_alter');
:err
ALTER TABLE rv_acc DROP COLUMN extra;
-- The row no longer holds what the transaction left (changed with capture bypassed).
BEGIN;
UPDATE rv_acc SET note = 'audited' WHERE id = 43;
SELECT pg_current_xact_id() AS x_bypassed \gset
COMMIT;
SET session_replication_role = replica;
UPDATE rv_acc SET note = 'not audited' WHERE id = 43;
RESET session_replication_role;
SELECT count(*) AS statements FROM audit_chain.revert(:'x_bypassed');
SELECT count(*) FROM audit_chain.revert(:'x_bypassed', true);
:err
SELECT note FROM rv_acc WHERE id = 43;

-- ---------------------------------------------------------------------------------------------
-- Transactions that are not only row changes (0A000).
-- ---------------------------------------------------------------------------------------------
CREATE TABLE rv_other (id int PRIMARY KEY, v text);
BEGIN;
SELECT audit_chain.track('rv_other');
INSERT INTO rv_other VALUES (1, 'x');
SELECT pg_current_xact_id() AS x_track \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_track');
:err
BEGIN;
INSERT INTO rv_other VALUES (2, 'y');
ALTER TABLE rv_other ADD COLUMN w int;
SELECT pg_current_xact_id() AS x_alter \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_alter');
:err
BEGIN;
INSERT INTO rv_other VALUES (3, 'z');
TRUNCATE rv_other;
SELECT pg_current_xact_id() AS x_truncate \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_truncate');
:err
BEGIN;
INSERT INTO rv_other VALUES (4, 'w');
SELECT audit_chain.log_event('EXPORT', 'report', 'r1') IS NOT NULL AS logged;
SELECT pg_current_xact_id() AS x_app \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_app');
:err
SELECT count(*) AS rows_kept FROM rv_other;

-- Tables without a primary key (a replica identity index, or no key at all).
CREATE TABLE rv_replica (a int NOT NULL, v text);
CREATE UNIQUE INDEX rv_replica_a ON rv_replica (a);
ALTER TABLE rv_replica REPLICA IDENTITY USING INDEX rv_replica_a;
CREATE TABLE rv_nokey (a int, v text);
SELECT audit_chain.track('rv_replica'), audit_chain.track('rv_nokey');
BEGIN;
INSERT INTO rv_replica VALUES (1, 'x');
SELECT pg_current_xact_id() AS x_replica \gset
COMMIT;
BEGIN;
INSERT INTO rv_nokey VALUES (1, 'x');
SELECT pg_current_xact_id() AS x_nokey \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_replica');
:err
SELECT count(*) FROM audit_chain.revert(:'x_nokey');
:err

-- ---------------------------------------------------------------------------------------------
-- Values the trail does not hold: redacted, hashed, erased, excluded (0A000).
-- ---------------------------------------------------------------------------------------------
CREATE TABLE rv_user (id int PRIMARY KEY, name text, password text, email text);
SELECT audit_chain.track('rv_user');
INSERT INTO rv_user VALUES (1, 'ann', 'secret 1', 'ann@example.org'), (2, 'bob', 'secret 2', 'bob@example.org');
-- A change that does not touch the redacted column can be undone.
BEGIN;
UPDATE rv_user SET name = 'anne' WHERE id = 1;
SELECT pg_current_xact_id() AS x_name \gset
COMMIT;
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_name', true);
SELECT name FROM rv_user WHERE id = 1;
-- The redacted value changed: its old value is not known.
BEGIN;
UPDATE rv_user SET password = 'secret 1b' WHERE id = 1;
SELECT pg_current_xact_id() AS x_password \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_password');
:err
-- A deleted row whose password was redacted cannot be put back.
BEGIN;
DELETE FROM rv_user WHERE id = 2;
SELECT pg_current_xact_id() AS x_del_user \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_del_user');
:err
-- An inserted row whose password was redacted: the trail cannot tell whether the row still
-- holds what was inserted.
BEGIN;
INSERT INTO rv_user VALUES (3, 'cid', 'secret 3', 'cid@example.org');
SELECT pg_current_xact_id() AS x_ins_user \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_ins_user');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM audit_chain.revert(:'x_ins_user', true);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS cid_kept FROM rv_user WHERE id = 3;
-- Hashed values.
SET audit_chain.hmac_key = 'revert regression key';
SELECT audit_chain.configure('rv_user', hash => ARRAY['email']) IS NOT NULL AS configured;
BEGIN;
UPDATE rv_user SET email = 'anne@example.org' WHERE id = 1;
SELECT pg_current_xact_id() AS x_email \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_email');
:err
-- Erased values.
CREATE TABLE rv_person (id int PRIMARY KEY, name text);
SELECT audit_chain.track('rv_person');
INSERT INTO rv_person VALUES (1, 'Zoe');
BEGIN;
UPDATE rv_person SET name = 'Zoey' WHERE id = 1;
SELECT pg_current_xact_id() AS x_zoe \gset
COMMIT;
SELECT audit_chain.erase('rv_person', '{"id": 1}') > 0 AS erased;
SELECT count(*) FROM audit_chain.revert(:'x_zoe');
\echo :LAST_ERROR_SQLSTATE
-- Excluded columns.
CREATE TABLE rv_partial (id int PRIMARY KEY, kept text, skipped text);
SELECT audit_chain.track('rv_partial');
SELECT audit_chain.configure('rv_partial', exclude => ARRAY['skipped']) IS NOT NULL AS configured;
INSERT INTO rv_partial VALUES (1, 'k', 's'), (2, 'k', 's');
BEGIN;
DELETE FROM rv_partial WHERE id = 1;
SELECT pg_current_xact_id() AS x_del_partial \gset
COMMIT;
SELECT count(*) FROM audit_chain.revert(:'x_del_partial');
:err
CREATE TABLE rv_grown (id int PRIMARY KEY, v text);
SELECT audit_chain.track('rv_grown');
INSERT INTO rv_grown VALUES (1, 'v');
BEGIN;
DELETE FROM rv_grown WHERE id = 1;
SELECT pg_current_xact_id() AS x_del_grown \gset
COMMIT;
-- A column added since: a later change of the table's structure.
ALTER TABLE rv_grown ADD COLUMN w int;
SELECT count(*) FROM audit_chain.revert(:'x_del_grown');
:err
RESET audit_chain.hmac_key;

-- ---------------------------------------------------------------------------------------------
-- Generated columns and identity keys are put back the way PostgreSQL allows: generated
-- values are computed again, an identity key GENERATED ALWAYS keeps its recorded value.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE rv_gen (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, price numeric(10,2), qty int,
                     total numeric GENERATED ALWAYS AS (price * qty) STORED);
SELECT audit_chain.track('rv_gen');
INSERT INTO rv_gen (price, qty) VALUES (2.50, 4), (1.00, 1);
BEGIN;
UPDATE rv_gen SET qty = 5 WHERE id = 1;
SELECT pg_current_xact_id() AS x_gen_update \gset
COMMIT;
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_gen_update', true);
BEGIN;
DELETE FROM rv_gen WHERE id = 2;
SELECT pg_current_xact_id() AS x_gen_delete \gset
COMMIT;
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_gen_delete', true);
SELECT * FROM rv_gen ORDER BY id;

-- A DEFERRABLE primary key is a primary key.
CREATE TABLE rv_defer (id int PRIMARY KEY DEFERRABLE, v text);
SELECT audit_chain.track('rv_defer');
INSERT INTO rv_defer VALUES (1, 'a');
BEGIN;
UPDATE rv_defer SET v = 'b';
SELECT pg_current_xact_id() AS x_defer \gset
COMMIT;
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_defer', true);
SELECT * FROM rv_defer;

-- ---------------------------------------------------------------------------------------------
-- Who may revert; unknown and NULL transactions.
-- ---------------------------------------------------------------------------------------------
BEGIN;
UPDATE rv_acc SET note = 'by postgres' WHERE id = 43;
SELECT pg_current_xact_id() AS x_priv \gset
COMMIT;
CREATE ROLE regress_rv_plain;
CREATE ROLE regress_rv_reader IN ROLE audit_chain_reader;
CREATE ROLE regress_rv_admin IN ROLE audit_chain_admin;
SET ROLE regress_rv_plain;
SELECT count(*) FROM audit_chain.revert(:'x_priv');
:err
SET ROLE regress_rv_reader;
SELECT count(*) FROM audit_chain.revert(:'x_priv');
:err
-- An administrator sees the statements, but applies them with their own privileges.
SET ROLE regress_rv_admin;
SELECT count(*) AS statements FROM audit_chain.revert(:'x_priv');
SELECT count(*) FROM audit_chain.revert(:'x_priv', true);
:err
RESET ROLE;
GRANT SELECT, UPDATE ON rv_acc TO regress_rv_admin;
SET ROLE regress_rv_admin;
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_priv', true);
RESET ROLE;
SELECT db_user, action, old_data, new_data FROM audit_chain.audit_events
 WHERE resource_type = 'public.rv_acc' ORDER BY commit_seq DESC, seq DESC LIMIT 1;
SELECT count(*) FROM audit_chain.revert('99999999');
:err
SELECT count(*) FROM audit_chain.revert(NULL);
:err
REVOKE ALL ON rv_acc FROM regress_rv_admin;
DROP ROLE regress_rv_plain, regress_rv_reader, regress_rv_admin;

-- ---------------------------------------------------------------------------------------------
-- A change and its revert cancel out: the events revert() applies record the transaction
-- they undo, and later reverts set such pairs aside, but only pairs that really cancel out.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE rv_pair (id int PRIMARY KEY, v int);
SELECT audit_chain.track('rv_pair');
INSERT INTO rv_pair VALUES (1, 0), (2, 0), (3, 0);
BEGIN;
UPDATE rv_pair SET v = 1 WHERE id = 1;
SELECT pg_current_xact_id() AS x_p1 \gset
COMMIT;
BEGIN;
UPDATE rv_pair SET v = 2 WHERE id = 1;
UPDATE rv_pair SET id = 4 WHERE id = 2;
SELECT pg_current_xact_id() AS x_p2 \gset
COMMIT;
-- The revert's own events say what they revert; a statement after revert() in the same
-- transaction is not marked.
SELECT max(commit_seq) AS seq_before_pair FROM audit_chain.events \gset
BEGIN;
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_p2', true);
UPDATE rv_pair SET v = 30 WHERE id = 3;
SELECT pg_current_xact_id() AS x_r2 \gset
COMMIT;
SELECT action, resource_id, details ->> 'new_resource_id' AS new_resource_id,
       details ->> 'reverts' = :'x_p2' AS reverts_p2, details ? 'reverts' AS marked
  FROM audit_chain.events WHERE commit_seq > :seq_before_pair ORDER BY commit_seq, seq;
-- There is no setting behind the marker.
SELECT current_setting('audit_chain.reverting', true) IS NULL AS no_reverting_setting;
-- Reverting the same transaction again: its revert is a later change.
SELECT count(*) FROM audit_chain.revert(:'x_p2');
:err
-- The revert of the revert redoes x_p2: x_p1 is refused again, until that redo is reverted.
BEGIN;
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_r2', true);
SELECT pg_current_xact_id() AS x_rr2 \gset
COMMIT;
SELECT id, v FROM rv_pair ORDER BY id;
SELECT count(*) FROM audit_chain.revert(:'x_p1');
:err
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_rr2', true);
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_p1', true);
SELECT id, v FROM rv_pair ORDER BY id;
-- ---------------------------------------------------------------------------------------------
-- Only revert() marks events. No setting, function or application event lets a role make its
-- own changes claim to revert a transaction, not even an exact undoing made by hand.
-- ---------------------------------------------------------------------------------------------
BEGIN;
UPDATE rv_pair SET v = 5 WHERE id = 1;
SELECT pg_current_xact_id() AS x_p5 \gset
COMMIT;
BEGIN;
UPDATE rv_pair SET v = 6 WHERE id = 1;
SELECT pg_current_xact_id() AS x_p6 \gset
COMMIT;
SELECT max(commit_seq) AS seq_before_forgery FROM audit_chain.events \gset
CREATE ROLE regress_rv_app;
GRANT SELECT, UPDATE ON rv_pair TO regress_rv_app;
SET ROLE regress_rv_app;
SET audit_chain.reverting = :'x_p6';
:err
SELECT set_config('audit_chain.reverting', :'x_p6', true);
:err
SELECT count(*) FROM audit_chain.revert_plan(:'x_p6');
:err
SELECT count(*) FROM audit_chain.revert(:'x_p6', true);
:err
SELECT audit_chain.log_event('undo', 'public.rv_pair', '1', 'success', jsonb_build_object('reverts', :'x_p6'));
:err
BEGIN;
UPDATE rv_pair SET v = 5 WHERE id = 1;
SELECT pg_current_xact_id() AS x_by_hand \gset
COMMIT;
RESET ROLE;
-- An administrator running the planned statements by hand makes ordinary changes too.
BEGIN;
UPDATE rv_pair SET v = 6 WHERE id = 1;
SELECT pg_current_xact_id() AS x_p6b \gset
COMMIT;
SELECT p.statement FROM audit_chain.revert_plan(:'x_p6b') p \gexec
SELECT xid AS x_hand_run FROM audit_chain.events ORDER BY commit_seq DESC LIMIT 1 \gset
SELECT count(*) AS marked FROM audit_chain.events
 WHERE commit_seq > :seq_before_forgery AND details ? 'reverts';
-- So the hand-made undoings are later changes like any other: x_p5 is refused.
SELECT count(*) FROM audit_chain.revert(:'x_p5');
:err
-- revert() itself still marks what it applies, with the transaction it undoes.
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_hand_run', true);
SELECT action, details ->> 'reverts' = :'x_hand_run' AS reverts_hand_run FROM audit_chain.events
 WHERE commit_seq > :seq_before_forgery AND details ? 'reverts';
REVOKE ALL ON rv_pair FROM regress_rv_app;
DROP ROLE regress_rv_app;

-- Changes that triggers make while a revert is applied are not marked: only the event that
-- exactly undoes one of the transaction's events is.
CREATE TABLE rv_log (n serial PRIMARY KEY, id int, v int);
SELECT audit_chain.track('rv_log');
CREATE FUNCTION rv_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rv_log (id, v) VALUES (NEW.id, NEW.v);
    RETURN NEW;
END
$$;
-- Named to fire before the capture trigger: its change is captured first.
CREATE TRIGGER a_rv_log AFTER UPDATE ON rv_pair FOR EACH ROW EXECUTE FUNCTION rv_log_change();
BEGIN;
UPDATE rv_pair SET v = 8 WHERE id = 3;
SELECT pg_current_xact_id() AS x_logged \gset
COMMIT;
SELECT max(commit_seq) AS seq_before_logged FROM audit_chain.events \gset
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_logged', true);
SELECT resource_type, action, COALESCE(details ->> 'reverts' = :'x_logged', false) AS marked
  FROM audit_chain.audit_events WHERE commit_seq > :seq_before_logged ORDER BY seq;
-- A trigger that changes the row the revert puts back: the event is not the inverse, and is
-- not marked.
CREATE FUNCTION rv_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.v := NEW.v + 100;
    RETURN NEW;
END
$$;
BEGIN;
UPDATE rv_pair SET v = 9 WHERE id = 3;
SELECT pg_current_xact_id() AS x_bumped \gset
COMMIT;
CREATE TRIGGER rv_bump BEFORE UPDATE ON rv_pair FOR EACH ROW EXECUTE FUNCTION rv_bump();
SELECT max(commit_seq) AS seq_before_bumped FROM audit_chain.events \gset
SELECT count(*) AS statements_applied FROM audit_chain.revert(:'x_bumped', true);
SELECT resource_type, action, new_data, COALESCE(details ? 'reverts', false) AS marked
  FROM audit_chain.audit_events WHERE commit_seq > :seq_before_bumped AND resource_type = 'public.rv_pair' ORDER BY seq;
DROP TRIGGER rv_bump ON rv_pair;
DROP TRIGGER a_rv_log ON rv_pair;
DROP FUNCTION rv_bump(), rv_log_change();
-- A revert that fails inside a savepoint leaves no marker behind for what follows.
BEGIN;
UPDATE rv_pair SET v = 10 WHERE id = 3;
SELECT pg_current_xact_id() AS x_saved \gset
COMMIT;
SET session_replication_role = replica;
UPDATE rv_pair SET v = 11 WHERE id = 3;
RESET session_replication_role;
SELECT max(commit_seq) AS seq_before_saved FROM audit_chain.events \gset
BEGIN;
SAVEPOINT s;
SELECT count(*) FROM audit_chain.revert(:'x_saved', true);
ROLLBACK TO SAVEPOINT s;
SELECT :'LAST_ERROR_SQLSTATE' AS failed_revert;
-- The second change is the one the failed statement expected.
UPDATE rv_pair SET v = 10 WHERE id = 3;
UPDATE rv_pair SET v = 130 WHERE id = 3;
COMMIT;
SELECT count(*) AS marked FROM audit_chain.events WHERE commit_seq > :seq_before_saved AND details ? 'reverts';
-- apply must be given.
SELECT count(*) FROM audit_chain.revert(:'x_saved', NULL);
:err

-- A later transaction moved another row onto the key the row had before.
BEGIN;
UPDATE rv_pair SET id = 5 WHERE id = 2;
SELECT pg_current_xact_id() AS x_p_move \gset
COMMIT;
UPDATE rv_pair SET id = 2 WHERE id = 3;
SELECT count(*) FROM audit_chain.revert(:'x_p_move');
:err
SELECT count(*) FROM audit_chain.revert(:'x_p_move', true);
:err
SELECT id, v FROM rv_pair ORDER BY id;

-- What cannot be restored is reported before a later change.
BEGIN;
DELETE FROM rv_partial WHERE id = 2;
SELECT pg_current_xact_id() AS x_del_partial_2 \gset
COMMIT;
INSERT INTO rv_partial VALUES (2, 'k2', 's2');
SELECT count(*) FROM audit_chain.revert(:'x_del_partial_2');
:err

-- An identity key GENERATED ALWAYS is put back with OVERRIDING SYSTEM VALUE, generated
-- columns are left out.
BEGIN;
DELETE FROM rv_gen WHERE id = 1;
SELECT pg_current_xact_id() AS x_gen_delete_1 \gset
COMMIT;
SELECT * FROM audit_chain.revert(:'x_gen_delete_1');
DROP TABLE rv_pair, rv_log;

-- The trail stays valid.
SELECT valid, reason FROM audit_chain.verify();

DROP TABLE rv_acc, rv_other, rv_replica, rv_nokey, rv_user, rv_person, rv_partial, rv_grown, rv_gen, rv_defer;
DROP FUNCTION rv_diff(regclass), rv_events_since(bigint);
