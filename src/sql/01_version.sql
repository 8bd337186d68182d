-- src/sql/01_version.sql: the version of the loaded library.
CREATE FUNCTION audit_chain.version() RETURNS text
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'audit_chain_version';
COMMENT ON FUNCTION audit_chain.version() IS 'version of the audit_chain library';
