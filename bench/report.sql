-- bench/report.sql: turns the raw measurements (table m of database bench_meta, filled by
-- bench/run.sh) into the markdown report. Run with psql -At.
--
-- pgbench and bulk: each sample's audited runs are divided by the unaudited run of the same
-- sample (they ran next to each other), then the median and range of those ratios are shown.
-- verify and storage: median and range of the values themselves.

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

SELECT '| measurement | unaudited | audit_chain | audit_chain vs unaudited | target | result | PL/pgSQL | PL/pgSQL vs unaudited | PL/pgSQL earlier |';
SELECT '|---|--:|--:|--:|--:|:-:|--:|--:|--:|';
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

SELECT '';
SELECT 'Medians; in parentheses min–max over the samples (pgbench: one sample per round and pass; bulk: per '
       || 'repetition). Ratios are taken per sample against the unaudited run of the same sample; for the UPDATE of '
       || '100,000 rows and for WAL they are audited / unaudited seconds or bytes (lower is better). A pgbench run''s rate is the median '
       || 'of its per-second rates (pgbench -P 1); the details also show pgbench''s overall mean (pgbench_mean).';

SELECT '';
SELECT '### Details';
SELECT '';
SELECT '| phase | workload | sample | a: unaudited | b: audit_chain | c: PL/pgSQL |';
SELECT '|---|---|--:|--:|--:|--:|';
SELECT '| ' || phase || ' | ' || workload || ' | ' || round || ' | '
       || coalesce(round(max(value) FILTER (WHERE variant = 'a')::numeric, 3)::text, '') || ' | '
       || coalesce(round(max(value) FILTER (WHERE variant = 'b')::numeric, 3)::text, '') || ' | '
       || coalesce(round(max(value) FILTER (WHERE variant = 'c')::numeric, 3)::text, '') || ' |'
  FROM m
 GROUP BY phase, workload, round
 ORDER BY CASE phase WHEN 'pgbench' THEN 1 WHEN 'pgbench_mean' THEN 2 WHEN 'wal' THEN 3 WHEN 'bulk' THEN 4
                        WHEN 'verify' THEN 5 WHEN 'storage' THEN 6 ELSE 7 END,
          workload, round;
