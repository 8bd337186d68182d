-- bench/report.sql: turns the raw measurements (table m of database bench_meta, filled by
-- bench/run.sh) into the markdown report. Run with psql -At.
--
-- pgbench and bulk: each sample's audited runs are divided by the unaudited run of the same
-- sample (they ran next to each other), then the median and range of those ratios are shown.
-- verify and storage: median and range of the values themselves.
-- timetravel (phase tt): each sample's audit_chain figure (variant b) is divided by the
-- baseline of the same sample (variant a); single figures (plans) are shown as they are.

CREATE TEMP TABLE defs (ord numeric, phase text, workload text, label text, kind text,
                        op text, target float8, earlier text);
INSERT INTO defs VALUES
    (1, 'pgbench', 'update1', 'single-row UPDATE, 1 client (tps)', 'rate', '>=', 0.85, '~0.62x'),
    (2, 'pgbench', 'update8', 'single-row UPDATE, 8 clients (tps)', 'rate', '>=', 0.75, '~0.19x'),
    (3, 'pgbench', 'tpcb1', 'tpcb-like, 1 client (tps)', 'rate', NULL, NULL, NULL),
    (4, 'pgbench', 'tpcb8', 'tpcb-like, 8 clients (tps)', 'rate', NULL, NULL, NULL),
    (5, 'bulk', 'update100k', 'one UPDATE of 100,000 rows (s)', 'time', '<=', 2.5, NULL),
    (4.1, 'wal', 'update1', 'WAL per transaction, single-row UPDATE, 1 client (bytes)', 'wal', NULL, NULL, NULL),
    (4.2, 'wal', 'update8', 'WAL per transaction, single-row UPDATE, 8 clients (bytes)', 'wal', NULL, NULL, NULL),
    (6, 'verify', 'bulk', 'verify, events of 100,000-row UPDATEs (events/s)', 'evs', '>=', 1000000, '~140,000'),
    (7, 'verify', 'spread', 'verify, events of 8 clients, 10 per transaction (events/s)', 'evs', '>=', 1000000, NULL),
    (8, 'storage', 'bulk', 'storage, events of 100,000-row UPDATEs (bytes/event)', 'bytes', '<=', 300, '507'),
    (9, 'storage', 'single', 'storage, one event per transaction (bytes/event)', 'bytes', '<=', 300, '507'),
    (10, 'storage', 'spread', 'storage, 8 clients, 10 events per transaction (bytes/event)', 'bytes', '<=', 300, NULL);

CREATE TEMP TABLE stats AS
WITH paired AS (
    SELECT phase, workload, round,
           max(value) FILTER (WHERE variant = 'a') AS a,
           max(value) FILTER (WHERE variant = 'b') AS b,
           max(value) FILTER (WHERE variant = 'c') AS c
      FROM m
     WHERE phase IN ('pgbench', 'bulk', 'wal')
     GROUP BY phase, workload, round
), ratios AS (
    SELECT phase, workload, count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a) AS a_med,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY b) AS b_med,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY c) AS c_med,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY b / a) AS rb, min(b / a) AS rb_lo, max(b / a) AS rb_hi,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY c / a) AS rc, min(c / a) AS rc_lo, max(c / a) AS rc_hi
      FROM paired
     GROUP BY phase, workload
), singles AS (
    SELECT phase, workload, count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY value) FILTER (WHERE variant = 'b') AS b_med,
           min(value) FILTER (WHERE variant = 'b') AS b_lo,
           max(value) FILTER (WHERE variant = 'b') AS b_hi,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY value) FILTER (WHERE variant = 'c') AS c_med,
           min(value) FILTER (WHERE variant = 'c') AS c_lo,
           max(value) FILTER (WHERE variant = 'c') AS c_hi
      FROM m
     WHERE phase IN ('verify', 'storage')
     GROUP BY phase, workload
)
SELECT d.*, r.n AS rn, r.a_med, r.b_med AS rb_med, r.c_med AS rc_med, r.rb, r.rb_lo, r.rb_hi, r.rc, r.rc_lo, r.rc_hi,
       s.n AS sn, s.b_med, s.b_lo, s.b_hi, s.c_med, s.c_lo, s.c_hi
  FROM defs d
  LEFT JOIN ratios r USING (phase, workload)
  LEFT JOIN singles s USING (phase, workload)
 WHERE r.n IS NOT NULL OR s.n IS NOT NULL;

CREATE TEMP TABLE fmt_kinds (kind text PRIMARY KEY, pattern text);
INSERT INTO fmt_kinds VALUES ('rate', 'FM999,999,990'), ('time', 'FM999,990.00'), ('wal', 'FM999,999,990'),
                             ('evs', 'FM999,999,999,990'), ('bytes', 'FM999,990'), ('ratio', 'FM9,990.00');

CREATE FUNCTION pg_temp.f(kind text, x float8) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN x IS NULL THEN '—'
                ELSE to_char(x::numeric, (SELECT pattern FROM fmt_kinds k WHERE k.kind = f.kind)) END
$$;
CREATE FUNCTION pg_temp.range(kind text, med float8, lo float8, hi float8) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN med IS NULL THEN '—'
                WHEN lo = hi THEN pg_temp.f(kind, med)
                ELSE pg_temp.f(kind, med) || ' (' || pg_temp.f(kind, lo) || '–' || pg_temp.f(kind, hi) || ')' END
$$;
CREATE FUNCTION pg_temp.verdict(op text, target float8, x float8) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN target IS NULL OR x IS NULL THEN '—'
                WHEN (op = '>=' AND x >= target) OR (op = '<=' AND x <= target) THEN 'PASS'
                ELSE 'MISS' END
$$;
CREATE FUNCTION pg_temp.target(kind text, op text, target float8) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN target IS NULL THEN '—'
                WHEN kind IN ('rate', 'time') THEN replace(replace(op, '>=', '≥ '), '<=', '≤ ')
                                                  || pg_temp.f('ratio', target) || 'x'
                ELSE replace(replace(op, '>=', '≥ '), '<=', '≤ ') || pg_temp.f(kind, target) END
$$;

SELECT '| measurement | unaudited | audit_chain | audit_chain vs unaudited | target | result | PL/pgSQL | PL/pgSQL vs unaudited | PL/pgSQL earlier |'
 WHERE EXISTS (SELECT FROM stats);
SELECT '|---|--:|--:|--:|--:|:-:|--:|--:|--:|' WHERE EXISTS (SELECT FROM stats);
SELECT '| ' || label || ' | '
       || CASE WHEN rn IS NOT NULL THEN pg_temp.f(kind, a_med) ELSE '—' END || ' | '
       || CASE WHEN rn IS NOT NULL THEN pg_temp.f(kind, rb_med) ELSE pg_temp.range(kind, b_med, b_lo, b_hi) END || ' | '
       || CASE WHEN rn IS NOT NULL THEN pg_temp.range('ratio', rb, rb_lo, rb_hi) || 'x' ELSE '—' END || ' | '
       || pg_temp.target(kind, op, target) || ' | '
       || pg_temp.verdict(op, target, CASE WHEN rn IS NOT NULL THEN rb ELSE b_med END) || ' | '
       || CASE WHEN rn IS NOT NULL THEN pg_temp.f(kind, rc_med) ELSE pg_temp.range(kind, c_med, c_lo, c_hi) END || ' | '
       || CASE WHEN rn IS NOT NULL THEN pg_temp.range('ratio', rc, rc_lo, rc_hi) || 'x' ELSE '—' END || ' | '
       || coalesce(earlier, '—') || ' |'
  FROM stats
 ORDER BY ord;

SELECT '' WHERE EXISTS (SELECT FROM stats);
SELECT 'Medians; in parentheses min–max over the samples (pgbench: one sample per round and pass; bulk: per '
       || 'repetition). Ratios are taken per sample against the unaudited run of the same sample; for the UPDATE of '
       || '100,000 rows and for WAL they are audited / unaudited seconds or bytes (lower is better). A pgbench run''s rate is the median '
       || 'of its per-second rates (pgbench -P 1); the details also show pgbench''s overall mean (pgbench_mean).'
 WHERE EXISTS (SELECT FROM stats);

-- ---------------------------------------------------------------- time travel
-- Labels name sizes by {placeholders}: values of phase tt_info (event counts) and tt_big /
-- tt_small (the trails' sizes).
CREATE TEMP TABLE tt_defs (ord numeric, workload text, label text, kind text, op text, target float8);
INSERT INTO tt_defs VALUES
    (1, 'rowat_seq_10', 'row_at, row with 10 versions among {big_events} events (ms), vs a sequential scan of the trail for its events', 'ms', NULL, NULL),
    (2, 'rowat_seq_100', 'row_at, row with 100 versions among {big_events} events (ms), vs a sequential scan of the trail for its events', 'ms', NULL, NULL),
    (3, 'rowat_seq_1000', 'row_at, row with 1,000 versions among {big_events} events (ms), vs a sequential scan of the trail for its events', 'ms', NULL, NULL),
    (4, 'rowat_n_10', 'row_at, row with 10 versions: {big_events} events vs {small_events} (ms)', 'ms', '<=', 1.5),
    (5, 'rowat_n_100', 'row_at, row with 100 versions: {big_events} events vs {small_events} (ms)', 'ms', '<=', 1.5),
    (6, 'rowat_n_1000', 'row_at, row with 1,000 versions: {big_events} events vs {small_events} (ms)', 'ms', '<=', 1.5),
    (7, 'rowat_buf_10', 'row_at, row with 10 versions: {big_events} events vs {small_events} (buffers touched)', 'count', '<=', 1.5),
    (8, 'rowat_buf_100', 'row_at, row with 100 versions: {big_events} events vs {small_events} (buffers touched)', 'count', '<=', 1.5),
    (9, 'rowat_buf_1000', 'row_at, row with 1,000 versions: {big_events} events vs {small_events} (buffers touched)', 'count', '<=', 1.5),
    (10, 'rowat_plan_seq', 'row_at''s statements: sequential scans of audit_chain.events (6 calls)', 'count', '<=', 0),
    (11, 'rowat_plan_whole', 'row_at''s statements: scans of a whole index of audit_chain.events (6 calls)', 'count', '<=', 0),
    (11.5, 'rowat_plan_partial', 'row_at''s statements: scans of a whole partial index of audit_chain.events (renames, key changes) (6 calls)', 'count', NULL, NULL),
    (12, 'tableat_0', 'table_at one day back (right after tracking: {tableat_events_0} events to apply, {tableat_rows_0} rows) (ms), vs a sequential scan of those events', 'ms', '<=', 3),
    (13, 'tableat_25', 'table_at after 25% of the day ({tableat_events_25} events to apply) (ms), vs a sequential scan of those events', 'ms', '<=', 3),
    (14, 'tableat_50', 'table_at after 50% of the day ({tableat_events_50} events to apply) (ms), vs a sequential scan of those events', 'ms', '<=', 3),
    (15, 'tableat_100', 'table_at now (after the day''s {tableat_day_events} changes: {tableat_events_100} events to apply, {tableat_rows_100} rows) (ms), vs a sequential scan of those events', 'ms', '<=', 3),
    (16, 'tableat_perevent', 'table_at, time per event applied (µs): now vs one day back', 'us', '<=', 1.5);
INSERT INTO fmt_kinds VALUES ('ms', 'FM999,990.00'), ('count', 'FM999,999,990'), ('us', 'FM999,990.000');

CREATE TEMP TABLE tt_stats AS
WITH paired AS (
    SELECT workload, round,
           max(value) FILTER (WHERE variant = 'a') AS a,
           max(value) FILTER (WHERE variant = 'b') AS b
      FROM m
     WHERE phase = 'tt'
     GROUP BY workload, round
)
SELECT d.*, count(*) AS n, count(a) AS na,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY a) AS a_med,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY b) AS b_med,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY b / a) AS r, min(b / a) AS r_lo, max(b / a) AS r_hi
  FROM tt_defs d
  JOIN paired p USING (workload)
 GROUP BY d.ord, d.workload, d.label, d.kind, d.op, d.target;

CREATE FUNCTION pg_temp.tt_label(label text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(CASE WHEN s.ord % 2 = 1 THEN s.part
                           ELSE coalesce((SELECT to_char(max(value), 'FM999,999,999,990') FROM m
                                           WHERE phase = 'tt_info' AND workload = s.part), '?') END,
                      '' ORDER BY s.ord)
      FROM regexp_split_to_table(label, '[{}]') WITH ORDINALITY AS s(part, ord)
$$;

SELECT '' WHERE EXISTS (SELECT FROM tt_stats);
SELECT '### Time travel' WHERE EXISTS (SELECT FROM tt_stats);
SELECT '' WHERE EXISTS (SELECT FROM tt_stats);
SELECT '| measurement | baseline | audit_chain | audit_chain vs baseline | target | result |' WHERE EXISTS (SELECT FROM tt_stats);
SELECT '|---|--:|--:|--:|--:|:-:|' WHERE EXISTS (SELECT FROM tt_stats);
SELECT '| ' || pg_temp.tt_label(label) || ' | '
       || CASE WHEN na > 0 THEN pg_temp.f(kind, a_med) ELSE '—' END || ' | '
       || pg_temp.f(kind, b_med) || ' | '
       || CASE WHEN na > 0 THEN pg_temp.range('ratio', r, r_lo, r_hi) || 'x' ELSE '—' END || ' | '
       || CASE WHEN target IS NULL THEN '—'
               WHEN na > 0 THEN replace(op, '<=', '≤ ') || pg_temp.f('ratio', target) || 'x'
               ELSE pg_temp.f(kind, target) END || ' | '
       || pg_temp.verdict(op, target, CASE WHEN na > 0 THEN r ELSE b_med END) || ' |'
  FROM tt_stats
 ORDER BY ord;
SELECT '' WHERE EXISTS (SELECT FROM tt_stats);
SELECT 'Medians; in parentheses min–max of the per-sample ratios (one sample per repetition; a sample''s time is the '
       || 'median of several calls in one session, timed in the server). Baselines: a sequential scan of the trail for the '
       || 'row''s events; the same row in a trail of a tenth of the events; a sequential scan of a copy of exactly the '
       || 'events table_at applies (count(*), sum(length(new_data::text))). Buffers touched (hits + reads, nested '
       || 'statements included) are counted once: they do not depend on the machine''s load. "One day back" is the moment '
       || 'right after track(), "now" the moment after the day''s changes (see bench/README.md).'
 WHERE EXISTS (SELECT FROM tt_stats);

SELECT '';
SELECT '### Details';
SELECT '';
SELECT '| phase | workload | sample | a: unaudited | b: audit_chain | c: PL/pgSQL |'
 WHERE EXISTS (SELECT FROM m WHERE phase NOT IN ('tt', 'tt_info'));
SELECT '|---|---|--:|--:|--:|--:|' WHERE EXISTS (SELECT FROM m WHERE phase NOT IN ('tt', 'tt_info'));
SELECT '| ' || phase || ' | ' || workload || ' | ' || round || ' | '
       || coalesce(round(max(value) FILTER (WHERE variant = 'a')::numeric, 3)::text, '') || ' | '
       || coalesce(round(max(value) FILTER (WHERE variant = 'b')::numeric, 3)::text, '') || ' | '
       || coalesce(round(max(value) FILTER (WHERE variant = 'c')::numeric, 3)::text, '') || ' |'
  FROM m
 WHERE phase NOT IN ('tt', 'tt_info')
 GROUP BY phase, workload, round
 ORDER BY CASE phase WHEN 'pgbench' THEN 1 WHEN 'pgbench_mean' THEN 2 WHEN 'wal' THEN 3 WHEN 'bulk' THEN 4
                        WHEN 'verify' THEN 5 WHEN 'storage' THEN 6 ELSE 7 END,
          workload, round;

SELECT '' WHERE EXISTS (SELECT FROM m WHERE phase IN ('tt', 'tt_info'));
SELECT '| time travel | sample | a: baseline | b: audit_chain |' WHERE EXISTS (SELECT FROM m WHERE phase IN ('tt', 'tt_info'));
SELECT '|---|--:|--:|--:|' WHERE EXISTS (SELECT FROM m WHERE phase IN ('tt', 'tt_info'));
SELECT '| ' || workload || ' | ' || round || ' | '
       || coalesce(round(max(value) FILTER (WHERE variant = 'a')::numeric, 3)::text, '') || ' | '
       || coalesce(round(max(value) FILTER (WHERE variant = 'b')::numeric, 3)::text, '') || ' |'
  FROM m
 WHERE phase IN ('tt', 'tt_info')
 GROUP BY phase, workload, round
 ORDER BY phase DESC, workload, round;
