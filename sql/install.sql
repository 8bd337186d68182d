-- install: what CREATE EXTENSION audit_chain creates, who may use it, and that it can be
-- dropped and created again.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

SELECT extname, extversion, extrelocatable, extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'audit_chain';
SELECT audit_chain.version() = (SELECT extversion FROM pg_extension WHERE extname = 'audit_chain') AS version_matches;

-- Every member object of the extension (functions with their argument lists).
SELECT pg_describe_object(classid, objid, objsubid) AS member
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'audit_chain')
   AND deptype = 'e'
 ORDER BY 1;

-- Functions: full signatures with defaults, result types, volatility, strictness.
SELECT p.oid::regprocedure AS function,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       p.provolatile AS volatility,
       p.proisstrict AS strict,
       p.prosecdef AS security_definer,
       l.lanname AS language
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'audit_chain'::regnamespace
 ORDER BY p.proname, 2;

-- Tables and their columns.
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'audit_chain'::regnamespace AND c.relkind = 'r'
   AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.relname, a.attnum;

-- Indexes.
SELECT indexrelid::regclass AS index, indrelid::regclass AS tbl, pg_get_indexdef(indexrelid) AS definition
  FROM pg_index
 WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'audit_chain'::regnamespace)
 ORDER BY indexrelid::regclass::text;

-- Views and their columns.
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'audit_chain'::regnamespace AND c.relkind = 'v'
   AND a.attnum > 0
 ORDER BY c.relname, a.attnum;

-- The guards on the audit tables: BEFORE UPDATE OR DELETE and BEFORE TRUNCATE, per statement.
SELECT tgrelid::regclass AS tbl, tgname, pg_get_triggerdef(oid) AS definition, tgenabled
  FROM pg_trigger
 WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'audit_chain'::regnamespace)
 ORDER BY tgrelid::regclass::text, tgname;

-- The event triggers that follow DDL on tracked tables.
SELECT evtname, evtevent, evtfoid::regprocedure AS function, evttags, evtenabled
  FROM pg_event_trigger WHERE evtfoid::regprocedure::text LIKE 'audit_chain.%'
 ORDER BY evtname;

-- pg_dump keeps the audit trail: every table and sequence holding it is a configuration
-- relation of the extension, dumped without a filter.
SELECT c.relname, c.relkind, e.cond
  FROM pg_extension x,
       unnest(x.extconfig, x.extcondition) AS e(reloid, cond)
       JOIN pg_class c ON c.oid = e.reloid
 WHERE x.extname = 'audit_chain'
 ORDER BY c.relname;
-- Every table and sequence of the schema is registered.
SELECT c.relname AS not_dumped
  FROM pg_class c
 WHERE c.relnamespace = 'audit_chain'::regnamespace AND c.relkind IN ('r', 'S')
   AND NOT c.oid = ANY (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'audit_chain');

-- Roles: not able to log in, not superusers; admin includes reader.
SELECT rolname, rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolbypassrls
  FROM pg_roles WHERE rolname IN ('audit_chain_reader', 'audit_chain_admin') ORDER BY rolname;
SELECT pg_has_role('audit_chain_admin', 'audit_chain_reader', 'MEMBER') AS admin_is_reader,
       pg_has_role('audit_chain_reader', 'audit_chain_admin', 'MEMBER') AS reader_is_admin;

-- Table privileges of PUBLIC, reader and admin: SELECT only, for the two roles only.
SELECT c.relname,
       r.who,
       has_table_privilege(r.who, c.oid, 'SELECT') AS sel,
       has_table_privilege(r.who, c.oid, 'INSERT') AS ins,
       has_table_privilege(r.who, c.oid, 'UPDATE') AS upd,
       has_table_privilege(r.who, c.oid, 'DELETE') AS del,
       has_table_privilege(r.who, c.oid, 'TRUNCATE') AS trunc,
       has_table_privilege(r.who, c.oid, 'REFERENCES') AS refs,
       has_table_privilege(r.who, c.oid, 'TRIGGER') AS trig
  FROM pg_class c,
       (VALUES ('public'), ('audit_chain_reader'), ('audit_chain_admin')) AS r(who)
 WHERE c.relnamespace = 'audit_chain'::regnamespace AND c.relkind IN ('r', 'v')
 ORDER BY c.relname, r.who DESC;

-- Sequences: nobody but the owner.
SELECT c.relname, r.who,
       has_sequence_privilege(r.who, c.oid, 'USAGE') AS usage,
       has_sequence_privilege(r.who, c.oid, 'SELECT') AS sel,
       has_sequence_privilege(r.who, c.oid, 'UPDATE') AS upd
  FROM pg_class c,
       (VALUES ('public'), ('audit_chain_reader'), ('audit_chain_admin')) AS r(who)
 WHERE c.relnamespace = 'audit_chain'::regnamespace AND c.relkind = 'S'
 ORDER BY c.relname, r.who DESC;

-- Function privileges.
SELECT p.oid::regprocedure AS function, r.who,
       has_function_privilege(r.who, p.oid, 'EXECUTE') AS execute
  FROM pg_proc p,
       (VALUES ('public'), ('audit_chain_reader'), ('audit_chain_admin')) AS r(who)
 WHERE p.pronamespace = 'audit_chain'::regnamespace
 ORDER BY p.oid::regprocedure::text, r.who DESC;

-- The schema can be used by everyone, created in by nobody but its owner.
SELECT r.who,
       has_schema_privilege(r.who, 'audit_chain', 'USAGE') AS usage,
       has_schema_privilege(r.who, 'audit_chain', 'CREATE') AS "create"
  FROM (VALUES ('public'), ('audit_chain_reader'), ('audit_chain_admin')) AS r(who)
 ORDER BY r.who DESC;

-- A fresh installation has an empty trail and no ledger identity yet.
SELECT (SELECT count(*) FROM audit_chain.events) AS events,
       (SELECT count(*) FROM audit_chain.ledger) AS ledger_rows,
       (SELECT count(*) FROM audit_chain.contexts) AS contexts,
       (SELECT count(*) FROM audit_chain.resources) AS resources,
       (SELECT count(*) FROM audit_chain.tracked_tables) AS tracked,
       (SELECT count(*) FROM audit_chain.checkpoints) AS checkpoints;

-- A tracked table's triggers depend on the extension: DROP EXTENSION without CASCADE
-- refuses, with CASCADE it removes them and leaves the table and its rows.
CREATE TABLE install_t (id int PRIMARY KEY, v text);
SELECT audit_chain.track('install_t');
INSERT INTO install_t VALUES (1, 'one');
DROP EXTENSION audit_chain;
\echo :LAST_ERROR_SQLSTATE
SET client_min_messages = warning;
DROP EXTENSION audit_chain CASCADE;
RESET client_min_messages;
-- The schema named in the control file is created by CREATE EXTENSION but is not a member
-- of it (PostgreSQL keeps it); nothing is left in it.
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'audit_chain'::regnamespace) AS relations_left,
       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'audit_chain'::regnamespace) AS functions_left,
       (SELECT count(*) FROM pg_type WHERE typnamespace = 'audit_chain'::regnamespace) AS types_left;
SELECT count(*) AS event_triggers_left FROM pg_event_trigger WHERE evtname LIKE 'audit_chain%';
SELECT tgname FROM pg_trigger WHERE tgrelid = 'install_t'::regclass;
SELECT * FROM install_t;
-- Roles are cluster-wide and survive the extension.
SELECT rolname FROM pg_roles WHERE rolname IN ('audit_chain_reader', 'audit_chain_admin') ORDER BY 1;
-- Writing the table without the extension is not audited and does not fail.
INSERT INTO install_t VALUES (2, 'two');

-- Created again (the roles already exist): a new, empty trail that works.
CREATE EXTENSION audit_chain;
SELECT count(*) AS events FROM audit_chain.events;
SELECT audit_chain.track('install_t');
UPDATE install_t SET v = 'uno' WHERE id = 1;
SELECT action, resource_type, resource_id, old_data, new_data
  FROM audit_chain.audit_events ORDER BY commit_seq, seq;
SELECT valid, events_checked FROM audit_chain.verify();
SELECT pg_has_role('audit_chain_admin', 'audit_chain_reader', 'MEMBER') AS admin_is_reader;

-- A second CREATE EXTENSION fails; IF NOT EXISTS does nothing.
CREATE EXTENSION audit_chain;
\echo :LAST_ERROR_SQLSTATE
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS audit_chain;
RESET client_min_messages;
-- The extension lives in its own schema and cannot be moved.
ALTER EXTENSION audit_chain SET SCHEMA public;
\echo :LAST_ERROR_SQLSTATE

DROP TABLE install_t;
SELECT count(*) AS triggers_left FROM pg_trigger
 WHERE tgname LIKE 'audit_chain%' AND tgrelid NOT IN (SELECT oid FROM pg_class WHERE relnamespace = 'audit_chain'::regnamespace);
