#!/usr/bin/env bash
# Creates .venv (if missing or stale) and installs jarvis-schemagen with its test extras.
# Sourced by scripts/schemagen and scripts/test; safe to run again (fast when up to date).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SCHEMAGEN_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
    echo "schemagen: python3 (3.11 or newer) is required" >&2
    exit 2
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "schemagen: Python 3.11 or newer is required (found $("$python" --version 2>&1))" >&2
    exit 2
fi
stamp="$venv/.schemagen-installed"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[test]" >&2
    touch "$stamp"
fi
