#!/usr/bin/env bash
# scripts/cluster.sh: throwaway PostgreSQL clusters for tests, demos and benchmarks.
#
# CLI:
#   scripts/cluster.sh start NAME    (re)create and start .tmp/cluster-NAME; prints the
#                                    client environment, so: eval "$(scripts/cluster.sh start dev)"
#   scripts/cluster.sh stop NAME     fast shutdown (the directory stays for inspection)
#   scripts/cluster.sh status NAME   exit 0 if running
#   scripts/cluster.sh env NAME      print the client environment of a running cluster
#
# Sourced: cluster_start NAME exports PGHOST PGPORT PGUSER PGDATABASE (and AC_CLUSTER_DIR,
# AC_CLUSTER_LOG) into the caller; cluster_stop NAME stops it.
#
# The cluster listens on 127.0.0.1 only, keeps its unix socket in its own directory,
# trusts local connections, has superuser "postgres", finds the staged extension
# through extension_destdir, and keeps fsync on. As root, the server runs as the
# postgres OS user; clients run as the invoking user.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cluster_dir() {
    printf '%s/cluster-%s\n' "$AC_SRV_TMP" "$1"
}

cluster_check_name() {
    if [[ ! "$1" =~ ^[A-Za-z0-9_-]+$ ]]; then
        err "invalid cluster name '$1' (letters, digits, _ and - only)"
        return 1
    fi
}

# PID of the postmaster of DATA if it is running and really serves DATA, else fails.
cluster_running_pid() {
    local data="$1" pid cwd
    [[ -f "$data/postmaster.pid" ]] || return 1
    pid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -d "/proc/$pid" ]] || return 1
    # The postmaster chdirs into its data directory: a recycled PID will not match.
    cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
    [[ -n "$cwd" && "$cwd" == "$(cd "$data" && pwd -P)" ]] || return 1
    printf '%s\n' "$pid"
}

# Fast shutdown of cluster NAME if it is running. Never signals anything else.
cluster_stop() {
    local name="$1" dir data
    cluster_check_name "$name" || return 1
    dir="$(cluster_dir "$name")"
    data="$dir/data"
    if ! cluster_running_pid "$data" >/dev/null; then
        return 0
    fi
    log "cluster $name: stopping"
    if ! (cd "$dir" && run_as_server_user pg_ctl -D "$data" -m fast -w -t 60 stop >>"$dir/pg_ctl.log" 2>&1); then
        err "cluster $name: pg_ctl stop failed; see $dir/pg_ctl.log"
        return 1
    fi
}

cluster_status() {
    local name="$1"
    cluster_check_name "$name" || return 1
    cluster_running_pid "$(cluster_dir "$name")/data" >/dev/null
}

cluster_env() {
    local name="$1" dir
    cluster_check_name "$name" || return 1
    dir="$(cluster_dir "$name")"
    if ! cluster_status "$name"; then
        err "cluster $name is not running"
        return 1
    fi
    printf 'export PGHOST=127.0.0.1 PGPORT=%s PGUSER=postgres PGDATABASE=postgres\n' \
        "$(cat "$dir/port")"
}

cluster_initdb() {
    local dir="$1" data="$1/data"
    local -a locale_opt=(--no-locale)
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale_opt=(--locale=C.UTF-8)
    fi
    (cd "$dir" && run_as_server_user initdb -D "$data" -U postgres --auth=trust \
        --encoding=UTF8 "${locale_opt[@]}") >"$dir/initdb.log" 2>&1
}

cluster_write_conf() {
    local dir="$1" port="$2" socket_dir="$1"
    # A unix socket path is limited to 107 bytes; go TCP-only if ours would be longer.
    if ((${#socket_dir} + 20 > 107)); then
        socket_dir=""
    fi
    cat >>"$dir/data/postgresql.conf" <<CONF

# ---- throwaway cluster settings (scripts/cluster.sh) ----
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$socket_dir'
extension_destdir = '$AC_STAGE'
max_prepared_transactions = 10
fsync = on
logging_collector = off
log_destination = 'stderr'
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

# (Re)create and start cluster NAME; exports the client environment.
cluster_start() {
    local name="$1" dir data pid port attempt
    cluster_check_name "$name" || return 1
    ac_require_server_user
    ac_init_srv_tmp
    if ! command -v initdb >/dev/null 2>&1 || ! command -v pg_ctl >/dev/null 2>&1; then
        err "initdb/pg_ctl not found (PATH=$PATH); run scripts/install_deps.sh"
        return 1
    fi
    dir="$(cluster_dir "$name")"
    data="$dir/data"

    # Leftover from an earlier run: stop it if it is ours and running, then remove it.
    if [[ -e "$dir" ]]; then
        if pid="$(cluster_running_pid "$data")"; then
            log "cluster $name: stopping leftover server (pid $pid)"
            cluster_stop "$name" || return 1
        fi
        rm -rf "$dir"
    fi
    ensure_server_owned "$dir"
    chmod 700 "$dir"

    log "cluster $name: initdb in $(relpath "$dir")"
    if ! cluster_initdb "$dir"; then
        err "cluster $name: initdb failed"
        show_tail "$dir/initdb.log" 30
        return 1
    fi

    port="$(pick_free_port 55432)" || return 1
    cluster_write_conf "$dir" "$port"
    for attempt in 1 2 3; do
        log "cluster $name: starting on 127.0.0.1:$port"
        if (cd "$dir" && run_as_server_user pg_ctl -D "$data" -l "$dir/server.log" -w -t 60 start \
            >>"$dir/pg_ctl.log" 2>&1); then
            break
        fi
        # Someone may have taken the port between picking and binding: try another.
        if ((attempt < 3)) && grep -q 'could not bind\|Address already in use' "$dir/server.log" 2>/dev/null; then
            port="$(pick_free_port $((port + 1)))" || return 1
            sed -i "s/^port = .*/port = $port/" "$data/postgresql.conf"
            continue
        fi
        err "cluster $name: pg_ctl start failed"
        show_tail "$dir/pg_ctl.log" 20
        show_tail "$dir/server.log" 40
        return 1
    done
    printf '%s\n' "$port" >"$dir/port"

    export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
    export AC_CLUSTER_DIR="$dir" AC_CLUSTER_LOG="$dir/server.log"
    log "cluster $name: running (PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER, log $(relpath "$dir/server.log"))"
}

cluster_main() {
    local cmd="${1:-}" name="${2:-}"
    if [[ -z "$cmd" || -z "$name" ]]; then
        log "usage: $0 start|stop|status|env NAME"
        return 2
    fi
    case "$cmd" in
        start)
            cluster_start "$name"
            cluster_env "$name"
            ;;
        stop) cluster_stop "$name" ;;
        status)
            if cluster_status "$name"; then
                log "cluster $name: running"
            else
                log "cluster $name: not running"
                return 1
            fi
            ;;
        env) cluster_env "$name" ;;
        *)
            log "usage: $0 start|stop|status|env NAME"
            return 2
            ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    cluster_main "$@"
fi
