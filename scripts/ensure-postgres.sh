#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries (initdb, pg_ctl, postgres) are on this machine;
# installs Debian's `postgresql` package when they are not. Quick when already installed.
set -euo pipefail
have_server() {
    if [ -n "${SCHEMAGEN_PG_BIN:-}" ] && [ -x "$SCHEMAGEN_PG_BIN/initdb" ]; then return 0; fi
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
    done
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}
if have_server; then
    exit 0
fi
echo "ensure-postgres: no PostgreSQL server binaries found; installing the postgresql package" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "ensure-postgres: not root and no sudo: install PostgreSQL (apt-get install postgresql) or set SCHEMAGEN_TEST_DATABASE_URL" >&2
        exit 2
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq postgresql >/dev/null
# Debian's package may start a cluster of its own; the tests do not use it
if have_server; then
    echo "ensure-postgres: installed $(ls -d /usr/lib/postgresql/*/bin | tail -1)" >&2
else
    echo "ensure-postgres: installation finished but initdb/pg_ctl are still missing" >&2
    exit 2
fi
