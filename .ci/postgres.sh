#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster with pgvector, for the HierRec.PostgreSql tests.
#   .ci/postgres.sh install     apt packages and pgvector from ../shared/vendor (idempotent)
#   .ci/postgres.sh start DIR   initdb in DIR, start on loopback on a free port; prints the connection string
#   .ci/postgres.sh stop DIR    stop the cluster and delete DIR
# HIERREC_PG_OPTIONS adds server settings at start, e.g. "-c shared_buffers=4GB" for the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=/usr/lib/postgresql/15/bin
case "${1:-}" in
  install)
    if ! [ -x "$PGBIN/initdb" ] || ! [ -x /usr/lib/postgresql/15/bin/pg_config ] && ! command -v pg_config > /dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-server-dev-15 > /dev/null
    fi
    if ! [ -f /usr/share/postgresql/15/extension/vector.control ]; then
      if ! [ -f /usr/include/postgresql/15/server/postgres.h ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-server-dev-15 > /dev/null
      fi
      tarball=../shared/vendor/pgvector-0.8.6.tar.gz
      [ -f "$tarball" ] || { echo "pgvector source $tarball is missing" >&2; exit 1; }
      build=$(mktemp -d)
      tar -xzf "$tarball" -C "$build"
      make -s -C "$build/pgvector-0.8.6" OPTFLAGS="" > /dev/null
      make -s -C "$build/pgvector-0.8.6" install > /dev/null
      rm -rf "$build"
    fi
    ;;
  start)
    dir=${2:?usage: postgres.sh start DIR}
    mkdir -p "$dir" && chown postgres "$dir"
    runuser -u postgres -- "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres > "$dir/initdb.log"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c maintenance_work_mem=1GB -c fsync=off ${HIERREC_PG_OPTIONS:-}" -l "$dir/server.log" -w start > /dev/null
    runuser -u postgres -- psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE EXTENSION IF NOT EXISTS vector" > /dev/null
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop)
    dir=${2:?usage: postgres.sh stop DIR}
    [ -d "$dir/data" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2 ;;
esac
