# Sourced by the reliability tests that start a bridge of their own (http_hostile.sh,
# slow_clients.sh), inside pg_virtualenv (PGPORT set), after BUILD is set.

# bridge_login: CREATE EXTENSION awf, and a login role awf_bridge (member of awf_admin) with a
# fresh password; sets DB to its conninfo. Returns non-zero (psql's message printed) on failure.
bridge_login() {
  psql -X -q -v ON_ERROR_STOP=1 -At -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS awf" >/dev/null || return 1
  local password
  password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  psql -X -q -v ON_ERROR_STOP=1 -At -v pw="$password" >/dev/null <<'SQL' || return 1
SET client_min_messages = warning;
SELECT format('CREATE ROLE awf_bridge LOGIN PASSWORD %L IN ROLE awf_admin', :'pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'awf_bridge') \gexec
SELECT format('ALTER ROLE awf_bridge LOGIN PASSWORD %L', :'pw') \gexec
GRANT awf_admin TO awf_bridge;
SQL
  DB="host=127.0.0.1 port=$PGPORT dbname=${PGDATABASE:-postgres} user=awf_bridge password=$password"
}

# bridge_client ID ROLE DESCRIPTION: creates (or resets) an API client; prints its secret.
bridge_client() {
  AWF_DATABASE_URL="$DB" "$BUILD/awf-bridge" client add "$1" --role "$2" --description "$3" |
    sed -n 's/^ *secret: *//p'
}

# start_bridge LOG [FLAG...]: starts awf-bridge with these flags on a free port (a few random
# ports are tried: another process may take one between the check and the bind), waits for
# /health; sets BRIDGE_PID, PORT and URL. Returns non-zero when it did not start (see LOG).
start_bridge() {
  local log=$1 p attempt
  shift
  PORT=
  for attempt in 1 2 3 4 5; do
    p=$((20000 + RANDOM % 40000))
    ss -Htln "sport = :$p" 2>/dev/null | grep -q . && continue
    "$BUILD/awf-bridge" --listen "127.0.0.1:$p" --db "$DB" "$@" >"$log" 2>&1 &
    BRIDGE_PID=$!
    for _ in $(seq 1 300); do
      kill -0 "$BRIDGE_PID" 2>/dev/null || break
      if curl -fsS -m 2 "http://127.0.0.1:$p/health" >/dev/null 2>&1; then PORT=$p; break; fi
      sleep 0.1
    done
    [ -n "$PORT" ] && break
    kill -KILL "$BRIDGE_PID" 2>/dev/null
    wait "$BRIDGE_PID" 2>/dev/null
    BRIDGE_PID=
    grep -q "cannot listen" "$log" || break
  done
  [ -n "$PORT" ] || return 1
  URL=http://127.0.0.1:$PORT
}
