#!/usr/bin/env bash
# scripts/demo.sh: build audit_chain, start a throwaway cluster and run scripts/demo.sql
# in a fresh database audit_demo. Works from any directory, as root (the server then
# runs as the postgres OS user) or as a normal user. Build output goes to
# .tmp/logs/demo-build.log; the cluster is stopped at exit, whatever happens.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=SCRIPTDIR/cluster.sh
source "$AC_ROOT/scripts/cluster.sh"

CLUSTER_NAME="demo"
CLUSTER_UP=0

# shellcheck disable=SC2317 # invoked by the EXIT trap
on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    if ((CLUSTER_UP)); then
        CLUSTER_UP=0
        cluster_stop "$CLUSTER_NAME" || true
    fi
    if ((rc != 0)); then
        err "demo failed (status $rc)"
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

main() {
    local logfile="$AC_LOG_DIR/demo-build.log" demo_sql="$AC_ROOT/scripts/demo.sql"
    mkdir -p "$AC_LOG_DIR"
    : >"$logfile"

    section "installing dependencies"
    if ! "$AC_ROOT/scripts/install_deps.sh" >>"$logfile" 2>&1; then
        show_tail "$logfile" 40
        die "installing dependencies failed; log: $(relpath "$logfile")"
    fi
    ac_init_pg_paths
    ac_init_srv_tmp

    section "building audit_chain and installing it into $(relpath "$AC_STAGE")"
    rm -rf "$AC_STAGE"
    if ! (cd "$AC_ROOT" && make -s clean && make -j"$(nproc)" && make install DESTDIR="$AC_STAGE") \
        >>"$logfile" 2>&1; then
        show_tail "$logfile" 60
        die "build failed; log: $(relpath "$logfile")"
    fi
    log "build ok (log: $(relpath "$logfile"))"

    [[ -f "$demo_sql" ]] || die "$(relpath "$demo_sql") not found"

    section "starting throwaway cluster '$CLUSTER_NAME'"
    CLUSTER_UP=1
    cluster_start "$CLUSTER_NAME"

    section "creating database audit_demo"
    PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists audit_demo
    createdb audit_demo

    section "running $(relpath "$demo_sql")"
    # Everything after this is the demonstration itself, on stdout.
    psql -X -v ON_ERROR_STOP=1 --echo-queries -d audit_demo -f "$demo_sql"

    section "stopping cluster '$CLUSTER_NAME'"
    CLUSTER_UP=0
    cluster_stop "$CLUSTER_NAME"
    log "demo finished"
}

main "$@"
