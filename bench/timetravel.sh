# shellcheck shell=bash
# bench/timetravel.sh: the timetravel phase of bench/run.sh, sourced by it (uses its record,
# has_phase and RUN_DIR, and lib.sh's helpers). See "Time travel" in bench/README.md.
#
# Claims measured, against baselines run in the same invocation:
#  1. row_at for a row with 1,000 versions among 1,000,000 events uses an index and costs
#     O(log n + versions of that row), never a scan of the audit table;
#  2. table_at for a 100,000-row table costs in proportion to the events it must apply, and
#     one day back on a table with one day of changes runs within 3x of a sequential scan
#     of those events.
#
# Settings (run.sh): TT_EVENTS (the large trail; the small one has a tenth), TT_ROWS and
# TT_CHANGES (table_at's table and its day of changes), TT_REPS (samples per measurement).

TT_STEPS=1000             # the 1,000-version row changes once per step of the trail
TT_ROWAT_LOOPS=15         # row_at calls per sample (median)
TT_SCAN_LOOPS=3           # sequential scans of the trail per sample (median)
TT_TABLEAT_LOOPS=3        # table_at calls and baseline scans per sample, alternately (medians)
TT_MOMENTS=(0 25 50 100)  # table_at moments: % of the day's changes committed before them
# Baselines scan in one process, as row_at and table_at do (their cursors never run in
# parallel); the sequential scan of the trail is forced.
TT_BASE_OPTS='-c max_parallel_workers_per_gather=0'
TT_SEQ_OPTS="$TT_BASE_OPTS -c enable_indexscan=off -c enable_bitmapscan=off -c enable_indexonlyscan=off"

# The SQL that fills a trail of about EVENTS events: tt_target rows 1, 2 and 3 get exactly
# 1,000, 100 and 10 versions (their INSERT, then 999, 99 and 9 UPDATEs, spread evenly over
# the trail), between UPDATEs of other rows of tt_target and of tt_other that make up the
# rest: the row's events are far apart, on different pages, as in a real trail.
tt_trail_sql() {
    local events="$1" rows noise half lo=4 olo=1 k
    rows=$((events / 100))
    noise=$(((events - 2 * rows) / TT_STEPS))
    half=$((noise / 2))
    printf 'INSERT INTO tt_target SELECT g, 0, md5(g::text) FROM generate_series(1, %d) g;\n' "$rows"
    printf 'INSERT INTO tt_other SELECT g, 0, md5(g::text) FROM generate_series(1, %d) g;\n' "$rows"
    for ((k = 1; k <= TT_STEPS; k++)); do
        if ((k < TT_STEPS)); then
            echo 'UPDATE tt_target SET v = v + 1 WHERE id = 1;'
            ((k % 10)) || echo 'UPDATE tt_target SET v = v + 1 WHERE id = 2;'
            ((k % 100)) || echo 'UPDATE tt_target SET v = v + 1 WHERE id = 3;'
        fi
        ((lo + half - 1 <= rows)) || lo=4
        ((olo + noise - half - 1 <= rows)) || olo=1
        echo "UPDATE tt_target SET v = v + 1 WHERE id BETWEEN $lo AND $((lo + half - 1));"
        echo "UPDATE tt_other SET v = v + 1 WHERE id BETWEEN $olo AND $((olo + noise - half - 1));"
        lo=$((lo + half)) olo=$((olo + noise - half))
    done
}

# Median milliseconds per execution of query $2 in database $1 over $3 executions, timed in
# the server (bench_tt.time_ms). Extra server options (PGOPTIONS) in $4.
tt_time() {
    local db="$1" q="$2" loops="$3" opts="${4:-}" ms
    ms="$(PGOPTIONS="$opts" bquery "$db" "SELECT bench_tt.time_ms(\$tt\$$q\$tt\$, $loops)")" ||
        bdie "timing failed in $db: $q"
    printf '%s\n' "$ms"
}

# Runs QUERY in DB once with auto_explain logging every nested statement's plan (json, with
# ANALYZE and BUFFERS when $4 is on) to the client; the log goes to file $3.
tt_capture() {
    local db="$1" q="$2" out="$3" analyze="$4"
    {
        printf '%s;\n' "$q"  # untimed: caches
        printf "LOAD 'auto_explain';\n"
        printf 'SET auto_explain.log_min_duration = 0;\nSET auto_explain.log_nested_statements = on;\n'
        printf 'SET auto_explain.log_analyze = %s;\nSET auto_explain.log_buffers = %s;\n' "$analyze" "$analyze"
        printf 'SET auto_explain.log_timing = %s;\n' "$analyze"
        printf 'SET auto_explain.log_format = json;\nSET auto_explain.log_level = notice;\nSET client_min_messages = notice;\n'
        printf '%s;\n' "$q"
    } | psql -X -q -v ON_ERROR_STOP=1 -d "$db" -o /dev/null 2>"$out" || {
        tail -n 5 "$out" >&2
        bdie "plan capture failed in $db: $q"
    }
    grep -q 'NOTICE:  duration:' "$out" || bdie "auto_explain logged nothing for $q (see $out)"
}

# psql on DB with the auto_explain log FILE in variable :notices, reading SQL from stdin.
tt_with_notices() {
    local db="$1" file="$2"
    { printf "\\set notices \`cat '%s'\`\n" "$file"; cat; } | bpsql "$db" -At
}

# row_at of tt_target's row with id $2 at moment $1.
rowat_q() {
    printf "SELECT audit_chain.row_at('tt_target', '{\"id\": %s}', '%s')" "$2" "$1"
}

tt_fill_trail() {
    local db="$1" events="$2"
    bpsql postgres -c 'SET client_min_messages = warning' -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    bpsql "$db" -f "$BENCH_DIR/timetravel_setup.sql" >/dev/null
    # Commits need not wait for the disk here: this only fills the log.
    tt_trail_sql "$events" | PGOPTIONS='-c synchronous_commit=off' bpsql "$db" >/dev/null ||
        bdie "filling the trail of $db failed"
}

# Untimed preparation before a measurement: the audit tables, the benchmark's tables and
# their indexes and TOAST in shared buffers, then a checkpoint.
tt_prepare() {
    bquery "$1" "SELECT count(pg_prewarm(oid)) FROM (
                     SELECT c.oid FROM pg_class c
                      WHERE c.relkind IN ('r', 'i') AND c.relnamespace IN ('audit_chain'::regnamespace,
                            'public'::regnamespace, 'bench_tt'::regnamespace)
                     UNION ALL
                     SELECT c.reltoastrelid FROM pg_class c
                      WHERE c.reltoastrelid <> 0 AND c.relnamespace IN ('audit_chain'::regnamespace,
                            'public'::regnamespace, 'bench_tt'::regnamespace)) x" >/dev/null
    bpsql "$1" -c 'CHECKPOINT' >/dev/null
}

run_timetravel_phase() {
    : "${TT_EVENTS:?}" "${TT_ROWS:?}" "${TT_CHANGES:?}" "${TT_REPS:?}"
    local small_events=$((TT_EVENTS / 10)) db n v k r ref at at_big at_small qa qb ms_small ms_big ms_seq
    local -a order
    # ------------------------------------------------------------ row_at: two trails
    blog "timetravel: filling a trail of about $TT_EVENTS events (tt_big) and one of about $small_events (tt_small)"
    tt_fill_trail tt_big "$TT_EVENTS"
    tt_fill_trail tt_small "$small_events"
    at_big="$(bquery tt_big 'SELECT clock_timestamp()')"
    at_small="$(bquery tt_small 'SELECT clock_timestamp()')"
    for db in tt_big tt_small; do
        bpsql "$db" -c 'VACUUM ANALYZE' >/dev/null
        n="$(bquery "$db" 'SELECT count(*) FROM audit_chain.events')"
        record tt_info "${db#tt_}_events" b 1 "$n"
        # The versions are exact: each is one event of the row.
        ref="$(bquery "$db" "SELECT resource_ref FROM audit_chain.resources WHERE resource_type = 'public.tt_target'")"
        v="$(bquery "$db" "SELECT string_agg(count::text, ' ' ORDER BY resource_id) FROM (SELECT resource_id, count(*)
                            FROM audit_chain.events WHERE resource_ref = $ref AND resource_id IN ('1', '2', '3')
                            GROUP BY resource_id) x")"
        [[ "$v" == "1000 100 10" ]] || bdie "$db: rows 1, 2, 3 of tt_target have $v events, not 1000 100 10"
        blog "  $db: $n events; rows 1, 2, 3 of tt_target: $v versions"
    done
    ref="$(bquery tt_big "SELECT resource_ref FROM audit_chain.resources WHERE resource_type = 'public.tt_target'")"

    # id of the row with V versions
    declare -A id_of=([1000]=1 [100]=2 [10]=3)
    # Sanity: row_at answers what the table holds (v counts the row's UPDATEs).
    for v in 1000 100 10; do
        for db in tt_big tt_small; do
            [[ "$db" == tt_big ]] && at="$at_big" || at="$at_small"
            n="$(bquery "$db" "SELECT ($(rowat_q "$at" "${id_of[$v]}")) = (SELECT to_jsonb(t) FROM tt_target t WHERE id = ${id_of[$v]})")"
            [[ "$n" == t ]] || bdie "$db: row_at of the row with $v versions differs from the table"
        done
    done

    # Work done, counted in buffers: does not depend on the machine's load.
    for v in 1000 100 10; do
        record tt "rowat_buf_$v" a 1 "$(bquery tt_small "SELECT bench_tt.buffers(\$tt\$$(rowat_q "$at_small" "${id_of[$v]}")\$tt\$)")"
        record tt "rowat_buf_$v" b 1 "$(bquery tt_big "SELECT bench_tt.buffers(\$tt\$$(rowat_q "$at_big" "${id_of[$v]}")\$tt\$)")"
    done

    # The plans of the statements row_at runs inside.
    local plans_md="$RUN_DIR/timetravel-plans.md" seq whole partial total_seq=0 total_whole=0 total_partial=0
    : >"$plans_md"
    for db in tt_big tt_small; do
        [[ "$db" == tt_big ]] && at="$at_big" || at="$at_small"
        for v in 1000 100 10; do
            local log="$RUN_DIR/timetravel-plans-$db-$v.log"
            tt_capture "$db" "$(rowat_q "$at" "${id_of[$v]}")" "$log" on
            IFS='|' read -r seq whole partial n < <(tt_with_notices "$db" "$log" <<'SQL'
SELECT count(*) FILTER (WHERE node = 'Seq Scan'),
       count(*) FILTER (WHERE problem IS NOT NULL AND node <> 'Seq Scan' AND NOT partial_whole),
       count(*) FILTER (WHERE partial_whole),
       (SELECT count(*) FROM bench_tt.plans(:'notices'))
  FROM bench_tt.events_scans(:'notices')
SQL
            )
            [[ "$n" =~ ^[0-9]+$ && "$n" -gt 1 ]] || bdie "no nested plans in $log"
            total_seq=$((total_seq + seq)) total_whole=$((total_whole + whole)) total_partial=$((total_partial + partial))
            {
                # shellcheck disable=SC2016 # backquotes for markdown
                printf '\n`row_at` of the row with %s versions, %s (%s events): %s statements; scans of events: %s sequential, %s of a whole index, %s of a whole partial index\n\n' \
                    "$v" "$db" "$(bquery "$db" 'SELECT count(*) FROM audit_chain.events')" "$n" "$seq" "$whole" "$partial"
                tt_with_notices "$db" "$log" <<<"SELECT * FROM bench_tt.events_scans_md(:'notices')"
            } >>"$plans_md"
            blog "  plans of row_at ($db, $v versions): $((n - 1)) nested statements; scans of events: $seq sequential, $whole of a whole index, $partial of a whole partial index"
        done
    done
    record tt rowat_plan_seq b 1 "$total_seq"
    record tt rowat_plan_whole b 1 "$total_whole"
    record tt rowat_plan_partial b 1 "$total_partial"

    # Times: per sample, for each row, the large trail, the small one and a sequential scan of
    # the large one for the row's events, in an order that rotates from sample to sample.
    tt_prepare tt_big
    tt_prepare tt_small
    for ((r = 1; r <= TT_REPS; r++)); do
        for v in 1000 100 10; do
            order=(small big seq)
            k=$(((r - 1) % 3))
            order=("${order[@]:k}" "${order[@]:0:k}")
            for k in "${order[@]}"; do
                case "$k" in
                    small) ms_small="$(tt_time tt_small "$(rowat_q "$at_small" "${id_of[$v]}")" "$TT_ROWAT_LOOPS")" ;;
                    big) ms_big="$(tt_time tt_big "$(rowat_q "$at_big" "${id_of[$v]}")" "$TT_ROWAT_LOOPS")" ;;
                    seq) ms_seq="$(tt_time tt_big "SELECT count(*) FROM audit_chain.events WHERE resource_ref = $ref AND resource_id = '${id_of[$v]}'" \
                        "$TT_SCAN_LOOPS" "$TT_SEQ_OPTS")" ;;
                esac
            done
            record tt "rowat_n_$v" a "$r" "$ms_small"
            record tt "rowat_n_$v" b "$r" "$ms_big"
            record tt "rowat_seq_$v" a "$r" "$ms_seq"
            record tt "rowat_seq_$v" b "$r" "$ms_big"
            blog "  row_at sample $r, $v versions: ${ms_big} ms (large trail), ${ms_small} ms (small trail); sequential scan ${ms_seq} ms"
        done
    done
    # The sequential-scan baseline must really be one.
    PGOPTIONS="$TT_SEQ_OPTS" bquery tt_big "EXPLAIN SELECT count(*) FROM audit_chain.events WHERE resource_ref = $ref AND resource_id = '1'" |
        grep -q 'Seq Scan on events' || bdie "the sequential-scan baseline does not scan sequentially"
    bpsql postgres -c 'DROP DATABASE tt_small'

    # ------------------------------------------------------------ table_at: one day of changes
    blog "timetravel: table_at: $TT_ROWS rows tracked with a baseline, then $TT_CHANGES single-row changes"
    db=tt_big
    bpsql "$db" >/dev/null <<SQL
CREATE TABLE tt_acc (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL, note text);
INSERT INTO tt_acc SELECT g, 'owner ' || g, 1000, 'opened before' FROM generate_series(1, $TT_ROWS) g;
CREATE SEQUENCE tt_acc_new_id START $((TT_ROWS + 1));
VACUUM ANALYZE tt_acc;
SELECT audit_chain.track('tt_acc');
SQL
    declare -A moment=()
    moment[0]="$(bquery "$db" 'SELECT clock_timestamp()')"
    local chunk=$((TT_CHANGES / 4)) j
    for j in 25 50 75 100; do
        # Two sessions, each committing one change at a time; commits need not wait for the disk.
        if ! PGOPTIONS='-c synchronous_commit=off' pgbench -n -M prepared -c 2 -j 2 -t $((chunk / 2)) \
            -f "$BENCH_DIR/timetravel_day.sql" -D rows="$TT_ROWS" "$db" >"$RUN_DIR/pgbench-timetravel-$j.log" 2>&1; then
            tail -n 20 "$RUN_DIR/pgbench-timetravel-$j.log" >&2
            bdie "pgbench failed: $RUN_DIR/pgbench-timetravel-$j.log"
        fi
        moment[$j]="$(bquery "$db" 'SELECT clock_timestamp()')"
    done
    bpsql "$db" -c 'VACUUM ANALYZE' >/dev/null
    local acc_ref track_pos m cnt
    declare -A applied=()
    acc_ref="$(bquery "$db" "SELECT resource_ref FROM audit_chain.resources WHERE resource_type = 'public.tt_acc'")"
    track_pos="$(bquery "$db" "SELECT '(' || commit_seq || ', ' || seq || ')' FROM audit_chain.events
                                WHERE resource_ref = $acc_ref AND action = 'TRACK'")"
    record tt_info tableat_day_events b 1 "$(bquery "$db" "SELECT count(*) FROM audit_chain.events
        WHERE resource_ref = $acc_ref AND committed_at > '${moment[0]}'")"
    # The events table_at must apply for a moment: those of the table from its TRACK event on,
    # committed at or before the moment. A copy of them, in replay order, is the baseline's
    # table: scanning it sequentially reads exactly those events and nothing else.
    for m in "${TT_MOMENTS[@]}"; do
        bpsql "$db" >/dev/null <<SQL
CREATE TABLE bench_tt.applied_$m AS
    SELECT e.* FROM audit_chain.events e
     WHERE e.resource_ref = $acc_ref AND (e.commit_seq, e.seq) >= $track_pos AND e.committed_at <= '${moment[$m]}'
     ORDER BY e.commit_seq, e.seq;
VACUUM ANALYZE bench_tt.applied_$m;
SQL
        cnt="$(bquery "$db" "SELECT count(*) FROM bench_tt.applied_$m")"
        applied[$m]="$cnt"
        record tt_info "tableat_events_$m" b 1 "$cnt"
        n="$(bquery "$db" "SELECT count(*) FROM audit_chain.table_at('tt_acc', '${moment[$m]}')")"
        record tt_info "tableat_rows_$m" b 1 "$n"
        blog "  moment $m%: ${moment[$m]}, $cnt events to apply, $n rows"
    done
    # Sanity: table_at one day back is the table as tracked; now it is the table as it is.
    n="$(bquery "$db" "SELECT count(*) FROM audit_chain.table_at('tt_acc', '${moment[0]}') j WHERE j ->> 'note' = 'opened before'")"
    ((n == TT_ROWS)) || bdie "table_at one day back has $n rows as tracked, not $TT_ROWS"
    n="$(bquery "$db" "SELECT count(*) FROM ((SELECT j FROM audit_chain.table_at('tt_acc', '${moment[100]}') j
                                                 EXCEPT ALL SELECT to_jsonb(t) FROM tt_acc t)
                                               UNION ALL (SELECT to_jsonb(t) FROM tt_acc t
                                                 EXCEPT ALL SELECT j FROM audit_chain.table_at('tt_acc', '${moment[100]}') j)) d")"
    ((n == 0)) || bdie "table_at now differs from the table in $n rows"

    # Where table_at's time goes, one day back and now: its plans (with ANALYZE), and the time
    # of each statement without the per-node timing overhead.
    for m in 0 100; do
        local log_a="$RUN_DIR/timetravel-plans-tableat-$m.log" log_d="$RUN_DIR/timetravel-durations-tableat-$m.log"
        tt_capture "$db" "SELECT count(*) FROM audit_chain.table_at('tt_acc', '${moment[$m]}')" "$log_a" on
        tt_capture "$db" "SELECT count(*) FROM audit_chain.table_at('tt_acc', '${moment[$m]}')" "$log_d" off
        {
            # shellcheck disable=SC2016 # backquotes for markdown
            printf '\n`table_at` %s (%s events to apply), plans with ANALYZE:\n\n' \
                "$( ((m)) && echo now || echo 'one day back')" "$(bquery "$db" "SELECT count(*) FROM bench_tt.applied_$m")"
            tt_with_notices "$db" "$log_a" <<<"SELECT * FROM bench_tt.events_scans_md(:'notices')"
            printf '\nTimes without per-node timing: '
            tt_with_notices "$db" "$log_d" <<'SQL'
SELECT 'table_at ' || round(max(duration_ms) FILTER (WHERE query ~ 'table_at')::numeric, 1) || ' ms in all; its events query '
       || round(sum(duration_ms) FILTER (WHERE query ~ 'e.committed_at OPERATOR.* ORDER BY e.commit_seq, e.seq')::numeric, 1)
       || ' ms (executor time while fetching: scans, joins, sort); its other statements '
       || round(sum(duration_ms) FILTER (WHERE query !~ 'table_at' AND query !~ 'e.committed_at OPERATOR.* ORDER BY e.commit_seq, e.seq')::numeric, 1)
       || ' ms; the rest is replay in audit_chain''s C code and materialising the rows.'
  FROM bench_tt.plans(:'notices')
SQL
        } >>"$plans_md"
    done

    # Times: per sample, for each moment, table_at and the sequential scan of its events.
    tt_prepare "$db"
    local ms_tt ms_day_back ms_now
    for ((r = 1; r <= TT_REPS; r++)); do
        order=("${TT_MOMENTS[@]}")
        k=$(((r - 1) % ${#order[@]}))
        for m in "${order[@]:k}" "${order[@]:0:k}"; do
            # Alternately, in one session: table_at first in odd samples, the baseline first in even ones.
            qa="SELECT count(*) FROM audit_chain.table_at('tt_acc', '${moment[$m]}')"
            qb="SELECT count(*), sum(length(new_data::text)) FROM bench_tt.applied_$m"
            if ((r % 2)); then
                IFS='|' read -r ms_tt ms_seq < <(PGOPTIONS="$TT_BASE_OPTS" bquery "$db" \
                    "SELECT * FROM bench_tt.time_pair(\$tt\$$qa\$tt\$, \$tt\$$qb\$tt\$, $TT_TABLEAT_LOOPS)")
            else
                IFS='|' read -r ms_seq ms_tt < <(PGOPTIONS="$TT_BASE_OPTS" bquery "$db" \
                    "SELECT * FROM bench_tt.time_pair(\$tt\$$qb\$tt\$, \$tt\$$qa\$tt\$, $TT_TABLEAT_LOOPS)")
            fi
            [[ -n "$ms_tt" && -n "$ms_seq" ]] || bdie "timing table_at at moment $m% failed"
            record tt "tableat_$m" a "$r" "$ms_seq"
            record tt "tableat_$m" b "$r" "$ms_tt"
            blog "  table_at sample $r, moment $m%: $ms_tt ms; sequential scan of its events $ms_seq ms"
        done
        # Time per applied event (µs), one day back and now: the two table_at calls alternately.
        qa="SELECT count(*) FROM audit_chain.table_at('tt_acc', '${moment[0]}')"
        qb="SELECT count(*) FROM audit_chain.table_at('tt_acc', '${moment[100]}')"
        if ((r % 2)); then
            IFS='|' read -r ms_day_back ms_now < <(bquery "$db" \
                "SELECT * FROM bench_tt.time_pair(\$tt\$$qa\$tt\$, \$tt\$$qb\$tt\$, $TT_TABLEAT_LOOPS)")
        else
            IFS='|' read -r ms_now ms_day_back < <(bquery "$db" \
                "SELECT * FROM bench_tt.time_pair(\$tt\$$qb\$tt\$, \$tt\$$qa\$tt\$, $TT_TABLEAT_LOOPS)")
        fi
        [[ -n "$ms_day_back" && -n "$ms_now" ]] || bdie "timing table_at one day back and now failed"
        record tt tableat_perevent a "$r" "$(awk -v t="$ms_day_back" -v n="${applied[0]}" 'BEGIN { printf "%.4f", t * 1000 / n }')"
        record tt tableat_perevent b "$r" "$(awk -v t="$ms_now" -v n="${applied[100]}" 'BEGIN { printf "%.4f", t * 1000 / n }')"
        blog "  table_at sample $r, one day back and now alternately: $ms_day_back ms and $ms_now ms"
    done
    PGOPTIONS="$TT_BASE_OPTS" bquery "$db" "EXPLAIN SELECT count(*), sum(length(new_data::text)) FROM bench_tt.applied_0" |
        grep -q 'Seq Scan on applied_0' || bdie "the baseline of table_at does not scan sequentially"
    bpsql postgres -c 'DROP DATABASE tt_big'
}
