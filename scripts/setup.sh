#!/usr/bin/env bash
# Sets up and runs pg_awf on this machine, as root, with no configuration:
#   1. installs Debian 12's packages (PostgreSQL 15 and the build tools),
#   2. builds and installs the awf extension,
#   3. creates (once) and starts the PostgreSQL cluster 15/awf with awf in shared_preload_libraries,
#   4. creates the database "awf" with CREATE EXTENSION awf,
#   5. starts awf-bridge (HTTP API) with a login role of its own and a first admin client.
# Run it again at any time: every step is idempotent. The server runs as the postgres user.
# Settings (environment): AWF_PG_PORT (default: the first free port from 5432),
# AWF_BRIDGE_LISTEN (default 127.0.0.1:8080). Secrets are kept in /etc/pg-awf (root only).
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
# A queue leaves a dead row version per transition: with the default naptime (1 min) autovacuum
# visits awf.task once a minute and a busy queue carries 8-60 times the dead rows (README, "What was tuned").
pg_conftool 15 "$CLUSTER" set autovacuum_naptime 10s
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
as_postgres "PGOPTIONS=-cclient_min_messages=warning psql -X -q -p $PORT -d awf -v ON_ERROR_STOP=1" <<'SQL'
SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'awf')
            THEN 'ALTER EXTENSION awf UPDATE' ELSE 'CREATE EXTENSION awf' END \gexec
SQL
VERSION=$(as_postgres "psql -X -q -p $PORT -d awf -tAc \"SELECT extversion FROM pg_extension WHERE extname = 'awf'\"")

# --- awf-bridge ---------------------------------------------------------------------------
install -m 0755 build/awf-bridge /usr/local/bin/awf-bridge
CONF_DIR=/etc/pg-awf
install -d -m 0700 "$CONF_DIR"
LISTEN=${AWF_BRIDGE_LISTEN:-127.0.0.1:8080}
# The bridge logs in as awf_bridge, a member of awf_admin, and narrows to each client's role per
# request. Its password lives only in $CONF_DIR/bridge.env.
role_exists=$(as_postgres "psql -X -q -p $PORT -d awf -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'awf_bridge'\"")
if [ ! -s "$CONF_DIR/bridge.env" ] || [ "$role_exists" != "1" ]; then
  PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  if [ "$role_exists" = "1" ]; then
    as_postgres "psql -X -q -p $PORT -d awf -v ON_ERROR_STOP=1 -c \"ALTER ROLE awf_bridge LOGIN PASSWORD '$PASSWORD'\""
  else
    as_postgres "psql -X -q -p $PORT -d awf -v ON_ERROR_STOP=1 -c \"CREATE ROLE awf_bridge LOGIN PASSWORD '$PASSWORD' IN ROLE awf_admin\""
  fi
  (umask 077; echo "AWF_DATABASE_URL=postgresql://awf_bridge:$PASSWORD@127.0.0.1:$PORT/awf" >"$CONF_DIR/bridge.env")
fi
set -a
. "$CONF_DIR/bridge.env"
set +a

# A first admin client, once. Its secret is printed below and kept in $CONF_DIR/admin.secret.
if [ "$(as_postgres "psql -X -q -p $PORT -d awf -tAc \"SELECT 1 FROM awf.client WHERE id = 'admin'\"")" != "1" ]; then
  (umask 077; awf-bridge client add admin --role awf_admin --description "first admin, made by setup.sh" \
    | awk '/secret:/ {print $2}' >"$CONF_DIR/admin.secret")
fi
ADMIN_SECRET=$(cat "$CONF_DIR/admin.secret" 2>/dev/null || echo "(lost: reset with awf-bridge client add admin --role awf_admin)")

# (Re)start the bridge in the background; it drains on SIGTERM.
PIDFILE=/run/awf-bridge.pid
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  kill -TERM "$(cat "$PIDFILE")"
  for _ in $(seq 1 150); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.1; done
fi
setsid awf-bridge --listen "$LISTEN" >>/var/log/awf-bridge.log 2>&1 </dev/null &
echo $! >"$PIDFILE"
for _ in $(seq 1 100); do
  curl -fsS "http://$LISTEN/health" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! curl -fsS "http://$LISTEN/health" >/dev/null 2>&1; then
  echo "setup: awf-bridge did not become healthy on $LISTEN; see /var/log/awf-bridge.log" >&2
  tail -5 /var/log/awf-bridge.log >&2
  exit 1
fi

cat <<INFO
setup: pg_awf $VERSION is running.
  PostgreSQL 15 cluster 15/$CLUSTER on port $PORT, database "awf", awf preloaded,
  its background worker sweeping timers in database "awf".
  SQL:       su postgres -c "psql -p $PORT awf"
             SELECT awf.task_create('demo', '{"hello": "world"}');
  HTTP:      awf-bridge on http://$LISTEN   (log /var/log/awf-bridge.log, pid $(cat $PIDFILE))
             first admin client: admin / $ADMIN_SECRET   (also in $CONF_DIR/admin.secret)
             curl -u admin:$ADMIN_SECRET http://$LISTEN/rpc -H 'content-type: text/yaml' \\
               --data-binary \$'method: awf.task/create\\nparams: {definition: demo}\\n'
  Executors: one client per executor; its secret is printed once:
             set -a; . $CONF_DIR/bridge.env; set +a; awf-bridge client add worker-1 --role awf_executor
  Stop:      kill \$(cat $PIDFILE); pg_ctlcluster 15 $CLUSTER stop
INFO
