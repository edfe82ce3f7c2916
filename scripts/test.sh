#!/usr/bin/env bash
# The whole test suite (unit, storage, e2e against the simulator, the playground page in
# headless Chromium), plus lint and types.
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
exec .venv/bin/pytest -q -n "${JIANNUO_TEST_WORKERS:-4}" --dist worksteal "$@"
