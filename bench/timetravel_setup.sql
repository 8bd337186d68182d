-- bench/timetravel_setup.sql: a database for the timetravel phase of bench/run.sh.
--
-- Two tracked tables make up the row_at trail (bench/timetravel.sh writes the changes):
-- tt_target, whose rows 1, 2 and 3 get 1,000, 100 and 10 versions, and tt_other. Schema
-- bench_tt holds the measuring helpers; nothing in it is audited.
CREATE EXTENSION audit_chain;
CREATE EXTENSION pg_prewarm;

CREATE TABLE tt_target (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL);
CREATE TABLE tt_other (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL);
SELECT audit_chain.track('tt_target');
SELECT audit_chain.track('tt_other');

CREATE SCHEMA bench_tt;

-- Median wall-clock milliseconds of `loops` executions of query q, timed one by one inside
-- the server (no client round trip), after one untimed execution that loads the caches.
CREATE FUNCTION bench_tt.time_ms(q text, loops int) RETURNS float8
    LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    ms float8[] := '{}';
BEGIN
    EXECUTE q;
    FOR i IN 1 .. loops LOOP
        t0 := clock_timestamp();
        EXECUTE q;
        ms := ms || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
    END LOOP;
    RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) AS x);
END
$$;

-- The same for two queries whose times are compared, executed alternately (a, b, a, b, ...)
-- so that a change in the machine's speed hits both alike: median milliseconds of each.
CREATE FUNCTION bench_tt.time_pair(qa text, qb text, loops int, OUT a_ms float8, OUT b_ms float8)
    LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    a float8[] := '{}';
    b float8[] := '{}';
BEGIN
    EXECUTE qa;
    EXECUTE qb;
    FOR i IN 1 .. loops LOOP
        t0 := clock_timestamp();
        EXECUTE qa;
        a := a || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
        t0 := clock_timestamp();
        EXECUTE qb;
        b := b || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
    END LOOP;
    a_ms := (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(a) AS x);
    b_ms := (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(b) AS x);
END
$$;

-- Shared buffers a query touches (hits + reads, nested statements included), after one
-- untimed execution that loads the caches: a measure of work that machine noise cannot move.
CREATE FUNCTION bench_tt.buffers(q text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    p json;
BEGIN
    EXECUTE q;
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) ' || q INTO p;
    RETURN (p -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint + (p -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;
END
$$;

-- The plans auto_explain logged (log_format = json, log_level = notice) while one statement
-- ran, taken from the client's stderr: one row per statement, in the order they ended (the
-- statement the client sent comes last, nested ones before it).
CREATE FUNCTION bench_tt.plans(notices text)
    RETURNS TABLE (stmt int, duration_ms float8, query text, plan jsonb)
    LANGUAGE sql AS $$
SELECT row_number() OVER (ORDER BY s.ord)::int,
       (regexp_match(s.c, '^([0-9.]+) ms'))[1]::float8,
       substring(s.c FROM '\{.*\}')::jsonb ->> 'Query Text',
       substring(s.c FROM '\{.*\}')::jsonb -> 'Plan'
  FROM regexp_split_to_table(notices, 'NOTICE:  duration: ') WITH ORDINALITY AS s(c, ord)
 WHERE s.c ~ '^[0-9.]+ ms  plan:'
$$;

-- The scans of audit_chain.events in those plans (and their sorts), one row per node, with
-- what is wrong with a scan for a lookup that must cost O(log n): a sequential scan, a scan
-- of an index over all events without a condition on its leading column (it reads the
-- whole index), or any BRIN scan (a BRIN index is always read whole). A partial index read
-- whole is reported apart: it costs what its predicate selects from the whole trail (all
-- renames, all key changes), not n.
CREATE FUNCTION bench_tt.events_scans(notices text)
    RETURNS TABLE (stmt int, node_no int, duration_ms float8, query text, node text, index_name text,
                   cond text, actual_rows float8, buffers bigint, problem text, partial_whole boolean)
    LANGUAGE sql AS $$
WITH nodes AS (
    SELECT p.stmt, x.ord::int AS node_no, p.duration_ms, p.query, x.n
      FROM bench_tt.plans(notices) p, jsonb_path_query(p.plan, 'strict $.**') WITH ORDINALITY AS x(n, ord)
     WHERE jsonb_typeof(x.n) = 'object' AND x.n ? 'Node Type'
), idx AS (
    SELECT ic.relname::text AS index_name, am.amname::text AS am, pg_get_indexdef(i.indexrelid, 1, true) AS lead,
           i.indpred IS NOT NULL AS partial
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_am am ON am.oid = ic.relam
     WHERE i.indrelid = 'audit_chain.events'::regclass
), judged AS (
    SELECT n.*, idx.partial,
           CASE WHEN n.n ->> 'Node Type' = 'Seq Scan' THEN 'sequential scan of audit_chain.events'
                WHEN idx.am = 'brin' THEN 'reads the whole BRIN index'
                WHEN idx.index_name IS NOT NULL AND position(idx.lead IN coalesce(n.n ->> 'Index Cond', '')) = 0
                    THEN CASE WHEN idx.partial THEN 'reads the whole partial index (no condition on its leading column '
                                                    || idx.lead || ')'
                              ELSE 'whole-index scan: no condition on the leading column ' || idx.lead END
           END AS problem
      FROM nodes n
      LEFT JOIN idx ON idx.index_name = n.n ->> 'Index Name'
     WHERE n.n ->> 'Relation Name' = 'events' OR idx.index_name IS NOT NULL OR n.n ->> 'Node Type' = 'Sort'
)
SELECT stmt, node_no, duration_ms, query, n ->> 'Node Type', n ->> 'Index Name',
       nullif(concat_ws('; ', 'Index Cond: ' || (n ->> 'Index Cond'), 'Recheck Cond: ' || (n ->> 'Recheck Cond'),
                        'Filter: ' || (n ->> 'Filter'), 'Sort Key: ' || (n ->> 'Sort Key'),
                        'Sort Method: ' || (n ->> 'Sort Method'),
                        (n ->> 'Sort Space Used') || ' kB ' || (n ->> 'Sort Space Type')), ''),
       (n ->> 'Actual Rows')::float8 * (n ->> 'Actual Loops')::float8,
       (n ->> 'Shared Hit Blocks')::bigint + (n ->> 'Shared Read Blocks')::bigint,
       problem, coalesce(partial, false) AND problem IS NOT NULL
  FROM judged
$$;

-- The same as a markdown list for the report: the statements that read audit_chain.events,
-- their scans of it and their sorts.
CREATE FUNCTION bench_tt.events_scans_md(notices text) RETURNS SETOF text
    LANGUAGE sql AS $$
WITH s AS (SELECT * FROM bench_tt.events_scans(notices)
            WHERE stmt IN (SELECT stmt FROM bench_tt.events_scans(notices) WHERE node <> 'Sort'))
SELECT line FROM (
    SELECT DISTINCT stmt, 0 AS node_no, '- statement ' || stmt || ' (' || round(duration_ms::numeric, 3) || ' ms): `'
               || left(regexp_replace(query, '\s+', ' ', 'g'), 100) || ' ...`' AS line
      FROM s
    UNION ALL
    SELECT stmt, node_no, '    - ' || node || CASE WHEN node = 'Sort' THEN '' ELSE coalesce(' on ' || index_name, ' on events') END
               || coalesce(': `' || replace(cond, '`', '''') || '`', '') || '; rows ' || coalesce(actual_rows::bigint::text, '?')
               || coalesce(', buffers ' || buffers, '')
               || coalesce(' — **' || problem || '**', '')
      FROM s
) x
ORDER BY stmt, node_no
$$;
