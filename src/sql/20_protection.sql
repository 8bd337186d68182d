-- src/sql/20_protection.sql: the audit tables are append-only, and pg_dump keeps them.

CREATE FUNCTION audit_chain.refuse_change() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'audit_chain_refuse_change';
COMMENT ON FUNCTION audit_chain.refuse_change() IS 'trigger: refuses UPDATE, DELETE and TRUNCATE of the audit tables';

CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_chain.events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_chain.events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_chain.contexts
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_chain.contexts
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_chain.resources
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_chain.resources
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_chain.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_chain.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
-- The registry changes only through track(), untrack(), configure() and DDL handling.
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_chain.tracked_tables
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_chain.tracked_tables
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_chain.checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_chain.checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain.refuse_change();

-- Without these, pg_dump would silently leave the audit trail out of a dump.
SELECT pg_catalog.pg_extension_config_dump('audit_chain.ledger', '');
SELECT pg_catalog.pg_extension_config_dump('audit_chain.contexts', '');
SELECT pg_catalog.pg_extension_config_dump('audit_chain.resources', '');
SELECT pg_catalog.pg_extension_config_dump('audit_chain.events', '');
SELECT pg_catalog.pg_extension_config_dump('audit_chain.tracked_tables', '');
SELECT pg_catalog.pg_extension_config_dump('audit_chain.checkpoints', '');
SELECT pg_catalog.pg_extension_config_dump('audit_chain.context_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('audit_chain.resource_ref_seq', '');
SELECT pg_catalog.pg_extension_config_dump('audit_chain.commit_seq', '');
SELECT pg_catalog.pg_extension_config_dump('audit_chain.checkpoints_checkpoint_id_seq', '');
