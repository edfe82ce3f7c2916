#!/usr/bin/env bash
# Runs the bot: against Telegram with JIANNUO_BOT_TOKEN, else the local playground with demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/jiannuo run "$@"
