#!/usr/bin/env bash
# The whole test suite (unit, storage, e2e against the simulator, the playground page in
# headless Chromium) on SQLite, plus lint and types; then the suites that touch the database
# (storage, e2e, the command line) again on PostgreSQL, in a throwaway cluster
# (scripts/postgres.sh, which installs Debian's PostgreSQL when it is missing).
# With arguments (bash scripts/test.sh tests/unit -k …) only those run, on SQLite;
# JIANNUO_TEST_POSTGRES=1 runs them on PostgreSQL as well, =0 leaves PostgreSQL out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .
# pytest exits 5 when it collects no test: that fails this script too. The e2e tests mostly
# wait on loopback, so four workers share two cores well (JIANNUO_TEST_WORKERS=0: one process).
workers="${JIANNUO_TEST_WORKERS:-4}"
.venv/bin/pytest -q -n "$workers" --dist worksteal "$@"
on_postgres="${JIANNUO_TEST_POSTGRES:-}"
if [ -z "$on_postgres" ]; then
  if [ "$#" -eq 0 ]; then on_postgres=1; else on_postgres=0; fi
fi
if [ "$on_postgres" = 1 ]; then
  if [ "$#" -eq 0 ]; then
    set -- tests/storage tests/e2e tests/test_cli.py tests/test_cli_export.py tests/test_leader_links.py
  fi
  cluster="$(mktemp -d "${TMPDIR:-/tmp}/jiannuo-pg.XXXXXX")"
  trap 'bash scripts/postgres.sh stop "$cluster"' EXIT
  url="$(bash scripts/postgres.sh start "$cluster")"
  echo "the same suites on PostgreSQL ($url)"
  JIANNUO_TEST_DATABASE_URL="$url" .venv/bin/pytest -q -n "$workers" --dist worksteal "$@"
fi
