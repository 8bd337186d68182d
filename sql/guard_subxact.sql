-- guard_subxact: the append-only guard's exceptions (erasure rewriting events, the
-- extension's own registry writes) close again when the (sub)transaction that opened them
-- fails, also when the outer transaction goes on after ROLLBACK TO SAVEPOINT.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE TABLE gs_people (id int PRIMARY KEY, email text);
SELECT audit_chain.track('gs_people');
INSERT INTO gs_people VALUES (1, 'ann@example.org');

-- Make erasure fail halfway: a trigger (superusers may add one) raises during its UPDATE.
CREATE FUNCTION gs_fail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'failing on purpose';
END $$;
CREATE TRIGGER gs_fail BEFORE UPDATE ON audit_chain.events FOR EACH ROW EXECUTE FUNCTION gs_fail();

BEGIN;
SAVEPOINT s;
SELECT audit_chain.erase_value('ann@example.org');
ROLLBACK TO SAVEPOINT s;
DROP TRIGGER gs_fail ON audit_chain.events;
-- The erasure failed: the guard refuses the same UPDATE again.
UPDATE audit_chain.events SET action = 'FORGED' WHERE action = 'INSERT';
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
DROP TRIGGER gs_fail ON audit_chain.events;

-- The same for the registry: a failing registry write inside a savepoint.
CREATE TRIGGER gs_fail BEFORE UPDATE OR INSERT ON audit_chain.tracked_tables FOR EACH ROW EXECUTE FUNCTION gs_fail();
BEGIN;
SAVEPOINT s;
SELECT audit_chain.configure('gs_people', exclude => ARRAY['email']);
ROLLBACK TO SAVEPOINT s;
DROP TRIGGER gs_fail ON audit_chain.tracked_tables;
DELETE FROM audit_chain.tracked_tables;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
DROP TRIGGER gs_fail ON audit_chain.tracked_tables;

-- A successful registry write, committed, leaves nothing open for the next transaction.
SELECT audit_chain.configure('gs_people', exclude => ARRAY['email']) IS NOT NULL AS configured;
DELETE FROM audit_chain.tracked_tables;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS tracked FROM audit_chain.tracked_tables;
SELECT valid, events_checked FROM audit_chain.verify();
