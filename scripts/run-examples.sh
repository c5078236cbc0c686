#!/usr/bin/env bash
# Install Lanner into .venv/ and run every example flow (the seed flows
# included) with `lanner run`, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
# Python script tasks keep their virtual environments here between runs.
export LANNER_VENVS="${LANNER_VENVS:-$PWD/.venv/lanner-venvs}"
exec .venv/bin/python examples/run_all.py
