#!/usr/bin/env bash
# Slow clients (issue 8, item 9): 500 connections that send a request header a byte at a time do
# not stop other clients being served, and the bridge closes each when its header timeout expires.
# Run from the repo root inside a cluster with awf preloaded:
#
#   AWF_BUILD_DIR=build pg_virtualenv -t -v 15 -o shared_preload_libraries=awf \
#     -o awf.database=postgres -o awf.tick_interval=50 bash test/reliability/slow_clients.sh [--long]
#
# Needs ${AWF_BUILD_DIR:-build}/awf-bridge and awf_slow_clients (cmake --build build --target
# awf-bridge awf_slow_clients). It creates the extension, the bridge's login role and an API
# client (awf_admin, HTTP Basic), starts the bridge on a free port and runs awf_slow_clients
# against it (see test/reliability/slow_clients.cpp): a baseline of 4 normal clients (task
# lifecycles over POST /rpc, GET /health), then 500 slow connections while they go on: 400 send
# their request header a byte at a time, 100 a whole header and then the body a byte at a time.
#   CI (default):  --header-timeout 4000, a byte every 1 s, baseline 4 s, slack 2 s (~15 s)
#   --long:        the issue's shape: the default header timeout (10 s), a byte every 10 s,
#                  baseline 10 s, slack 3 s (~30 s)
# Environment: AWF_SLOW_N (500), AWF_SLOW_BODY (100 of them), AWF_SLOW_CLIENTS (4),
# AWF_SLOW_MAX_P99_MS (1000).
# Afterwards the bridge must be the same process, answer /health with 200, and stop cleanly on
# SIGTERM. Output: the tool's figures ("slow-clients: ...") and ok / not ok lines, and as the last
# line "slow-clients: N passed, N failed"; exit 0 iff nothing failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${AWF_BUILD_DIR:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${AWF_SLOW_N:-500}
SLOW_BODY=${AWF_SLOW_BODY:-100}
CLIENTS=${AWF_SLOW_CLIENTS:-4}
MAX_P99_MS=${AWF_SLOW_MAX_P99_MS:-1000}
HEADER_TIMEOUT_MS=4000
INTERVAL_MS=1000
BASELINE_S=4
SLACK_MS=2000
BRIDGE_TIMEOUT_FLAG=(--header-timeout "$HEADER_TIMEOUT_MS")
for arg in "$@"; do
  case "$arg" in
    --long)
      HEADER_TIMEOUT_MS=10000  # the bridge's default: started without --header-timeout
      INTERVAL_MS=10000
      BASELINE_S=10
      SLACK_MS=3000
      BRIDGE_TIMEOUT_FLAG=()
      ;;
    *) echo "slow_clients.sh: unknown argument $arg (--long)" >&2; exit 2 ;;
  esac
done
TMP=$(mktemp -d /tmp/awf-slow-clients.XXXXXX)
LOG=$TMP/bridge.log
BRIDGE_PID=
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
finish() {
  [ -n "$BRIDGE_PID" ] && kill -KILL "$BRIDGE_PID" 2>/dev/null && wait "$BRIDGE_PID" 2>/dev/null
  echo "slow-clients: $passed passed, $failed failed"
  rm -rf "$TMP"
  [ "$failed" -eq 0 ]
  exit $?
}
trap '[ -n "$BRIDGE_PID" ] && kill -KILL "$BRIDGE_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

for bin in awf-bridge awf_slow_clients; do
  [ -x "$BUILD/$bin" ] || { not_ok "$BUILD/$bin is missing (cmake --build $BUILD --target awf-bridge awf_slow_clients)"; finish; }
done
[ -n "${PGPORT:-}" ] || { not_ok "no PGPORT: run inside pg_virtualenv"; finish; }
command -v curl >/dev/null || { not_ok "curl is needed"; finish; }
# The slow connections and the bridge's sockets for them: both processes inherit this.
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

source "$ROOT/test/reliability/bridge_lib.sh"
bridge_login || { not_ok "CREATE EXTENSION awf and the role awf_bridge"; finish; }
SECRET=$(bridge_client slow-clients-check awf_admin "slow_clients.sh")
[ -n "$SECRET" ] || { not_ok "awf-bridge client add"; finish; }
if ! start_bridge "$LOG" --pool-size 4 --threads 4 --quiet "${BRIDGE_TIMEOUT_FLAG[@]}"; then
  not_ok "the bridge did not start (log: $(tail -3 "$LOG" | tr '\n' ' '))"
  finish
fi
echo "# awf-bridge pid $BRIDGE_PID on 127.0.0.1:$PORT, header timeout $HEADER_TIMEOUT_MS ms$([ ${#BRIDGE_TIMEOUT_FLAG[@]} -eq 0 ] && echo " (its default)")"

start=$(date +%s)
"$BUILD/awf_slow_clients" --bridge "http://127.0.0.1:$PORT" --auth "slow-clients-check:$SECRET" \
  --slow "$N" --slow-body "$SLOW_BODY" --interval-ms "$INTERVAL_MS" --header-timeout-ms "$HEADER_TIMEOUT_MS" --clients "$CLIENTS" \
  --baseline-seconds "$BASELINE_S" --slack-ms "$SLACK_MS" --max-p99-ms "$MAX_P99_MS" >"$TMP/tool.log" 2>&1
rc=$?
cat "$TMP/tool.log"
p=$(grep -c '^ok - ' "$TMP/tool.log")
f=$(grep -c '^not ok - ' "$TMP/tool.log")
passed=$((passed + p))
failed=$((failed + f))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then not_ok "awf_slow_clients exited with $rc"; fi
echo "# awf_slow_clients ran $(( $(date +%s) - start )) s"

# The normal clients' tasks (all done), so that suites sharing the cluster do not meet them.
deleted=$(psql -X -q -At -c "WITH l AS (DELETE FROM awf.task_log l USING awf.task t WHERE l.task_id = t.id
                                 AND t.definition LIKE 'awf-slow-clients-%')
                    , t AS (DELETE FROM awf.task WHERE definition LIKE 'awf-slow-clients-%' RETURNING 1)
                    SELECT count(*) FROM t" 2>&1) && echo "# deleted the normal clients' $deleted tasks" ||
  echo "# could not delete the normal clients' tasks: $deleted"
if kill -0 "$BRIDGE_PID" 2>/dev/null; then ok "the bridge is the same process (pid $BRIDGE_PID)"; else not_ok "the bridge (pid $BRIDGE_PID) is gone"; fi
health=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "http://127.0.0.1:$PORT/health")
[ "$health" = 200 ] && ok "GET /health answers 200 afterwards" || not_ok "GET /health answers $health afterwards"
if grep -q "bridge bug" "$LOG"; then not_ok "the bridge logged a bug: $(grep -m1 "bridge bug" "$LOG")"; else ok "no \"bridge bug\" in the bridge's log"; fi
kill -TERM "$BRIDGE_PID"
for _ in $(seq 1 200); do kill -0 "$BRIDGE_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$BRIDGE_PID" 2>/dev/null; then
  not_ok "the bridge did not stop within 20 s of SIGTERM"
else
  wait "$BRIDGE_PID"
  rc=$?
  BRIDGE_PID=
  [ "$rc" -eq 0 ] && ok "the bridge stopped cleanly on SIGTERM" || not_ok "the bridge exited with $rc on SIGTERM"
fi
finish
