-- encoding: the extension installs only in a UTF8 database, whose bytes are the UTF-8 the
-- hash specification is written for.
SET client_min_messages = warning;
DROP DATABASE IF EXISTS audit_chain_latin1;
RESET client_min_messages;
SELECT current_database() AS regress_db \gset
CREATE DATABASE audit_chain_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c audit_chain_latin1
SELECT pg_catalog.getdatabaseencoding();
\set SHOW_CONTEXT never
CREATE EXTENSION audit_chain;
\echo :LAST_ERROR_SQLSTATE
\set SHOW_CONTEXT errors
SELECT count(*) AS audit_chain_installed FROM pg_extension WHERE extname = 'audit_chain';
SELECT count(*) AS leftover_schema FROM pg_namespace WHERE nspname = 'audit_chain';
\c :regress_db
SELECT pg_catalog.getdatabaseencoding();
DROP DATABASE audit_chain_latin1;
