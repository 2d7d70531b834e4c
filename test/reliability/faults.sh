#!/usr/bin/env bash
# Fault tests of pg_awf (issue 8, "Faults" 1-4 and 6): real processes killed under load, a real
# awf-bridge over HTTP, a real PostgreSQL with awf preloaded. Run from anywhere, inside
#
#   AWF_BUILD_DIR=build pg_virtualenv -t -v 15 -o shared_preload_libraries=awf \
#     -o awf.database=postgres -o awf.tick_interval=50 bash test/reliability/faults.sh [--long]
#
# Needs ${AWF_BUILD_DIR:-build}/awf-bridge and awf_test_executor (test/reliability/executor.cpp).
# Prints "ok - ..." / "not ok - ..." lines, "figure <case>: ..." lines (the numbers for
# RELIABILITY.md) and, last, "faults: N passed, N failed"; exits 0 iff nothing failed. The short
# run (default, about a minute here) runs 10,000 tasks through 16 executors killed one at a time,
# kills the bridge 3 times and PostgreSQL twice; --long runs 30,000 tasks in case 1, 10 bridge
# kills and 4 PostgreSQL kills with longer loads between them (the load of cases 4 and 3: two SQL
# connections enqueuing 150 tasks/s in all, 8 executors over HTTP). Every wait polls a condition with a deadline;
# the only sleeps pace the fault injection (how often something is killed), never decide a result.
#
# What each case proves:
#  6 transactional enqueue: a task created in a transaction that rolls back never existed (no row,
#    no log, status refuses its id); one created in an open transaction is not claimable over
#    HTTP until that transaction commits, and is claimable right after.
#  2 a stale executor is fenced over HTTP: A claims and starts, its in-progress timeout passes, B
#    gets the task; A's heartbeat, progress, success and fail are each refused 422
#    awf.task/wrong-exec-id and change nothing (status, version, execId, timers, result, log);
#    B finishes and owns the result.
#  1 executors killed: N tasks, 16 executors over HTTP, a random executor SIGKILLed every 100-400
#    ms (plus the time to replace it) and replaced; with short requested-to-start / in-progress
#    timeouts (1.5 s / 2 s) and ample retries every task ends done/succeeded exactly once: lost
#    (missing or failed) = 0, completed_twice (two 'done' transitions in awf.task_log, two 200
#    successes recorded by executors, or a recorded 200 that is not the task's final execution)
#    = 0, stuck (not done after the timeouts) = 0.
#  4 the bridge SIGKILLed under load (SQL clients enqueuing, executors over HTTP) and restarted on
#    the same port: executors retry; every task whose creating COMMIT returned exists, none other
#    does, none is done twice, none stuck once the load drains.
#  3 PostgreSQL killed under the same load (SIGKILL of the postmaster and `pg_ctlcluster stop -m
#    immediate`, alternately), then started again: every server process exits, the bridge
#    answers 503 awf.db/unavailable meanwhile and recovers by itself (same pid), the background
#    worker comes back (in pg_stat_activity, and a claimed task past its requested-to-start
#    timeout is re-queued), and the same counts as in 4 are 0.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

LONG=0
for arg in "$@"; do
  case $arg in
    --long) LONG=1 ;;
    *) echo "usage: $0 [--long]" >&2; exit 2 ;;
  esac
done
BUILD=${AWF_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

TMP=$(mktemp -d /tmp/awf-faults.XXXXXX)
passed=0
failed=0
FINISHED=0
BRIDGE_PID=
PG_DOWN=0
PG_VERSION_CLUSTER=()
declare -A EXEC_PIDS=()   # slot -> pid of the executors of the running case
OTHER_PIDS=()             # creators
T0=$SECONDS

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
note() { echo "# $*"; }
figure() { echo "figure $*"; }
check() {  # check DESCRIPTION COMMAND...
  local d=$1
  shift
  if "$@"; then ok "$d"; else not_ok "$d"; fi
}
eq() {  # eq DESCRIPTION WANT GOT
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (want '$2', got '$3')"; fi
}

finish() {
  [ "$FINISHED" = 1 ] && return
  FINISHED=1
  figure "run: seconds=$((SECONDS - T0)) long=$LONG"
  if [ "$failed" -gt 0 ] || [ "${KEEP_TMP:-0}" = 1 ]; then
    note "files of this run (records, logs of the bridge, executors and creators) are kept in $TMP"
  fi
  echo "faults: $passed passed, $failed failed"
}

process_gone() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}
reap() { { wait "$1"; } 2>/dev/null; }  # quietly: a killed job would print "Killed"
kill_and_reap() {  # kill_and_reap SIGNAL PID...
  local sig=$1 p
  shift
  for p in "$@"; do kill "-$sig" "$p" 2>/dev/null; done
  for p in "$@"; do reap "$p"; done
}

cleanup() {
  local rc=$? p
  kill_and_reap KILL "${EXEC_PIDS[@]}" "${OTHER_PIDS[@]}"
  if [ -n "$BRIDGE_PID" ]; then
    kill -TERM "$BRIDGE_PID" 2>/dev/null
    local deadline=$((SECONDS + 15))
    while ! process_gone "$BRIDGE_PID" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill_and_reap KILL "$BRIDGE_PID"
  fi
  # pg_virtualenv stops and removes the cluster itself; it must be running for that.
  if [ "$PG_DOWN" = 1 ] && [ ${#PG_VERSION_CLUSTER[@]} -eq 2 ]; then
    pg_ctlcluster "${PG_VERSION_CLUSTER[@]}" start >/dev/null 2>&1
  fi
  if [ "$FINISHED" != 1 ]; then
    not_ok "the script stopped before its end (exit status $rc)"
    finish
  fi
  [ "$failed" -eq 0 ] && [ "${KEEP_TMP:-0}" != 1 ] && rm -rf "$TMP"
  [ "$failed" -eq 0 ] || exit 1
  exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fatal() {  # a failure after which the rest cannot run
  not_ok "$*"
  [ -f "$TMP/bridge.log" ] && tail -20 "$TMP/bridge.log" | sed 's/^/#   /'
  exit 1
}

q() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }
now_ms() { date +%s%3N; }
uuid() { cat /proc/sys/kernel/random/uuid; }
# wait_until SECONDS COMMAND...: polls every 100 ms until the command succeeds.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $deadline ]; do
    "$@" 2>/dev/null && return 0
    sleep 0.1
  done
  "$@" 2>/dev/null
}
sql_true() { [ "$(q "$1")" = t ]; }

# --- HTTP ---------------------------------------------------------------------------------------
# rpc CREDENTIAL JSON: POST /rpc; sets ST (HTTP status, 000 without an answer) and B (body).
rpc() {
  ST=$(curl -sS -o "$TMP/body" -w '%{http_code}' --max-time 30 -u "$1" -H 'Content-Type: application/json' \
    --data-binary "$2" "$BASE/rpc" 2>/dev/null)
  [ -n "$ST" ] || ST=000
  B=$(cat "$TMP/body" 2>/dev/null)
}
health_is() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/health")" = "$1" ]; }
jqb() { jq -r "$1" <<<"$B" 2>/dev/null; }

# --- setup --------------------------------------------------------------------------------------
for tool in curl jq psql pg_ctlcluster pg_lsclusters pg_isready; do
  command -v "$tool" >/dev/null || fatal "setup: $tool is not installed"
done
[ -n "${PGPORT:-}" ] || fatal "setup: run inside pg_virtualenv (PGPORT is not set)"
# Private copies: another build may replace the binaries while this runs.
for b in awf-bridge awf_test_executor; do
  cp "$BUILD/$b" "$TMP/$b" 2>/dev/null || fatal "setup: no $BUILD/$b (cmake --build $BUILD --target $b)"
done
BRIDGE_BIN=$TMP/awf-bridge
EXE=$TMP/awf_test_executor

read -r -a PG_VERSION_CLUSTER <<<"$(pg_lsclusters -h | awk -v p="$PGPORT" '$3 == p {print $1, $2; exit}')"
[ ${#PG_VERSION_CLUSTER[@]} -eq 2 ] || fatal "setup: no cluster on port $PGPORT in pg_lsclusters"
q "CREATE EXTENSION IF NOT EXISTS awf" >/dev/null || fatal "setup: CREATE EXTENSION awf failed"
[ "$(q "SHOW shared_preload_libraries")" = awf ] || fatal "setup: awf is not in shared_preload_libraries"
PGDATA_DIR=$(q "SHOW data_directory") || fatal "setup: cannot read data_directory"

BRIDGE_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
if [ "$(q "SELECT count(*) FROM pg_roles WHERE rolname = 'awf_bridge'")" = 1 ]; then
  q "ALTER ROLE awf_bridge LOGIN PASSWORD '$BRIDGE_PASSWORD'; GRANT awf_admin TO awf_bridge" >/dev/null
else
  q "CREATE ROLE awf_bridge LOGIN PASSWORD '$BRIDGE_PASSWORD' IN ROLE awf_admin" >/dev/null
fi || fatal "setup: cannot create the role awf_bridge"
CONNINFO="host=127.0.0.1 port=$PGPORT dbname=${PGDATABASE:-postgres} user=awf_bridge password=$BRIDGE_PASSWORD"
client_add() { "$BRIDGE_BIN" client add "$1" --role "$2" --db "$CONNINFO" | sed -n -E 's/^ *secret: *//p'; }
EXEC_A="faults-exec-a:$(client_add faults-exec-a awf_executor)"
EXEC_B="faults-exec-b:$(client_add faults-exec-b awf_executor)"
USR="faults-user:$(client_add faults-user awf_user)"
for c in "$EXEC_A" "$EXEC_B" "$USR"; do
  [ "${c#*:}" != "" ] || fatal "setup: awf-bridge client add printed no secret"
done

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# start_bridge [PORT]: on PORT (a restart) or a free one; waits for GET /health 200.
start_bridge() {
  local attempt port=${1:-}
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if [ -z "${1:-}" ]; then
      port=$((20000 + RANDOM % 40000))
      port_free "$port" || continue
    fi
    BASE=http://127.0.0.1:$port
    BRIDGE_PORT=$port
    "$BRIDGE_BIN" --listen "127.0.0.1:$port" --db "$CONNINFO" --quiet 2>>"$TMP/bridge.log" &
    BRIDGE_PID=$!
    local deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ] && ! process_gone "$BRIDGE_PID"; do
      health_is 200 && return 0
      sleep 0.05
    done
    kill_and_reap KILL "$BRIDGE_PID"
    BRIDGE_PID=
    sleep 0.2  # the port may be in use for a moment yet (a restart on the same port)
  done
  return 1
}
start_bridge || fatal "setup: the bridge did not answer GET /health with 200 (log: $TMP/bridge.log)"
note "bridge pid $BRIDGE_PID at $BASE; PostgreSQL ${PG_VERSION_CLUSTER[*]} on port $PGPORT; long=$LONG"

# Short timeouts, so that the work of a killed process comes back within seconds, and retries
# enough that no task runs out of them however often it is interrupted.
q "INSERT INTO awf.definition (name, requested_to_start_timeout, in_progress_timeout, allowed_retry_count, retry_delay)
   VALUES ('faults.kill', 1500, 2000, 1000, 0), ('faults.bridge', 1500, 2500, 1000, 0),
          ('faults.pg', 1500, 2500, 1000, 0), ('faults.stale', 60000, 1000, 1, 0)
   ON CONFLICT (name) DO UPDATE SET requested_to_start_timeout = excluded.requested_to_start_timeout,
     in_progress_timeout = excluded.in_progress_timeout, allowed_retry_count = excluded.allowed_retry_count,
     retry_delay = excluded.retry_delay" >/dev/null || fatal "setup: cannot insert the definitions"

# --- executors and creators ---------------------------------------------------------------------
# start_executor SLOT DEFINITION CASE: even slots long-poll one task at a time, odd ones poll for
# up to 3; all record their 200 successes in $TMP/CASE.records.
start_executor() {
  local slot=$1 def=$2 case=$3 mode=(--long-poll-ms 1000 --batch 1)
  [ $((slot % 2)) = 1 ] && mode=(--batch 3)
  local cred=$EXEC_A
  [ $((slot % 3)) = 0 ] && cred=$EXEC_B
  "$EXE" --bridge "$BASE" --auth "$cred" --definition "$def" --out "$TMP/$case.records" \
    --stop-file "$TMP/$case.stop" --work-ms 5 --name "$case-$slot" "${mode[@]}" >>"$TMP/$case.executors.log" 2>&1 &
  EXEC_PIDS[$slot]=$!
}
start_executors() {  # start_executors COUNT DEFINITION CASE
  local i
  rm -f "$TMP/$3.stop"
  for ((i = 0; i < $1; i++)); do start_executor "$i" "$2" "$3"; done
}
all_gone() { local p; for p in "$@"; do process_gone "$p" || return 1; done; }
stop_executors() {  # stop_executors CASE: the stop file, then a deadline, then SIGKILL
  touch "$TMP/$1.stop"
  wait_until 30 all_gone "${EXEC_PIDS[@]}" || note "executors still running 30 s after the stop file: killed"
  kill_and_reap KILL "${EXEC_PIDS[@]}"
  EXEC_PIDS=()
}
start_creators() {  # start_creators DEFINITION CASE RATE: 2 SQL connections enqueuing
  rm -f "$TMP/$2.create-stop"
  "$EXE" create --definition "$1" --out "$TMP/$2.created" --connections 2 --rate "$3" \
    --stop-file "$TMP/$2.create-stop" >>"$TMP/$2.creator.log" 2>&1 &
  CREATOR_PID=$!
  OTHER_PIDS+=("$CREATOR_PID")
}
stop_creators() {  # stop_creators CASE
  touch "$TMP/$1.create-stop"
  wait_until 30 process_gone "$CREATOR_PID" || note "creator still running 30 s after the stop file: killed"
  kill_and_reap KILL "$CREATOR_PID"
  OTHER_PIDS=()
}
# Sums of the executors' exit lines (killed executors print none).
executor_sums() {
  awk '/^executor /{for (i = 3; i <= NF; i++) {split($i, kv, "="); if (kv[2] ~ /^[0-9]+$/) s[kv[1]] += kv[2]}}
       END {printf "succeeded_200=%d ambiguous=%d refused=%d transport_errors=%d http_5xx=%d gave_up=%d",
            s["succeeded"], s["ambiguous"], s["refused"], s["transport_errors"], s["http_5xx"], s["gave_up"]}' \
    "$TMP/$1.executors.log" 2>/dev/null
}
done_count() { q "SELECT count(*) FROM awf.task WHERE definition = '$1' AND status = 'done'"; }
undone_is_zero() { [ "$(q "SELECT count(*) FROM awf.task WHERE definition = '$1' AND status <> 'done'")" = 0 ]; }
done_at_least() { [ "$(done_count "$1")" -ge "$2" ]; }

# verify CASE DEFINITION EXPECTED_TASKS: the counts of one case, from the database, its task log
# and the records of executors (and creators: C = COMMIT returned, D = COMMIT in doubt). Sets
# V_* and prints nothing. EXPECTED_TASKS empty: the tasks expected are the C records.
verify() {
  local case=$1 def=$2 expected=${3:-}
  touch "$TMP/$case.records" "$TMP/$case.created"
  local out
  out=$(psql -X -qAt -v ON_ERROR_STOP=1 -F ' ' -v def="$def" -v expected="${expected:-0}" <<EOF
CREATE TEMP TABLE rec (kind text, id uuid, exec_id uuid);
\copy rec FROM '$TMP/$case.records' WITH (FORMAT text, DELIMITER ' ')
CREATE TEMP TABLE created (kind text, id uuid);
\copy created FROM '$TMP/$case.created' WITH (FORMAT text, DELIMITER ' ')
CREATE TEMP TABLE t AS SELECT id, status, outcome, exec_id, retry_count FROM awf.task WHERE definition = :'def';
CREATE TEMP TABLE dones AS
  SELECT l.task_id AS id, count(*) AS n FROM awf.task_log l JOIN t ON t.id = l.task_id
   WHERE l.kind = 'status' AND l.status_to = 'done' GROUP BY 1;
SELECT
  -- lost: expected tasks missing, or finished other than succeeded
  CASE WHEN :expected > 0 THEN :expected - (SELECT count(*) FROM t)
       ELSE (SELECT count(*) FROM created c WHERE c.kind = 'C' AND NOT EXISTS (SELECT 1 FROM t WHERE t.id = c.id)) END
    + (SELECT count(*) FROM t WHERE status = 'done' AND outcome IS DISTINCT FROM 'succeeded'),
  -- completed twice: two done transitions, two 200 successes, or a 200 that is not the final execution
  (SELECT count(*) FROM (
     SELECT id FROM dones WHERE n > 1
     UNION SELECT id FROM rec WHERE kind = 'S' GROUP BY id HAVING count(*) > 1
     UNION SELECT r.id FROM rec r LEFT JOIN t ON t.id = r.id
            WHERE r.kind = 'S' AND (t.id IS NULL OR t.exec_id IS DISTINCT FROM r.exec_id
                                    OR t.outcome IS DISTINCT FROM 'succeeded')) x),
  (SELECT count(*) FROM t WHERE status <> 'done'),
  (SELECT count(*) FROM t),
  (SELECT count(*) FROM t WHERE status = 'done' AND outcome = 'succeeded'),
  -- started more than once (an execution was interrupted and the task ran again)
  (SELECT count(*) FROM t WHERE retry_count > 1),
  -- re-queued by a timeout: requested/in-progress -> ready/waiting in the log
  (SELECT count(*) FROM awf.task_log l JOIN t ON t.id = l.task_id WHERE l.kind = 'status'
      AND l.status_from IN ('requested', 'in-progress') AND l.status_to IN ('ready', 'waiting')),
  (SELECT count(*) FROM rec WHERE kind = 'S'),
  (SELECT count(*) FROM rec WHERE kind = 'A'),
  -- succeeded, but no executor recorded a 200 (its answer was lost to a kill)
  (SELECT count(*) FROM t WHERE outcome = 'succeeded' AND NOT EXISTS (SELECT 1 FROM rec r WHERE r.id = t.id AND r.kind = 'S')),
  (SELECT count(*) FROM created WHERE kind = 'C'),
  (SELECT count(*) FROM created WHERE kind = 'D'),
  (SELECT count(*) FROM created c WHERE kind = 'D' AND EXISTS (SELECT 1 FROM t WHERE t.id = c.id)),
  -- tasks that exist although no creator saw their COMMIT start (never committed by anyone)
  CASE WHEN :expected > 0 THEN 0
       ELSE (SELECT count(*) FROM t WHERE NOT EXISTS (SELECT 1 FROM created c WHERE c.id = t.id)) END;
EOF
  ) || { not_ok "$case: the verification query failed: $out"; out="x x x x x x x x x x x x x x"; }
  read -r V_LOST V_TWICE V_STUCK V_TASKS V_SUCCEEDED V_RERUN V_REQUEUED V_REC_S V_REC_A V_UNRECORDED \
    V_COMMITTED V_INDOUBT V_INDOUBT_EXIST V_PHANTOM <<<"$out"
}

# ================================================================================================
note "--- case 6: transactional enqueue"
ID_RB=$(uuid)
q "BEGIN; SELECT awf.task_create('faults.txn', '{}', '$ID_RB'); ROLLBACK;" >/dev/null
eq "a task created in a transaction that rolled back has no row and no log" "0 0" \
  "$(q "SELECT (SELECT count(*) FROM awf.task WHERE id = '$ID_RB'), (SELECT count(*) FROM awf.task_log WHERE task_id = '$ID_RB')" | tr '|' ' ')"
rpc "$USR" "{\"method\": \"awf.task/status\", \"params\": {\"id\": \"$ID_RB\"}}"
rb_status="$ST $(jqb .error.type)"
eq "... and awf.task/status over HTTP refuses its id" "422 awf.task/not-found" "$rb_status"

ID_OPEN=$(uuid)
coproc TXN { psql -X -qAt -v ON_ERROR_STOP=1 2>&1; }
TXN_P=$TXN_PID  # bash unsets TXN_PID once the coprocess has exited
OTHER_PIDS+=("$TXN_P")
echo "BEGIN; SELECT awf.task_create('faults.txn', '{}', '$ID_OPEN') IS NOT NULL; SELECT 'created-in-open-transaction';" >&"${TXN[1]}"
created_line=
while IFS= read -r -t 30 line <&"${TXN[0]}"; do
  [ "$line" = created-in-open-transaction ] && { created_line=1; break; }
done
check "a task is created in an open transaction (session 1)" test -n "$created_line"
rpc "$EXEC_A" '{"method": "awf.task/poll", "params": {"taskDefinitions": ["faults.txn"], "maxBatchSize": 10}}'
open_poll="$ST $(jqb '.result.resources | length')"
eq "while that transaction is open, an HTTP poll claims nothing" "200 0" "$open_poll"
eq "... and another session sees no such task" 0 "$(q "SELECT count(*) FROM awf.task WHERE id = '$ID_OPEN'")"
echo "COMMIT; SELECT 'committed';" >&"${TXN[1]}"
committed_line=
while IFS= read -r -t 30 line <&"${TXN[0]}"; do
  [ "$line" = committed ] && { committed_line=1; break; }
done
check "session 1 commits" test -n "$committed_line"
rpc "$EXEC_A" '{"method": "awf.task/poll", "params": {"taskDefinitions": ["faults.txn"], "maxBatchSize": 10}}'
commit_poll="$ST $(jqb '[.result.resources[].id] | join(",")')"
eq "after the COMMIT the next HTTP poll claims it" "200 $ID_OPEN" "$commit_poll"
exec {TXN[1]}>&-
wait_until 10 process_gone "$TXN_P"
kill_and_reap KILL "$TXN_P"
OTHER_PIDS=()
figure "transactional_enqueue: rolled_back_task_rows=$(q "SELECT count(*) FROM awf.task WHERE id = '$ID_RB'") rolled_back_status='$rb_status' poll_while_open='$open_poll' poll_after_commit_claimed=$([ "$commit_poll" = "200 $ID_OPEN" ] && echo 1 || echo 0)"
q "SELECT awf.task_cancel(id) FROM awf.task WHERE definition = 'faults.txn' AND status <> 'done'" >/dev/null

# ================================================================================================
note "--- case 2: a stale executor is fenced over HTTP"
ID_ST=$(uuid)
q "SELECT awf.task_create('faults.stale', '{\"n\": 2}', '$ID_ST')" >/dev/null
rpc "$EXEC_A" '{"method": "awf.task/poll", "params": {"taskDefinitions": ["faults.stale"]}}'
EXEC_ID_A=$(jqb '.result.resources[0].execId')
eq "A claims the task over HTTP" "200 $ID_ST" "$ST $(jqb '.result.resources[0].id')"
rpc "$EXEC_A" "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID_ST\", \"execId\": \"$EXEC_ID_A\"}}"
eq "A starts it" "200 in-progress" "$ST $(jqb .result.resource.status)"
# A goes silent: after inProgressTimeout (1 s) the worker's sweep puts the task back (retry_delay 0).
check "A's in-progress timeout passes and the sweep re-queues the task" \
  wait_until 30 sql_true "SELECT status = 'ready' AND exec_id IS NULL FROM awf.task WHERE id = '$ID_ST'"
# B's execution must not time out while A's calls are checked, however slow the machine.
q "UPDATE awf.definition SET in_progress_timeout = 600000 WHERE name = 'faults.stale'" >/dev/null
rpc "$EXEC_B" '{"method": "awf.task/poll", "params": {"taskDefinitions": ["faults.stale"]}}'
EXEC_ID_B=$(jqb '.result.resources[0].execId')
eq "B claims it (another client), with a new execId" "200 $ID_ST new" \
  "$ST $(jqb '.result.resources[0].id') $([ -n "$EXEC_ID_B" ] && [ "$EXEC_ID_B" != "$EXEC_ID_A" ] && echo new)"
rpc "$EXEC_B" "{\"method\": \"awf.task/start\", \"params\": {\"id\": \"$ID_ST\", \"execId\": \"$EXEC_ID_B\"}}"
eq "B starts it" "200 in-progress 2" "$ST $(jqb .result.resource.status) $(jqb .result.resource.retryCount)"
snapshot() {
  q "SELECT row(t.status, t.outcome, t.version, t.exec_id, t.retry_count, t.due_at, t.result, t.error, t.updated_at,
                (SELECT count(*) FROM awf.task_log l WHERE l.task_id = t.id))::text FROM awf.task t WHERE t.id = '$ID_ST'"
}
BEFORE=$(snapshot)
stale_answers=()
for call in \
  "awf.task/notify|\"notification\": \"heartbeat\", \"message\": \"A is alive\"" \
  "awf.task/notify|\"notification\": \"progress\", \"progress-current\": 5, \"progress-total\": 10" \
  "awf.task/success|\"result\": {\"by\": \"A\"}" \
  "awf.task/fail|\"error\": {\"message\": \"A failed\"}"; do
  method=${call%%|*}
  rpc "$EXEC_A" "{\"method\": \"$method\", \"params\": {\"id\": \"$ID_ST\", \"execId\": \"$EXEC_ID_A\", ${call#*|}}}"
  stale_answers+=("$method=$ST")
  eq "A's $method (${call#*|}) is refused: 422 awf.task/wrong-exec-id naming the task" \
    "422 awf.task/wrong-exec-id 1" "$ST $(jqb .error.type) $(jqb ".error.message | contains(\"$ID_ST\") | if . then 1 else 0 end")"
done
eq "A's refused calls changed nothing (status, version, execId, retryCount, timer, result, error, log)" "$BEFORE" "$(snapshot)"
rpc "$EXEC_B" "{\"method\": \"awf.task/success\", \"params\": {\"id\": \"$ID_ST\", \"execId\": \"$EXEC_ID_B\", \"result\": {\"by\": \"B\"}}}"
eq "B's success is accepted" 200 "$ST"
eq "the final owner is B: done, succeeded, B's execId and result" "done|succeeded|t|B" \
  "$(q "SELECT status, outcome, exec_id = '$EXEC_ID_B', result ->> 'by' FROM awf.task WHERE id = '$ID_ST'")"
figure "stale_executor: ${stale_answers[*]} final_owner=$(q "SELECT CASE exec_id WHEN '$EXEC_ID_B' THEN 'B' WHEN '$EXEC_ID_A' THEN 'A' ELSE '?' END FROM awf.task WHERE id = '$ID_ST'")"

# ================================================================================================
note "--- case 1: executors SIGKILLed under load"
N1=$([ $LONG = 1 ] && echo 30000 || echo 10000)
EXECUTORS=16
q "SELECT count(awf.task_create('faults.kill', jsonb_build_object('n', g))) FROM generate_series(1, $N1) g" >/dev/null \
  || not_ok "case 1: creating $N1 tasks failed"
t1=$(now_ms)
start_executors $EXECUTORS faults.kill kill
kills=0
deadline=$((SECONDS + (LONG == 1 ? 600 : 240)))
# Kill while tasks remain, so kills land on claimed and started tasks until the very end (the
# count is read every fourth kill, to keep the pace).
while [ $SECONDS -lt $deadline ] && { [ $((kills % 4)) != 0 ] || ! undone_is_zero faults.kill; }; do
  sleep "0.$((100 + RANDOM % 300))"
  slot=$((RANDOM % EXECUTORS))
  kill_and_reap KILL "${EXEC_PIDS[$slot]}"
  kills=$((kills + 1))
  start_executor "$slot" faults.kill kill
done
t1_all_done=$(now_ms)
# After the timeouts (1.5 s / 2 s, so a few seconds) nothing may remain undone.
wait_until 60 undone_is_zero faults.kill
stop_executors kill
verify kill faults.kill "$N1"
eq "case 1: all $N1 tasks exist and ended done/succeeded: lost" 0 "$V_LOST"
eq "case 1: no task completed twice" 0 "$V_TWICE"
eq "case 1: no task stuck after the timeouts" 0 "$V_STUCK"
check "case 1: executors were killed ($kills)" test "$kills" -gt 0
figure "executors_killed: tasks=$N1 executors=$EXECUTORS kills=$kills duration_s=$(((t1_all_done - t1) / 1000)).$((((t1_all_done - t1) % 1000) / 100)) lost=$V_LOST completed_twice=$V_TWICE stuck=$V_STUCK succeeded=$V_SUCCEEDED started_more_than_once=$V_RERUN requeued_by_timeout=$V_REQUEUED recorded_200=$V_REC_S recorded_ambiguous=$V_REC_A succeeded_answer_lost=$V_UNRECORDED"
note "case 1 executors that exited normally: $(executor_sums kill)"

# ================================================================================================
# A load for cases 4 and 3: two SQL connections enqueue at RATE tasks/s, 8 executors over HTTP.
RATE=150
LOAD_EXECUTORS=8
STEP=$([ $LONG = 1 ] && echo 900 || echo 300)   # tasks done between two faults

note "--- case 4: the bridge SIGKILLed under load and restarted"
ROUNDS4=$([ $LONG = 1 ] && echo 10 || echo 3)
start_creators faults.bridge bridge $RATE
start_executors $LOAD_EXECUTORS faults.bridge bridge
t4=$(now_ms)
bridge_kills=0
bridge_restart_ms=()
for ((round = 1; round <= ROUNDS4; round++)); do
  target=$(($(done_count faults.bridge) + STEP))
  wait_until 120 done_at_least faults.bridge "$target" || not_ok "case 4 round $round: the load made no progress (done < $target)"
  old=$BRIDGE_PID
  kill_and_reap KILL "$old"
  BRIDGE_PID=
  k=$(now_ms)
  if start_bridge "$BRIDGE_PORT"; then
    bridge_restart_ms+=($(($(now_ms) - k)))
    bridge_kills=$((bridge_kills + 1))
  else
    fatal "case 4: the bridge did not start again on port $BRIDGE_PORT"
  fi
done
target=$(($(done_count faults.bridge) + STEP))
check "case 4: the load goes on after the last restart (another $STEP tasks done)" \
  wait_until 120 done_at_least faults.bridge "$target"
stop_creators bridge
t4_load=$(now_ms)
check "case 4: the queue drains (every task done)" wait_until 90 undone_is_zero faults.bridge
stop_executors bridge
verify bridge faults.bridge
eq "case 4: every task whose COMMIT returned exists and ended done/succeeded: lost" 0 "$V_LOST"
eq "case 4: no task exists that was never committed" 0 "$V_PHANTOM"
eq "case 4: no task completed twice" 0 "$V_TWICE"
eq "case 4: no task stuck" 0 "$V_STUCK"
figure "bridge_killed: kills=$bridge_kills restart_to_health_ms=${bridge_restart_ms[*]} load_s=$(((t4_load - t4) / 1000)) committed=$V_COMMITTED in_doubt=$V_INDOUBT tasks=$V_TASKS lost=$V_LOST completed_twice=$V_TWICE stuck=$V_STUCK phantom=$V_PHANTOM started_more_than_once=$V_RERUN requeued_by_timeout=$V_REQUEUED recorded_ambiguous=$V_REC_A succeeded_answer_lost=$V_UNRECORDED"
note "case 4 creator: $(grep -h '^creator' "$TMP/bridge.creator.log" | tail -1); executors: $(executor_sums bridge)"

# ================================================================================================
note "--- case 3: PostgreSQL killed under load and restarted"
ROUNDS3=$([ $LONG = 1 ] && echo 4 || echo 2)
start_creators faults.pg pg $RATE
start_executors $LOAD_EXECUTORS faults.pg pg
t3=$(now_ms)
pg_down_ms=()
first_200_ms=()
for ((round = 1; round <= ROUNDS3; round++)); do
  target=$(($(done_count faults.pg) + STEP))
  wait_until 120 done_at_least faults.pg "$target" || not_ok "case 3 round $round: the load made no progress (done < $target)"
  method=SIGKILL
  [ $((round % 2)) = 0 ] && method=immediate
  PM=$(head -1 "$PGDATA_DIR/postmaster.pid")
  mapfile -t PG_CHILDREN < <(ps -o pid= --ppid "$PM" | tr -d ' ')
  PG_DOWN=1
  k=$(now_ms)
  if [ $method = SIGKILL ]; then
    kill -KILL "$PM"
  else
    pg_ctlcluster "${PG_VERSION_CLUSTER[@]}" stop -m immediate >"$TMP/pgctl.out" 2>&1
  fi
  # Children of a SIGKILLed postmaster notice its death and exit; a new postmaster cannot start
  # while any of them holds the old shared memory, nor while the old postmaster's pid is still in
  # the process table: it checks the socket lock file's pid with kill(pid, 0), which succeeds on a
  # zombie (here PID 1 reaps orphans only every few seconds).
  check "case 3 round $round ($method): the postmaster and its ${#PG_CHILDREN[@]} children exit" \
    wait_until 60 eval 'all_gone "${PG_CHILDREN[@]}" && [ ! -e "/proc/$PM" ]'
  rpc "$EXEC_A" '{"method": "awf.task/poll", "params": {"taskDefinitions": ["faults.pg.none"]}}'
  eq "case 3 round $round: while PostgreSQL is down the bridge answers 503 awf.db/unavailable" \
    "503 awf.db/unavailable" "$ST $(jqb .error.type)"
  check "case 3 round $round: ... and GET /health 503" health_is 503
  pg_ctlcluster "${PG_VERSION_CLUSTER[@]}" start >"$TMP/pgctl.out" 2>&1 || note "pg_ctlcluster start: $(cat "$TMP/pgctl.out")"
  wait_until 120 pg_isready -q -h 127.0.0.1 -p "$PGPORT" ||
    fatal "case 3 round $round: PostgreSQL did not start again: $(tr '\n' ' ' <"$TMP/pgctl.out")"
  ok "case 3 round $round: PostgreSQL starts again (crash recovery)"
  PG_DOWN=0
  pg_down_ms+=($(($(now_ms) - k)))
  r=$(now_ms)
  bridge_serves() { rpc "$EXEC_A" '{"method": "awf.task/poll", "params": {"taskDefinitions": ["faults.pg.none"]}}'; [ "$ST" = 200 ]; }
  check "case 3 round $round: the bridge serves again by itself (POST /rpc 200)" wait_until 60 bridge_serves
  first_200_ms+=($(($(now_ms) - r)))
  check "case 3 round $round: ... the same bridge process (pid $BRIDGE_PID)" eval '! process_gone "$BRIDGE_PID"'
  check "case 3 round $round: ... GET /health 200" wait_until 30 health_is 200
  check "case 3 round $round: the background worker is back in pg_stat_activity" \
    wait_until 60 sql_true "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_awf worker'"
  # ... and it sweeps: a claimed task left unstarted is re-queued after its 300 ms start timeout.
  ID_TIMER=$(uuid)
  q "SELECT awf.task_create('faults.pg.timer', '{}', '$ID_TIMER', requested_to_start_timeout => 300)" >/dev/null
  claimed=$(q "SELECT count(*) FROM jsonb_array_elements(awf.task_poll(ARRAY['faults.pg.timer'], NULL, 1) -> 'resources') r WHERE r ->> 'id' = '$ID_TIMER'")
  requeued() { [ "$claimed" = 1 ] && wait_until 30 sql_true "SELECT status = 'ready' FROM awf.task WHERE id = '$ID_TIMER'"; }
  check "case 3 round $round: after the restart the worker re-queues a claimed task past its start timeout" requeued
  q "SELECT awf.task_cancel('$ID_TIMER')" >/dev/null
done
target=$(($(done_count faults.pg) + STEP))
check "case 3: the load goes on after the last restart (another $STEP tasks done)" wait_until 120 done_at_least faults.pg "$target"
stop_creators pg
t3_load=$(now_ms)
check "case 3: the queue drains (every task done)" wait_until 90 undone_is_zero faults.pg
stop_executors pg
verify pg faults.pg
eq "case 3: every task whose COMMIT returned exists and ended done/succeeded: lost" 0 "$V_LOST"
eq "case 3: no task exists that was never committed" 0 "$V_PHANTOM"
eq "case 3: no task completed twice" 0 "$V_TWICE"
eq "case 3: no task stuck" 0 "$V_STUCK"
figure "postgres_killed: kills=$ROUNDS3 down_to_ready_ms=${pg_down_ms[*]} ready_to_bridge_200_ms=${first_200_ms[*]} load_s=$(((t3_load - t3) / 1000)) committed=$V_COMMITTED in_doubt=$V_INDOUBT in_doubt_that_exist=$V_INDOUBT_EXIST tasks=$V_TASKS lost=$V_LOST completed_twice=$V_TWICE stuck=$V_STUCK phantom=$V_PHANTOM started_more_than_once=$V_RERUN requeued_by_timeout=$V_REQUEUED recorded_ambiguous=$V_REC_A succeeded_answer_lost=$V_UNRECORDED"
note "case 3 creator: $(grep -h '^creator' "$TMP/pg.creator.log" | tail -1); executors: $(executor_sums pg)"

finish
