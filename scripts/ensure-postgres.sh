#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries (initdb, pg_ctl, postgres) are on this machine, searched
# as jarvis_schemagen.pg.find_pg_bin does: $SCHEMAGEN_PG_BIN, `pg_config --bindir`,
# /usr/lib/postgresql/*/bin, PATH. Installs Debian's `postgresql` package when none are found
# (with sudo when not root). Idempotent; quick when already installed.
set -euo pipefail

has_exes() {
    [ -n "$1" ] && [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/postgres" ]
}

find_bin() {
    if [ -n "${SCHEMAGEN_PG_BIN:-}" ]; then
        has_exes "$SCHEMAGEN_PG_BIN" && { echo "$SCHEMAGEN_PG_BIN"; return 0; }
        return 1  # an explicit setting alone decides, as in find_pg_bin()
    fi
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        has_exes "$d" && { echo "$d"; return 0; }
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -n -r); do
        has_exes "$d" && { echo "$d"; return 0; }
    done
    if command -v initdb >/dev/null 2>&1; then
        d="$(dirname "$(command -v initdb)")"
        has_exes "$d" && { echo "$d"; return 0; }
        d="$(dirname "$(readlink -f "$(command -v initdb)")")"
        has_exes "$d" && { echo "$d"; return 0; }
    fi
    return 1
}

if bin="$(find_bin)"; then
    echo "ensure-postgres: PostgreSQL server binaries found in $bin; nothing to do" >&2
    exit 0
fi
if [ -n "${SCHEMAGEN_PG_BIN:-}" ]; then
    echo "ensure-postgres: SCHEMAGEN_PG_BIN=$SCHEMAGEN_PG_BIN has no initdb, pg_ctl and postgres; fix or unset it" >&2
    exit 2
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: no PostgreSQL server binaries and no apt-get: install the PostgreSQL server" \
         "(initdb, pg_ctl, postgres) yourself, set SCHEMAGEN_PG_BIN, or set SCHEMAGEN_TEST_DATABASE_URL" >&2
    exit 2
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "ensure-postgres: no PostgreSQL server binaries, and not root and no sudo: install the" \
             "postgresql package, set SCHEMAGEN_PG_BIN, or set SCHEMAGEN_TEST_DATABASE_URL" >&2
        exit 2
    fi
fi
echo "ensure-postgres: no PostgreSQL server binaries found; running: ${sudo:+$sudo }apt-get update" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
echo "ensure-postgres: running: ${sudo:+$sudo }apt-get install -y postgresql" >&2
$sudo apt-get install -y -qq postgresql >/dev/null
# Debian's package may create and start a cluster of its own; schemagen does not use it
if bin="$(find_bin)"; then
    echo "ensure-postgres: installed; server binaries in $bin" >&2
else
    echo "ensure-postgres: apt-get install postgresql finished but initdb/pg_ctl/postgres are still not found" >&2
    exit 2
fi
