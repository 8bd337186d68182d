#!/usr/bin/env bash
# scripts/test.sh: build audit_chain and run every test suite; works from any directory,
# as root (the servers then run as the postgres OS user) or as a normal user.
#
# Suites, each counted, none stopping the later ones:
#   deps       scripts/install_deps.sh                                  (1 check)
#   build      make clean; make with -Werror and assertions; make install into the
#              stage .tmp/stage                                         (1 check)
#   unit       CMake + GoogleTest through ctest                         (each ctest test)
#   regress    pg_regress over sql/*.sql against a throwaway cluster    (each test)
#   isolation  pg_isolation_regress over test/isolation/specs/*.spec    (each spec)
#   tap        prove over test/t/*.pl (PostgreSQL::Test::Cluster)       (each assertion)
# The last line is the grand total: "N passed, M failed". Exit 0 only if M == 0 < N.
# Verbose output goes to .tmp/logs/; the paths are printed on failure.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=SCRIPTDIR/cluster.sh
source "$AC_ROOT/scripts/cluster.sh"

CLUSTER_NAME="test"
CLUSTER_UP=0
BUILD_OK=0
SUMMARY_DONE=0

SUITE_NAMES=()
SUITE_PASSED=()
SUITE_FAILED=()
SUITE_NOTES=()

# record NAME PASSED FAILED [NOTE]
record() {
    SUITE_NAMES+=("$1")
    SUITE_PASSED+=("$2")
    SUITE_FAILED+=("$3")
    SUITE_NOTES+=("${4:-}")
    local note=""
    if [[ -n "${4:-}" ]]; then
        note=" ($4)"
    fi
    printf 'suite %s: %s passed, %s failed%s\n' "$1" "$2" "$3" "$note"
}

print_summary() {
    local i total_passed=0 total_failed=0 note
    SUMMARY_DONE=1
    printf '\n==> summary\n'
    for i in "${!SUITE_NAMES[@]}"; do
        note=""
        if [[ -n "${SUITE_NOTES[$i]}" ]]; then
            note=" (${SUITE_NOTES[$i]})"
        fi
        printf 'suite %s: %s passed, %s failed%s\n' \
            "${SUITE_NAMES[$i]}" "${SUITE_PASSED[$i]}" "${SUITE_FAILED[$i]}" "$note"
        total_passed=$((total_passed + SUITE_PASSED[i]))
        total_failed=$((total_failed + SUITE_FAILED[i]))
    done
    printf '%s passed, %s failed\n' "$total_passed" "$total_failed"
    if ((total_failed == 0 && total_passed > 0)); then
        return 0
    fi
    return 1
}

stop_test_cluster() {
    if ((CLUSTER_UP)); then
        CLUSTER_UP=0
        cluster_stop "$CLUSTER_NAME" || true
    fi
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    stop_test_cluster
    if ((!SUMMARY_DONE)); then
        record aborted 0 1 "test.sh stopped early with status $rc"
        print_summary || true
        if ((rc == 0)); then
            rc=1
        fi
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_logged LOG CMD...: run CMD with all output to LOG; returns CMD's status.
run_logged() {
    local logfile="$1"
    shift
    local rc=0
    "$@" >>"$logfile" 2>&1 || rc=$?
    return "$rc"
}

# ---------------------------------------------------------------------------- deps
suite_deps() {
    section "suite deps: scripts/install_deps.sh"
    local logfile="$AC_LOG_DIR/install_deps.log"
    : >"$logfile"
    if run_logged "$logfile" "$AC_ROOT/scripts/install_deps.sh"; then
        tail -n 1 "$logfile"
        record deps 1 0
    else
        show_tail "$logfile" 40
        record deps 0 1 "see $(relpath "$logfile")"
    fi
    # pg_config and the server user may exist only now.
    ac_init_pg_paths
    ac_init_srv_tmp
}

# ---------------------------------------------------------------------------- build
# Called in a condition, where set -e does not apply: every step is checked.
build_steps() {
    cd "$AC_ROOT" || return 1
    rm -rf "$AC_STAGE" || return 1
    echo "+ make -s clean"
    make -s clean || return 1
    echo "+ make -j$(nproc) AUDIT_CHAIN_WERROR=1 AUDIT_CHAIN_ASSERTS=1"
    make -j"$(nproc)" AUDIT_CHAIN_WERROR=1 AUDIT_CHAIN_ASSERTS=1 || return 1
    echo "+ make install DESTDIR=$AC_STAGE"
    make install DESTDIR="$AC_STAGE" AUDIT_CHAIN_WERROR=1 AUDIT_CHAIN_ASSERTS=1 || return 1
}

suite_build() {
    section "suite build: make (-Werror, assertions) and stage install into $(relpath "$AC_STAGE")"
    local logfile="$AC_LOG_DIR/build.log"
    : >"$logfile"
    if ! command -v pg_config >/dev/null 2>&1; then
        err "pg_config not found: postgresql-server-dev-15 is missing"
        record build 0 1 "pg_config not found"
        return 0
    fi
    if (build_steps) >>"$logfile" 2>&1 &&
        [[ -f "$AC_STAGE$(pg_config --sharedir)/extension/audit_chain.control" ]] &&
        [[ -f "$AC_STAGE$(pg_config --pkglibdir)/audit_chain.so" ]]; then
        BUILD_OK=1
        log "build ok (log: $(relpath "$logfile"))"
        record build 1 0
    else
        err "build failed; full log: $(relpath "$logfile")"
        show_tail "$logfile" 60
        record build 0 1 "see $(relpath "$logfile")"
    fi
}

# ---------------------------------------------------------------------------- unit
suite_unit() {
    section "suite unit: CMake + GoogleTest (ctest)"
    local logfile="$AC_LOG_DIR/unit.log" bdir="$AC_TMP/build-cmake" line
    : >"$logfile"
    if [[ ! -f "$AC_ROOT/CMakeLists.txt" ]]; then
        err "CMakeLists.txt does not exist: no unit tests can be built"
        record unit 0 1 "CMakeLists.txt missing"
        return 0
    fi
    # A build tree configured for another source directory (copied repo) is unusable.
    if [[ -f "$bdir/CMakeCache.txt" ]] &&
        ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$AC_ROOT" "$bdir/CMakeCache.txt"; then
        rm -rf "$bdir"
    fi
    if ! run_logged "$logfile" cmake -S "$AC_ROOT" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
        err "cmake configure failed; full log: $(relpath "$logfile")"
        show_tail "$logfile" 40
        record unit 0 1 "cmake configure failed"
        return 0
    fi
    if ! run_logged "$logfile" cmake --build "$bdir" -j"$(nproc)"; then
        err "unit test build failed; full log: $(relpath "$logfile")"
        show_tail "$logfile" 60
        record unit 0 1 "unit test build failed"
        return 0
    fi
    local rc=0
    run_logged "$logfile" ctest --test-dir "$bdir" --output-on-failure --no-tests=error || rc=$?
    line="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$logfile" | tail -n 1 || true)"
    if [[ "$line" =~ ^[0-9]+%\ tests\ passed,\ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
        local failed="${BASH_REMATCH[1]}" total="${BASH_REMATCH[2]}"
        log "$line"
        if ((rc != 0 && failed == 0)); then
            failed=1
        fi
        if ((failed > 0)); then
            sed -n '/The following tests FAILED/,$p' "$logfile" >&2
            err "unit tests failed; full log: $(relpath "$logfile")"
        fi
        record unit "$((total - failed < 0 ? 0 : total - failed))" "$failed"
    else
        err "ctest printed no summary (status $rc); full log: $(relpath "$logfile")"
        show_tail "$logfile" 40
        record unit 0 1 "no ctest summary"
    fi
}

# ---------------------------------------------------------------------------- cluster
start_test_cluster() {
    section "starting throwaway cluster '$CLUSTER_NAME'"
    if cluster_start "$CLUSTER_NAME"; then
        CLUSTER_UP=1
        return 0
    fi
    return 1
}

# ---------------------------------------------------------------------------- pg_regress
# parse_regress_summary LOG STATUS: sets R_PASSED/R_FAILED/R_NOTE from pg_regress's
# closing line (" All N tests passed. ", " M of N tests failed. ", and the "ignored"
# variants).
parse_regress_summary() {
    local logfile="$1" status="$2" line
    R_PASSED=0
    R_FAILED=0
    R_NOTE=""
    line="$(grep -E '^ *(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests (passed|failed))' "$logfile" | tail -n 1 || true)"
    if [[ "$line" =~ All\ ([0-9]+)\ tests\ passed ]]; then
        R_PASSED="${BASH_REMATCH[1]}"
    elif [[ "$line" =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ passed,\ ([0-9]+)\ failed ]]; then
        R_PASSED="${BASH_REMATCH[2]}"
        R_NOTE="${BASH_REMATCH[3]} failure(s) ignored"
    elif [[ "$line" =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed,\ ([0-9]+)\ of\ these ]]; then
        R_FAILED=$((BASH_REMATCH[1] - BASH_REMATCH[3]))
        R_PASSED=$((BASH_REMATCH[2] - R_FAILED))
        R_NOTE="${BASH_REMATCH[3]} failure(s) ignored"
    elif [[ "$line" =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed ]]; then
        R_FAILED="${BASH_REMATCH[1]}"
        R_PASSED=$((BASH_REMATCH[2] - BASH_REMATCH[1]))
    else
        R_FAILED=1
        R_NOTE="no pg_regress summary (status $status)"
        return 0
    fi
    if ((status != 0 && R_FAILED == 0)); then
        R_FAILED=1
        R_NOTE="pg_regress exited with status $status"
    fi
}

# run_regress_suite NAME DRIVER INPUTDIR OUTPUTDIR DBNAME TESTS...; extra driver options
# come from the array REGRESS_EXTRA_OPTS.
run_regress_suite() {
    local name="$1" driver="$2" inputdir="$3" outputdir="$4" dbname="$5"
    shift 5
    local logfile="$AC_LOG_DIR/$name.log" rc=0
    : >"$logfile"
    rm -rf "$outputdir"
    mkdir -p "$outputdir"
    if [[ ! -x "$driver" ]]; then
        err "$driver not found (postgresql-server-dev-15)"
        record "$name" 0 1 "driver missing"
        return 0
    fi
    (cd "$AC_ROOT" && "$driver" --inputdir="$inputdir" --outputdir="$outputdir" \
        --bindir="$AC_PG_BINDIR" --host=127.0.0.1 --port="$PGPORT" --user=postgres \
        --dbname="$dbname" "${REGRESS_EXTRA_OPTS[@]}" "$@") 2>&1 | tee "$logfile" || rc=$?
    parse_regress_summary "$logfile" "$rc"
    if ((R_FAILED > 0)); then
        if [[ -f "$outputdir/regression.diffs" ]]; then
            printf -- '----- %s (first 300 lines) -----\n' "$(relpath "$outputdir/regression.diffs")"
            head -n 300 "$outputdir/regression.diffs"
            printf -- '----- end of diffs -----\n'
        fi
        show_tail "${AC_CLUSTER_LOG:-}" 40
        err "$name failed; output in $(relpath "$outputdir"), log $(relpath "$logfile")"
    fi
    record "$name" "$R_PASSED" "$R_FAILED" "$R_NOTE"
}

suite_regress() {
    section "suite regress: pg_regress over sql/*.sql"
    local -a tests=()
    local f
    for f in "$AC_ROOT"/sql/*.sql; do
        [[ -e "$f" ]] || continue
        f="${f##*/}"
        tests+=("${f%.sql}")
    done
    if ((${#tests[@]} == 0)); then
        log "no sql/*.sql tests"
        record regress 0 0 "no tests"
        return 0
    fi
    REGRESS_EXTRA_OPTS=()
    run_regress_suite regress "$AC_PG_PKGLIBDIR/pgxs/src/test/regress/pg_regress" \
        . "$AC_TMP/regress" contrib_regression "${tests[@]}"
}

suite_isolation() {
    section "suite isolation: pg_isolation_regress over test/isolation/specs/*.spec"
    local -a specs=()
    local f
    for f in "$AC_ROOT"/test/isolation/specs/*.spec; do
        [[ -e "$f" ]] || continue
        f="${f##*/}"
        specs+=("${f%.spec}")
    done
    if ((${#specs[@]} == 0)); then
        log "no test/isolation/specs/*.spec"
        record isolation 0 0 "no tests"
        return 0
    fi
    # pg_isolation_regress runs the isolationtester that sits next to it.
    REGRESS_EXTRA_OPTS=(--load-extension=audit_chain)
    run_regress_suite isolation "$AC_PG_PKGLIBDIR/pgxs/src/test/isolation/pg_isolation_regress" \
        test/isolation "$AC_TMP/isolation" isolation_regression "${specs[@]}"
}

# ---------------------------------------------------------------------------- TAP
# parse_prove_summary LOG STATUS: sets T_PASSED/T_FAILED/T_FAILED_FILES from prove's
# summary: "Files=F, Tests=T", the "Test Summary Report" entries and "Result: ...".
parse_prove_summary() {
    local logfile="$1" status="$2" parsed
    parsed="$(perl -ne '
        if (/^Files=\d+, Tests=(\d+)/) { $tests = $1; }
        if (/^Result: (\S+)/) { $result = $1; }
        # "t/x.pl (Wstat: 256 (exited 1) Tests: 3 Failed: 1)"; older prove: no "(exited 1)"
        if (/^(\S+)\s+\(Wstat: (\d+)(?: \([^)]*\))? Tests: \d+ Failed: (\d+)\)/) {
            $cur = $1; $f{$cur} = $3; $bad{$cur} = 1 if $3 > 0 || $2 != 0; next;
        }
        if (defined $cur && /^  (Parse errors|Non-zero exit status|Non-zero wait status)/) {
            $bad{$cur} = 1;
        }
        $cur = undef if /^Files=/;
        END {
            my ($failed, $assert_failed, @files) = (0, 0);
            for my $k (sort keys %bad) {
                $assert_failed += $f{$k};
                $failed += $f{$k} > 0 ? $f{$k} : 1;
                push @files, $k;
            }
            printf "%s %s %s %s %s\n", $tests // -1, $assert_failed, $failed,
                $result // "NONE", join(",", @files);
        }' "$logfile")"
    local tests assert_failed failed result files
    read -r tests assert_failed failed result files <<<"$parsed"
    T_FAILED_FILES="${files:-}"
    T_NOTE=""
    if ((tests < 0)); then
        T_PASSED=0
        T_FAILED=1
        T_NOTE="no prove summary (status $status)"
        return 0
    fi
    T_PASSED=$((tests - assert_failed))
    ((T_PASSED >= 0)) || T_PASSED=0
    T_FAILED="$failed"
    if [[ "$result" != PASS && "$result" != NOTESTS ]] || ((status != 0)); then
        if ((T_FAILED == 0)); then
            T_FAILED=1
            T_NOTE="prove: Result $result, status $status"
        fi
    fi
}

# Servers left running under DIR by an earlier, killed run (TAP nodes): fast shutdown,
# only for postmasters that really serve a data directory under DIR.
stop_leftover_servers() {
    local dir="$1" pidfile data
    [[ -d "$dir" ]] || return 0
    while IFS= read -r pidfile; do
        data="${pidfile%/postmaster.pid}"
        if cluster_running_pid "$data" >/dev/null; then
            log "stopping leftover server in $data"
            (cd / && run_as_server_user pg_ctl -D "$data" -m fast -w -t 60 stop) >/dev/null 2>&1 || true
        fi
    done < <(find "$dir" -name postmaster.pid -type f 2>/dev/null)
}

suite_tap() {
    section "suite tap: prove over test/t/*.pl"
    local -a files=()
    local f
    for f in "$AC_ROOT"/test/t/*.pl; do
        [[ -e "$f" ]] || continue
        files+=("test/t/${f##*/}")
    done
    if ((${#files[@]} == 0)); then
        log "no test/t/*.pl"
        record tap 0 0 "no tests"
        return 0
    fi
    local tapdir="$AC_SRV_TMP/tap" src="$AC_ROOT" logfile="$AC_LOG_DIR/tap.log" rc=0
    : >"$logfile"
    stop_leftover_servers "$tapdir"
    rm -rf "$tapdir"
    ensure_server_owned "$tapdir"
    # The server user runs prove; give it a readable copy of the tree if it cannot read ours.
    if ! server_user_can_read "$AC_ROOT/${files[0]}"; then
        src="$tapdir/src"
        mkdir -p "$src"
        tar -C "$AC_ROOT" --exclude=./.git --exclude=./.tmp -cf - . | tar -C "$src" -xf -
        ensure_server_owned "$src"
        log "note: running the TAP tests from a copy readable by $AC_SERVER_USER: $src"
    fi
    # Every node that PostgreSQL::Test::Cluster->init creates gets this appended.
    printf "extension_destdir = '%s'\n" "$AC_STAGE" >"$tapdir/extra.conf"
    ensure_server_owned "$tapdir"
    local -a inc=(-I "$AC_PG_PKGLIBDIR/pgxs/src/test/perl")
    if [[ -d "$src/test/perl" ]]; then
        inc+=(-I test/perl)
    fi
    (cd "$src" && run_as_server_user env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE \
        PATH="$AC_PG_BINDIR:$PATH" \
        TESTDIR="$tapdir" \
        PG_REGRESS="$AC_PG_PKGLIBDIR/pgxs/src/test/regress/pg_regress" \
        AUDIT_CHAIN_STAGE="$AC_STAGE" \
        AUDIT_CHAIN_ROOT="$src" \
        TEMP_CONFIG="$tapdir/extra.conf" \
        prove "${inc[@]}" "${files[@]}") 2>&1 | tee "$logfile" || rc=$?
    parse_prove_summary "$logfile" "$rc"
    if ((T_FAILED > 0)); then
        local tf base
        local -a failed_files=()
        IFS=, read -r -a failed_files <<<"$T_FAILED_FILES"
        for tf in "${failed_files[@]}"; do
            base="${tf##*/}"
            base="${base%.*}"
            show_tail "$tapdir/tmp_check/log/regress_log_$base" 60
        done
        err "tap failed; prove output $(relpath "$logfile"), test logs $(relpath "$tapdir/tmp_check/log")"
    fi
    record tap "$T_PASSED" "$T_FAILED" "$T_NOTE"
}

# ---------------------------------------------------------------------------- main
main() {
    log "audit_chain tests in $AC_ROOT (as $(id -un); servers run as $AC_SERVER_USER)"
    mkdir -p "$AC_LOG_DIR"
    suite_deps
    suite_build
    suite_unit
    if ((BUILD_OK)); then
        if start_test_cluster; then
            suite_regress
            suite_isolation
        else
            record regress 0 1 "cluster did not start"
            record isolation 0 1 "cluster did not start"
        fi
        stop_test_cluster
        suite_tap
    else
        record regress 0 1 "skipped: build failed"
        record isolation 0 1 "skipped: build failed"
        record tap 0 1 "skipped: build failed"
    fi
    local rc=0
    print_summary || rc=1
    exit "$rc"
}

main "$@"
