-- src/sql/00_schema.sql: the schema and the ledger identity.
--
-- CREATE EXTENSION creates the schema audit_chain (see audit_chain.control); every object
-- below is schema-qualified and every function pins its search_path, so nothing here
-- depends on the installing session's search_path.

-- Hashes are specified over UTF-8 bytes and computed over the database's own bytes, so
-- only a UTF8 database can produce events that verify as specified outside PostgreSQL.
DO $encoding$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION 'audit_chain requires a database with encoding UTF8'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = pg_catalog.format('This database has encoding %s.', pg_catalog.getdatabaseencoding()),
                  HINT = 'Create the database with ENCODING ''UTF8'' (TEMPLATE template0 if the default template differs).';
    END IF;
END
$encoding$;

COMMENT ON SCHEMA audit_chain IS 'audit_chain: tamper-evident audit trail (events, hash chains, time travel, reports)';

-- The identity of this audit trail. Its ledger_id is hashed into the start of every chain,
-- so chains cannot be moved between installations unnoticed. The row is created with the
-- first event (not by this script) so that pg_dump/restore carries the original identity.
CREATE TABLE audit_chain.ledger (
    ledger_id   uuid        NOT NULL PRIMARY KEY,
    created_at  timestamptz NOT NULL,
    hash_format integer     NOT NULL CHECK (hash_format = 2)
);
COMMENT ON TABLE audit_chain.ledger IS 'identity of this audit trail; one row, created with the first event';
