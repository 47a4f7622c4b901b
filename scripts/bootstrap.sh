#!/usr/bin/env bash
# Creates .venv (if missing or stale) and installs jarvis-schemagen with its test extras.
# Run by scripts/schemagen and scripts/test; safe to run again (fast when up to date).
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
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ ! "$root/pyproject.toml" -nt "$stamp" ]; then
    exit 0  # up to date
fi
# a progress line on stderr while installing (only on a terminal; NO_COLOR-safe: no colour)
progress_pid=""
if [ -t 2 ]; then
    (
        s=0
        while sleep 1; do
            s=$((s + 1))
            printf '\r\033[2Kschemagen: installing into %s (first run or pyproject.toml changed)... %d s' "$venv" "$s" >&2
        done
    ) &
    progress_pid=$!
fi
stop_progress() {
    if [ -n "$progress_pid" ]; then
        kill "$progress_pid" 2>/dev/null || true
        wait "$progress_pid" 2>/dev/null || true
        printf '\r\033[2K' >&2
        progress_pid=""
    fi
}
trap stop_progress EXIT
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[test]" >&2
touch "$stamp"
stop_progress
