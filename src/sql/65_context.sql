-- src/sql/65_context.sql: who/where/why of the current transaction, and application events.

CREATE FUNCTION audit_chain.set_context(
    actor_id text DEFAULT NULL,
    actor_type text DEFAULT NULL,
    client_addr text DEFAULT NULL,
    user_agent text DEFAULT NULL,
    request_id text DEFAULT NULL,
    session_id text DEFAULT NULL,
    reason text DEFAULT NULL,
    is_local boolean DEFAULT true)
    RETURNS void
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'audit_chain_set_context';
COMMENT ON FUNCTION audit_chain.set_context(text, text, text, text, text, text, text, boolean) IS
    'sets the audit context settings that are not NULL, for the transaction (is_local) or the session';

CREATE FUNCTION audit_chain.log_event(
    action text,
    resource_type text,
    resource_id text,
    outcome text DEFAULT 'success',
    details jsonb DEFAULT '{}')
    RETURNS uuid
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'audit_chain_log_event';
COMMENT ON FUNCTION audit_chain.log_event(text, text, text, text, jsonb) IS
    'appends an application event (login, export, denial, ...) to the audit trail; it commits with the transaction';
