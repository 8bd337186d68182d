-- hostile_names: identifiers that need quoting, or that look like SQL, are handled as data;
-- objects that shadow built-in functions and operators through search_path change nothing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE SCHEMA "Evil ""Schema"" ; DROP SCHEMA public CASCADE;--";
CREATE TABLE "Evil ""Schema"" ; DROP SCHEMA public CASCADE;--"."Robert'); DROP TABLE x;--" (
    "id" int PRIMARY KEY,
    "Col ""quoted""" text,
    "with.dot" text,
    "semi;colon" text,
    "Ünïcödé 表" text,
    "MixedCase" text,
    " spaces " text,
    "back\slash" text,
    "'single'" text,
    "$1" text,
    "select" text
);
CREATE SCHEMA "c.d";
CREATE TABLE "c.d"."a.b" ("key.part" text, "x""y" int, v text, PRIMARY KEY ("x""y", "key.part"));
CREATE TABLE "MixedCase" ("Id" int PRIMARY KEY, "Value" text);
CREATE TABLE "Tábla 表" (ид int PRIMARY KEY, "значение" text);

-- The tables by OID, however they are named.
CREATE TEMP TABLE hn_tables AS
SELECT c.oid AS relid, n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) AS quoted
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname IN ('Robert''); DROP TABLE x;--', 'a.b', 'MixedCase', 'Tábla 表') AND c.relkind = 'r';
SELECT quoted FROM hn_tables ORDER BY quoted;

-- track() takes the name as a regclass, in any of its spellings.
SELECT audit_chain.track(relid::regclass) FROM hn_tables WHERE relname <> 'MixedCase' ORDER BY quoted;
SELECT audit_chain.track('"MixedCase"');
SELECT audit_chain.track('public."MixedCase"');
SELECT t.quoted, count(g.tgname) AS triggers
  FROM hn_tables t LEFT JOIN pg_trigger g ON g.tgrelid = t.relid AND g.tgname LIKE 'audit_chain%'
 GROUP BY t.quoted ORDER BY t.quoted;
-- The registry and the events carry the quoted, schema-qualified name: it reads back as
-- the same table.
SELECT r.resource_type, r.resource_type = t.quoted AS quoted_correctly,
       r.resource_type::regclass = t.relid AS names_the_table
  FROM audit_chain.tracked_tables r JOIN hn_tables t ON t.relid = r.relid ORDER BY r.resource_type;

INSERT INTO "Evil ""Schema"" ; DROP SCHEMA public CASCADE;--"."Robert'); DROP TABLE x;--"
VALUES (1, 'q', 'd', 's', 'u', 'm', 'sp', 'b', 'si', 'p', 'sel');
UPDATE "Evil ""Schema"" ; DROP SCHEMA public CASCADE;--"."Robert'); DROP TABLE x;--"
   SET "Col ""quoted""" = 'q2', "Ünïcödé 表" = 'ü2', "$1" = NULL;
DELETE FROM "Evil ""Schema"" ; DROP SCHEMA public CASCADE;--"."Robert'); DROP TABLE x;--";
INSERT INTO "c.d"."a.b" VALUES ('k"1', 7, 'x');
INSERT INTO "MixedCase" VALUES (1, 'mixed');
INSERT INTO "Tábla 表" VALUES (1, 'да');
TRUNCATE "Evil ""Schema"" ; DROP SCHEMA public CASCADE;--"."Robert'); DROP TABLE x;--";
SELECT action, resource_type, resource_id, old_data, new_data
  FROM audit_chain.audit_events WHERE action <> 'TRACK' ORDER BY commit_seq, seq;
-- Column names are the JSON keys, exactly.
SELECT array_agg(k ORDER BY k) = (SELECT array_agg(attname::text ORDER BY attname::text) FROM pg_attribute
                                   WHERE attrelid = (SELECT relid FROM hn_tables WHERE relname LIKE 'Robert%')
                                     AND attnum > 0 AND NOT attisdropped) AS keys_are_column_names
  FROM audit_chain.audit_events, jsonb_object_keys(new_data) AS k
 WHERE action = 'INSERT' AND resource_type LIKE '"Evil%';
-- Nothing was executed from the names: every schema and table is still there.
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname IN ('public', 'Evil "Schema" ; DROP SCHEMA public CASCADE;--', 'c.d');
SELECT count(*) AS tables FROM hn_tables t WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = t.relid);

-- A search_path whose first schema shadows pg_catalog functions and operators, each of
-- which fails loudly if it is ever called.
CREATE SCHEMA hn_shadow;
CREATE FUNCTION hn_shadow.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hn_shadow.now() was called'; END $$;
CREATE FUNCTION hn_shadow.quote_ident(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hn_shadow.quote_ident() was called'; END $$;
CREATE FUNCTION hn_shadow.encode(bytea, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hn_shadow.encode() was called'; END $$;
CREATE FUNCTION hn_shadow.jsonb_build_object(text, anyelement) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hn_shadow.jsonb_build_object() was called'; END $$;
CREATE FUNCTION hn_shadow.pg_event_trigger_ddl_commands() RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hn_shadow.pg_event_trigger_ddl_commands() was called'; END $$;
CREATE FUNCTION hn_shadow.eq_oid(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'a shadowing = operator on oid was used'; END $$;
CREATE FUNCTION hn_shadow.eq_int8(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'a shadowing = operator on bigint was used'; END $$;
CREATE FUNCTION hn_shadow.eq_int4(integer, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'a shadowing = operator on integer was used'; END $$;
CREATE FUNCTION hn_shadow.eq_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'a shadowing = operator on text was used'; END $$;
CREATE FUNCTION hn_shadow.eq_regclass(regclass, regclass) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'a shadowing = operator on regclass was used'; END $$;
CREATE OPERATOR hn_shadow.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = hn_shadow.eq_oid);
CREATE OPERATOR hn_shadow.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hn_shadow.eq_int8);
CREATE OPERATOR hn_shadow.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = hn_shadow.eq_int4);
CREATE OPERATOR hn_shadow.= (LEFTARG = text, RIGHTARG = text, FUNCTION = hn_shadow.eq_text);
CREATE OPERATOR hn_shadow.= (LEFTARG = regclass, RIGHTARG = regclass, FUNCTION = hn_shadow.eq_regclass);
-- Tables named like the extension's own.
CREATE TABLE hn_shadow.events (x int);
CREATE TABLE hn_shadow.tracked_tables (relid int);
CREATE TABLE hn_shadow.contexts (x int);
CREATE TABLE hn_shadow.ledger (x int);
CREATE TABLE public.hn_target (id int PRIMARY KEY, v text, at timestamptz, r tstzrange);
CREATE TABLE public.hn_part (id int, k text, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
CREATE TABLE public.hn_part_a PARTITION OF public.hn_part FOR VALUES IN ('a');
INSERT INTO public.hn_target VALUES (1, 'existing row', '2026-01-01 00:00:00+00', '[2026-01-01 00:00:00+00,)');
SELECT max(commit_seq) AS commit_seq_before FROM audit_chain.events \gset

SET search_path = hn_shadow, pg_catalog, public;
-- The shadowing objects are in force for this session's own queries...
SELECT now();
SELECT 1::bigint = 1::bigint;
-- ... but not inside audit_chain.
SELECT audit_chain.track('public.hn_target');
SELECT audit_chain.track('public.hn_part');
INSERT INTO public.hn_target VALUES (2, 'two', '2026-02-02 02:02:02+02', '[2026-02-02 00:00:00+00,2026-03-01 00:00:00+00)');
UPDATE public.hn_target SET v = 'two again' WHERE id OPERATOR(pg_catalog.=) 2;
DELETE FROM public.hn_target WHERE id OPERATOR(pg_catalog.=) 1;
INSERT INTO public.hn_part VALUES (1, 'a');
CREATE TABLE public.hn_part_b PARTITION OF public.hn_part FOR VALUES IN ('b');
INSERT INTO public.hn_part VALUES (2, 'b');
ALTER TABLE public.hn_target ADD COLUMN extra int;
TRUNCATE public.hn_part_b;
TRUNCATE public.hn_target;
SELECT valid, events_checked OPERATOR(pg_catalog.>) 0 AS checked FROM audit_chain.verify();
SELECT valid FROM audit_chain.verify(audit_chain.digest());
SELECT valid FROM audit_chain.verify(audit_chain.digest(), true);
SELECT valid, checkpoint_id IS NOT NULL AS recorded FROM audit_chain.checkpoint();
SELECT pg_catalog.count(*) AS visible_events FROM audit_chain.audit_events;
SELECT audit_chain.untrack('public.hn_part');
RESET search_path;

-- What was recorded under the shadowing search_path is what would have been recorded
-- without it.
SELECT action, resource_type, resource_id, old_data, new_data
  FROM audit_chain.audit_events
 WHERE commit_seq > :commit_seq_before AND action <> 'ALTER TABLE'
 ORDER BY commit_seq, seq;
SELECT relid::regclass, resource_type FROM audit_chain.tracked_tables WHERE resource_type LIKE 'public.hn%';
SELECT count(*) AS rows_in_shadow_tables
  FROM (SELECT 1 FROM hn_shadow.events UNION ALL SELECT 1 FROM hn_shadow.tracked_tables
        UNION ALL SELECT 1 FROM hn_shadow.contexts UNION ALL SELECT 1 FROM hn_shadow.ledger) t;
SELECT valid FROM audit_chain.verify();

-- DDL on a tracked table with hostile schema, table, partition and trigger names, under the
-- shadowing search_path: each event names them exactly.
CREATE SCHEMA "Sch ""2""; DROP SCHEMA public;--";
CREATE TABLE "Sch ""2""; DROP SCHEMA public;--"."Pärt ""T""');--" (id int, "K'ey" text, PRIMARY KEY (id, "K'ey"))
    PARTITION BY LIST ("K'ey");
CREATE TABLE "Sch ""2""; DROP SCHEMA public;--"."p""1 表" PARTITION OF "Sch ""2""; DROP SCHEMA public;--"."Pärt ""T""');--"
    FOR VALUES IN ('a');
CREATE FUNCTION hn_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
SET search_path = hn_shadow, pg_catalog, public;
SELECT audit_chain.track('"Sch ""2""; DROP SCHEMA public;--"."Pärt ""T""'');--"');
ALTER TRIGGER audit_chain_capture ON "Sch ""2""; DROP SCHEMA public;--"."Pärt ""T""');--"
    RENAME TO "Ünï ""cap""; DROP TABLE x;--";
ALTER TABLE "Sch ""2""; DROP SCHEMA public;--"."p""1 表" DISABLE TRIGGER "Ünï ""cap""; DROP TABLE x;--";
ALTER TABLE "Sch ""2""; DROP SCHEMA public;--"."p""1 表" ENABLE TRIGGER "Ünï ""cap""; DROP TABLE x;--";
CREATE TABLE "Sch ""2""; DROP SCHEMA public;--"."p""2 ""表""" PARTITION OF "Sch ""2""; DROP SCHEMA public;--"."Pärt ""T""');--"
    FOR VALUES IN ('b');
INSERT INTO "Sch ""2""; DROP SCHEMA public;--"."Pärt ""T""');--" VALUES (1, 'a'), (2, 'b');
DROP TABLE "Sch ""2""; DROP SCHEMA public;--"."p""2 ""表""";
ALTER TABLE "Sch ""2""; DROP SCHEMA public;--"."Pärt ""T""');--" RENAME TO "Pärt 2 ""T""";
CREATE OR REPLACE TRIGGER "Ünï ""cap""; DROP TABLE x;--" AFTER INSERT OR UPDATE OR DELETE
    ON "Sch ""2""; DROP SCHEMA public;--"."Pärt 2 ""T""" FOR EACH ROW EXECUTE FUNCTION public.hn_noop();
SELECT audit_chain.track('"Sch ""2""; DROP SCHEMA public;--"."Pärt 2 ""T"""') AS resumed;
ALTER SCHEMA "Sch ""2""; DROP SCHEMA public;--" RENAME TO "Sch ""3"" 表";
ALTER TRIGGER audit_chain_capture ON "Sch ""3"" 表"."Pärt 2 ""T""" RENAME TO "Dröp ""me""; --";
DROP TRIGGER "Dröp ""me""; --" ON "Sch ""3"" 表"."Pärt 2 ""T""";
DROP TABLE "Sch ""3"" 表"."Pärt 2 ""T""";
RESET search_path;
SELECT action, resource_type, details - 'columns' AS details FROM audit_chain.audit_events
 WHERE resource_type LIKE '"Sch%' AND action NOT IN ('BASELINE', 'INSERT') ORDER BY commit_seq, seq;
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname IN ('public', 'Sch "3" 表');
DROP SCHEMA "Sch ""3"" 表";
DROP FUNCTION hn_noop();

-- untrack() of the hostile names.
SELECT audit_chain.untrack(relid::regclass) FROM hn_tables ORDER BY quoted;
SELECT count(*) AS registered FROM audit_chain.tracked_tables WHERE relid IN (SELECT relid FROM hn_tables);
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid IN (SELECT relid FROM hn_tables);
SELECT action, resource_type FROM audit_chain.audit_events WHERE action = 'UNTRACK' ORDER BY commit_seq, seq;

SET client_min_messages = warning;
DROP TABLE hn_tables;
DROP TABLE public.hn_target, public.hn_part, public."MixedCase", public."Tábla 表";
DROP SCHEMA hn_shadow CASCADE;
DROP SCHEMA "Evil ""Schema"" ; DROP SCHEMA public CASCADE;--" CASCADE;
DROP SCHEMA "c.d" CASCADE;
RESET client_min_messages;
