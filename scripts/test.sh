#!/usr/bin/env bash
# Set up .venv (scripts/setup.sh), then lint and run the default test suite (slow/GPU tests skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${VENV:-.venv}
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/python" -m pytest -q "$@"
