#!/usr/bin/env bash
# Load check of awf-bridge, run inside a cluster with awf preloaded:
#   pg_virtualenv -t -v 15 -o shared_preload_libraries=awf -o awf.database=postgres \
#     bash test/bridge/load_check.sh [--seconds S] [-- EXTRA awf_load_check FLAGS]
# Needs the PG* environment of a superuser (pg_virtualenv sets it) and build/awf-bridge and
# build/awf_load_check (cmake --build build --target awf-bridge awf_load_check).
#
# It creates the extension (if missing) and the bridge's login role awf_bridge (random password,
# IN ROLE awf_admin), starts build/awf-bridge on a free port (--no-auth, --pool-size
# $AWF_LOAD_POOL_SIZE or 8, log in $AWF_LOAD_LOG_DIR or build/test-logs), waits for /health, runs
# build/awf_load_check against it (lifecycle rates through SQL and the bridge, their ratio,
# p50/p99; 1,000 idle long-polls: memory, database connections, wakeup p50/p99), and stops the bridge with
# SIGTERM (it must drain and exit 0 within 20 s). Then (unless AWF_LOAD_AUTH=0) a second run
# with client authentication (clients made by `awf-bridge client add`, awf_admin, HTTP Basic):
# the credential cache (first request vs the next 50; a wrong secret gets 401), SQL and JSON
# lifecycles, and the 1,000 idle long-polls with a second client the bridge has not seen, so that
# they meet a cold credential cache (as when executors reconnect to a restarted bridge).
#
# Seconds per measurement: --seconds S, else $AWF_LOAD_SECONDS, else 5 (CI uses 3). Extra flags
# for awf_load_check after "--" (e.g. -- --min-ratio 0.7). Exit status: that of the load check (or
# 1 when the bridge could not be started or did not stop cleanly). Last line:
#   bridge-load: N passed, N failed
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${AWF_BUILD_DIR:-$ROOT/build}
LOG_DIR=${AWF_LOAD_LOG_DIR:-$BUILD/test-logs}
SECONDS_PER_RUN=${AWF_LOAD_SECONDS:-5}
POOL_SIZE=${AWF_LOAD_POOL_SIZE:-8}
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN=${2:?--seconds needs a value}; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "load_check.sh: unknown argument $1 (use --seconds S, or -- FLAGS for awf_load_check)" >&2; exit 2 ;;
  esac
done

passed=0
failed=0
status=0
finish() {  # exits with the load check's status; 1 if it passed but another check failed
  echo "bridge-load: $passed passed, $failed failed"
  [ "$status" -ne 0 ] && exit "$status"
  [ "$failed" -eq 0 ] && exit 0
  exit 1
}
fail_setup() {  # a step before or around the load check failed
  echo "load_check.sh: $*" >&2
  failed=$((failed + 1))
}

for bin in awf-bridge awf_load_check; do
  if [ ! -x "$BUILD/$bin" ]; then
    fail_setup "$BUILD/$bin is missing: cmake -S . -B build && cmake --build build --target awf-bridge awf_load_check"
    finish
  fi
done
if [ -z "${PGPORT:-}" ]; then
  fail_setup "no PGPORT: run inside pg_virtualenv (PG* environment of a superuser)"
  finish
fi
mkdir -p "$LOG_DIR"

# 1000 long-polls need as many sockets in this shell's children (the check raises its own limit;
# the bridge does not).
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

psql_q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
psql_q -c "CREATE EXTENSION IF NOT EXISTS awf" >/dev/null || { fail_setup "CREATE EXTENSION awf failed"; finish; }
BRIDGE_PASSWORD=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
psql_q -v pw="$BRIDGE_PASSWORD" >/dev/null <<'SQL' || { fail_setup "creating the role awf_bridge failed"; finish; }
SET client_min_messages = warning;
SELECT format('CREATE ROLE awf_bridge LOGIN PASSWORD %L IN ROLE awf_admin', :'pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'awf_bridge') \gexec
SELECT format('ALTER ROLE awf_bridge LOGIN PASSWORD %L', :'pw') \gexec
GRANT awf_admin TO awf_bridge;
SQL
DB="host=127.0.0.1 port=$PGPORT dbname=${PGDATABASE:-postgres} user=awf_bridge password=$BRIDGE_PASSWORD"

BRIDGE_PID=
BRIDGE_PORT=
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
# start_bridge LOG FLAGS...: starts the bridge on a free port, waits for /health (30 s).
start_bridge() {
  local log=$1; shift
  local attempt port i
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    "$BUILD/awf-bridge" --listen "127.0.0.1:$port" --db "$DB" --pool-size "$POOL_SIZE" --quiet "$@" \
      >"$log" 2>&1 &
    BRIDGE_PID=$!
    for i in $(seq 1 300); do
      if ! kill -0 "$BRIDGE_PID" 2>/dev/null; then break; fi
      if curl -fsS -m 2 "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
        BRIDGE_PORT=$port
        return 0
      fi
      sleep 0.1
    done
    if kill -0 "$BRIDGE_PID" 2>/dev/null; then
      kill -TERM "$BRIDGE_PID" 2>/dev/null
      wait "$BRIDGE_PID" 2>/dev/null
      echo "load_check.sh: the bridge did not become healthy in 30 s; its log:" >&2
      tail -20 "$log" >&2
      return 1
    fi
    wait "$BRIDGE_PID" 2>/dev/null
    grep -q "cannot listen" "$log" || { echo "load_check.sh: the bridge exited; its log:" >&2; tail -20 "$log" >&2; return 1; }
  done
  echo "load_check.sh: no free port for the bridge after 5 tries" >&2
  return 1
}
# stop_bridge: SIGTERM, then it must exit 0 within 20 s (it drains long-polls first).
stop_bridge() {
  local i rc
  [ -n "$BRIDGE_PID" ] || return 0
  kill -TERM "$BRIDGE_PID" 2>/dev/null
  for i in $(seq 1 200); do
    kill -0 "$BRIDGE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$BRIDGE_PID" 2>/dev/null; then
    echo "load_check.sh: the bridge did not stop within 20 s of SIGTERM; killing it" >&2
    kill -KILL "$BRIDGE_PID" 2>/dev/null
    wait "$BRIDGE_PID" 2>/dev/null
    BRIDGE_PID=
    return 1
  fi
  wait "$BRIDGE_PID"
  rc=$?
  BRIDGE_PID=
  [ "$rc" -eq 0 ] || echo "load_check.sh: the bridge exited with status $rc after SIGTERM" >&2
  return "$rc"
}
trap '[ -n "$BRIDGE_PID" ] && kill -KILL "$BRIDGE_PID" 2>/dev/null' EXIT

# run_check NAME LOG BRIDGE_FLAGS -- CHECK_FLAGS: one bridge, one load check; counts its checks.
run_check() {
  local name=$1 log=$2; shift 2
  local bridge_flags=() check_flags=() rc p f
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do bridge_flags+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  check_flags=("$@")
  echo "== $name"
  if ! start_bridge "$LOG_DIR/bridge-load-$name.log" "${bridge_flags[@]}"; then
    fail_setup "$name: the bridge did not start (log: $LOG_DIR/bridge-load-$name.log)"
    return 1
  fi
  echo "load: $name: awf-bridge pid $BRIDGE_PID on 127.0.0.1:$BRIDGE_PORT, pool size $POOL_SIZE"
  "$BUILD/awf_load_check" --bridge "http://127.0.0.1:$BRIDGE_PORT" --bridge-pid "$BRIDGE_PID" \
    --seconds "$SECONDS_PER_RUN" "${check_flags[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -c '^check: .*: ok' "$log")
  f=$(grep -c '^check: .*: FAILED' "$log")
  # A check that crashed or could not start reports no FAILED line: count it as one.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  if stop_bridge; then
    passed=$((passed + 1))
    echo "check: $name bridge drained and stopped on SIGTERM: ok"
  else
    failed=$((failed + 1))
    echo "check: $name bridge drained and stopped on SIGTERM: FAILED (log: $LOG_DIR/bridge-load-$name.log)"
    tail -5 "$LOG_DIR/bridge-load-$name.log"
  fi
  return "$rc"
}

run_check no-auth "$LOG_DIR/load_check.log" --no-auth -- "${EXTRA[@]}"
status=$?

if [ "${AWF_LOAD_AUTH:-1}" != 0 ]; then
  add_client() {
    AWF_DATABASE_URL="$DB" "$BUILD/awf-bridge" client add "$1" --role awf_admin --description "load_check.sh" |
      sed -n 's/^ *secret: *//p'
  }
  secret=$(add_client load-check)
  idle_secret=$(add_client load-check-idle)
  if [ -z "$secret" ] || [ -z "$idle_secret" ]; then
    fail_setup "awf-bridge client add failed"
  else
    run_check auth "$LOG_DIR/load_check-auth.log" -- --auth "load-check:$secret" \
      --idle-auth "load-check-idle:$idle_secret" --format json --no-sql-rpc "${EXTRA[@]}"
    rc=$?
    [ "$status" -ne 0 ] || status=$rc
  fi
fi

finish
