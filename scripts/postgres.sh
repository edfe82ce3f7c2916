#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite and the benchmarks.
#   bash scripts/postgres.sh start DIR   # DIR: a new, empty directory; prints the database URL
#   bash scripts/postgres.sh stop DIR    # stops the cluster and deletes DIR
# The cluster listens on a Unix socket inside DIR only (no TCP port), trusts its one user and
# skips fsync: it is for tests, never for data. Debian's PostgreSQL is installed when missing.
# initdb refuses to run as root: as root the cluster belongs to the `postgres` user that
# Debian's package creates.
set -euo pipefail
action="${1:?start|stop}"
dir="${2:?directory}"

pg_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$found" ] || [ ! -x "$found/initdb" ]; then
    return 1
  fi
  echo "$found"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    if ! bin="$(pg_bin)"; then
      SUDO=""
      if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
      $SUDO apt-get update >&2
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
      bin="$(pg_bin)"
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      if ! runuser -u postgres -- test -x "$dir"; then
        echo "$dir: the postgres user cannot reach it (a private parent directory)" >&2
        exit 1
      fi
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U jiannuo --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # Tests create and drop a database each; nothing here has to survive a crash.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off" \
      -o "-c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
      start >&2 || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql+asyncpg://jiannuo@/postgres?host=$dir"
    ;;
  stop)
    if [ -d "$dir/data" ] && bin="$(pg_bin)"; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -s stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
