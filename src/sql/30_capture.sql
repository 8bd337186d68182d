-- src/sql/30_capture.sql: the generic audit trigger and tracking.

CREATE FUNCTION audit_chain.capture() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_capture';
COMMENT ON FUNCTION audit_chain.capture() IS
    'trigger: records INSERT, UPDATE, DELETE (AFTER ... FOR EACH ROW) and TRUNCATE (AFTER ... FOR EACH STATEMENT) as audit events';

CREATE FUNCTION audit_chain.track(target regclass) RETURNS boolean
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_track';
COMMENT ON FUNCTION audit_chain.track(regclass) IS
    'starts auditing a table (and all its partitions); true if it was not tracked before';

CREATE FUNCTION audit_chain.untrack(target regclass) RETURNS boolean
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_untrack';
COMMENT ON FUNCTION audit_chain.untrack(regclass) IS
    'stops auditing a table; true if it was tracked';

-- New partitions of a tracked table get the TRUNCATE trigger too (row triggers are
-- cloned to new partitions by PostgreSQL itself).
CREATE FUNCTION audit_chain.on_ddl_command_end() RETURNS event_trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_on_ddl_command_end';
COMMENT ON FUNCTION audit_chain.on_ddl_command_end() IS 'event trigger: extends tracking to new partitions';

CREATE EVENT TRIGGER audit_chain_ddl_command_end ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION audit_chain.on_ddl_command_end();
