-- value_types: how column values become JSON, and that the result does not depend on the
-- session's settings.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS audit_chain CASCADE;
CREATE EXTENSION audit_chain;
RESET client_min_messages;

CREATE TYPE vt_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE vt_pair AS (n numeric, t timestamptz, label text);
CREATE DOMAIN vt_positive AS numeric CHECK (VALUE > 0);
CREATE DOMAIN vt_code AS varchar(8);
CREATE DOMAIN vt_stamp AS timestamptz;
CREATE TABLE vt_values (
    id            int PRIMARY KEY,
    c_int         int,
    c_small       smallint,
    c_big         bigint,
    c_num         numeric,
    c_num_tiny    numeric,
    c_num_neg     numeric(10, 4),
    c_num_nan     numeric,
    c_num_inf     numeric,
    c_f4          real,
    c_f4_third    real,
    c_f8          double precision,
    c_f8_third    double precision,
    c_f8_neg_zero double precision,
    c_f8_nan      double precision,
    c_f8_inf      double precision,
    c_f8_ninf     double precision,
    c_f4_inf      real,
    c_f8_big      double precision,
    c_f8_tiny     double precision,
    c_f4_max      real,
    c_bool        boolean,
    c_text        text,
    c_varchar     varchar(10),
    c_char        char(5),
    c_name        name,
    c_uuid        uuid,
    c_inet        inet,
    c_cidr        cidr,
    c_macaddr     macaddr,
    c_bytea       bytea,
    c_bytea_empty bytea,
    c_date        date,
    c_date_inf    date,
    c_ts          timestamp,
    c_tstz        timestamptz,
    c_tstz_bc     timestamptz,
    c_tstz_inf    timestamptz,
    c_time        time,
    c_timetz      timetz,
    c_interval    interval,
    c_interval_neg interval,
    c_int_arr     int[],
    c_text_arr    text[],
    c_2d          int[],
    c_empty_arr   int[],
    c_bounds_arr  int[],
    c_f_arr       float8[],
    c_tstz_arr    timestamptz[],
    c_composite   vt_pair,
    c_comp_arr    vt_pair[],
    c_domain      vt_positive,
    c_domain_text vt_code,
    c_domain_ts   vt_stamp,
    c_enum        vt_mood,
    c_enum_arr    vt_mood[],
    c_json        json,
    c_jsonb       jsonb,
    c_jsonb_str   jsonb,
    c_money       money,
    c_int4range   int4range,
    c_numrange    numrange,
    c_tstzrange   tstzrange,
    c_daterange   daterange,
    c_point       point,
    c_varbit      bit varying,
    c_null        text
);
SELECT audit_chain.track('vt_values');

-- Row 1 is written under the regression suite's settings (PST8PDT, Postgres/MDY dates).
INSERT INTO vt_values VALUES (
    1,
    42, -7, 9223372036854775807,
    1.50, 0.00000000000000000001, -12.3400, 'NaN', 'Infinity',
    0.1, 1.0 / 3, 0.1, 1.0 / 3, '-0', 'NaN', 'Infinity', '-Infinity', '-Infinity',
    1e300, 5e-324, 3.4028235e38,
    true,
    E'quote " apostrophe '' backslash \\ slash / newline \n tab \t cr \r bell \x07 accents \u00e9\u00fc snowman \u2603 emoji \U0001F600 cjk \u8868',
    E'v\u00e4rchar', 'ab', 'a name',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
    '\x00ff10', '',
    '2026-01-31', 'infinity',
    '2026-01-31 10:20:30.123456', '2026-01-31 10:20:30.5+01', '0044-03-15 12:00:00+00 BC', '-infinity',
    '10:20:30.25', '10:20:30+05:30',
    '1 year 2 months 3 days 04:05:06.5', '-1 days +02:00:00.000001',
    '{1,NULL,3}', '{"a","b c",NULL,"d\"e","NULL"}', '{{1,2},{3,4}}', '{}', '[0:2]={7,8,9}',
    '{0.1,1.5e10,NaN,-Infinity}', '{"2026-06-01 00:00:00+00","2026-12-01 12:00:00+02"}',
    ROW(1.50, '2026-01-31 23:30:00-03', 'pair'),
    ARRAY[ROW(2, NULL, 'x')::vt_pair, NULL],
    2.500, 'code', '2026-02-01 00:00:00+00',
    'happy', '{sad,happy}',
    '{"b": 1, "a": [1, 2.50, "x"], "b": 2, "c": {"z": null}}',
    '{"nested": {"deep": [1, {"x": null, "y": false}], "num": 1.0}, "s": "\u00e9"}',
    '"just a string"',
    1234.56,
    '[1,10)', '(1.5,2.50]', '[2026-01-01 10:00:00+00,2026-01-02 10:00:00+00)', '[2026-01-01,2026-02-01)',
    '(1.5,0.1)', B'10110',
    NULL
);

SELECT jsonb_pretty(new_data - ARRAY['c_f8_big', 'c_f8_tiny', 'c_f4_max', 'c_text']) AS new_data
  FROM audit_chain.audit_events WHERE action = 'INSERT' AND resource_id = '1';

-- JSON types are kept: numbers stay numbers (scale included), booleans booleans, NULL null.
SELECT key, jsonb_typeof(value) AS json_type
  FROM audit_chain.audit_events, jsonb_each(new_data)
 WHERE action = 'INSERT' AND resource_id = '1'
 ORDER BY key;

-- Floats in their shortest exact form: 1e300 is exactly 1 followed by 300 zeros,
-- 5e-324 is the smallest double, a real keeps only the digits a real has.
SELECT (new_data->'c_f8_big')::numeric = 1e300 AS f8_big_exact,
       length(new_data->>'c_f8_big') AS f8_big_digits,
       (new_data->'c_f8_tiny')::numeric = 5e-324 AS f8_tiny_exact,
       (new_data->'c_f4_max')::numeric = 340282350000000000000000000000000000000 AS f4_max_shortest
  FROM audit_chain.audit_events WHERE action = 'INSERT' AND resource_id = '1';

-- Text arrives unchanged, whatever it contains.
SELECT new_data->>'c_text' = c_text AS text_unchanged,
       new_data->'c_text' = to_jsonb(c_text) AS same_as_to_jsonb,
       length(new_data->>'c_text') AS chars
  FROM audit_chain.audit_events, vt_values
 WHERE action = 'INSERT' AND resource_id = '1' AND vt_values.id = 1;

-- Row 2: the same values, written under entirely different session settings. Copy the
-- row first (in a table that is not tracked), so that no literal is parsed differently.
CREATE TABLE vt_source AS SELECT * FROM vt_values WHERE id = 1;
UPDATE vt_source SET id = 2;
-- Also a table keyed by a timestamptz: its resource_id must not depend on the session.
CREATE TABLE vt_keyed (at timestamptz PRIMARY KEY, amount float8, span interval);
SELECT audit_chain.track('vt_keyed');
INSERT INTO vt_keyed VALUES ('2026-03-01 12:00:00+00', 0.1, '36 hours');
DELETE FROM vt_keyed;

CREATE SCHEMA vt_elsewhere;
SET TimeZone = 'Asia/Kathmandu';
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'postgres_verbose';
SET extra_float_digits = -3;
SET bytea_output = 'escape';
SET search_path = vt_elsewhere;
SET client_encoding = 'LATIN1';
INSERT INTO public.vt_values SELECT * FROM public.vt_source;
INSERT INTO public.vt_keyed VALUES ('2026-03-01 12:00:00+00', 0.1, '36 hours');
DELETE FROM public.vt_keyed;
-- The settings of the session are untouched by the capture.
SELECT current_setting('TimeZone') AS tz, current_setting('DateStyle') AS datestyle,
       current_setting('IntervalStyle') AS intervalstyle, current_setting('extra_float_digits') AS efd,
       current_setting('bytea_output') AS bytea_output, current_setting('search_path') AS search_path,
       current_setting('client_encoding') AS client_encoding;
RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
RESET extra_float_digits;
RESET bytea_output;
RESET search_path;
RESET client_encoding;

-- Identical JSON, byte for byte (compared as text, so 1.50 and 1.5 would differ).
SELECT (a.new_data - 'id')::text = (b.new_data - 'id')::text AS identical_json,
       a.new_data - 'id' = b.new_data - 'id' AS equal_jsonb,
       (SELECT count(*) FROM jsonb_object_keys(b.new_data)) AS columns
  FROM audit_chain.audit_events a, audit_chain.audit_events b
 WHERE a.action = 'INSERT' AND a.resource_id = '1' AND a.resource_type = 'public.vt_values'
   AND b.action = 'INSERT' AND b.resource_id = '2' AND b.resource_type = 'public.vt_values';
-- Any difference, column by column (none expected).
SELECT a.key, a.value AS default_settings, b.value AS other_settings
  FROM audit_chain.audit_events ea, jsonb_each(ea.new_data) a,
       audit_chain.audit_events eb, jsonb_each(eb.new_data) b
 WHERE ea.action = 'INSERT' AND ea.resource_id = '1' AND ea.resource_type = 'public.vt_values'
   AND eb.action = 'INSERT' AND eb.resource_id = '2' AND eb.resource_type = 'public.vt_values'
   AND a.key = b.key AND a.key <> 'id' AND a.value::text <> b.value::text;
SELECT action, resource_id, coalesce(new_data, old_data) AS data
  FROM audit_chain.audit_events WHERE resource_type = 'public.vt_keyed' AND action <> 'TRACK'
 ORDER BY commit_seq, seq;

-- UPDATE under other settings: old and new values are session independent too.
UPDATE vt_values SET c_tstz = '2027-07-07 07:07:07+07', c_interval = '90 minutes', c_f8 = 2.5e-5,
                     c_bytea = '\xdeadbeef', c_tstzrange = '[2027-01-01 00:00:00+00,)', c_money = -0.5
 WHERE id = 1;
SET TimeZone = 'Pacific/Chatham';
SET DateStyle = 'German';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = 0;
SET bytea_output = 'escape';
SET search_path = vt_elsewhere;
UPDATE public.vt_values SET c_tstz = '2027-07-07 07:07:07+07', c_interval = '90 minutes', c_f8 = 2.5e-5,
                     c_bytea = '\xdeadbeef', c_tstzrange = '[2027-01-01 00:00:00+00,)', c_money = -0.5
 WHERE id = 2;
RESET ALL;
SELECT a.old_data::text = b.old_data::text AS same_old, a.new_data::text = b.new_data::text AS same_new,
       b.new_data
  FROM audit_chain.audit_events a, audit_chain.audit_events b
 WHERE a.action = 'UPDATE' AND a.resource_id = '1' AND b.action = 'UPDATE' AND b.resource_id = '2';

-- Settings changed with SET LOCAL in the writing transaction are kept after the capture.
BEGIN;
SET LOCAL DateStyle = 'SQL, DMY';
SET LOCAL TimeZone = 'Asia/Kathmandu';
UPDATE vt_values SET c_tstzrange = '[2028-01-01 00:00:00+00,)' WHERE id IN (1, 2);
SELECT current_setting('DateStyle') AS datestyle, current_setting('TimeZone') AS tz;
COMMIT;
SELECT current_setting('DateStyle') = 'Postgres, MDY' AS datestyle_reset;
SELECT new_data FROM audit_chain.audit_events WHERE action = 'UPDATE' AND new_data ? 'c_tstzrange' AND resource_id = '1'
 ORDER BY commit_seq DESC LIMIT 1;

-- DELETE under each set of settings: the old rows are recorded identically.
DELETE FROM vt_values WHERE id = 1;
SET TimeZone = 'Asia/Kathmandu';
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'postgres_verbose';
SET extra_float_digits = -3;
SET bytea_output = 'escape';
SET search_path = vt_elsewhere;
SET client_encoding = 'LATIN1';
DELETE FROM public.vt_values WHERE id = 2;
RESET ALL;
SELECT (a.old_data - 'id')::text = (b.old_data - 'id')::text AS identical_old_rows
  FROM audit_chain.audit_events a, audit_chain.audit_events b
 WHERE a.action = 'DELETE' AND a.resource_id = '1' AND a.resource_type = 'public.vt_values'
   AND b.action = 'DELETE' AND b.resource_id = '2' AND b.resource_type = 'public.vt_values';

-- verify() recomputes the same hashes under yet other settings.
SET TimeZone = 'America/St_Johns';
SET DateStyle = 'German, DMY';
SET IntervalStyle = 'iso_8601';
SET extra_float_digits = 3;
SET bytea_output = 'escape';
SET search_path = '';
SET client_encoding = 'SQL_ASCII';
SELECT valid, events_checked = (SELECT count(*) FROM audit_chain.events) AS all_checked FROM audit_chain.verify();
SELECT valid FROM audit_chain.verify(audit_chain.digest());
RESET ALL;
SELECT valid FROM audit_chain.verify();

DROP TABLE vt_values, vt_source, vt_keyed;
DROP SCHEMA vt_elsewhere;
DROP TYPE vt_pair, vt_mood;
DROP DOMAIN vt_positive, vt_code, vt_stamp;
