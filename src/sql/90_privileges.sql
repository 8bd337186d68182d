-- src/sql/90_privileges.sql: who may read and administer the audit trail.
--
-- audit_chain_reader: read events, verify, digests, time travel and reports.
-- audit_chain_admin:  reader, plus tracking any table and administrative functions.
-- Roles are cluster-wide and survive DROP EXTENSION; they are created only if missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'audit_chain_reader') THEN
        CREATE ROLE audit_chain_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'audit_chain_admin') THEN
        CREATE ROLE audit_chain_admin NOLOGIN;
    END IF;
END
$$;
GRANT audit_chain_reader TO audit_chain_admin;

-- Nothing by default: application roles get no privilege on the audit tables at all.
REVOKE ALL ON ALL TABLES IN SCHEMA audit_chain FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA audit_chain FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA audit_chain FROM PUBLIC;
GRANT USAGE ON SCHEMA audit_chain TO PUBLIC;

-- Table owners may track their own tables (track() checks ownership or audit_chain_admin).
GRANT EXECUTE ON FUNCTION audit_chain.capture() TO PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain.track(regclass, boolean, text[], text[], text[], text[]) TO PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain.untrack(regclass) TO PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain.configure(regclass, text[], text[], text[], text[]) TO PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain.version() TO PUBLIC;

GRANT SELECT ON audit_chain.audit_events, audit_chain.events_export, audit_chain.events, audit_chain.contexts, audit_chain.resources,
    audit_chain.ledger, audit_chain.tracked_tables, audit_chain.checkpoints TO audit_chain_reader;
GRANT EXECUTE ON FUNCTION audit_chain.verify(integer, bigint, bigint), audit_chain.verify(jsonb, boolean),
    audit_chain.digest(), audit_chain.checkpoint() TO audit_chain_reader;
GRANT EXECUTE ON FUNCTION audit_chain.row_at(regclass, jsonb, timestamptz, boolean),
    audit_chain.row_at(anyelement, jsonb, timestamptz), audit_chain.table_at(regclass, timestamptz, boolean),
    audit_chain.table_at(anyelement, timestamptz), audit_chain.history(regclass, jsonb),
    audit_chain.table_of_row_type(anyelement), audit_chain.row_at(text, jsonb, timestamptz, boolean),
    audit_chain.table_at(text, timestamptz, boolean) TO audit_chain_reader;
-- revert() runs as the caller: applying needs the caller's own privileges on the table.
GRANT EXECUTE ON FUNCTION audit_chain.revert(xid8, boolean), audit_chain.revert_plan(xid8) TO audit_chain_admin;
-- Application events are attributed to the real database user; any role may record them.
GRANT EXECUTE ON FUNCTION audit_chain.set_context(text, text, text, text, text, text, text, boolean),
    audit_chain.log_event(text, text, text, text, jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION audit_chain.erase(regclass, jsonb), audit_chain.erase_value(text, regclass),
    audit_chain.keyed_hash(text) TO audit_chain_admin;
GRANT EXECUTE ON FUNCTION audit_chain.access_report(text, text, timestamptz, timestamptz),
    audit_chain.privileged_action_report(timestamptz, timestamptz),
    audit_chain.failed_access_report(timestamptz, timestamptz, integer),
    audit_chain.actor_activity(text, timestamptz, timestamptz),
    audit_chain.daily_summary(date),
    audit_chain.suspicious_activity(timestamptz, timestamptz, integer, interval, numeric) TO audit_chain_reader;
