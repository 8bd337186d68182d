#!/usr/bin/env bash
# scripts/install_deps.sh: install the Debian packages needed to build and test
# audit_chain. Idempotent: when every package is already installed it does nothing
# (and needs neither root nor network). Otherwise runs apt-get update + install, as
# root directly or through sudo.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AC_PACKAGES=(
    build-essential g++ make pkg-config # C++17 compiler and make for PGXS
    cmake libgtest-dev googletest       # unit tests of the core (GoogleTest via CMake)
    libssl-dev                          # SHA-256 (libcrypto)
    postgresql-15 postgresql-client-15  # server (initdb, pg_ctl, postgres) and psql
    postgresql-server-dev-15            # pg_config, PGXS, pg_regress, isolation tester
    perl libipc-run-perl                # prove and the PostgreSQL::Test TAP modules
    util-linux diffutils                # runuser/setpriv (server as non-root), diff
)

missing_packages() {
    local pkg status
    for pkg in "${AC_PACKAGES[@]}"; do
        status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
        if [[ "$status" != "installed" ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

main() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        warn "dpkg-query not found: not a Debian system, not installing packages;" \
            "make sure these are present: ${AC_PACKAGES[*]}"
        return 0
    fi

    local -a missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)); then
        log "install_deps: all ${#AC_PACKAGES[@]} required packages are installed"
        return 0
    fi

    log "install_deps: installing missing packages: ${missing[*]}"
    local -a sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            err "not root and sudo is not available; as root, run:"
            err "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
            return 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}"

    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} > 0)); then
        err "install_deps: still missing after apt-get install: ${missing[*]}"
        return 1
    fi
    log "install_deps: done"
}

main "$@"
