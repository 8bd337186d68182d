-- src/sql/40_verify.sql: verification and digests.

CREATE FUNCTION audit_chain.verify(
    chain integer DEFAULT NULL,
    from_seq bigint DEFAULT 1,
    to_seq bigint DEFAULT NULL,
    OUT valid boolean,
    OUT events_checked bigint,
    OUT chain_id integer,
    OUT first_invalid_seq bigint,
    OUT reason text)
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'audit_chain_verify';
COMMENT ON FUNCTION audit_chain.verify(integer, bigint, bigint) IS
    'recomputes every hash of every chain (or of one chain, optionally a range of positions) and reports the first damage';

CREATE FUNCTION audit_chain.verify(
    digest jsonb,
    incremental boolean DEFAULT false,
    OUT valid boolean,
    OUT events_checked bigint,
    OUT chain_id integer,
    OUT first_invalid_seq bigint,
    OUT reason text)
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'audit_chain_verify_digest';
COMMENT ON FUNCTION audit_chain.verify(jsonb, boolean) IS
    'verifies the chains and that they extend a digest taken earlier (incremental: only what follows it)';

CREATE FUNCTION audit_chain.digest() RETURNS jsonb
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'audit_chain_digest';
COMMENT ON FUNCTION audit_chain.digest() IS
    'the current head of every chain, bound by one hash: keep it outside the database';

CREATE FUNCTION audit_chain.checkpoint(
    OUT valid boolean,
    OUT events_checked bigint,
    OUT chain_id integer,
    OUT first_invalid_seq bigint,
    OUT reason text,
    OUT checkpoint_id bigint,
    OUT digest jsonb)
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'audit_chain_checkpoint';
COMMENT ON FUNCTION audit_chain.checkpoint() IS
    'verifies what follows the last checkpoint and, if valid, records a new checkpoint';
