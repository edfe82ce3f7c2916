#!/usr/bin/env bash
# The whole test suite (unit, storage, e2e against the simulator), plus lint and types.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy bot handlers storage config
# pytest exits 5 when it collects no test: that fails this script too.
exec .venv/bin/pytest -q "$@"
