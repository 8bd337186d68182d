#!/usr/bin/env bash
# scripts/lib.sh: shared helpers for the project's shell scripts. Source it, do not run it.
#
# Provides:
#   AC_ROOT           absolute project root (the directory holding the Makefile)
#   AC_TMP            project-local, git-ignored work folder ($AC_ROOT/.tmp): logs, builds
#   AC_SRV_TMP        work folder for what the server user must reach (stage, clusters,
#                     TAP); equal to $AC_TMP unless root runs from a directory the server
#                     user cannot enter (e.g. under /root): then a folder under /tmp
#   AC_STAGE          staging directory of `make install DESTDIR=...`
#   AC_LOG_DIR        build and test logs
#   AC_PG_BINDIR      `pg_config --bindir`, also put first on PATH
#   AC_PG_PKGLIBDIR   `pg_config --pkglibdir`
#   AC_SERVER_USER    user the server runs as (postgres when invoked as root, else $USER)
#   log / warn / err / die / section      plain (colour-free) logging to stderr
#   run_as_server_user CMD...             run CMD as the server user
#   ensure_server_owned DIR...            create DIR(s), owned by the server user
#   server_user_can_read PATH             true if the server user can read PATH
#   pick_free_port [PREFERRED]            print a free TCP port on 127.0.0.1

# Guard against double sourcing.
if [[ -n "${AC_LIB_SOURCED:-}" ]]; then
    return 0
fi
AC_LIB_SOURCED=1

# Files we create must be readable by the server user (stage, logs).
umask 022

# ---------------------------------------------------------------------------- logging
log() { printf '%s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
err() { printf 'ERROR: %s\n' "$*" >&2; }
die() {
    err "$*"
    exit 1
}
section() { printf '\n==> %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------- paths
AC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
AC_TMP="$AC_ROOT/.tmp"
AC_LOG_DIR="$AC_TMP/logs"
export AC_ROOT AC_TMP AC_LOG_DIR

AC_IS_ROOT=0
if [[ "$(id -u)" -eq 0 ]]; then
    AC_IS_ROOT=1
fi

if ((AC_IS_ROOT)); then
    AC_SERVER_USER="${AC_SERVER_USER:-postgres}"
else
    AC_SERVER_USER="$(id -un)"
fi
export AC_SERVER_USER

# PostgreSQL binaries (initdb, pg_ctl, postgres, psql) come from pg_config's bindir.
ac_find_pg_config() {
    if [[ -n "${PG_CONFIG:-}" ]]; then
        printf '%s\n' "$PG_CONFIG"
    elif command -v pg_config >/dev/null 2>&1; then
        command -v pg_config
    elif [[ -x /usr/lib/postgresql/15/bin/pg_config ]]; then
        printf '%s\n' /usr/lib/postgresql/15/bin/pg_config
    else
        return 1
    fi
}

# Sets AC_PG_BINDIR/AC_PG_PKGLIBDIR and puts the bindir first on PATH. Callable again
# after install_deps has installed pg_config.
ac_init_pg_paths() {
    local pgc
    AC_PG_BINDIR=""
    AC_PG_PKGLIBDIR=""
    if pgc="$(ac_find_pg_config)"; then
        AC_PG_BINDIR="$("$pgc" --bindir)"
        AC_PG_PKGLIBDIR="$("$pgc" --pkglibdir)"
    elif [[ -d /usr/lib/postgresql/15/bin ]]; then
        AC_PG_BINDIR=/usr/lib/postgresql/15/bin
        AC_PG_PKGLIBDIR=/usr/lib/postgresql/15/lib
    fi
    if [[ -n "$AC_PG_BINDIR" ]]; then
        case ":$PATH:" in
            ":$AC_PG_BINDIR:"*) ;;
            *) PATH="$AC_PG_BINDIR:$PATH" ;;
        esac
        export PATH
    fi
    export AC_PG_BINDIR AC_PG_PKGLIBDIR
}
ac_init_pg_paths

# ---------------------------------------------------------------------------- server user
# Run a command as the server user. As root: via runuser (or setpriv) as $AC_SERVER_USER,
# with the current environment plus HOME/USER of that user; the caller must make sure
# the current directory and every path involved are reachable by that user. Not root:
# run the command directly.
run_as_server_user() {
    if ((AC_IS_ROOT)); then
        local home
        home="$(getent passwd "$AC_SERVER_USER" | cut -d: -f6)"
        if command -v runuser >/dev/null 2>&1; then
            runuser -u "$AC_SERVER_USER" -- env HOME="${home:-/}" USER="$AC_SERVER_USER" \
                LOGNAME="$AC_SERVER_USER" PATH="$PATH" "$@"
        elif command -v setpriv >/dev/null 2>&1; then
            setpriv --reuid="$AC_SERVER_USER" --regid="$AC_SERVER_USER" --init-groups -- \
                env HOME="${home:-/}" USER="$AC_SERVER_USER" LOGNAME="$AC_SERVER_USER" \
                PATH="$PATH" "$@"
        else
            die "neither runuser nor setpriv found (package util-linux)"
        fi
    else
        "$@"
    fi
}

ac_require_server_user() {
    if ((AC_IS_ROOT)) && ! getent passwd "$AC_SERVER_USER" >/dev/null; then
        die "running as root, but the unprivileged server user '$AC_SERVER_USER' does not exist" \
            "(it comes with the postgresql-common package; or set AC_SERVER_USER)"
    fi
}

# Create directories (and parents) and hand them to the server user.
ensure_server_owned() {
    local d
    for d in "$@"; do
        mkdir -p "$d"
        if ((AC_IS_ROOT)); then
            chown -R "$AC_SERVER_USER:" "$d"
        fi
    done
}

server_user_can_read() {
    if ((AC_IS_ROOT)); then
        (cd / && run_as_server_user test -r "$1") 2>/dev/null
    else
        test -r "$1"
    fi
}

# Work folder for what the server must reach. Under a directory the server user
# cannot enter (root working in /root/...), fall back to a per-project folder in /tmp.
ac_init_srv_tmp() {
    mkdir -p "$AC_TMP" "$AC_LOG_DIR"
    AC_SRV_TMP="$AC_TMP"
    # Before install_deps has run, the server user may not exist yet: call again after.
    if ((AC_IS_ROOT)) && getent passwd "$AC_SERVER_USER" >/dev/null; then
        chmod 755 "$AC_TMP"
        if ! server_user_can_read "$AC_TMP/."; then
            local hash
            hash="$(printf '%s' "$AC_ROOT" | cksum | cut -d' ' -f1)"
            AC_SRV_TMP="${TMPDIR:-/tmp}/audit_chain-$hash"
            mkdir -p "$AC_SRV_TMP"
            if [[ "$(stat -c %u "$AC_SRV_TMP")" != 0 ]]; then
                die "$AC_SRV_TMP exists but is not owned by root; remove it"
            fi
            chmod 755 "$AC_SRV_TMP"
            if ! server_user_can_read "$AC_SRV_TMP/."; then
                die "user $AC_SERVER_USER can reach neither $AC_TMP nor $AC_SRV_TMP"
            fi
            if [[ -z "${AC_SRV_TMP_NOTED:-}" ]]; then
                log "note: $AC_SERVER_USER cannot enter $AC_ROOT; server-side files go to $AC_SRV_TMP"
                AC_SRV_TMP_NOTED=1
            fi
        fi
    fi
    AC_STAGE="$AC_SRV_TMP/stage"
    export AC_SRV_TMP AC_STAGE
}
ac_init_srv_tmp

# ---------------------------------------------------------------------------- ports
# True if nothing listens on 127.0.0.1:PORT and we can bind it (as PostgreSQL does,
# with SO_REUSEADDR, so ports in TIME_WAIT count as free).
port_is_free() {
    local port="$1"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        return 1
    fi
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
                                      Proto => "tcp", ReuseAddr => 1, Listen => 1);
        exit($s ? 0 : 1);' "$port" 2>/dev/null
}

# Print a free loopback port: the preferred one (default 55432) if free, else the
# first free one scanning upwards from it, then a range below it.
pick_free_port() {
    local preferred="${1:-55432}" port
    for ((port = preferred; port < preferred + 200 && port <= 65535; port++)); do
        if port_is_free "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    for ((port = 40000; port < 50000; port++)); do
        if port_is_free "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    err "no free TCP port found on 127.0.0.1"
    return 1
}

# ---------------------------------------------------------------------------- misc
# Print the last N lines of a file, framed, if it exists.
show_tail() {
    local file="$1" n="${2:-40}"
    if [[ -f "$file" ]]; then
        printf -- '----- last %s lines of %s -----\n' "$n" "$file" >&2
        tail -n "$n" "$file" >&2
        printf -- '----- end of %s -----\n' "$file" >&2
    fi
}

# Relative path for messages, when under the project root.
relpath() {
    case "$1" in
        "$AC_ROOT"/*) printf '%s\n' "${1#"$AC_ROOT"/}" ;;
        *) printf '%s\n' "$1" ;;
    esac
}
