#!/usr/bin/env bash
# bench/lib.sh: build, stage and throwaway-cluster helpers shared by bench/run.sh and
# bench/profile.sh. Source it, do not run it. Self-contained on purpose: the benchmark
# must keep working while the project's scripts/ change.
#
# Callers set, before calling bench_setup_paths:
#   BENCH_PORT   TCP port on 127.0.0.1 (empty: the first free one from 56432)
#   BENCH_STAGE  staging directory for `make install DESTDIR=...` (empty: default)
#   BENCH_PGDIR  cluster directory (empty: default)
#   BENCH_WORK   results and logs (empty: $BENCH_ROOT/.tmp/bench)

if [[ -n "${BENCH_LIB_SOURCED:-}" ]]; then
    return 0
fi
BENCH_LIB_SOURCED=1
umask 022

if ! declare -p BENCH_MAKE_ARGS >/dev/null 2>&1; then
    BENCH_MAKE_ARGS=()
fi

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BENCH_ROOT="$(cd "$BENCH_DIR/.." && pwd -P)"

blog() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bdie() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- PostgreSQL binaries
bench_find_pg_config() {
    if [[ -n "${PG_CONFIG:-}" ]]; then
        printf '%s\n' "$PG_CONFIG"
    elif [[ -x /usr/lib/postgresql/15/bin/pg_config ]]; then
        printf '%s\n' /usr/lib/postgresql/15/bin/pg_config
    elif command -v pg_config >/dev/null 2>&1; then
        command -v pg_config
    else
        bdie "pg_config not found (set PG_CONFIG, or run scripts/install_deps.sh)"
    fi
}
PG_CONFIG="$(bench_find_pg_config)"
export PG_CONFIG
PG_BINDIR="$("$PG_CONFIG" --bindir)"
PATH="$PG_BINDIR:$PATH"
export PATH
for _tool in initdb pg_ctl psql pgbench; do
    command -v "$_tool" >/dev/null 2>&1 || bdie "$_tool not found in $PG_BINDIR"
done
unset _tool

# ---------------------------------------------------------------- server user
# PostgreSQL refuses to run as root: then the server runs as the postgres OS user.
if [[ "$(id -u)" -eq 0 ]]; then
    BENCH_SERVER_USER="${BENCH_SERVER_USER:-postgres}"
    getent passwd "$BENCH_SERVER_USER" >/dev/null ||
        bdie "running as root, but OS user $BENCH_SERVER_USER does not exist (set BENCH_SERVER_USER)"
else
    BENCH_SERVER_USER="$(id -un)"
fi

as_server() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u "$BENCH_SERVER_USER" -- env PATH="$PATH" "$@"
    else
        "$@"
    fi
}

# True if the server user can read PATH (every parent directory must be searchable).
server_can_read() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u "$BENCH_SERVER_USER" -- test -r "$1") 2>/dev/null
    else
        test -r "$1"
    fi
}

port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

bench_setup_paths() {
    BENCH_WORK="${BENCH_WORK:-$BENCH_ROOT/.tmp/bench}"
    mkdir -p "$BENCH_WORK"
    # Stage and cluster must be reachable by the server user: under a tree it cannot
    # enter (root working in /root), fall back to /tmp.
    local srv_base="$BENCH_WORK"
    if [[ "$(id -u)" -eq 0 ]] && ! server_can_read "$BENCH_WORK/."; then
        srv_base="${TMPDIR:-/tmp}/audit_chain-bench-$(printf '%s' "$BENCH_ROOT" | cksum | cut -d' ' -f1)"
    fi
    BENCH_STAGE="${BENCH_STAGE:-$srv_base/stage}"
    BENCH_PGDIR="${BENCH_PGDIR:-$srv_base/pg}"
    BENCH_BUILD="${BENCH_BUILD:-$BENCH_WORK/build}"
    if [[ -z "${BENCH_PORT:-}" ]]; then
        local p
        for ((p = 56432; p < 56632; p++)); do
            if port_is_free "$p"; then
                BENCH_PORT="$p"
                break
            fi
        done
        [[ -n "${BENCH_PORT:-}" ]] || bdie "no free port in 56432-56631; use --port"
    fi
    export PGHOST=127.0.0.1 PGPORT="$BENCH_PORT" PGUSER=postgres
    unset PGDATABASE PGOPTIONS PGSERVICE
}

# ---------------------------------------------------------------- build
# Builds a private copy of the sources (other engineers build in the tree at the same
# time) and installs it into the stage. Extra make arguments: array BENCH_MAKE_ARGS.
bench_build() {
    local log="$BENCH_WORK/build.log"
    blog "building audit_chain in $BENCH_BUILD, staging into $BENCH_STAGE (log: $log)"
    rm -rf "$BENCH_BUILD"
    mkdir -p "$BENCH_BUILD"
    (cd "$BENCH_ROOT" && cp -R Makefile ./*.control src "$BENCH_BUILD/")
    find "$BENCH_BUILD" \( -name '*.o' -o -name '*.d' -o -name '*.so' -o -name '*.bc' \) -delete
    # The stage is replaced only once the build succeeded: --no-build can reuse it.
    if ! (cd "$BENCH_BUILD" && make -j"$(nproc)" PG_CONFIG="$PG_CONFIG" "${BENCH_MAKE_ARGS[@]}" &&
        rm -rf "$BENCH_STAGE" && make install DESTDIR="$BENCH_STAGE" PG_CONFIG="$PG_CONFIG") >"$log" 2>&1; then
        grep -E 'error:|\*\*\*' "$log" | head -n 20 >&2
        bdie "build failed (log: $log); if the tree is being edited, retry later or use --no-build"
    fi
    chmod -R a+rX "$BENCH_STAGE"
    server_can_read "$BENCH_STAGE/." || bdie "the server user cannot read $BENCH_STAGE; use --stage"
}

# ---------------------------------------------------------------- cluster
BENCH_CLUSTER_UP=0

# The postmaster PID of our cluster, if it runs (checked against its data directory).
bench_cluster_pid() {
    local data="$BENCH_PGDIR/data" pid
    [[ -f "$data/postmaster.pid" ]] || return 1
    pid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null)"
    [[ "$pid" =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
    [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$(cd "$data" && pwd -P)" ]] || return 1
    printf '%s\n' "$pid"
}

# initdb + start.
bench_cluster_start() {
    local data="$BENCH_PGDIR/data" sockdir="$BENCH_PGDIR"
    if bench_cluster_pid >/dev/null; then
        blog "stopping a leftover server in $BENCH_PGDIR"
        (cd / && as_server pg_ctl -D "$data" -m fast -w stop) >/dev/null 2>&1 || true
    fi
    port_is_free "$BENCH_PORT" || bdie "port $BENCH_PORT is in use; choose another with --port"
    rm -rf "$BENCH_PGDIR"
    mkdir -p "$BENCH_PGDIR"
    chmod 700 "$BENCH_PGDIR"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown "$BENCH_SERVER_USER:" "$BENCH_PGDIR"
    fi
    blog "initdb in $BENCH_PGDIR"
    (cd / && as_server initdb -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale) \
        >"$BENCH_WORK/initdb.log" 2>&1 || {
        tail -n 20 "$BENCH_WORK/initdb.log" >&2
        bdie "initdb failed"
    }
    if ((${#sockdir} + 20 > 107)); then
        sockdir=""  # unix socket path length limit: TCP only
    fi
    {
        printf '\n# ---- audit_chain benchmark cluster (bench/lib.sh) ----\n'
        printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n" "$BENCH_PORT" "$sockdir"
        printf "extension_destdir = '%s'\n" "$BENCH_STAGE"
        cat <<'CONF'
max_connections = 50
shared_buffers = 512MB
fsync = on
synchronous_commit = on
full_page_writes = on
# Checkpoints are forced by the benchmark before each measurement, not left to chance.
max_wal_size = 8GB
checkpoint_timeout = 1h
# Vacuum is run explicitly between measurements (pgbench -v); autovacuum would add noise.
autovacuum = off
max_prepared_transactions = 10
jit = off
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
CONF
    } >>"$data/postgresql.conf"
    blog "starting the server on 127.0.0.1:$BENCH_PORT"
    BENCH_CLUSTER_UP=1
    (cd / && as_server pg_ctl -D "$data" -l "$BENCH_PGDIR/server.log" -w -t 120 start) \
        >"$BENCH_WORK/pg_ctl.log" 2>&1 || {
        tail -n 20 "$BENCH_PGDIR/server.log" >&2
        bdie "server start failed"
    }
}

bench_cluster_stop() {
    if ((BENCH_CLUSTER_UP)); then
        BENCH_CLUSTER_UP=0
        if bench_cluster_pid >/dev/null; then
            blog "stopping the server"
            (cd / && as_server pg_ctl -D "$BENCH_PGDIR/data" -m fast -w -t 120 stop) >/dev/null 2>&1 ||
                printf 'WARNING: could not stop the server in %s\n' "$BENCH_PGDIR" >&2
        fi
    fi
}

# ---------------------------------------------------------------- clients
# psql on database $1, quiet, stopping at the first error.
bpsql() {
    local db="$1"
    shift
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# One value from a query.
bquery() {
    bpsql "$1" -At -c "$2"
}

bench_machine_facts() {
    local cpu
    cpu="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)"
    printf 'nproc %s; CPU %s; %s; %s\n' "$(nproc)" "${cpu:-unknown}" \
        "$(bquery postgres 'SELECT version()' | sed 's/ on .*//')" "$(uname -sr)"
}
