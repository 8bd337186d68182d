-- src/sql/30_capture.sql: the generic audit trigger and tracking.

CREATE FUNCTION audit_chain.capture() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_capture';
COMMENT ON FUNCTION audit_chain.capture() IS
    'trigger: records INSERT, UPDATE, DELETE (AFTER ... FOR EACH ROW) and TRUNCATE (BEFORE or AFTER ... FOR EACH STATEMENT) of a permanent table as audit events';

-- The column policies of configure() can be given here too: they then apply before the
-- baseline records the rows, so a value they hide is never recorded.
CREATE FUNCTION audit_chain.track(
    target regclass,
    baseline boolean DEFAULT true,
    exclude text[] DEFAULT NULL,
    redact text[] DEFAULT NULL,
    hash text[] DEFAULT NULL,
    record text[] DEFAULT NULL)
    RETURNS boolean
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_track';
COMMENT ON FUNCTION audit_chain.track(regclass, boolean, text[], text[], text[], text[]) IS
    'starts auditing a table (and all its partitions), recording its current rows unless baseline is false, with the given column policies (as configure()); true if it was not tracked before';

CREATE FUNCTION audit_chain.untrack(target regclass) RETURNS boolean
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_untrack';
COMMENT ON FUNCTION audit_chain.untrack(regclass) IS
    'stops auditing a table; true if it was tracked';

-- DDL on tracked tables: new partitions get the TRUNCATE trigger too (row triggers are
-- cloned to new partitions by PostgreSQL itself), schema changes and renames are recorded
-- as events, a dropped tracked table leaves an event, triggers executing capture() are
-- checked when they are created, and ALTER EXTENSION audit_chain is recorded. Both event
-- triggers fire ALWAYS: session_replication_role = replica silences row triggers, not them.
CREATE FUNCTION audit_chain.on_ddl_command_end() RETURNS event_trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_on_ddl_command_end';
COMMENT ON FUNCTION audit_chain.on_ddl_command_end() IS
    'event trigger: extends tracking to new partitions, records schema and trigger changes of tracked tables and ALTER EXTENSION audit_chain, checks new capture triggers';

CREATE EVENT TRIGGER audit_chain_ddl_command_end ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'ALTER SCHEMA', 'ALTER TRIGGER', 'CREATE TRIGGER', 'ALTER EXTENSION')
    EXECUTE FUNCTION audit_chain.on_ddl_command_end();
ALTER EVENT TRIGGER audit_chain_ddl_command_end ENABLE ALWAYS;

CREATE FUNCTION audit_chain.on_sql_drop() RETURNS event_trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_on_sql_drop';
COMMENT ON FUNCTION audit_chain.on_sql_drop() IS 'event trigger: records the drop of a tracked table, of one of its partitions or of its capture triggers';

CREATE EVENT TRIGGER audit_chain_sql_drop ON sql_drop
    EXECUTE FUNCTION audit_chain.on_sql_drop();
ALTER EVENT TRIGGER audit_chain_sql_drop ENABLE ALWAYS;

CREATE FUNCTION audit_chain.configure(
    target regclass,
    exclude text[] DEFAULT NULL,
    redact text[] DEFAULT NULL,
    hash text[] DEFAULT NULL,
    record text[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_configure';
COMMENT ON FUNCTION audit_chain.configure(regclass, text[], text[], text[], text[]) IS
    'sets which columns of a tracked table are excluded, redacted, recorded as keyed hashes, or recorded despite a sensitive name';
