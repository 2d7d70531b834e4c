#!/usr/bin/env bash
# End-to-end test of awf-bridge, the HTTP bridge of pg_awf: a real bridge in front of a real
# PostgreSQL with awf preloaded, driven with curl and checked with jq. Run from the repo root:
#
#   pg_virtualenv -t -v 15 -o shared_preload_libraries=awf -o awf.database=postgres \
#     -o awf.tick_interval=50 bash test/bridge/e2e_test.sh
#
# Needs the extension installed (make && make install) and the bridge built
# (cmake --build build --target awf-bridge; AWF_BRIDGE=/path/to/awf-bridge to use another binary).
# It creates the extension, a login role for the bridge and one API client per role, starts the
# bridge on a free port, runs the cases below, and stops it. Output is TAP ("ok N - ...",
# "not ok N - ...", diagnostics "# ...") ending with exactly one line
# "bridge-e2e: N passed, N failed"; the exit status is non-zero when anything failed.
# Every wait polls for a condition with a generous deadline; no fixed sleep decides a result.
#
# Cases: 1 YAML lifecycle as the seed's executor does it; 2 JSON lifecycle, fail and retries;
# 3 batches; 4 every error status; 5 auth forms and the role matrix; 6 GET /AidboxTask counts;
# 7 long-poll woken by SQL, and timing out; 11 calls grouped on a second bridge with --lanes 1;
# 8 PostgreSQL restarted under the bridge; 10 /health,
# /metrics and the request log; 9 SIGTERM during long-polls and an in-flight request (last: it
# stops the bridge).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

TMP=$(mktemp -d /tmp/awf-bridge-e2e.XXXXXX)
LOG=$TMP/bridge.log
BRIDGE_PID=
BG_PIDS=()
PG_STOPPED=0
PG_VERSION_CLUSTER=()

passed=0
failed=0
n=0
DIAG=()
# A check run with TODO set tests a known bug of the bridge: TAP "# TODO", reported but not counted
# as a failure unless BRIDGE_E2E_STRICT=1.
TODO=
KNOWN_BUGS=()
REQS=0   # HTTP requests the bridge answered (each must leave one log line)

# --- reporting -------------------------------------------------------------------------------

diag() { DIAG+=("$*"); }
note() { echo "# $*"; }
record() {  # record OK(1/0) DESCRIPTION
  n=$((n + 1))
  local suffix=
  [ -n "$TODO" ] && suffix=" # TODO known bug: $TODO"
  if [ "$1" = 1 ]; then
    passed=$((passed + 1))
    echo "ok $n - $2$suffix"
    [ -n "$TODO" ] && DIAG+=("this known bug did not show: fixed? ($TODO)")
  else
    if [ -n "$TODO" ] && [ "${BRIDGE_E2E_STRICT:-0}" != 1 ]; then
      KNOWN_BUGS+=("$n - $TODO")
    else
      failed=$((failed + 1))
    fi
    echo "not ok $n - $2$suffix"
  fi
  local line
  for line in "${DIAG[@]}"; do
    while IFS= read -r l; do echo "#   $l"; done <<<"$line"
  done
  DIAG=()
}
check() {  # check DESCRIPTION COMMAND...: ok when the command succeeds
  local description=$1
  shift
  if "$@"; then record 1 "$description"; else record 0 "$description"; fi
}
section() { echo "# --- $*"; }

FINISHED=0
finish() {  # the plan, the known bugs that showed, and the summary line: the last line of output
  [ "$FINISHED" = 1 ] && return
  FINISHED=1
  echo "1..$n"
  if [ ${#KNOWN_BUGS[@]} -gt 0 ]; then
    note "known bugs of the bridge that showed (TAP TODO; BRIDGE_E2E_STRICT=1 counts them as failures):"
    local b
    for b in "${KNOWN_BUGS[@]}"; do note "  not ok $b"; done
  fi
  if [ "$failed" -gt 0 ] || [ "${KEEP_TMP:-0}" = 1 ]; then
    note "files of this run (the bridge's log: $LOG) are kept in $TMP"
  fi
  echo "bridge-e2e: $passed passed, $failed failed"
}

cleanup() {
  local rc=$? p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  { exec 7>&-; } 2>/dev/null
  { exec 8>&-; } 2>/dev/null
  [ -n "${BRIDGE2_PID:-}" ] && kill -KILL "$BRIDGE2_PID" 2>/dev/null
  if [ -n "$BRIDGE_PID" ] && kill -0 "$BRIDGE_PID" 2>/dev/null; then
    kill -TERM "$BRIDGE_PID" 2>/dev/null
    local deadline=$((SECONDS + 15))
    while ! process_gone "$BRIDGE_PID" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    process_gone "$BRIDGE_PID" || kill -KILL "$BRIDGE_PID" 2>/dev/null
  fi
  # Leave the cluster running for pg_virtualenv's own cleanup.
  if [ "$PG_STOPPED" = 1 ] && [ ${#PG_VERSION_CLUSTER[@]} -eq 2 ]; then
    pg_ctlcluster "${PG_VERSION_CLUSTER[@]}" start >/dev/null 2>&1
  fi
  if [ "$FINISHED" != 1 ]; then
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - the script stopped before its end (exit status $rc)"
    finish
  fi
  if [ "$failed" -eq 0 ] && [ "${KEEP_TMP:-0}" != 1 ]; then rm -rf "$TMP"; fi
  [ "$failed" -eq 0 ] || exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A process that has exited (gone, or a zombie not yet reaped by `wait`).
process_gone() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}
now_ms() { date +%s%3N; }
uuid() { cat /proc/sys/kernel/random/uuid; }
q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }

# --- HTTP helpers ------------------------------------------------------------------------------
# call METHOD PATH [CURL ARGS...]: sets ST (HTTP status, 000 when no answer), B (body), HDRS (file).
HDRS=$TMP/headers
call() {
  local method=$1 path=$2
  shift 2
  : >"$TMP/body"
  : >"$HDRS"
  ST=$(curl -sS -o "$TMP/body" -D "$HDRS" -w '%{http_code}' --max-time 60 -X "$method" "$@" \
    "$BASE$path" 2>"$TMP/curl.err")
  [ -n "$ST" ] || ST=000
  [ "$ST" != 000 ] && REQS=$((REQS + 1))
  B=$(cat "$TMP/body")
}
# rpc AUTH_ARRAY JSON_BODY [CURL ARGS...]: POST /rpc as application/json.
rpc() {
  local -n _auth=$1
  local body=$2
  shift 2
  call POST /rpc "${_auth[@]}" -H 'Content-Type: application/json' --data-binary "$body" "$@"
}
# yrpc AUTH_ARRAY YAML_BODY ACCEPT [CURL ARGS...]: POST /rpc as text/yaml, as the seed's executor.
yrpc() {
  local -n _auth=$1
  local body=$2 accept=$3
  shift 3
  call POST /rpc "${_auth[@]}" -H 'Content-Type: text/yaml' -H "Accept: $accept" --data-binary "$body" "$@"
}
header() {  # header NAME: the value of a response header of the last call
  grep -i "^$1:" "$HDRS" | head -1 | sed -E 's/^[^:]+: *//; s/\r$//'
}
# expect DESCRIPTION HTTP_STATUS [JQ_FILTER...]: the last response had this status and every filter
# is true of its body.
expect() {
  local description=$1 want=$2 ok=1 f
  shift 2
  [ "$ST" = "$want" ] || { ok=0; diag "expected HTTP $want, got $ST"; }
  for f in "$@"; do
    jq -e "$f" <<<"$B" >/dev/null 2>&1 || { ok=0; diag "not true of the body: $f"; }
  done
  [ $ok = 1 ] || diag "body: ${B:0:600}"
  record $ok "$description"
}
# expect_error DESCRIPTION HTTP_STATUS ERROR_TYPE [JQ_FILTER...]
expect_error() {
  local description=$1 want=$2 type=$3
  shift 3
  expect "$description" "$want" ".error.type == \"$type\"" '.error.message | type == "string" and length > 0' "$@"
}
# yaml_has REGEX...: the last body (YAML) has a line matching each extended regex.
yaml_has() {
  local r ok=0
  for r in "$@"; do
    grep -qE -- "$r" <<<"$B" || { ok=1; diag "no line matches /$r/"; }
  done
  [ $ok = 0 ] || diag "body: ${B:0:800}"
  return $ok
}
# yaml_value KEY: the first "KEY: value" of the last body (YAML), quotes removed.
yaml_value() {
  sed -n -E "s/^ *(- )?$1: *//p" <<<"$B" | head -1 | sed -E "s/^'(.*)'\$/\1/"
}
equal() {  # equal WHAT EXPECTED GOT
  [ "$2" = "$3" ] && return 0
  diag "$1: expected '$2', got '$3'"
  return 1
}
header_is() {  # header_is NAME REGEX
  local v
  v=$(header "$1")
  grep -qE -- "$2" <<<"$v" && return 0
  diag "header $1: expected /$2/, got '$v'"
  return 1
}
metric() {  # metric NAME_WITH_LABELS: its value in the last body (/metrics), or empty
  awk -v name="$1" '$1 == name {print $2}' <<<"$B" | head -1
}
# wait_until SECONDS COMMAND...: polls every 50 ms until the command succeeds.
wait_until() {
  local seconds=$1 deadline=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $deadline ]; do
    "$@" 2>/dev/null && return 0
    sleep 0.05
  done
  "$@" 2>/dev/null && return 0
  diag "timed out after $seconds s waiting for: $*"
  return 1
}
long_polls_waiting_is() {  # long_polls_waiting_is N: /metrics shows exactly N waiting long-polls
  call GET /metrics
  [ "$(metric awf_bridge_long_polls_waiting)" = "$1" ]
}
# bg_rpc NAME AUTH_ARRAY JSON_BODY: POST /rpc in the background; when it is answered,
# $TMP/NAME.done holds "HTTP_STATUS START_MS END_MS" and $TMP/NAME.body the body.
bg_rpc() {
  local name=$1 body=$3
  local -n _auth=$2
  rm -f "$TMP/$name.done" "$TMP/$name.body"
  (
    start=$(now_ms)
    code=$(curl -sS -o "$TMP/$name.body" -w '%{http_code}' --max-time 90 -X POST "${_auth[@]}" \
      -H 'Content-Type: application/json' --data-binary "$body" "$BASE/rpc" 2>"$TMP/$name.err")
    end=$(now_ms)
    echo "${code:-000} $start $end" >"$TMP/$name.tmp" && mv "$TMP/$name.tmp" "$TMP/$name.done"
  ) &
  BG_PIDS+=($!)
}
bg_done() { [ -f "$TMP/$1.done" ]; }
# bg_result NAME: sets BG_ST, BG_START, BG_END, B (body); counts the request.
bg_result() {
  read -r BG_ST BG_START BG_END <"$TMP/$1.done"
  B=$(cat "$TMP/$1.body" 2>/dev/null)
  [ "$BG_ST" != 000 ] && REQS=$((REQS + 1))
}

# --- setup -------------------------------------------------------------------------------------

fatal() {
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - setup: $*"
  [ -f "$LOG" ] && tail -20 "$LOG" | sed 's/^/#   /'
  finish
  exit 1
}

for tool in curl jq psql pg_ctlcluster pg_lsclusters; do
  command -v "$tool" >/dev/null || fatal "$tool is not installed"
done
[ -n "${PGPORT:-}" ] || fatal "run inside pg_virtualenv (PGPORT is not set)"

# A private copy of the binary: another build may replace build/awf-bridge while we run.
SRC_BIN=${AWF_BRIDGE:-$ROOT/build/awf-bridge}
BIN=$TMP/awf-bridge
deadline=$((SECONDS + 120))
until cp "$SRC_BIN" "$BIN" 2>/dev/null && "$BIN" --help 2>/dev/null | grep -q -- '--listen'; do
  [ $SECONDS -lt $deadline ] || fatal "no working bridge binary at $SRC_BIN (build: cmake --build build --target awf-bridge)"
  sleep 1
done

read -r -a PG_VERSION_CLUSTER <<<"$(pg_lsclusters -h | awk -v p="$PGPORT" '$3 == p {print $1, $2; exit}')"
[ ${#PG_VERSION_CLUSTER[@]} -eq 2 ] || fatal "no cluster on port $PGPORT in pg_lsclusters"

q "CREATE EXTENSION IF NOT EXISTS awf" >/dev/null || fatal "CREATE EXTENSION awf failed"
[ "$(q "SHOW shared_preload_libraries")" = awf ] || note "awf is not in shared_preload_libraries: long-poll wakeups fall back to polling"

BRIDGE_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
if [ "$(q "SELECT count(*) FROM pg_roles WHERE rolname = 'awf_bridge'")" = 1 ]; then
  q "ALTER ROLE awf_bridge LOGIN PASSWORD '$BRIDGE_PASSWORD'; GRANT awf_admin TO awf_bridge" >/dev/null
else
  q "CREATE ROLE awf_bridge LOGIN PASSWORD '$BRIDGE_PASSWORD' IN ROLE awf_admin" >/dev/null
fi || fatal "cannot create the role awf_bridge"
CONNINFO="host=127.0.0.1 port=$PGPORT dbname=${PGDATABASE:-postgres} user=awf_bridge password=$BRIDGE_PASSWORD"

# client_add ID ROLE: prints the secret.
client_add() {
  "$BIN" client add "$1" --role "$2" --db "$CONNINFO" | sed -n -E 's/^ *secret: *//p'
}
EXEC_ID=e2e-executor
USER_ID=e2e-user
ADMIN_ID=e2e-admin
DOTTED_ID=e2e.dotted.executor
EXEC_SECRET=$(client_add $EXEC_ID awf_executor)
USER_SECRET=$(client_add $USER_ID awf_user)
ADMIN_SECRET=$(client_add $ADMIN_ID awf_admin)
DOTTED_SECRET=$(client_add $DOTTED_ID awf_executor)
for s in "$EXEC_SECRET" "$USER_SECRET" "$ADMIN_SECRET" "$DOTTED_SECRET"; do
  [ -n "$s" ] || fatal "awf-bridge client add printed no secret"
done
EXEC=(-u "$EXEC_ID:$EXEC_SECRET")
USR=(-u "$USER_ID:$USER_SECRET")
ADMIN=(-u "$ADMIN_ID:$ADMIN_SECRET")
EXEC_B=(-H "Authorization: Bearer $EXEC_ID.$EXEC_SECRET")
USR_B=(-H "Authorization: Bearer $USER_ID.$USER_SECRET")
ADMIN_B=(-H "Authorization: Bearer $ADMIN_ID.$ADMIN_SECRET")
DOTTED_B=(-H "Authorization: Bearer $DOTTED_ID.$DOTTED_SECRET")
role_of() { case $1 in EXEC*) echo executor ;; USR*) echo user ;; ADMIN*) echo admin ;; esac; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
health_answers() { call GET /health; [ "$ST" = 200 ]; }
start_bridge() {
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    BASE=http://127.0.0.1:$port
    "$BIN" --listen "127.0.0.1:$port" --db "$CONNINFO" 2>>"$LOG" &
    BRIDGE_PID=$!
    local deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ] && ! process_gone "$BRIDGE_PID"; do
      health_answers && return 0
      sleep 0.05
    done
    process_gone "$BRIDGE_PID" || kill -KILL "$BRIDGE_PID" 2>/dev/null
    wait "$BRIDGE_PID" 2>/dev/null
    BRIDGE_PID=
  done
  return 1
}
start_bridge || fatal "the bridge did not answer GET /health with 200 (log: $LOG)"
note "bridge pid $BRIDGE_PID at $BASE, PostgreSQL ${PG_VERSION_CLUSTER[*]} on port $PGPORT"

# ==============================================================================================
section "case 1: the lifecycle in YAML, as the seed's executor sends it"
DEF1=e2e.yaml/import-resource-task
# Created by a user, in YAML; quoted scalars must stay strings, plain ones become numbers/booleans.
yrpc USR "method: awf.task/create
params:
  definition: $DEF1
  params:
    type: aidbox
    code: '00123'
    flag: 'true'
    count: 42
    enabled: true
    nothing: null
    input:
      url: >-
        https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz
      resourceType: Organization" text/yaml
check "YAML create as user: 200, answered in YAML (Content-Type text/yaml)" \
  eval '[ "$ST" = 200 ] || diag "HTTP $ST: $B"; [ "$ST" = 200 ] && header_is Content-Type "^text/yaml"'
check "YAML create: status ready, definition, quoted '00123'/'true' come back quoted, 42 plain" \
  yaml_has '^result:$' '^  resource:$' '^    status: ready$' "^    definition: $DEF1\$" \
  "^ +code: '00123'\$" "^ +flag: 'true'\$" '^ +count: 42$' '^ +enabled: true$' "^ +versionId: '[0-9]+'\$"
ID1=$(yaml_value id)
check "YAML create returned an id" test -n "$ID1"

yrpc EXEC "method: awf.task/poll
params:
    taskDefinitions: [$DEF1]" text/yaml
check "YAML poll as executor: 200, one resource with execId, status requested" \
  eval '[ "$ST" = 200 ] && yaml_has "^  resources:\$" "^    - " "^ +status: requested\$" "^ +execId: " "^ +(- )?id: '"'"'?$ID1'"'"'?\$"'
EXEC1=$(yaml_value execId)
check "the poll's execId is a UUID" eval 'grep -qE "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" <<<"$EXEC1" || { diag "execId: $EXEC1"; false; }'

# start: the id as a folded block scalar, as the seed's responses write ids.
yrpc EXEC "method: awf.task/start
params:
    id: >-
      $ID1
    execId: $EXEC1" text/yaml
check "YAML start: 200, status in-progress, retryCount 1, the same execId" \
  eval '[ "$ST" = 200 ] && yaml_has "^    status: in-progress\$" "^    retryCount: 1\$" && equal execId "$EXEC1" "$(yaml_value execId)"'

yrpc EXEC "method: awf.task/notify
params:
    id: $ID1
    execId:   $EXEC1
    notification: awf.task/heartbeat
    message: \"task is alive\"" text/yaml
check "YAML notify (awf.task/heartbeat, \"task is alive\"): 200, result.inProgressTimeoutAt, a quoted timestamp" \
  eval '[ "$ST" = 200 ] && yaml_has "^result:\$" "^  inProgressTimeoutAt: '"'"'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z'"'"'\$"'

yrpc EXEC "method: awf.task/success
params:
    id: $ID1
    execId: $EXEC1" text/yaml
check "YAML success: 200, status done, outcome succeeded, retryCount 1, versionId quoted, same execId" \
  eval '[ "$ST" = 200 ] && yaml_has "^    status: done\$" "^    outcome: succeeded\$" "^    retryCount: 1\$" "^      versionId: '"'"'[0-9]+'"'"'\$" "^    resourceType: AidboxTask\$" && equal execId "$EXEC1" "$(yaml_value execId)"'

# The same task read back as JSON, from a YAML request (Accept picks the answer's format).
yrpc USR "method: awf.task/status
params:
  id: $ID1
  include-log: true" application/json
expect "YAML status with Accept: application/json answers JSON: done/succeeded, execId kept, types kept" 200 \
  ".result.resource.status == \"done\"" ".result.resource.outcome == \"succeeded\"" \
  ".result.resource.retryCount == 1" ".result.resource.execId == \"$EXEC1\"" \
  '.result.resource.params.code == "00123"' '.result.resource.params.flag == "true"' \
  '.result.resource.params.count == 42' '.result.resource.params.enabled == true' \
  '.result.resource.params.input.url == "https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz"' \
  '.result.resource.meta.versionId | type == "string"' \
  '.result.resource.meta.createdAt | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{6}Z$")' \
  '[.result.log[]? | select(.message == "task is alive")] | length == 1'
check "... and its Content-Type is application/json" header_is Content-Type '^application/json'

yrpc USR "method: awf.task/status
params: {id: $ID1}" '' -H 'Accept:'
check "YAML request without Accept is answered in YAML" \
  eval '[ "$ST" = 200 ] && header_is Content-Type "^text/yaml" && yaml_has "^    status: done\$"'

# ==============================================================================================
section "case 2: the lifecycle in JSON; fail with and without retries"
DEF2=e2e.json/task
rpc ADMIN "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"$DEF2\", \"params\": {\"n\": 1, \"s\": \"x\"}, \"label\": \"e2e\"}}"
expect "JSON create as admin: ready, a string versionId, Content-Type JSON" 200 \
  '.result.resource.status == "ready"' ".result.resource.definition == \"$DEF2\"" \
  '.result.resource.params == {"n": 1, "s": "x"}' '.result.resource.meta.versionId | type == "string"' \
  '.result.resource.resourceType == "AidboxTask"' '.result.resource | has("execId") | not'
ID2=$(jq -r '.result.resource.id' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/poll\", \"params\": {\"taskDefinitions\": [\"$DEF2\"], \"maxBatchSize\": 5}}"
expect "JSON poll: the task, requested, with an execId" 200 \
  '.result.resources | length == 1' ".result.resources[0].id == \"$ID2\"" \
  '.result.resources[0].status == "requested"' '.result.resources[0].execId | type == "string"'
EXEC2=$(jq -r '.result.resources[0].execId' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID2\", \"execId\": \"$EXEC2\"}}"
expect "JSON start: in-progress, retryCount 1, same execId" 200 \
  '.result.resource.status == "in-progress"' '.result.resource.retryCount == 1' ".result.resource.execId == \"$EXEC2\""
rpc EXEC "{\"method\": \"awf.task/notify\", \"params\": {\"id\": \"$ID2\", \"execId\": \"$EXEC2\", \"notification\": \"progress\", \"progress-current\": 5, \"progress-total\": 10, \"progress-unit\": \"rows\"}}"
expect "JSON notify progress: inProgressTimeoutAt in the future" 200 \
  '.result.inProgressTimeoutAt | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' \
  '.result.inProgressTimeoutAt > (now | todate)'
rpc EXEC "{\"method\": \"awf.task/success\", \"params\": {\"id\": \"$ID2\", \"execId\": \"$EXEC2\", \"result\": {\"rows\": 10}}}"
expect "JSON success: done/succeeded, retryCount 1, same execId" 200 \
  '.result.resource.status == "done"' '.result.resource.outcome == "succeeded"' \
  '.result.resource.retryCount == 1' ".result.resource.execId == \"$EXEC2\""
rpc USR "{\"method\": \"awf.task/status\", \"params\": {\"id\": \"$ID2\", \"include-log\": true}}"
expect "JSON status: the result is stored, the log has the progress notification" 200 \
  '.result.resource.status == "done"' \
  '(.result.resource.result == {"rows": 10}) or (.result.resource | tostring | contains("\"rows\":10"))' \
  '[.result.log[]? | tostring | select(contains("rows"))] | length >= 1'

# fail with allowedRetryCount 0: done/failed at once.
DEF2F=e2e.json/fail0
rpc ADMIN "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"$DEF2F\", \"allowedRetryCount\": 0}}"
ID2F=$(jq -r '.result.resource.id' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/poll\", \"params\": {\"taskDefinitions\": [\"$DEF2F\"]}}"
EXEC2F=$(jq -r '.result.resources[0].execId' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID2F\", \"execId\": \"$EXEC2F\"}}"
rpc EXEC "{\"method\": \"awf.task/fail\", \"params\": {\"id\": \"$ID2F\", \"execId\": \"$EXEC2F\", \"error\": {\"message\": \"boom\"}}}"
expect "fail with allowedRetryCount 0: done/failed, outcomeReason.type awf.task/failed-by-executor" 200 \
  '.result.resource.status == "done"' '.result.resource.outcome == "failed"' \
  '.result.resource.outcomeReason.type == "awf.task/failed-by-executor"' '.result.resource.retryCount == 1'

# fail with allowedRetryCount 1, retryDelay 0: back to ready, the old execId refused, then failed.
DEF2R=e2e.json/fail1
rpc ADMIN "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"$DEF2R\", \"allowedRetryCount\": 1, \"retryDelay\": 0}}"
ID2R=$(jq -r '.result.resource.id' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/poll\", \"params\": {\"taskDefinitions\": [\"$DEF2R\"]}}"
EXEC2R=$(jq -r '.result.resources[0].execId' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID2R\", \"execId\": \"$EXEC2R\"}}"
rpc EXEC "{\"method\": \"awf.task/fail\", \"params\": {\"id\": \"$ID2R\", \"execId\": \"$EXEC2R\", \"error\": {\"message\": \"try again\"}}}"
expect "fail with a retry left: ready again, no outcome, no execId" 200 \
  '.result.resource.status == "ready"' '.result.resource | has("outcome") | not' '.result.resource | has("execId") | not'
rpc EXEC "{\"method\": \"awf.task/success\", \"params\": {\"id\": \"$ID2R\", \"execId\": \"$EXEC2R\"}}"
expect_error "the first attempt's execId is refused afterwards: 422 awf.task/wrong-exec-id" 422 awf.task/wrong-exec-id \
  '.error.sqlstate == "WA002"'
rpc EXEC "{\"method\": \"awf.task/poll\", \"params\": {\"taskDefinitions\": [\"$DEF2R\"]}}"
EXEC2R2=$(jq -r '.result.resources[0].execId' <<<"$B")
expect "the retry is polled again with a new execId" 200 ".result.resources[0].id == \"$ID2R\"" \
  ".result.resources[0].execId != \"$EXEC2R\""
rpc EXEC "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID2R\", \"execId\": \"$EXEC2R2\"}}"
expect "the second start counts retryCount 2" 200 '.result.resource.retryCount == 2'
rpc EXEC "{\"method\": \"awf.task/fail\", \"params\": {\"id\": \"$ID2R\", \"execId\": \"$EXEC2R2\"}}"
expect "the last attempt fails for good: done/failed/awf.task/failed-by-executor" 200 \
  '.result.resource.status == "done"' '.result.resource.outcome == "failed"' \
  '.result.resource.outcomeReason.type == "awf.task/failed-by-executor"'

# ==============================================================================================
section "case 3: batches"
DEF3=e2e.batch/task
creates=$(jq -nc --arg d "$DEF3" '[range(5) | {method: "awf.task/create", params: {definition: $d, params: {i: .}}}]')
rpc ADMIN "$creates"
expect "a batch of 5 creates: HTTP 200, 5 results in order" 200 \
  'type == "array" and length == 5' 'all(.[]; .result.resource.status == "ready")' \
  '[.[].result.resource.params.i] == [0,1,2,3,4]'
IDS3=$(jq -c '[.[].result.resource.id]' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/poll\", \"params\": {\"taskDefinitions\": [\"$DEF3\"], \"maxBatchSize\": 5}}"
expect "poll maxBatchSize 5 claims all 5" 200 '.result.resources | length == 5' \
  "([.result.resources[].id] | sort) == ($IDS3 | sort)"
CLAIMS3=$(jq -c '[.result.resources[] | {id, execId}]' <<<"$B")
starts=$(jq -c '[.[] | {method: "awf.task/start", params: .}]' <<<"$CLAIMS3")
rpc EXEC "$starts"
expect "a batch of 5 starts: all in-progress, in order" 200 'length == 5' \
  'all(.[]; .result.resource.status == "in-progress")' "[.[].result.resource.id] == [$(jq -r '[.[].id | @json] | join(",")' <<<"$CLAIMS3")]"
successes=$(jq -c '[.[] | {method: "awf.task/success", params: (. + {result: {ok: .id}})}]' <<<"$CLAIMS3")
rpc EXEC "$successes"
expect "a batch of 5 successes in one POST: HTTP 200, all done/succeeded, results in request order" 200 \
  'type == "array" and length == 5' 'all(.[]; .result.resource.status == "done" and .result.resource.outcome == "succeeded")' \
  "[.[].result.resource.id] == [$(jq -r '[.[].id | @json] | join(",")' <<<"$CLAIMS3")]" \
  "[.[].result.resource.execId] == [$(jq -r '[.[].execId | @json] | join(",")' <<<"$CLAIMS3")]"
check "the database has all 5 done/succeeded" equal "done tasks" 5 \
  "$(q "SELECT count(*) FROM awf.task WHERE definition = '$DEF3' AND status = 'done' AND outcome = 'succeeded'")"

# A mixed batch: an invalid item, a not-found start, invalid params, a forbidden call, a valid start.
DEF3M=e2e.batch/mixed
rpc ADMIN "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"$DEF3M\"}}"
ID3M=$(jq -r '.result.resource.id' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/poll\", \"params\": {\"taskDefinitions\": [\"$DEF3M\"]}}"
EXEC3M=$(jq -r '.result.resources[0].execId' <<<"$B")
mixed=$(jq -nc --arg id "$ID3M" --arg exec "$EXEC3M" --arg nf "$(uuid)" --arg nfe "$(uuid)" '[
  {params: {id: $id}},
  {method: "awf.task/start", params: {id: $nf, execId: $nfe}},
  {method: "awf.task/poll", params: {taskDefinitions: ["x"], maxBatchSize: -1}},
  {method: "awf.task/create", params: {definition: "e2e.batch/forbidden"}},
  {method: "awf.task/start", params: {id: $id, execId: $exec}}]')
rpc EXEC "$mixed"
expect "a mixed batch answers 200 with each item's own outcome, in order" 200 'length == 5' \
  '.[0].error.type == "awf.rpc/invalid-request"' \
  '.[1].error.type == "awf.task/not-found"' '.[1].error.sqlstate == "WA001"' \
  '.[2].error.type == "awf.rpc/invalid-params"' \
  '.[3].error.type == "awf.auth/forbidden"' \
  '.[4].result.resource.status == "in-progress"' '[.[0:4][] | has("result")] == [false,false,false,false]'
rpc USR "{\"method\": \"awf.task/status\", \"params\": {\"id\": \"$ID3M\"}}"
expect "the valid call of the mixed batch persisted (status in-progress)" 200 \
  '.result.resource.status == "in-progress"' ".result.resource.execId == \"$EXEC3M\""
check "the forbidden create of the mixed batch did not persist" equal "tasks of e2e.batch/forbidden" 0 \
  "$(q "SELECT count(*) FROM awf.task WHERE definition = 'e2e.batch/forbidden'")"

# A batch in YAML, answered in YAML.
yrpc USR "- method: awf.task/status
  params: {id: $ID3M}
- method: awf.task/status
  params: {id: $(jq -r '.[0]' <<<"$IDS3")}" text/yaml
check "a YAML batch is answered as a YAML sequence of results" \
  eval '[ "$ST" = 200 ] && yaml_has "^- result:\$" "^ +status: in-progress\$" "^ +status: done\$" && [ "$(grep -c "^- result:" <<<"$B")" = 2 ]'
rpc USR '[]'
expect_error "an empty batch is 400 awf.rpc/invalid-request" 400 awf.rpc/invalid-request

# ==============================================================================================
section "case 4: every error status"
poll_body='{"method": "awf.task/poll", "params": {"taskDefinitions": ["e2e.none"]}}'
rpc EXEC '{"method": "awf.task/poll", "params": '
expect_error "400 malformed JSON: awf.http/malformed-body" 400 awf.http/malformed-body
yrpc EXEC $'method: awf.task/poll\nparams: [unclosed' application/json
expect_error "400 malformed YAML: awf.http/malformed-body" 400 awf.http/malformed-body
rpc EXEC '"just a string"'
expect_error "400 a body that is neither object nor array: awf.rpc/invalid-request" 400 awf.rpc/invalid-request
rpc EXEC '42'
expect_error "400 a number as body: awf.rpc/invalid-request" 400 awf.rpc/invalid-request
rpc EXEC '{"params": {"taskDefinitions": ["x"]}}'
expect_error "400 missing method: awf.rpc/invalid-request" 400 awf.rpc/invalid-request
rpc EXEC '{"method": 7}'
expect_error "400 method not a string: awf.rpc/invalid-request" 400 awf.rpc/invalid-request
rpc EXEC '{"method": "awf.task/poll", "params": {"taskDefinitions": ["x"], "maxBatchSize": -1}}'
expect_error "400 maxBatchSize -1: awf.rpc/invalid-params (WA101), naming the parameter" 400 awf.rpc/invalid-params \
  '.error.sqlstate == "WA101"' '.error.message | contains("maxBatchSize")'
rpc EXEC '{"method": "awf.task/start", "params": {"id": "not-a-uuid", "execId": "also-not"}}'
expect "400 an id that is not a UUID" 400 '.error.type == "awf.rpc/invalid-params"'
rpc EXEC '{"method": "awf.task/long-poll", "params": {"taskDefinitions": ["x"], "timeout": "soon"}}'
expect_error "400 long-poll timeout not an integer: awf.rpc/invalid-params" 400 awf.rpc/invalid-params
rpc EXEC ''
expect_error "400 an empty body" 400 awf.http/malformed-body

call POST /rpc -H 'Content-Type: application/json' --data-binary "$poll_body"
expect_error "401 without credentials: awf.auth/unauthorized" 401 awf.auth/unauthorized
check "... with WWW-Authenticate offering Basic and Bearer" header_is WWW-Authenticate '^Basic realm=.*Bearer'
call POST /rpc -u "$EXEC_ID:wrong-secret" -H 'Content-Type: application/json' --data-binary "$poll_body"
expect_error "401 Basic with a wrong secret" 401 awf.auth/unauthorized
check "... with WWW-Authenticate" header_is WWW-Authenticate 'Basic'
call POST /rpc -u "nobody:$EXEC_SECRET" -H 'Content-Type: application/json' --data-binary "$poll_body"
expect_error "401 Basic with an unknown client" 401 awf.auth/unauthorized
call POST /rpc -H "Authorization: Bearer $EXEC_ID.wrong" -H 'Content-Type: application/json' --data-binary "$poll_body"
expect_error "401 Bearer with a wrong secret" 401 awf.auth/unauthorized
call POST /rpc -H "Authorization: Bearer $EXEC_SECRET" -H 'Content-Type: application/json' --data-binary "$poll_body"
expect_error "401 Bearer without ID. (malformed)" 401 awf.auth/unauthorized '.error.message | test("malformed")'
call POST /rpc -H 'Authorization: Basic %%%not-base64%%%' -H 'Content-Type: application/json' --data-binary "$poll_body"
expect_error "401 malformed Basic header" 401 awf.auth/unauthorized '.error.message | test("malformed")'
call POST /rpc -H "Authorization: Basic $(printf '%s' "$EXEC_ID$EXEC_SECRET" | base64 -w0)" -H 'Content-Type: application/json' --data-binary "$poll_body"
expect_error "401 Basic without a colon" 401 awf.auth/unauthorized
call POST /rpc -H "Authorization: Token $EXEC_ID.$EXEC_SECRET" -H 'Content-Type: application/json' --data-binary "$poll_body"
expect_error "401 an unknown scheme" 401 awf.auth/unauthorized

rpc EXEC "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"e2e.forbidden\"}}"
expect_error "403 executor calls awf.task/create: awf.auth/forbidden (42501)" 403 awf.auth/forbidden '.error.sqlstate == "42501"'
rpc USR "$poll_body"
expect_error "403 user calls awf.task/poll" 403 awf.auth/forbidden '.error.sqlstate == "42501"'
rpc USR '{"method": "awf.task/long-poll", "params": {"taskDefinitions": ["e2e.none"], "timeout": 1000}}'
expect_error "403 user calls awf.task/long-poll (refused at once)" 403 awf.auth/forbidden

rpc ADMIN '{"method": "awf.task/nope", "params": {}}'
expect_error "404 unknown method: awf.rpc/unknown-method (WA102)" 404 awf.rpc/unknown-method '.error.sqlstate == "WA102"'
call GET /nope "${EXEC[@]}"
expect_error "404 unknown path: awf.http/not-found" 404 awf.http/not-found
call POST /rpc/ "${EXEC[@]}" -H 'Content-Type: application/json' --data-binary "$poll_body"
expect_error "404 /rpc/ (trailing slash) is another path" 404 awf.http/not-found

call GET /rpc "${EXEC[@]}"
expect_error "405 GET /rpc: awf.http/method-not-allowed" 405 awf.http/method-not-allowed
check "... with Allow: POST" header_is Allow '^POST$'
call POST /health --data-binary '{}' -H 'Content-Type: application/json'
expect_error "405 POST /health" 405 awf.http/method-not-allowed
check "... with Allow: GET" header_is Allow '^GET$'
call DELETE /AidboxTask "${USR[@]}"
expect_error "405 DELETE /AidboxTask" 405 awf.http/method-not-allowed

# 413: over the default --body-limit of 1 MiB (1048576 bytes); just under it is fine.
make_body() {  # make_body FILE TOTAL_BYTES: a valid poll whose params carry padding
  local prefix='{"method": "awf.task/poll", "params": {"taskDefinitions": ["e2e.none"], "pad": "' suffix='"}}'
  { printf '%s' "$prefix"; head -c $(($2 - ${#prefix} - ${#suffix})) /dev/zero | tr '\0' x; printf '%s' "$suffix"; } >"$1"
}
make_body "$TMP/big.json" $((1048576 + 1))
make_body "$TMP/fits.json" 1048576
check "the test bodies have 1048577 and 1048576 bytes" \
  eval '[ "$(stat -c %s "$TMP/big.json")" = 1048577 ] && [ "$(stat -c %s "$TMP/fits.json")" = 1048576 ]'
rpc EXEC "@$TMP/big.json"
expect_error "413 a body of 1 MiB + 1 byte: awf.http/body-too-large" 413 awf.http/body-too-large
rpc EXEC "@$TMP/fits.json"
expect "a body of exactly 1 MiB is accepted (200)" 200 '.result.resources == []'

call POST /rpc "${EXEC[@]}" -H 'Content-Type: text/plain' --data-binary "$poll_body"
expect_error "415 text/plain: awf.http/unsupported-media-type" 415 awf.http/unsupported-media-type
call POST /rpc "${EXEC[@]}" --data-binary "$poll_body"
expect_error "415 curl's default application/x-www-form-urlencoded" 415 awf.http/unsupported-media-type
call POST /rpc "${EXEC[@]}" -H 'Content-Type: application/json; charset=utf-8' --data-binary "$poll_body"
expect "application/json; charset=utf-8 is accepted" 200 '.result.resources == []'
call POST /rpc "${EXEC[@]}" -H 'Content-Type: application/x-yaml' --data-binary $'method: awf.task/poll\nparams: {taskDefinitions: [e2e.none]}' -H 'Accept: application/json'
expect "application/x-yaml is accepted" 200 '.result.resources == []'
call POST /rpc "${EXEC[@]}" -H 'Content-Type: application/yaml' --data-binary $'method: awf.task/poll\nparams: {taskDefinitions: [e2e.none]}' -H 'Accept: application/json'
expect "application/yaml is accepted" 200 '.result.resources == []'

expect_start=$(now_ms)
rpc EXEC "$poll_body" -H 'Expect: 100-continue'
expect_ms=$(($(now_ms) - expect_start))
check "a request with Expect: 100-continue is answered without the client's 1 s expect timeout ($expect_ms ms)" \
  eval '[ "$ST" = 200 ] && [ "$expect_ms" -lt 900 ] || { diag "HTTP $ST after $expect_ms ms"; false; }'
TODO=

rpc EXEC "$poll_body" -H 'Accept: text/html'
expect_error "406 Accept: text/html only: awf.http/not-acceptable" 406 awf.http/not-acceptable
rpc EXEC "$poll_body" -H 'Accept: text/html, application/json;q=0'
expect_error "406 Accept: application/json;q=0 is not acceptable either" 406 awf.http/not-acceptable
rpc EXEC "$poll_body" -H 'Accept: text/html, text/yaml;q=0.5'
check "Accept: text/html, text/yaml;q=0.5 answers YAML" eval '[ "$ST" = 200 ] && header_is Content-Type "^text/yaml"'

rpc EXEC "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$(uuid)\", \"execId\": \"$(uuid)\"}}"
expect_error "422 start of an unknown task id: awf.task/not-found (WA001)" 422 awf.task/not-found '.error.sqlstate == "WA001"'
rpc USR "{\"method\": \"awf.task/status\", \"params\": {\"id\": \"$(uuid)\"}}"
expect_error "422 status of an unknown task id: awf.task/not-found" 422 awf.task/not-found
DEF4=e2e.errors/task
rpc ADMIN "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"$DEF4\"}}"
ID4=$(jq -r '.result.resource.id' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/poll\", \"params\": {\"taskDefinitions\": [\"$DEF4\"]}}"
EXEC4=$(jq -r '.result.resources[0].execId' <<<"$B")
rpc EXEC "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID4\", \"execId\": \"$(uuid)\"}}"
expect_error "422 start with a wrong execId: awf.task/wrong-exec-id (WA002)" 422 awf.task/wrong-exec-id '.error.sqlstate == "WA002"'
rpc EXEC "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID4\", \"execId\": \"$EXEC4\"}}"
expect "the right execId starts it" 200 '.result.resource.status == "in-progress"'
rpc EXEC "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID4\", \"execId\": \"$EXEC4\"}}"
expect_error "422 start twice: awf.task/invalid-status (WA003)" 422 awf.task/invalid-status '.error.sqlstate == "WA003"'
yrpc EXEC "method: awf.task/start
params: {id: $ID4, execId: $EXEC4}" text/yaml
check "an error answered in YAML has error.type" \
  eval '[ "$ST" = 422 ] && header_is Content-Type "^text/yaml" && yaml_has "^error:\$" "^  type: awf.task/invalid-status\$"'

# ==============================================================================================
section "case 5: Basic and Bearer for each role; what each role may call"
for who in EXEC USR ADMIN; do
  case $who in
    EXEC) allowed=$poll_body ;;
    *) allowed='{"method": "awf.task/list", "params": {"paging": {"count": 1}}}' ;;
  esac
  rpc "$who" "$allowed"
  expect "$(role_of $who) with HTTP Basic: 200" 200 '.result | type == "object"'
  rpc "${who}_B" "$allowed"
  expect "$(role_of $who) with Bearer ID.SECRET: 200" 200 '.result | type == "object"'
done
rpc DOTTED_B "$poll_body"
expect "Bearer with a client id containing dots ($DOTTED_ID): 200" 200 '.result.resources == []'
call POST /rpc -H "authorization: bearer $USER_ID.$USER_SECRET" -H 'Content-Type: application/json' \
  --data-binary '{"method": "awf.task/list"}'
expect "lower-case header name and scheme (\"authorization: bearer ...\"): 200" 200 '.result.resources | type == "array"'

DEF5=e2e.matrix/task
matrix_call() {  # matrix_call ROLE_ARRAY METHOD: one call of METHOD with suitable params
  local id
  case $2 in
    create) rpc "$1" "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"$DEF5\"}}" ;;
    poll) rpc "$1" '{"method": "awf.task/poll", "params": {"taskDefinitions": ["e2e.matrix/empty"]}}' ;;
    list) rpc "$1" "{\"method\": \"awf.task/list\", \"params\": {\"filter\": {\"includeDefinitions\": [\"$DEF5\"]}}}" ;;
    status | cancel)
      id=$(q "SELECT awf.task_create('$DEF5') -> 'resource' ->> 'id'")
      rpc "$1" "{\"method\": \"awf.task/$2\", \"params\": {\"id\": \"$id\"}}" ;;
  esac
}
matrix_ok=1
matrix_rows=()
for who in EXEC USR ADMIN; do
  row="$(role_of $who):"
  for m in create poll status list cancel; do
    case "$who/$m" in
      EXEC/poll | USR/create | USR/status | USR/list | USR/cancel | ADMIN/*) want=200 ;;
      *) want=403 ;;
    esac
    matrix_call "$who" "$m"
    row+=" $m=$ST"
    if [ "$ST" != "$want" ]; then
      matrix_ok=0
      diag "$(role_of $who) $m: expected $want, got $ST: ${B:0:300}"
    elif [ "$want" = 403 ] && [ "$(jq -r .error.type <<<"$B")" != awf.auth/forbidden ]; then
      matrix_ok=0
      diag "$(role_of $who) $m: 403 without awf.auth/forbidden: ${B:0:300}"
    fi
  done
  matrix_rows+=("$row")
done
note "role matrix (HTTP status): ${matrix_rows[*]}"
record $matrix_ok "role matrix: executor may only poll; user create/status/list/cancel; admin all five (else 403 awf.auth/forbidden)"

# ==============================================================================================
section "case 6: GET /AidboxTask counts"
DEF6A=e2e.count/a
DEF6B=e2e.count/b
# Only this case's tasks are ready or waiting: earlier cases' unfinished tasks could come back to
# the queue (timeouts) while it counts.
q "SELECT awf.task_cancel(id) FROM awf.task WHERE status <> 'done'" >/dev/null
q "SELECT awf.task_create('$DEF6A') FROM generate_series(1, 3);
   SELECT awf.task_create('$DEF6B') FROM generate_series(1, 2);
   SELECT awf.task_create('$DEF6A', execute_at => now() + interval '1 hour');" >/dev/null
not_a=$(q "SELECT count(*) FROM awf.task WHERE status = 'ready' AND definition <> '$DEF6A'")
[ "$not_a" = 2 ] || note "ready tasks of other definitions than $DEF6A: $not_a (expected only the 2 of $DEF6B)"
for who in EXEC USR; do
  declare -n auth=$who
  call GET "/AidboxTask?_count=0&.status=ready&definition=$DEF6A" "${auth[@]}"
  expect "$(role_of $who): _count=0&.status=ready&definition=$DEF6A: Bundle searchset, total 3, no entries" 200 \
    '.resourceType == "Bundle"' '.type == "searchset"' '.total == 3' '.entry == []'
  call GET "/AidboxTask?_count=0&.status=ready&definition=e2e.count%2Fa" "${auth[@]}"
  expect "$(role_of $who): the definition percent-encoded (e2e.count%2Fa): total 3" 200 '.total == 3'
  call GET "/AidboxTask?_count=0&.status=ready&definition=$DEF6A,$DEF6B" "${auth[@]}"
  expect "$(role_of $who): two definitions, comma-separated: total 5" 200 '.total == 5'
  call GET "/AidboxTask?_count=0&.status=ready&definition-not=$DEF6A" "${auth[@]}"
  expect "$(role_of $who): definition-not=$DEF6A: total $not_a (every other ready task)" 200 ".total == $not_a"
  call GET "/AidboxTask?_count=0&.status=ready&definition=$DEF6A,$DEF6B&definition-not=$DEF6A" "${auth[@]}"
  expect "$(role_of $who): definition=A,B&definition-not=A: total 2 (B's)" 200 '.total == 2'
  call GET "/AidboxTask?_count=0&.status=ready&definition=$DEF6A&definition-not=$DEF6A" "${auth[@]}"
  expect "$(role_of $who): definition and definition-not of the same: total 0" 200 '.total == 0'
  call GET "/AidboxTask?_count=0&.status=waiting&definition=$DEF6A" "${auth[@]}"
  expect "$(role_of $who): .status=waiting: total 1" 200 '.total == 1'
  unset -n auth
done
call GET "/AidboxTask?_count=2&.status=ready&definition=$DEF6A" "${USR[@]}"
expect "user: _count=2 returns 2 entries of AidboxTask" 200 '.total == 3' '.entry | length == 2' \
  "all(.entry[]; .resource.resourceType == \"AidboxTask\" and .resource.definition == \"$DEF6A\")"
call GET "/AidboxTask?_count=1&.status=ready&definition=$DEF6A" "${EXEC[@]}"
note "executor GET /AidboxTask?_count=1 (entries, not only the total): HTTP $ST $(jq -c '.error // {total}' <<<"$B" 2>/dev/null) (awf_executor may count, not list)"
call GET "/AidboxTask?_count=abc" "${USR[@]}"
expect_error "_count=abc: 400 awf.http/bad-query" 400 awf.http/bad-query
call GET "/AidboxTask?_count=0&.status=ready&definition=$DEF6A"
expect_error "GET /AidboxTask without credentials: 401" 401 awf.auth/unauthorized
call GET "/AidboxTask?_count=0&.status=ready&definition=$DEF6A" "${ADMIN_B[@]}"
expect "admin with Bearer: total 3" 200 '.total == 3'

# ==============================================================================================
section "case 7: long-poll woken by a task created in SQL; long-poll timing out"
DEF7=e2e.longpoll/woken
lp_body="{\"method\": \"awf.task/long-poll\", \"params\": {\"taskDefinitions\": [\"$DEF7\"], \"timeout\": 20000}}"
bg_rpc lp7 EXEC "$lp_body"
check "the long-poll is waiting in the bridge (metrics: awf_bridge_long_polls_waiting 1)" \
  wait_until 20 long_polls_waiting_is 1
check "... and has not returned" eval '! bg_done lp7'
insert_start=$(now_ms)
ID7=$(q "SELECT awf.task_create('$DEF7', '{\"via\": \"sql\"}') -> 'resource' ->> 'id'")
insert_end=$(now_ms)
check "the long-poll returns after the insert" wait_until 25 bg_done lp7
if bg_done lp7; then
  bg_result lp7
  ST=$BG_ST
  note "long-poll woken by SQL: returned $((BG_END - insert_end)) ms after psql's commit returned ($((BG_END - insert_start)) ms after it started; the long-poll ran $((BG_END - BG_START)) ms in all, timeout 20000)"
  expect "the woken long-poll returns the task created in SQL, requested, with an execId" 200 \
    '.result.resources | length == 1' ".result.resources[0].id == \"$ID7\"" \
    '.result.resources[0].status == "requested"' '.result.resources[0].execId | type == "string"' \
    '.result.resources[0].params.via == "sql"'
  check "it returned within 5000 ms of the insert (well before its 20000 ms timeout)" \
    eval '[ $((BG_END - insert_start)) -lt 5000 ] || { diag "took $((BG_END - insert_start)) ms"; false; }'
fi

DEF7E=e2e.longpoll/empty
lp_start=$(now_ms)
rpc EXEC "{\"method\": \"awf.task/long-poll\", \"params\": {\"taskDefinitions\": [\"$DEF7E\"], \"timeout\": 1000}}"
lp_ms=$(($(now_ms) - lp_start))
note "long-poll with timeout 1000 and no task returned after $lp_ms ms"
expect "a long-poll with no task answers {result: {resources: []}}" 200 '.result == {"resources": []}'
check "... after about its timeout (900..5000 ms)" \
  eval '[ "$lp_ms" -ge 900 ] && [ "$lp_ms" -le 5000 ] || { diag "took $lp_ms ms"; false; }'
rpc EXEC "{\"method\": \"awf.task/long-poll\", \"params\": {\"taskDefinitions\": [\"$DEF7E\"], \"timeout\": 0}}"
expect "a long-poll with timeout 0 answers [] at once" 200 '.result.resources == []'
# A task that is ready already is returned at once.
q "SELECT awf.task_create('$DEF7E')" >/dev/null
lp_start=$(now_ms)
rpc EXEC "{\"method\": \"awf.task/long-poll\", \"params\": {\"taskDefinitions\": [\"$DEF7E\"], \"timeout\": 20000}}"
lp_ms=$(($(now_ms) - lp_start))
expect "a long-poll with a ready task returns it at once ($lp_ms ms)" 200 '.result.resources | length == 1'
check "... in under 5000 ms" eval '[ "$lp_ms" -lt 5000 ] || { diag "took $lp_ms ms"; false; }'
# Woken by the background worker's sweep: a task created waiting (executeAt in 1.5 s) becomes ready.
DEF7W=e2e.longpoll/later
bg_rpc lp7w EXEC "{\"method\": \"awf.task/long-poll\", \"params\": {\"taskDefinitions\": [\"$DEF7W\"], \"timeout\": 20000}}"
check "a long-poll waits for $DEF7W" wait_until 20 long_polls_waiting_is 1
insert_start=$(now_ms)
ID7W=$(q "SELECT awf.task_create('$DEF7W', execute_at => clock_timestamp() + interval '1500 ms') -> 'resource' ->> 'id'")
check "it returns once the task's executeAt is reached" wait_until 25 bg_done lp7w
if bg_done lp7w; then
  bg_result lp7w
  ST=$BG_ST
  note "long-poll woken by the sweep: returned $((BG_END - insert_start)) ms after the create (executeAt = create + 1500 ms)"
  expect "... with that task" 200 ".result.resources[0].id == \"$ID7W\""
  check "... not before executeAt, and within 8000 ms of the create" \
    eval '[ $((BG_END - insert_start)) -ge 1400 ] && [ $((BG_END - insert_start)) -lt 8000 ] || { diag "took $((BG_END - insert_start)) ms"; false; }'
fi

# Exactly once: 10 long-polls on one definition, then 10 tasks created in one statement.
DEF7M=e2e.longpoll/many
for i in $(seq 1 10); do
  bg_rpc "lp7m_$i" EXEC "{\"method\": \"awf.task/long-poll\", \"params\": {\"taskDefinitions\": [\"$DEF7M\"], \"timeout\": 20000}}"
done
check "10 long-polls wait in the bridge" wait_until 30 long_polls_waiting_is 10
all_lp7m_done() { local i; for i in $(seq 1 10); do bg_done "lp7m_$i" || return 1; done; }
insert_start=$(now_ms)
q "SELECT awf.task_create('$DEF7M') FROM generate_series(1, 10)" >/dev/null
check "all 10 return after 10 tasks are created in one statement" wait_until 25 all_lp7m_done
slowest=0
codes=
: >"$TMP/lp7m.ids"
for i in $(seq 1 10); do
  bg_done "lp7m_$i" || continue
  bg_result "lp7m_$i"
  codes+="$BG_ST "
  [ $((BG_END - insert_start)) -gt $slowest ] && slowest=$((BG_END - insert_start))
  jq -r '.result.resources[]?.id' <<<"$B" >>"$TMP/lp7m.ids"
done
note "10 long-polls, 10 tasks: the slowest returned $slowest ms after the insert started"
check "each answered 200 with exactly one task, 10 distinct tasks (none twice, none missed)" \
  eval 'equal codes "200 200 200 200 200 200 200 200 200 200 " "$codes" &&
        equal "ids returned" 10 "$(wc -l <"$TMP/lp7m.ids")" && equal "distinct ids" 10 "$(sort -u "$TMP/lp7m.ids" | wc -l)"'
check "... all within 8000 ms of the insert (woken, not found by the 10 s recheck)" eval '[ "$slowest" -lt 8000 ] || { diag "slowest: $slowest ms"; false; }'
check "no long-poll is left waiting" wait_until 10 long_polls_waiting_is 0

# ==============================================================================================
section "case 11: single calls grouped while the database is busy (a second bridge, --lanes 1)"
# With one lane, calls that arrive while it waits on a row lock queue up; once the lock is released
# the lane runs them as groups, one per role. A group with a failing call is rolled back and its
# calls run one by one: each call gets its own outcome, as if it had run alone. The lane sends the
# next group while one runs (pipeline mode): a failing group must not take the next one with it.
DEF11=e2e.group/task
# started_tasks N: N tasks of DEF11 created, polled and started in SQL; prints "ID EXEC_ID" lines.
started_tasks() {
  q "SELECT awf.task_create('$DEF11') FROM generate_series(1, $1)" >/dev/null
  q "SELECT r ->> 'id', r ->> 'execId' FROM jsonb_array_elements(awf.task_poll(ARRAY['$DEF11'], max_batch_size => $1) -> 'resources') r" |
    while IFS='|' read -r id ex; do
      q "SELECT awf.task_start('$id', '$ex')" >/dev/null && echo "$id $ex"
    done
}
success_body() { echo "{\"method\": \"awf.task/success\", \"params\": {\"id\": \"$1\", \"execId\": \"$2\", \"result\": {\"n\": $3}}}"; }
# expect_successes ROUND OFFSET I...: the successes gROUND_I answered done, each with result n = OFFSET + I.
expect_successes() {
  local round=$1 offset=$2 i
  shift 2
  for i in "$@"; do
    bg_result "g${round}_$i"; ST=$BG_ST
    expect "round $round: success $i: done, its own result" 200 '.result.resource.status == "done"' ".result.resource.result.n == $((offset + i))"
  done
}
# expect_user_creates ROUND I...: the user's creates gROUND_I answered ready, each with params n = I.
expect_user_creates() {
  local round=$1 i
  shift
  for i in "$@"; do
    bg_result "g${round}_$i"; ST=$BG_ST
    expect "round $round: the user's create $i: ready, its own params" 200 '.result.resource.status == "ready"' ".result.resource.params.n == $i"
  done
}
BRIDGE2_PID=
BASE1=$BASE
REQS1=$REQS  # case 10 counts the first bridge's request log lines; this case talks to the second
for attempt in 1 2 3 4 5; do
  port2=$((20000 + RANDOM % 40000))
  port_free "$port2" || continue
  "$BIN" --listen "127.0.0.1:$port2" --db "$CONNINFO" --lanes 1 --quiet 2>>"$TMP/bridge2.log" &
  BRIDGE2_PID=$!
  BASE=http://127.0.0.1:$port2
  wait_until 30 health_answers && break
  kill -KILL "$BRIDGE2_PID" 2>/dev/null
  wait "$BRIDGE2_PID" 2>/dev/null
  BRIDGE2_PID=
done
check "a second bridge with --lanes 1 answers /health" test -n "$BRIDGE2_PID"
# Verified credentials, so that no credential check (database work of its own) waits on the lane.
rpc EXEC '{"method": "awf.task/poll", "params": {"taskDefinitions": ["e2e.group/none"]}}'
rpc USR '{"method": "awf.task/status", "params": {"id": "00000000-0000-0000-0000-000000000000"}}'
mkfifo "$TMP/hold.fifo"
psql -X -A -t -q <"$TMP/hold.fifo" >"$TMP/hold.out" 2>&1 &
BG_PIDS+=($!)
exec 8>"$TMP/hold.fifo"
# hold_lane NAME: a success of a fresh task whose row lock another session holds: it waits on the
# lane until release_lane.
hold_lane() {
  local id ex
  read -r id ex < <(started_tasks 1)
  HELD_ID=$id
  echo "BEGIN; SELECT 'held $id' FROM awf.task WHERE id = '$id' FOR UPDATE;" >&8
  wait_until 20 grep -q "held $id" "$TMP/hold.out"
  bg_rpc "$1" EXEC "$(success_body "$id" "$ex" 0)"
  wait_until 20 eval "[ \"\$(q \"SELECT count(*) FROM pg_stat_activity WHERE usename = 'awf_bridge' AND wait_event_type = 'Lock'\")\" = 1 ]"
}
release_lane() { echo "COMMIT;" >&8; }
calls_waiting_is() { call GET /metrics; [ "$(metric awf_bridge_rpc_calls_waiting)" = "$1" ]; }
groups_are() {  # groups_are COMMITTED RERUN GROUPED_CALLS
  call GET /metrics
  [ "$(metric 'awf_bridge_rpc_groups_total{outcome="committed"}')" = "$1" ] &&
    [ "$(metric 'awf_bridge_rpc_groups_total{outcome="rerun"}')" = "$2" ] &&
    [ "$(metric awf_bridge_rpc_grouped_calls_total)" = "$3" ] || { diag "metrics: $(grep rpc_group <<<"$B")"; false; }
}

# Round 1: five good successes, one with a wrong execId, one create the executor may not make.
mapfile -t R1 < <(started_tasks 6)
check "round 1: 6 started tasks" test ${#R1[@]} -eq 6
hold_lane hold1
check "round 1: the lane waits on the held row" test -n "$HELD_ID"
HELD1=$HELD_ID
for i in 0 1 2 3 4; do bg_rpc "g1_$i" EXEC "$(success_body ${R1[$i]} $i)"; done
read -r BAD_ID _ <<<"${R1[5]}"
bg_rpc g1_bad EXEC "$(success_body "$BAD_ID" "$(uuid)" 5)"
bg_rpc g1_forbidden EXEC '{"method": "awf.task/create", "params": {"definition": "e2e.group/forbidden"}}'
check "round 1: 7 calls wait for the lane" wait_until 20 calls_waiting_is 7
release_lane
g1_all_done() { local i; for i in 0 1 2 3 4 bad forbidden; do bg_done "g1_$i" || return 1; done; bg_done hold1; }
check "round 1: every call is answered once the lock is released" wait_until 20 g1_all_done
bg_result hold1; ST=$BG_ST
expect "round 1: the held call succeeded" 200 '.result.resource.status == "done"'
expect_successes 1 0 0 1 2 3 4
bg_result g1_bad; ST=$BG_ST
expect_error "round 1: the wrong execId gets its own 422" 422 awf.task/wrong-exec-id
bg_result g1_forbidden; ST=$BG_ST
expect "round 1: the executor's create gets its own 403" 403
check "round 1: the group was rolled back and its calls ran alone (metrics)" groups_are 0 1 0
check "round 1: 6 tasks done (5 and the held one), the refused one still in-progress" \
  equal "statuses" "done 6 in-progress 1" \
  "$(q "SELECT string_agg(status || ' ' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) n FROM awf.task WHERE definition = '$DEF11' GROUP BY status) s")"
check "round 1: no task of the refused create" equal "tasks" 0 "$(q "SELECT count(*) FROM awf.task WHERE definition = 'e2e.group/forbidden'")"

# Round 2: four successes as the executor, two creates as a user: one group per role, committed.
mapfile -t R2 < <(started_tasks 4)
hold_lane hold2
for i in 0 1 2 3; do bg_rpc "g2_$i" EXEC "$(success_body ${R2[$i]} $((10 + i)))"; done
for i in 4 5; do bg_rpc "g2_$i" USR "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"e2e.group/created\", \"params\": {\"n\": $i}}}"; done
check "round 2: 6 calls wait for the lane" wait_until 20 calls_waiting_is 6
release_lane
g2_all_done() { local i; for i in 0 1 2 3 4 5; do bg_done "g2_$i" || return 1; done; bg_done hold2; }
check "round 2: every call is answered" wait_until 20 g2_all_done
expect_successes 2 10 0 1 2 3
expect_user_creates 2 4 5
check "round 2: two groups committed (one per role), 6 calls in them (metrics)" groups_are 2 1 6
check "round 2: the user's tasks exist" equal "tasks" 2 "$(q "SELECT count(*) FROM awf.task WHERE definition = 'e2e.group/created'")"

# Round 3: a failing executor group and a user group, sent one right behind the other in lane 1's
# pipeline. The first rolls back alone (its calls run again one by one); the second commits.
mapfile -t R3 < <(started_tasks 3)
hold_lane hold3
for i in 0 1; do bg_rpc "g3_$i" EXEC "$(success_body ${R3[$i]} $((20 + i)))"; done
read -r BAD3_ID _ <<<"${R3[2]}"
bg_rpc g3_bad EXEC "$(success_body "$BAD3_ID" "$(uuid)" 22)"
for i in 3 4; do bg_rpc "g3_$i" USR "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"e2e.group/created\", \"params\": {\"n\": $i}}}"; done
check "round 3: 5 calls wait for the lane" wait_until 20 calls_waiting_is 5
release_lane
g3_all_done() { local i; for i in 0 1 bad 3 4; do bg_done "g3_$i" || return 1; done; bg_done hold3; }
check "round 3: every call is answered" wait_until 20 g3_all_done
expect_successes 3 20 0 1
bg_result g3_bad; ST=$BG_ST
expect_error "round 3: the wrong execId gets its own 422" 422 awf.task/wrong-exec-id
expect_user_creates 3 3 4
check "round 3: the user's group committed, the executor's rerun (metrics)" groups_are 3 2 8
check "round 3: each create made one task" equal "tasks" 4 "$(q "SELECT count(*) FROM awf.task WHERE definition = 'e2e.group/created'")"
exec 8>&-
kill -TERM "$BRIDGE2_PID" 2>/dev/null
check "the second bridge stops on SIGTERM" wait_until 20 process_gone "$BRIDGE2_PID"
wait "$BRIDGE2_PID" 2>/dev/null
BRIDGE2_PID=
BASE=$BASE1
REQS=$REQS1

section "case 8: PostgreSQL restarted under the bridge"
DEF8=e2e.restart/task
rpc ADMIN "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"$DEF8\"}}"
ID8=$(jq -r '.result.resource.id' <<<"$B")
status8() { rpc USR "{\"method\": \"awf.task/status\", \"params\": {\"id\": \"$ID8\"}}"; }
status8
expect "before the restart: status 200" 200 '.result.resource.status == "ready"'
# Three long-polls woken by three tasks of one definition, before the restart (and again after it).
DEF8M=e2e.restart/three
three_long_polls() {  # three_long_polls PREFIX: 3 long-polls on DEF8M, then 3 tasks in one statement
  local i
  for i in 1 2 3; do
    bg_rpc "$1_$i" EXEC "{\"method\": \"awf.task/long-poll\", \"params\": {\"taskDefinitions\": [\"$DEF8M\"], \"timeout\": 20000}}"
  done
  wait_until 20 long_polls_waiting_is 3 || return 1
  THREE_START=$(now_ms)
  q "SELECT awf.task_create('$DEF8M') FROM generate_series(1, 3)" >/dev/null
}
three_done() { bg_done "$1_1" && bg_done "$1_2" && bg_done "$1_3"; }
three_result() {  # three_result PREFIX: sets THREE_SLOWEST (ms after the insert); ok when all got a task
  local i ok=0
  THREE_SLOWEST=0
  THREE_TIMES=
  for i in 1 2 3; do
    bg_done "$1_$i" || { ok=1; continue; }
    bg_result "$1_$i"
    THREE_TIMES+="$((BG_END - THREE_START)) "
    [ $((BG_END - THREE_START)) -gt $THREE_SLOWEST ] && THREE_SLOWEST=$((BG_END - THREE_START))
    [ "$BG_ST" = 200 ] && [ "$(jq '.result.resources | length' <<<"$B")" = 1 ] || { ok=1; diag "long-poll $i: HTTP $BG_ST ${B:0:200}"; }
  done
  return $ok
}
check "before the restart: 3 long-polls wait on $DEF8M" three_long_polls lp8pre
check "... and return when 3 tasks are created in one statement" wait_until 25 three_done lp8pre
check "... each with one task, all within 5000 ms of the insert" \
  eval 'three_result lp8pre && { [ "$THREE_SLOWEST" -lt 5000 ] || { diag "slowest: $THREE_SLOWEST ms"; false; }; }'
note "before the restart, 3 long-polls for 3 tasks returned after (ms from the insert): $THREE_TIMES"
# Claimed but never started, they would be ready again after requestedToStartTimeout: finish them.
q "SELECT awf.task_cancel(id) FROM awf.task WHERE definition = '$DEF8M' AND status <> 'done'" >/dev/null
PG_STOPPED=1
if pg_ctlcluster "${PG_VERSION_CLUSTER[@]}" stop -m fast >"$TMP/pgctl.out" 2>&1; then
  record 1 "pg_ctlcluster ${PG_VERSION_CLUSTER[*]} stop -m fast"
else
  diag "$(cat "$TMP/pgctl.out")"
  record 0 "pg_ctlcluster ${PG_VERSION_CLUSTER[*]} stop -m fast"
fi
check "PostgreSQL is down (pg_isready fails)" wait_until 30 eval '! pg_isready -q -h 127.0.0.1 -p "$PGPORT"'
status8
expect_error "a request while the database is down: 503 awf.db/unavailable" 503 awf.db/unavailable
status8
expect_error "a second request while down: 503 awf.db/unavailable" 503 awf.db/unavailable
yrpc USR "method: awf.task/status
params: {id: $ID8}" application/json
expect_error "a YAML request while down: 503 awf.db/unavailable" 503 awf.db/unavailable
rpc EXEC "[$poll_body, $poll_body]"
expect "a batch while down: 503, each item awf.db/unavailable" 503 'length == 2' 'all(.[]; .error.type == "awf.db/unavailable")'
call GET /health
expect "/health while down: 503, database unavailable" 503 '.database == "unavailable"' '.status != "ok"'
call GET /metrics
check "/metrics while down: 200, awf_bridge_database_up 0" \
  eval '[ "$ST" = 200 ] && equal awf_bridge_database_up 0 "$(metric awf_bridge_database_up)"'
if pg_ctlcluster "${PG_VERSION_CLUSTER[@]}" start >"$TMP/pgctl.out" 2>&1; then
  PG_STOPPED=0
  record 1 "pg_ctlcluster ${PG_VERSION_CLUSTER[*]} start"
else
  diag "$(cat "$TMP/pgctl.out")"
  record 0 "pg_ctlcluster ${PG_VERSION_CLUSTER[*]} start"
fi
check "PostgreSQL is up again (pg_isready)" wait_until 60 pg_isready -q -h 127.0.0.1 -p "$PGPORT"
# Within 30 s the bridge serves again by itself: poll until 20 requests in a row succeed.
recover_start=$(now_ms)
streak=0
errors_after_first_ok=0
errors_before_first_ok=0
first_ok_ms=
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ] && [ $streak -lt 20 ]; do
  status8
  if [ "$ST" = 200 ]; then
    streak=$((streak + 1))
    [ -n "$first_ok_ms" ] || first_ok_ms=$(($(now_ms) - recover_start))
  else
    if [ -n "$first_ok_ms" ]; then
      errors_after_first_ok=$((errors_after_first_ok + 1))
      note "after the first success: HTTP $ST $(jq -c .error <<<"$B" 2>/dev/null)"
    elif [ "$errors_before_first_ok" -lt 5 ]; then
      note "before the first success: HTTP $ST $(jq -c .error <<<"$B" 2>/dev/null)"
    fi
    errors_before_first_ok=$((errors_before_first_ok + 1))
    streak=0
    sleep 0.1
  fi
done
note "after the restart: first 200 after ${first_ok_ms:-never} ms; $((errors_before_first_ok - errors_after_first_ok)) failed request(s) before it, $errors_after_first_ok after it"
check "within 30 s of the restart, 20 requests in a row succeed (bridge not restarted)" test "$streak" -ge 20
check "no request fails once PostgreSQL accepts connections again" \
  eval '[ "$errors_before_first_ok" = 0 ] || { diag "$errors_before_first_ok request(s) failed after pg_isready succeeded"; false; }'
TODO=
check "the bridge process is the same one" eval 'kill -0 "$BRIDGE_PID"'
call GET /health
expect "/health after the restart: 200 ok" 200 '.status == "ok"' '.database == "ok"'
rpc ADMIN "{\"method\": \"awf.task/create\", \"params\": {\"definition\": \"$DEF8\"}}"
expect "a write after the restart succeeds (create)" 200 '.result.resource.status == "ready"'
# Shared memory was reset by the restart: long-poll wakeups must still work.
DEF8L=e2e.restart/longpoll
bg_rpc lp8 EXEC "{\"method\": \"awf.task/long-poll\", \"params\": {\"taskDefinitions\": [\"$DEF8L\"], \"timeout\": 20000}}"
check "after the restart a long-poll waits in the bridge" wait_until 20 long_polls_waiting_is 1
insert_start=$(now_ms)
ID8L=$(q "SELECT awf.task_create('$DEF8L') -> 'resource' ->> 'id'")
check "... and returns after a task is created in SQL" wait_until 25 bg_done lp8
if bg_done lp8; then
  bg_result lp8
  ST=$BG_ST
  note "after the restart, the long-poll returned $((BG_END - insert_start)) ms after the insert started"
  expect "... with that task" 200 ".result.resources[0].id == \"$ID8L\""
  check "... within 5000 ms of the insert (woken, not found by the 10 s recheck)" \
    eval '[ $((BG_END - insert_start)) -lt 5000 ] || { diag "took $((BG_END - insert_start)) ms"; false; }'
  TODO=
fi

# The same 3 long-polls for 3 tasks as before the restart: the slot's counters restarted from 0.
check "after the restart: 3 long-polls wait on $DEF8M" three_long_polls lp8post
check "... and return when 3 tasks are created in one statement" wait_until 25 three_done lp8post
check "... each with one task" three_result lp8post
note "after the restart, 3 long-polls for 3 tasks returned after (ms from the insert): $THREE_TIMES"
check "... all within 5000 ms of the insert" eval '[ "$THREE_SLOWEST" -lt 5000 ] || { diag "slowest: $THREE_SLOWEST ms"; false; }'
TODO=

# The bridge's idle connections ended by the server (as pg_terminate_backend or a pooler does):
# the next calls find out before they are sent and reconnect, instead of failing with 503.
status8
KILLED=$(q "WITH s AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE usename = 'awf_bridge' AND state = 'idle')
            SELECT string_agg(pid::text, ',') FROM s WHERE pg_terminate_backend(pid)")
check "idle connections of the bridge terminated by the server" test -n "$KILLED"
check "... and gone" wait_until 10 eval "[ \"\$(q \"SELECT count(*) FROM pg_stat_activity WHERE pid IN ($KILLED)\")\" = 0 ]"
status8
expect "the next call after the server ended the bridge's idle connections: 200" 200 '.result.resource.status == "ready"'
status8
expect "... and the one after it: 200" 200 '.result.resource.status == "ready"'

# ==============================================================================================
section "case 10: /health, /metrics (the request log is checked after the bridge stopped)"
call GET /health
expect "/health: 200 {status: ok, database: ok}, wakeups from shared memory" 200 \
  '.status == "ok"' '.database == "ok"' '.longPollWakeups == "shared-memory"'
check "/health is JSON" header_is Content-Type '^application/json'
call GET /metrics
metrics_ok=1
for name in awf_bridge_requests_total awf_bridge_request_duration_seconds_bucket awf_bridge_request_duration_seconds_count \
  awf_bridge_long_polls_waiting awf_bridge_pool_connections awf_bridge_pool_queued awf_bridge_http_connections \
  awf_bridge_database_up awf_tasks; do
  grep -qE "^$name(\{| )" <<<"$B" || { metrics_ok=0; diag "no sample of $name"; }
done
record $metrics_ok "/metrics has every expected metric name"
check "/metrics is Prometheus text" header_is Content-Type '^text/plain'
check "/metrics: awf_bridge_database_up 1, pool size 8" \
  eval 'equal database_up 1 "$(metric awf_bridge_database_up)" && equal pool_size 8 "$(metric "awf_bridge_pool_connections{state=\"size\"}")"'
check "/metrics: awf_tasks counts the 5 succeeded batch tasks" \
  equal "awf_tasks{definition=\"$DEF3\",status=\"done\"}" 5 "$(metric "awf_tasks{definition=\"$DEF3\",status=\"done\"}")"
check "/metrics: awf_bridge_requests_total counts create 200s, 413 and 405" \
  eval 'grep -qE "^awf_bridge_requests_total\{method=\"awf.task/create\",status=\"200\"\} [1-9]" <<<"$B" &&
        grep -qE "^awf_bridge_requests_total\{method=\"[^\"]*\",status=\"413\"\} 1$" <<<"$B" &&
        grep -qE "^awf_bridge_requests_total\{method=\"/rpc\",status=\"405\"\} 1$" <<<"$B" || { diag "$(grep ^awf_bridge_requests_total <<<"$B")"; false; }'
call GET "/no-such-path-$RANDOM$RANDOM"
call GET /metrics
check "an unknown path does not become a metrics series of its own" \
  eval '! grep -qE "^awf_bridge_requests_total\{method=\"/no-such-path-" <<<"$B" || { diag "$(grep -E "no-such-path|/nope" <<<"$B")"; false; }'
TODO=
call GET '/health?verbose=1'
expect "/health with a query string: 200" 200 '.status == "ok"'
# Keep-alive: two requests on one connection.
ka=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code} %{num_connects}\n' "$BASE/health" -o /dev/null "$BASE/health")
REQS=$((REQS + 2))
check "keep-alive: two requests on one connection both 200" eval '[ "$(tr "\n" " " <<<"$ka")" = "200 1 200 0 " ] || { diag "curl: $ka"; false; }'

# ==============================================================================================
section "case 9: SIGTERM during long-polls and an in-flight request"
DEF9=e2e.sigterm/none
for i in 1 2 3; do
  bg_rpc "lp9_$i" EXEC "{\"method\": \"awf.task/long-poll\", \"params\": {\"taskDefinitions\": [\"$DEF9\"], \"timeout\": 30000}}"
done
check "3 long-polls wait in the bridge (awf_bridge_long_polls_waiting 3)" wait_until 30 long_polls_waiting_is 3
# An in-flight request: a start that waits on a row lock held by another session.
DEF9F=e2e.sigterm/inflight
ID9=$(q "SELECT awf.task_create('$DEF9F') -> 'resource' ->> 'id'")
EXEC9=$(q "SELECT r ->> 'execId' FROM jsonb_array_elements(awf.task_poll(ARRAY['$DEF9F']) -> 'resources') r")
mkfifo "$TMP/lock.fifo"
psql -X -A -t -q <"$TMP/lock.fifo" >"$TMP/lock.out" 2>&1 &
BG_PIDS+=($!)
exec 7>"$TMP/lock.fifo"
echo "BEGIN; SELECT 'locked' FROM awf.task WHERE id = '$ID9' FOR UPDATE;" >&7
check "another session holds the task's row lock" wait_until 20 grep -q locked "$TMP/lock.out"
bg_rpc inflight EXEC "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID9\", \"execId\": \"$EXEC9\"}}"
check "the start request waits on that lock (in flight)" wait_until 20 eval \
  "[ \"\$(q \"SELECT count(*) FROM pg_stat_activity WHERE usename = 'awf_bridge' AND wait_event_type = 'Lock'\")\" = 1 ]"
sig_ms=$(now_ms)
kill -TERM "$BRIDGE_PID"
check "all 3 long-polls return after SIGTERM" wait_until 15 eval 'bg_done lp9_1 && bg_done lp9_2 && bg_done lp9_3'
for i in 1 2 3; do
  if bg_done "lp9_$i"; then
    bg_result "lp9_$i"
    ST=$BG_ST
    expect "long-poll $i: HTTP 200 {result: {resources: []}}, $((BG_END - sig_ms)) ms after SIGTERM" 200 '.result.resources == []'
    check "long-poll $i returned promptly (< 5000 ms after SIGTERM)" eval '[ $((BG_END - sig_ms)) -lt 5000 ] || { diag "took $((BG_END - sig_ms)) ms"; false; }'
  fi
done
check "the in-flight request has not been cut off while it waits" eval '! bg_done inflight && kill -0 "$BRIDGE_PID"'
call GET /health
check "new connections are refused after SIGTERM" eval '[ "$ST" = 000 ] || { diag "GET /health: HTTP $ST"; false; }'
echo "COMMIT;" >&7
exec 7>&-
check "the in-flight request is answered once the lock is released" wait_until 15 bg_done inflight
if bg_done inflight; then
  bg_result inflight
  ST=$BG_ST
  expect "... with 200 and the task in-progress" 200 '.result.resource.status == "in-progress"'
fi
check "the bridge exits within 8 s after the in-flight request" wait_until 8 process_gone "$BRIDGE_PID"
if process_gone "$BRIDGE_PID"; then
  wait "$BRIDGE_PID"
  rc=$?
  note "bridge exited with status $rc, $(($(now_ms) - sig_ms)) ms after SIGTERM"
  check "the bridge exits with status 0" equal "exit status" 0 "$rc"
  BRIDGE_PID=
fi

# ==============================================================================================
section "case 10 (continued): one JSON log line per request"
check "every line of the bridge's log is JSON" eval 'jq -e . "$LOG" >/dev/null 2>&1 || { diag "$(grep -v "^{" "$LOG" | head -3)"; false; }'
log_requests=$(jq -c 'select(has("http_method"))' "$LOG" 2>/dev/null | wc -l)
check "one request line per request answered ($REQS)" equal "request lines" "$REQS" "$log_requests"
check "request lines have ts, status, path, http_method, ms" \
  eval 'jq -se "map(select(has(\"http_method\"))) | length > 0 and all(.[]; (.ts|type)==\"string\" and (.status|type)==\"number\" and (.path|type)==\"string\" and (.ms|type)==\"number\")" "$LOG" >/dev/null'
check "a 405 line for GET /rpc, a 404 line for GET /nope, a 401 line for POST /rpc" \
  eval 'jq -se "any(.[]; .status==405 and .http_method==\"GET\" and .path==\"/rpc\") and any(.[]; .status==404 and .path==\"/nope\") and any(.[]; .status==401 and .http_method==\"POST\" and .path==\"/rpc\")" "$LOG" >/dev/null'
check "there is one 413 line" eval '[ "$(jq -c "select(.status == 413)" "$LOG" | wc -l)" = 1 ]'
check "the 413 line names POST /rpc" \
  eval 'jq -se "any(.[]; .status==413 and .http_method==\"POST\" and .path==\"/rpc\")" "$LOG" >/dev/null || { diag "$(jq -c "select(.status == 413)" "$LOG")"; false; }'
TODO=
check "RPC lines name the method and the client" \
  eval 'jq -se "any(.[]; .rpc==\"awf.task/success\" and .client==\"$EXEC_ID\" and .status==200) and any(.[]; .rpc==\"batch\")" "$LOG" >/dev/null'
check "the log tells the shutdown and the stop" \
  eval 'grep -q "shutting down" "$LOG" && grep -q "awf-bridge stopped" "$LOG"'

finish
[ "$failed" -eq 0 ]
