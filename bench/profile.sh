#!/usr/bin/env bash
# bench/profile.sh: where audit_chain's CPU time goes. Not part of the test suite.
#
# Builds audit_chain with frame pointers into a private stage, starts a throwaway cluster
# (stopped at exit) and samples the server backends with `perf record -e cpu-clock -g`:
#   update1, update8  single-row UPDATE pgbench runs (1 and 8 clients), unaudited (a) and
#                     with audit_chain (b): backend CPU per transaction and top functions
#   verify            audit_chain.verify() over VERIFY_EVENTS events of 100,000-row UPDATEs
# cpu-clock works without hardware counters (virtual machines). Off-CPU time (waiting
# for the WAL flush at commit) is not sampled: compare CPU per transaction, not tps.
#
# Usage: bench/profile.sh [--duration S] [--verify-events N] [--what update1,update8,verify]
#                         [--port N] [--stage DIR] [--pgdir DIR] [--work DIR] [--no-build]
set -euo pipefail

DURATION=15 VERIFY_EVENTS=1000000 SCALE=10 WHAT="update1,update8,verify" DO_BUILD=1
BENCH_PORT="" BENCH_STAGE="" BENCH_PGDIR="" BENCH_WORK=""
while (($#)); do
    case "$1" in
        --duration) DURATION="$2"; shift ;;
        --verify-events) VERIFY_EVENTS="$2"; shift ;;
        --what) WHAT="$2"; shift ;;
        --port) BENCH_PORT="$2"; shift ;;
        --stage) BENCH_STAGE="$2"; shift ;;
        --pgdir) BENCH_PGDIR="$2"; shift ;;
        --work) BENCH_WORK="$2"; shift ;;
        --no-build) DO_BUILD=0 ;;
        -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v perf >/dev/null 2>&1 || bdie "perf not found (Debian: apt-get install linux-perf)"

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    bench_cluster_stop
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BENCH_WORK="${BENCH_WORK:-$BENCH_ROOT/.tmp/bench}"
BENCH_BUILD="${BENCH_BUILD:-$BENCH_WORK/build-fp}"
bench_setup_paths
OUT="$BENCH_WORK/profile/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
blog "profiles go to $OUT"

if ((DO_BUILD)); then
    # Frame pointers in the extension too (PostgreSQL itself is built with them), so
    # that call chains through audit_chain's C++ code unwind.
    pgxs_global="$(dirname "$("$PG_CONFIG" --pgxs)")/../Makefile.global"
    base_cxxflags="$(sed -n 's/^CXXFLAGS = //p' "$pgxs_global")"
    BENCH_MAKE_ARGS=("CXXFLAGS=$base_cxxflags -fno-omit-frame-pointer")
    bench_build
fi
bench_cluster_start

has() { [[ ",$WHAT," == *",$1,"* ]]; }

blog "pgbench -i -s $SCALE"
bpsql postgres -c 'CREATE DATABASE prof_a'
pgbench -i -q -s "$SCALE" prof_a >"$OUT/pgbench-init.log" 2>&1 || bdie "pgbench -i failed"
bpsql prof_a -c 'CREATE EXTENSION pg_prewarm' -c 'VACUUM ANALYZE'
bpsql postgres -c 'CREATE DATABASE prof_b TEMPLATE prof_a'
bpsql prof_b -f "$BENCH_DIR/setup_audit_chain.sql" >/dev/null

summarize() {  # perf.data title
    local data="$1" title="$2"
    # Reports are cut with head: a reader killed by SIGPIPE is not an error here.
    {
        printf '\n### %s\n\n```\n' "$title"
        perf report -i "$data" --stdio --no-children --sort dso 2>/dev/null |
            grep -v -e '^#' -e '^$' | head -n 8 || true
        printf '\n-- self time by function (top 30)\n'
        perf report -i "$data" --stdio --no-children --sort dso,symbol -g none --percent-limit 0.3 2>/dev/null |
            grep -v -e '^#' -e '^$' | head -n 30 || true
        printf '\n-- including callees: audit_chain functions and the executor/commit path (top 30)\n'
        perf report -i "$data" --stdio --children --sort symbol -g none 2>/dev/null |
            grep -v -e '^#' -e '^$' |
            grep -E 'audit_chain|CommitTransaction|CallXactCallbacks|AfterTrigger|XLogFlush|heap_update|ExecUpdate|ExecModifyTable|verify|Verif' |
            head -n 30 || true
        printf '```\n'
    } >>"$OUT/summary.md"
}

# Sample the backends of a pgbench run on DB for DURATION seconds.
profile_pgbench() {
    local name="$1" db="$2" clients="$3" pids c0 c1 data="$OUT/perf-$1.data" ns kpct
    bpsql "$db" -c 'VACUUM pgbench_accounts' \
        -c "SELECT pg_prewarm('pgbench_accounts'), pg_prewarm('pgbench_accounts_pkey')" -c 'CHECKPOINT' >/dev/null
    pgbench -n -M prepared -c "$clients" -j "$((clients > 1 ? 2 : 1))" -T "$((DURATION + 6))" \
        -f "$BENCH_DIR/update.sql" -D scale="$SCALE" "$db" >"$OUT/pgbench-$name.log" 2>&1 &
    local pgbench_pid=$!
    sleep 2
    pids="$(bquery postgres "SELECT string_agg(pid::text, ',') FROM pg_stat_activity
                              WHERE datname = '$db' AND application_name = 'pgbench'")"
    [[ -n "$pids" ]] || bdie "no pgbench backends found"
    c0="$(bquery postgres "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'")"
    perf record -q -e cpu-clock -F 999 -g -p "$pids" -o "$data" -- sleep "$DURATION" >/dev/null 2>&1
    c1="$(bquery postgres "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'")"
    wait "$pgbench_pid" || bdie "pgbench failed: $OUT/pgbench-$name.log"
    # cpu-clock's event count is CPU time in nanoseconds.
    ns="$(perf report -i "$data" --stdio --no-children --sort dso 2>/dev/null |
        sed -n 's/^# Event count (approx.): \([0-9]*\).*/\1/p' | head -n 1)"
    # Share of kernel time (system calls: WAL flush, network; scheduling).
    kpct="$(perf report -i "$data" --stdio --no-children --sort dso -g none 2>/dev/null |
        sed -n 's/^ *\([0-9.]*\)% *\[kernel\.kallsyms\].*/\1/p' | head -n 1)"
    printf '| %s | %s | %.0f | %.1f | %.1f |\n' "$name" "$((c1 - c0))" \
        "$(awk -v n="$((c1 - c0))" -v d="$DURATION" 'BEGIN { print n / d }')" \
        "$(awk -v ns="$ns" -v n="$((c1 - c0))" 'BEGIN { print ns / 1000 / n }')" \
        "$(awk -v ns="$ns" -v n="$((c1 - c0))" -v k="${kpct:-0}" 'BEGIN { print ns / 1000 / n * (100 - k) / 100 }')" \
        >>"$OUT/cpu.md"
    blog "  $name: $((c1 - c0)) transactions, backend CPU $(awk -v ns="$ns" -v n="$((c1 - c0))" 'BEGIN { printf "%.1f", ns / 1000 / n }') us per transaction"
    summarize "$data" "$name"
}

printf '| run | transactions sampled | tps | backend CPU per transaction (us) | of which user space (us) |\n|---|--:|--:|--:|--:|\n' >"$OUT/cpu.md"
printf '## audit_chain profile (%s)\n\nmachine: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(bench_machine_facts)" >"$OUT/summary.md"

for w in update1 update8; do
    has "$w" || continue
    clients=1
    [[ "$w" == update8 ]] && clients=8
    for v in a b; do
        blog "profiling $w on variant $v"
        profile_pgbench "$w-$v" "prof_$v" "$clients"
    done
done

if has verify; then
    blog "verify: filling the log to $VERIFY_EVENTS events"
    bpsql postgres -c 'CREATE DATABASE prof_v TEMPLATE prof_a'
    bpsql prof_v -f "$BENCH_DIR/setup_audit_chain.sql" >/dev/null
    while (($(bquery prof_v 'SELECT count(*) FROM audit_chain.events') < VERIFY_EVENTS)); do
        bpsql prof_v -c 'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 100000'
    done
    bpsql prof_v -c 'VACUUM ANALYZE audit_chain.events' -c 'CHECKPOINT' -c 'SELECT * FROM audit_chain.verify()' >/dev/null
    blog "profiling verify"
    {
        printf 'SELECT pg_sleep(1);\n\\timing on\n'
        for _ in 1 2 3 4 5; do printf 'SELECT * FROM audit_chain.verify();\n'; done
    } >"$OUT/verify.sql"
    PGAPPNAME=prof_verify psql -X -d prof_v -f "$OUT/verify.sql" >"$OUT/verify.log" 2>&1 &
    psql_pid=$!
    sleep 0.5
    vpid="$(bquery postgres "SELECT pid FROM pg_stat_activity WHERE application_name = 'prof_verify'")"
    [[ -n "$vpid" ]] || bdie "verify backend not found"
    perf record -q -e cpu-clock -F 999 -g -p "$vpid" -o "$OUT/perf-verify.data" >/dev/null 2>&1 || true
    wait "$psql_pid" || bdie "verify failed: $OUT/verify.log"
    grep '^Time' "$OUT/verify.log" >&2 || true
    summarize "$OUT/perf-verify.data" "verify() of $VERIFY_EVENTS events, 5 times"
fi

{
    printf '\n## Backend CPU per transaction\n\n'
    cat "$OUT/cpu.md"
} >>"$OUT/summary.md"
blog "summary: $OUT/summary.md"
cat "$OUT/cpu.md"
