#!/usr/bin/env bash
# bench/run.sh: audit_chain benchmark suite. Not part of the test suite.
#
# Builds audit_chain into a private stage, starts a throwaway cluster (stopped at exit),
# and measures three variants on identical data, in separate databases created afresh:
#   a  unaudited pgbench tables
#   b  audit_chain tracking pgbench_accounts
#   c  the classic PL/pgSQL audit trigger with a SHA-256 chain (bench/plpgsql_baseline.sql)
# Variants run interleaved (a b c, b c a, c a b, ...) so that machine noise hits them
# alike; results are per-sample ratios against the unaudited run next to them, reported
# as median (min-max). See bench/README.md.
#
# The timetravel phase (bench/timetravel.sh) measures row_at and table_at against a
# sequential scan of the events and against a ten times smaller trail instead.
#
# Usage: bench/run.sh [--quick] [options]     (bench/run.sh --help)
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/run.sh [--quick] [options]

  --quick              about 6 minutes: fewer rounds, shorter runs, smaller logs and trails
  --rounds N           pgbench rounds, each with fresh databases a, b, c          [full 4, quick 2]
  --passes N           passes per round, each running every workload on a, b, c   [full 3, quick 2]
  --duration S         seconds per pgbench run                                    [full 5, quick 4]
  --bulk-reps N        timed 100,000-row UPDATEs per variant                     [full 5, quick 3]
  --verify-events N    events to verify                                          [full 1000000, quick 200000]
  --verify-reps N      timed verify() calls per log                              [full 3, quick 2]
  --scale N            pgbench scale factor                                      [10]
  --tt-events N        events of timetravel's large trail (the small one: N/10)  [full 1000000, quick 200000]
  --tt-rows N          rows of timetravel's table_at table                       [full 100000, quick 20000]
  --tt-changes N       single-row changes of that table's "day"                  [full 200000, quick 40000]
  --tt-reps N          timetravel samples per measurement                        [full 7, quick 3]
  --phases LIST        comma-separated subset of: pgbench,bulk,verify,timetravel [all]
  --port N             server port on 127.0.0.1          [first free from 56432]
  --stage DIR          staging directory (make install DESTDIR)  [.tmp/bench/stage]
  --pgdir DIR          cluster directory                          [.tmp/bench/pg]
  --work DIR           results and logs                           [.tmp/bench]
  --no-build           use the extension already installed in the stage
USAGE
}

MODE=full
ROUNDS="" PASSES="" DURATION="" BULK_REPS="" VERIFY_EVENTS="" VERIFY_REPS="" SCALE=10
TT_EVENTS="" TT_ROWS="" TT_CHANGES="" TT_REPS=""
PHASES="pgbench,bulk,verify,timetravel"
DO_BUILD=1
BENCH_PORT="" BENCH_STAGE="" BENCH_PGDIR="" BENCH_WORK=""

while (($#)); do
    case "$1" in
        --quick) MODE=quick ;;
        --rounds) ROUNDS="$2"; shift ;;
        --passes) PASSES="$2"; shift ;;
        --duration) DURATION="$2"; shift ;;
        --bulk-reps) BULK_REPS="$2"; shift ;;
        --verify-events) VERIFY_EVENTS="$2"; shift ;;
        --verify-reps) VERIFY_REPS="$2"; shift ;;
        --scale) SCALE="$2"; shift ;;
        --tt-events) TT_EVENTS="$2"; shift ;;
        --tt-rows) TT_ROWS="$2"; shift ;;
        --tt-changes) TT_CHANGES="$2"; shift ;;
        --tt-reps) TT_REPS="$2"; shift ;;
        --phases) PHASES="$2"; shift ;;
        --port) BENCH_PORT="$2"; shift ;;
        --stage) BENCH_STAGE="$2"; shift ;;
        --pgdir) BENCH_PGDIR="$2"; shift ;;
        --work) BENCH_WORK="$2"; shift ;;
        --no-build) DO_BUILD=0 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done

if [[ "$MODE" == quick ]]; then
    : "${ROUNDS:=2}" "${PASSES:=2}" "${DURATION:=4}" "${BULK_REPS:=3}" "${VERIFY_EVENTS:=200000}" "${VERIFY_REPS:=2}"
    : "${TT_EVENTS:=200000}" "${TT_ROWS:=20000}" "${TT_CHANGES:=40000}" "${TT_REPS:=3}"
else
    : "${ROUNDS:=4}" "${PASSES:=3}" "${DURATION:=5}" "${BULK_REPS:=5}" "${VERIFY_EVENTS:=1000000}" "${VERIFY_REPS:=3}"
    : "${TT_EVENTS:=1000000}" "${TT_ROWS:=100000}" "${TT_CHANGES:=200000}" "${TT_REPS:=7}"
fi
for n in "$ROUNDS" "$PASSES" "$DURATION" "$BULK_REPS" "$VERIFY_EVENTS" "$VERIFY_REPS" "$SCALE" \
    "$TT_EVENTS" "$TT_ROWS" "$TT_CHANGES" "$TT_REPS"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive integer: $n" >&2; exit 2; }
done
((TT_EVENTS >= 50000)) || { echo "--tt-events must be at least 50000" >&2; exit 2; }
((TT_CHANGES % 8 == 0)) || { echo "--tt-changes must be a multiple of 8" >&2; exit 2; }
for p in ${PHASES//,/ }; do
    [[ "$p" =~ ^(pgbench|bulk|verify|timetravel)$ ]] || { echo "unknown phase: $p" >&2; exit 2; }
done

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=SCRIPTDIR/timetravel.sh
source "$BENCH_DIR/timetravel.sh"

has_phase() { [[ ",$PHASES," == *",$1,"* ]]; }

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    bench_cluster_stop
    ((rc == 0)) || printf 'benchmark failed (status %s); logs in %s\n' "$rc" "${RUN_DIR:-${BENCH_WORK:-.}}" >&2
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_setup_paths
LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"
RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)-$MODE"
RUN_DIR="$BENCH_WORK/runs/$RUN_ID"
mkdir -p "$RUN_DIR"
blog "mode $MODE: phases $PHASES; $ROUNDS rounds x $PASSES passes x ${DURATION}s, $BULK_REPS bulk reps, verify $VERIFY_EVENTS events x $VERIFY_REPS; timetravel $TT_EVENTS events, $TT_ROWS rows + $TT_CHANGES changes x $TT_REPS; logs in $RUN_DIR"

if ((DO_BUILD)); then
    bench_build
else
    [[ -f "$BENCH_STAGE/$("$PG_CONFIG" --sharedir)/extension/audit_chain.control" ]] ||
        bdie "--no-build: no audit_chain in stage $BENCH_STAGE"
fi
bench_cluster_start

# ---------------------------------------------------------------- measurements store
# Raw measurements go into a table of database bench_meta; report.sql aggregates them.
bpsql postgres -c 'CREATE DATABASE bench_meta'
bpsql bench_meta <<'SQL'
CREATE TABLE m (
    phase    text   NOT NULL,  -- pgbench | pgbench_mean | wal | bulk | verify | storage | info | tt | tt_info
    workload text   NOT NULL,
    variant  text   NOT NULL,  -- a | b | c; tt: a baseline, b audit_chain
    round    int    NOT NULL,
    value    float8 NOT NULL
);
SQL

record() {  # phase workload variant round value
    [[ "$5" =~ ^[0-9.eE+-]+$ ]] || bdie "bad measurement for $1/$2/$3/$4: '$5'"
    printf '%s,%s,%s,%s,%s\n' "$@" >>"$RUN_DIR/raw.csv"
    bquery bench_meta "INSERT INTO m VALUES ('$1', '$2', '$3', $4, $5)" >/dev/null
}

# ---------------------------------------------------------------- data and variants
if has_phase pgbench || has_phase bulk || has_phase verify; then
    blog "pgbench -i -s $SCALE into the template database"
    bpsql postgres -c 'CREATE DATABASE bench_template'
    pgbench -i -q -s "$SCALE" bench_template >"$RUN_DIR/pgbench-init.log" 2>&1 ||
        { tail -n 20 "$RUN_DIR/pgbench-init.log" >&2; bdie "pgbench -i failed"; }
    bpsql bench_template -c 'CREATE EXTENSION pg_prewarm' -c 'VACUUM ANALYZE'
fi

# Fresh database NAME for VARIANT, a copy of the template.
make_db() {
    local name="$1" variant="$2"
    bpsql postgres -c 'SET client_min_messages = warning' -c "DROP DATABASE IF EXISTS $name" \
        -c "CREATE DATABASE $name TEMPLATE bench_template"
    case "$variant" in
        a) ;;
        b) bpsql "$name" -f "$BENCH_DIR/setup_audit_chain.sql" >/dev/null ;;
        c) bpsql "$name" -f "$BENCH_DIR/setup_plpgsql.sql" >/dev/null ;;
    esac
}

# Untimed preparation before every measurement, the same for every variant.
prepare_run() {
    local db="$1"
    bpsql "$db" -c 'VACUUM pgbench_accounts, pgbench_branches, pgbench_tellers' \
        -c 'TRUNCATE pgbench_history' \
        -c "SELECT pg_prewarm('pgbench_accounts'), pg_prewarm('pgbench_accounts_pkey')" \
        -c 'CHECKPOINT' >/dev/null
}

# Bytes per event of a variant's audit storage, including indexes and TOAST.
storage_query() {
    case "$1" in
        b) echo "SELECT (pg_total_relation_size('audit_chain.events') + pg_total_relation_size('audit_chain.contexts')
                         + pg_total_relation_size('audit_chain.resources'))::float8
                        / (SELECT count(*) FROM audit_chain.events)" ;;
        c) echo "SELECT pg_total_relation_size('bench_audit.audit_log')::float8
                        / (SELECT count(*) FROM bench_audit.audit_log)" ;;
    esac
}
event_count_query() {
    case "$1" in
        b) echo "SELECT count(*) FROM audit_chain.events WHERE action = 'UPDATE'" ;;
        c) echo "SELECT count(*) FROM bench_audit.audit_log WHERE action = 'UPDATE'" ;;
    esac
}

# Variant order of round R: a b c, b c a, c a b, ...
rotation() {
    local -a v=(a b c)
    local k=$((($1 - 1) % 3))
    echo "${v[@]:k}" "${v[@]:0:k}"
}

# ---------------------------------------------------------------- 1. pgbench workloads
WORKLOADS=(update1 update8 tpcb1 tpcb8)
workload_args() {
    case "$1" in
        update1) echo "-c 1 -j 1 -f $BENCH_DIR/update.sql -D scale=$SCALE" ;;
        update8) echo "-c 8 -j 2 -f $BENCH_DIR/update.sql -D scale=$SCALE" ;;
        tpcb1) echo "-c 1 -j 1 -b tpcb-like" ;;
        tpcb8) echo "-c 8 -j 2 -b tpcb-like" ;;
    esac
}

run_pgbench_phase() {
    local r p k w v db log tps txs p50 lsn0 wal
    for ((r = 1; r <= ROUNDS; r++)); do
        blog "pgbench round $r/$ROUNDS: fresh databases"
        declare -A txsum=([a]=0 [b]=0 [c]=0)
        for v in a b c; do make_db "bench_$v" "$v"; done
        for ((p = 1; p <= PASSES; p++)); do
            k=$(((r - 1) * PASSES + p))  # sample number: one a/b/c triple per workload
            for w in "${WORKLOADS[@]}"; do
                for v in $(rotation "$k"); do
                    db="bench_$v"
                    log="$RUN_DIR/pgbench-$k-$w-$v.log"
                    prepare_run "$db"
                    lsn0="$(bquery postgres 'SELECT pg_current_wal_insert_lsn()')"
                    # shellcheck disable=SC2046 # word splitting of the workload's options is intended
                    if ! pgbench -n -M prepared -P 1 -T "$DURATION" $(workload_args "$w") "$db" >"$log" 2>&1; then
                        tail -n 20 "$log" >&2
                        bdie "pgbench failed: $log"
                    fi
                    wal="$(bquery postgres "SELECT pg_current_wal_insert_lsn() - '$lsn0'::pg_lsn")"
                    tps="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$log")"
                    txs="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")"
                    [[ -n "$tps" && -n "$txs" ]] || bdie "cannot read tps from $log"
                    grep -q 'number of failed transactions: 0 ' "$log" || ! grep -q 'number of failed transactions' "$log" ||
                        bdie "failed transactions in $log"
                    # The median of the per-second rates (-P 1) is what the report uses: a
                    # second or two of stall caused by someone else's I/O does not move it.
                    p50="$(sed -n 's/^progress: [0-9.]* s, \([0-9.]*\) tps.*/\1/p' "$log" | sort -n |
                        awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')"
                    [[ -n "$p50" ]] || bdie "no progress lines in $log"
                    record pgbench "$w" "$v" "$k" "$p50"
                    record pgbench_mean "$w" "$v" "$k" "$tps"
                    # WAL written per transaction (the cluster runs nothing else meanwhile).
                    record wal "$w" "$v" "$k" "$(awk -v b="$wal" -v n="$txs" 'BEGIN { printf "%.1f", b / n }')"
                    txsum[$v]=$((txsum[$v] + txs))
                    blog "  $k $w $v: $p50 tps (median of seconds; mean $tps)"
                done
            done
        done
        # One event per transaction (each updates one account row once).
        for v in b c; do
            record storage single "$v" "$r" "$(bquery "bench_$v" "$(storage_query "$v")")"
            record info events_per_tx "$v" "$r" \
                "$(bquery "bench_$v" "SELECT ($(event_count_query "$v"))::float8 / ${txsum[$v]}")"
        done
        unset txsum
    done
    bpsql postgres -c 'DROP DATABASE bench_a' -c 'DROP DATABASE bench_b' -c 'DROP DATABASE bench_c'
}

# ---------------------------------------------------------------- 2. bulk UPDATE
BULK_SQL='UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 100000'

# Time one statement (including its COMMIT) in seconds, as psql's \timing sees it.
# Sets TIMED_OUTPUT (the statement's output, command tag included) and TIMED_SECONDS.
timed_sql() {
    local db="$1" sql="$2" out ms
    out="$(printf '\\timing on\n%s;\n' "$sql" | psql -X -v ON_ERROR_STOP=1 -At -d "$db")" ||
        bdie "failed in $db: $sql"
    ms="$(printf '%s\n' "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)"
    [[ -n "$ms" ]] || bdie "no timing for: $sql"
    TIMED_OUTPUT="$(printf '%s\n' "$out" | grep -v -e '^Time: ' -e '^Timing is on' || true)"
    TIMED_SECONDS="$(awk -v ms="$ms" 'BEGIN { printf "%.6f", ms / 1000 }')"
}

run_bulk_phase() {
    local r v
    blog "bulk: fresh databases"
    for v in a b c; do make_db "bulk_$v" "$v"; done
    for ((r = 1; r <= BULK_REPS; r++)); do
        for v in $(rotation "$r"); do
            prepare_run "bulk_$v"
            timed_sql "bulk_$v" "$BULK_SQL"
            [[ "$TIMED_OUTPUT" == "UPDATE 100000" ]] || bdie "unexpected: $TIMED_OUTPUT"
            record bulk update100k "$v" "$r" "$TIMED_SECONDS"
            blog "  bulk rep $r $v: ${TIMED_SECONDS}s"
        done
    done
}

# ---------------------------------------------------------------- 3. verify and storage
# Fill DB (variant b or c) with 100,000-row UPDATEs until it holds VERIFY_EVENTS events.
top_up() {
    local db="$1" v="$2" n
    while n="$(bquery "$db" "$(event_count_query "$v")")" && ((n < VERIFY_EVENTS)); do
        bpsql "$db" -c "$BULK_SQL" >/dev/null
    done
}

run_verify_phase() {
    local r v db n chains tps
    if ! has_phase bulk; then
        blog "verify: fresh databases"
        for v in b c; do make_db "bulk_$v" "$v"; done
    fi
    blog "verify: filling the logs to $VERIFY_EVENTS events (100,000-row UPDATEs)"
    top_up bulk_b b
    top_up bulk_c c
    record storage bulk b 1 "$(bquery bulk_b "$(storage_query b)")"
    record storage bulk c 1 "$(bquery bulk_c "$(storage_query c)")"

    # The same number of events from 8 concurrent sessions, ten rows per transaction, so
    # that they are spread over the chains. Commits need not wait for the disk here:
    # this only fills the log.
    blog "verify: filling a log from 8 pgbench clients"
    make_db spread_b b
    if ! PGOPTIONS='-c synchronous_commit=off' pgbench -n -M prepared -c 8 -j 2 \
        -t $(((VERIFY_EVENTS + 79) / 80)) -f "$BENCH_DIR/update_range10.sql" -D scale="$SCALE" spread_b \
        >"$RUN_DIR/pgbench-spread.log" 2>&1; then
        tail -n 20 "$RUN_DIR/pgbench-spread.log" >&2
        bdie "pgbench failed: $RUN_DIR/pgbench-spread.log"
    fi
    record storage spread b 1 "$(bquery spread_b "$(storage_query b)")"
    chains="$(bquery spread_b 'SELECT count(DISTINCT chain_id) FROM audit_chain.events')"
    record info spread_chains b 1 "$chains"
    bpsql bulk_b -c 'VACUUM ANALYZE audit_chain.events' -c 'CHECKPOINT' >/dev/null
    bpsql spread_b -c 'VACUUM ANALYZE audit_chain.events' -c 'CHECKPOINT' >/dev/null
    bpsql bulk_c -c 'VACUUM ANALYZE bench_audit.audit_log' -c 'CHECKPOINT' >/dev/null

    local -a logs=(bulk_b spread_b bulk_c)
    for ((r = 1; r <= VERIFY_REPS; r++)); do
        for db in "${logs[@]:$(((r - 1) % 3))}" "${logs[@]:0:$(((r - 1) % 3))}"; do
            case "$db" in
                bulk_c) timed_sql "$db" 'SELECT valid, events_checked FROM bench_audit.verify()' ;;
                *) timed_sql "$db" 'SELECT bool_and(valid), sum(events_checked) FROM audit_chain.verify()' ;;
            esac
            [[ "$TIMED_OUTPUT" == t\|* ]] || bdie "verify in $db did not succeed: $TIMED_OUTPUT"
            n="${TIMED_OUTPUT#t|}"
            ((n >= VERIFY_EVENTS)) || bdie "verify in $db checked only $n events"
            tps="$(awk -v n="$n" -v s="$TIMED_SECONDS" 'BEGIN { printf "%.1f", n / s }')"
            case "$db" in
                bulk_b) record verify bulk b "$r" "$tps" ;;
                spread_b) record verify spread b "$r" "$tps" ;;
                bulk_c) record verify bulk c "$r" "$tps" ;;
            esac
            blog "  verify rep $r $db: $n events in ${TIMED_SECONDS}s = $tps events/s"
        done
    done
}

has_phase pgbench && run_pgbench_phase
has_phase bulk && run_bulk_phase
has_phase verify && run_verify_phase
has_phase timetravel && run_timetravel_phase

# ---------------------------------------------------------------- report
REPORT="$RUN_DIR/report.md"
{
    printf '## audit_chain benchmark (%s mode)\n\n' "$MODE"
    printf -- '- date: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf -- '- machine: %s\n' "$(bench_machine_facts)"
    printf -- '- load average (1, 5, 15 min) at the start: %s; at the end: %s\n' "$LOAD_AT_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf -- '- settings: scale %s; pgbench -M prepared, %s rounds x %s passes x %ss per variant and workload, 8 clients with -j 2;' \
        "$SCALE" "$ROUNDS" "$PASSES" "$DURATION"
    printf ' bulk %s reps; verify %s events x %s reps; timetravel %s + %s events, %s rows + %s changes, %s samples;' \
        "$BULK_REPS" "$VERIFY_EVENTS" "$VERIFY_REPS" "$TT_EVENTS" "$((TT_EVENTS / 10))" "$TT_ROWS" "$TT_CHANGES" "$TT_REPS"
    printf ' phases %s; shared_buffers 512MB, fsync on, synchronous_commit on\n\n' "$PHASES"
    bpsql bench_meta -At -f "$BENCH_DIR/report.sql"
    if [[ -s "$RUN_DIR/timetravel-plans.md" ]]; then
        printf '\n### Time travel: the plans of the statements row_at and table_at run\n\n'
        printf 'Scans of audit_chain.events, from auto_explain (log_nested_statements, log_analyze, log_buffers).\n'
        cat "$RUN_DIR/timetravel-plans.md"
    fi
} >"$REPORT"
cp "$REPORT" "$BENCH_WORK/latest.md"
cp "$RUN_DIR/raw.csv" "$BENCH_WORK/latest.csv"
printf '\n'
sed '/^### Details/,$d' "$REPORT"
printf '\nfull report with per-round values: %s (also %s)\n' "$REPORT" "$BENCH_WORK/latest.md"
