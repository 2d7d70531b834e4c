#!/usr/bin/env bash
# Sets up and runs pg_awf on this machine, as root, with no configuration:
#   1. installs Debian 12's packages (PostgreSQL 15 and the build tools),
#   2. builds and installs the awf extension,
#   3. creates (once) and starts the PostgreSQL cluster 15/awf with awf in shared_preload_libraries,
#   4. creates the database "awf" with CREATE EXTENSION awf.
# Run it again at any time: every step is idempotent. The server runs as the postgres user.
# Settings (environment): AWF_PG_PORT (default: the first free port from 5432).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (it installs packages and creates a cluster run by the postgres user)" >&2
  exit 1
fi

bash scripts/install-deps.sh
bash scripts/build.sh

CLUSTER=awf
if ! pg_lsclusters -h | awk '{print $1 "/" $2}' | grep -qx "15/$CLUSTER"; then
  port_args=()
  [ -n "${AWF_PG_PORT:-}" ] && port_args=(--port "$AWF_PG_PORT")
  pg_createcluster 15 "$CLUSTER" "${port_args[@]}" -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  pg_conftool 15 "$CLUSTER" set shared_preload_libraries awf
  echo "setup: created cluster 15/$CLUSTER"
fi
# The background worker runs timeouts, retries and retention in the database "awf".
pg_conftool 15 "$CLUSTER" set awf.database awf
# (Re)start so that a rebuilt awf.so is loaded.
if pg_lsclusters -h | awk -v c="$CLUSTER" '$1 == "15" && $2 == c {print $4}' | grep -q online; then
  pg_ctlcluster 15 "$CLUSTER" restart
else
  pg_ctlcluster 15 "$CLUSTER" start
fi
PORT=$(pg_conftool -s 15 "$CLUSTER" show port)

as_postgres() { su postgres -s /bin/sh -c "$*"; }
as_postgres "psql -X -q -p $PORT -d postgres -tAc \"SELECT 1 FROM pg_database WHERE datname = 'awf'\"" | grep -q 1 \
  || as_postgres "createdb -p $PORT awf"
# Install, or move an existing installation to the version just built.
as_postgres "psql -X -q -p $PORT -d awf -v ON_ERROR_STOP=1" <<'SQL'
SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'awf')
            THEN 'ALTER EXTENSION awf UPDATE' ELSE 'CREATE EXTENSION awf' END \gexec
SQL
VERSION=$(as_postgres "psql -X -q -p $PORT -d awf -tAc \"SELECT extversion FROM pg_extension WHERE extname = 'awf'\"")

cat <<INFO
setup: pg_awf $VERSION is running.
  PostgreSQL 15 cluster 15/$CLUSTER on port $PORT, database "awf", awf preloaded,
  its background worker sweeping timers in database "awf".
  Connect:   su postgres -c "psql -p $PORT awf"
  Try it:    SELECT awf.task_create('demo', '{"hello": "world"}');
             SELECT awf.task_poll(ARRAY['demo']);
  Stop:      pg_ctlcluster 15 $CLUSTER stop      Logs: /var/log/postgresql/postgresql-15-$CLUSTER.log
INFO
