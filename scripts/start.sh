#!/usr/bin/env bash
# Set up Lanner in .venv/ and start `lanner server` on the embedded SQLite store
# with the example flows deployed: the web UI and Kestra's REST API on
# http://127.0.0.1:8080 (LANNER_PORT picks another port). Ctrl-C stops it.
#
# Beside it, on 127.0.0.1 only, as for ./scripts/run-examples.sh: the webhook
# receiver the examples' Slack tasks post to (port 8765, forced by
# examples/config.yml) and a file server for examples/data/ (port 8766, the
# orders CSV of orders_report).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
export LANNER_HOME="${LANNER_HOME:-$PWD/.lanner}"
export LANNER_VENVS="${LANNER_VENVS:-$PWD/.venv/lanner-venvs}"
port="${LANNER_PORT:-8080}"
mkdir -p "$LANNER_HOME"
.venv/bin/python -m tests.support.http_sink --port 8765 --record "$LANNER_HOME/webhooks.jsonl" >/dev/null &
sink=$!
(cd examples/data && exec ../../.venv/bin/python -m http.server 8766 --bind 127.0.0.1) >/dev/null 2>&1 &
files=$!
trap 'kill "$sink" "$files" 2>/dev/null || true' EXIT
.venv/bin/lanner flows deploy examples/flows
echo "Lanner: http://127.0.0.1:$port/ui/  (REST API: http://127.0.0.1:$port/api/v1/main; store: $LANNER_HOME/lanner.db)"
.venv/bin/lanner server --port "$port" --config examples/config.yml
