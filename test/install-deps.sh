#!/usr/bin/env bash
# Install the Debian 12 packages needed to build, test, demo and benchmark crm_grade.
# Idempotent and quiet when everything is already installed; run as root (or via sudo).
# Extra packages a tool needs (test/memcheck.sh: valgrind) can be given as arguments.
set -euo pipefail

PACKAGES=(
    postgresql-15                          # server, pg_ctl, pgbench
    postgresql-server-dev-15               # pg_config, PGXS, pg_regress, pg_isolation_regress
    postgresql-contrib                     # contrib modules
    postgresql-15-pgtap                    # pgTAP extension
    libtap-parser-sourcehandler-pgtap-perl # pg_prove
    postgresql-15-cron                     # pg_cron (crm_grade.regrade() scheduling)
    postgresql-15-partman                  # pg_partman (partition maintenance tests)
    postgresql-common                      # pg_virtualenv, pg_createcluster
    make
    gcc
    libc6-dev
    libkrb5-dev                            # <gssapi/gssapi.h>, pulled in by libpq/libpq-be.h (ENABLE_GSS)
    "$@"
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: installing missing packages: ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-deps: not root and sudo not available; install these packages first: ${missing[*]}" >&2
        exit 1
    fi
fi
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
