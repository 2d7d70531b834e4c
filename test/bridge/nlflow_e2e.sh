#!/usr/bin/env bash
# End-to-end test of the NL Flow REST API (seed 003) through a real awf-bridge, with executors
# that work its tasks through POST /rpc like any other task. Run from the repo root inside a
# cluster with awf preloaded (the worker enforces workflow timeouts):
#
#   pg_virtualenv -t -v 15 -o shared_preload_libraries=awf -o awf.database=postgres \
#     -o awf.tick_interval=50 bash test/bridge/nlflow_e2e.sh
#
# Needs the extension installed and build/awf-bridge built. Output: "ok"/"not ok" lines, then
# exactly one line "nlflow-e2e: N passed, N failed"; non-zero exit when anything failed. Waits poll
# for a condition with a deadline; no fixed sleep decides a result.
set -uo pipefail
cd "$(dirname "$0")/../.."
BRIDGE_BIN=${AWF_BRIDGE:-$PWD/build/awf-bridge}
TMP=$(mktemp -d /tmp/awf-nlflow-e2e.XXXXXX)
LOG=$TMP/bridge.log
BRIDGE_PID=
passed=0
failed=0

# shellcheck source=test/bridge/lib.sh
source test/bridge/lib.sh
finish() {
  [ -n "$BRIDGE_PID" ] && kill "$BRIDGE_PID" 2>/dev/null && wait "$BRIDGE_PID" 2>/dev/null
  rm -rf "$TMP"
  echo "nlflow-e2e: $passed passed, $failed failed"
  # A bare `exit` in an EXIT trap keeps the status from before the trap: say it explicitly.
  exit $((failed > 0))
}
trap finish EXIT

# --- setup: the extension, three workflows, API keys, a bridge -------------------------------
sql "CREATE EXTENSION IF NOT EXISTS awf" || exit 1
sql "SELECT awf.nlflow_workflow_put('wf-main', 'Summarize', 'e2e.nlflow/summarize', 60000)" >/dev/null
sql "SELECT awf.nlflow_workflow_put('wf-short', 'Short timeout', 'e2e.nlflow/short', 1500)" >/dev/null
sql "SELECT awf.nlflow_workflow_put('wf-unpub', 'To unpublish', 'e2e.nlflow/unpub', 60000)" >/dev/null
key_of() { "$BRIDGE_BIN" nlflow-key add "$1" | sed -n 's/^ *X-API-KEY: //p'; }
KEY=$(key_of wf-main)
KEY_SHORT=$(key_of wf-short)
KEY_UNPUB=$(key_of wf-unpub)
[ -n "$KEY" ] && [ -n "$KEY_SHORT" ] && [ -n "$KEY_UNPUB" ] || { not_ok "awf-bridge nlflow-key add printed keys"; exit 1; }
ok "awf-bridge nlflow-key add made three API keys"
[ "$(sql "SELECT count(*) FROM awf.nlflow_api_key WHERE secret_hash LIKE '\$y\$%' AND secret_hash NOT LIKE '%${KEY#*.}%'")" -ge 3 ] &&
  ok "API keys are stored as yescrypt hashes, never in clear" || not_ok "API keys are stored hashed"

PORT=$(free_port)
"$BRIDGE_BIN" --listen "127.0.0.1:$PORT" --no-auth --pool-size 4 >"$LOG" 2>&1 &
BRIDGE_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
BASE=http://127.0.0.1:$PORT
API=$BASE/api/v1/runtime/workflow
JSON=(-H 'Content-Type: application/json; charset=utf-8')

# An executor over /rpc: claims one task of a definition (prints "ID EXECID"), starts it.
claim_and_start() {
  local out id exec
  out=$(curl -s "$BASE/rpc" -H 'Content-Type: application/json' \
    -d "{\"method\":\"awf.task/poll\",\"params\":{\"taskDefinitions\":[\"$1\"],\"maxBatchSize\":1}}")
  id=$(jq -r '.result.resources[0].id // empty' <<<"$out")
  exec=$(jq -r '.result.resources[0].execId // empty' <<<"$out")
  [ -n "$id" ] || return 1
  curl -s "$BASE/rpc" -H 'Content-Type: application/json' \
    -d "{\"method\":\"awf.task/start\",\"params\":{\"id\":\"$id\",\"execId\":\"$exec\"}}" >/dev/null
  echo "$id $exec"
}
rpc_finish() {  # rpc_finish success|fail ID EXECID JSON -> prints the HTTP status
  local field=result
  [ "$1" = fail ] && field=error
  curl -s -o "$TMP/rpc" -w '%{http_code}' "$BASE/rpc" -H 'Content-Type: application/json' \
    -d "{\"method\":\"awf.task/$1\",\"params\":{\"id\":\"$2\",\"execId\":\"$3\",\"$field\":$4}}"
}
wait_status() {  # wait_status WORKFLOW KEY TASK STATUS: polls GET …/status for up to 15 s
  for _ in $(seq 150); do
    [ "$(curl -s "$API/$1/task/$3/status" -H "X-API-KEY: $2" | jq -r .status)" = "$4" ] && return 0
    sleep 0.1
  done
  return 1
}

# --- create, status, input, outcome: COMPLETED -----------------------------------------------
expect "create: 202 {taskId}" 202 '.taskId | test("^[0-9a-f-]{36}$")' \
  -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY" -H 'X-Correlation-Id: corr-e2e-1' "${JSON[@]}" \
  -d '{"document": "The quick brown fox", "lang": "en", "n": 3}'
T1=$(jq -r .taskId "$TMP/body")
[ "$(sql "SELECT label FROM awf.task WHERE id = '$T1'")" = corr-e2e-1 ] &&
  ok "X-Correlation-Id is kept on the task (its label)" || not_ok "X-Correlation-Id kept on the task"
grep -q '"correlation_id":"corr-e2e-1"' "$LOG" && ok "X-Correlation-Id is in the request log" ||
  not_ok "X-Correlation-Id in the request log"
expect "status of a queued task: RUNNING" 200 '.status == "RUNNING"' "$API/wf-main/task/$T1/status" -H "X-API-KEY: $KEY"
expect "request: the body it was created with" 200 '. == {"document": "The quick brown fox", "lang": "en", "n": 3}' \
  "$API/wf-main/task/$T1/request" -H "X-API-KEY: $KEY"
expect "response while RUNNING: 409 with a clear message" 409 '.error.message | test("RUNNING")' \
  "$API/wf-main/task/$T1/response" -H "X-API-KEY: $KEY"
read -r id exec < <(claim_and_start e2e.nlflow/summarize)
[ "$id" = "$T1" ] && ok "an ordinary executor claims the task by the workflow's definition" ||
  not_ok "executor claims the NL Flow task (got '$id')"
expect "status while executing: RUNNING" 200 '.status == "RUNNING"' "$API/wf-main/task/$T1/status" -H "X-API-KEY: $KEY"
[ "$(rpc_finish success "$id" "$exec" '{"summary": "a fox", "words": 4}')" = 200 ] && ok "executor succeeds" || not_ok "executor succeeds"
expect "status after success: COMPLETED" 200 '.status == "COMPLETED"' "$API/wf-main/task/$T1/status" -H "X-API-KEY: $KEY"
expect "response when COMPLETED: the workflow output" 200 '. == {"summary": "a fox", "words": 4}' \
  "$API/wf-main/task/$T1/response" -H "X-API-KEY: $KEY"

# --- ERROR, with and without verboseErrorOutput ------------------------------------------------
sql "INSERT INTO awf.definition (name, allowed_retry_count) VALUES ('e2e.nlflow/summarize', 0)
     ON CONFLICT (name) DO UPDATE SET allowed_retry_count = 0"
expect "create with verboseErrorOutput=true" 202 '.taskId' \
  -X POST "$API/wf-main/task?verboseErrorOutput=true" -H "X-API-KEY: $KEY" "${JSON[@]}" -d '{"document": "bad"}'
T2=$(jq -r .taskId "$TMP/body")
read -r id exec < <(claim_and_start e2e.nlflow/summarize)
[ "$(rpc_finish fail "$id" "$exec" '{"message": "model unavailable", "code": 503}')" = 200 ] && ok "executor fails" || not_ok "executor fails"
expect "status after failure: ERROR" 200 '.status == "ERROR"' "$API/wf-main/task/$T2/status" -H "X-API-KEY: $KEY"
expect "response when ERROR (verbose): message and details" 200 \
  '.message == "model unavailable" and .details.error.code == 503' "$API/wf-main/task/$T2/response" -H "X-API-KEY: $KEY"
expect "create without verboseErrorOutput" 202 '.taskId' -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY" "${JSON[@]}" -d '{}'
T3=$(jq -r .taskId "$TMP/body")
read -r id exec < <(claim_and_start e2e.nlflow/summarize)
rpc_finish fail "$id" "$exec" '{"message": "boom"}' >/dev/null
expect "response when ERROR (not verbose): message only" 200 '. == {"message": "boom"}' \
  "$API/wf-main/task/$T3/response" -H "X-API-KEY: $KEY"

# --- status maps --------------------------------------------------------------------------------
expect "create a fourth task" 202 '.taskId' -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY" "${JSON[@]}" -d '{"x": 1}'
T4=$(jq -r .taskId "$TMP/body")
expect "status of all tasks" 200 \
  "(.taskStatusMap | length) == 4 and .taskStatusMap[\"$T1\"] == \"COMPLETED\" and .taskStatusMap[\"$T2\"] == \"ERROR\" and .taskStatusMap[\"$T4\"] == \"RUNNING\"" \
  "$API/wf-main/task/status" -H "X-API-KEY: $KEY"
expect "status of several (taskIds=)" 200 ".taskStatusMap == {\"$T1\": \"COMPLETED\", \"$T4\": \"RUNNING\"}" \
  "$API/wf-main/task/status?taskIds=$T1,$T4" -H "X-API-KEY: $KEY"
expect "tasks in given statuses (taskStatuses=)" 200 ".taskStatusMap == {\"$T2\": \"ERROR\", \"$T3\": \"ERROR\", \"$T1\": \"COMPLETED\"}" \
  "$API/wf-main/task/status?taskStatuses=ERROR,COMPLETED" -H "X-API-KEY: $KEY"
expect "malformed taskIds: 400" 400 '.error.message | test("taskIds")' "$API/wf-main/task/status?taskIds=$T1,nope" -H "X-API-KEY: $KEY"
expect "empty taskIds item: 400" 400 '.error.message | test("empty")' "$API/wf-main/task/status?taskIds=$T1,," -H "X-API-KEY: $KEY"
expect "unknown status in taskStatuses: 400" 400 '.error.message | test("FINISHED")' \
  "$API/wf-main/task/status?taskStatuses=FINISHED" -H "X-API-KEY: $KEY"
expect "unknown task in taskIds: 404" 404 '.error.message | test("no task")' \
  "$API/wf-main/task/status?taskIds=00000000-0000-0000-0000-000000000000" -H "X-API-KEY: $KEY"

# --- DROPPED: past the workflow timeout, and unpublished ---------------------------------------
expect "create in a workflow with a 1.5 s timeout" 202 '.taskId' -X POST "$API/wf-short/task" -H "X-API-KEY: $KEY_SHORT" "${JSON[@]}" -d '{}'
T5=$(jq -r .taskId "$TMP/body")
read -r id exec < <(claim_and_start e2e.nlflow/short)
wait_status wf-short "$KEY_SHORT" "$T5" DROPPED && ok "queue + execution time over the timeout: DROPPED (by the worker)" ||
  not_ok "DROPPED after the workflow timeout"
code=$(rpc_finish success "$id" "$exec" '{"late": true}')
[ "$code" = 422 ] && ok "a late success from the executor is refused (422)" || not_ok "late success refused (HTTP $code)"
expect "response when DROPPED: why" 200 '.message | test("deadline")' "$API/wf-short/task/$T5/response" -H "X-API-KEY: $KEY_SHORT"
expect "create in the workflow to unpublish" 202 '.taskId' -X POST "$API/wf-unpub/task" -H "X-API-KEY: $KEY_UNPUB" "${JSON[@]}" -d '{}'
T6=$(jq -r .taskId "$TMP/body")
sql "SELECT awf.nlflow_workflow_put('wf-unpub', 'To unpublish', 'e2e.nlflow/unpub', 60000, false)" >/dev/null
expect "unpublished workflow: its task is DROPPED" 200 '.status == "DROPPED"' "$API/wf-unpub/task/$T6/status" -H "X-API-KEY: $KEY_UNPUB"
expect "unpublished workflow takes no new task: 409" 409 '.error.message | test("not published")' \
  -X POST "$API/wf-unpub/task" -H "X-API-KEY: $KEY_UNPUB" "${JSON[@]}" -d '{}'

# --- auth ------------------------------------------------------------------------------------------
expect "no X-API-KEY: 401" 401 '.error.message | test("X-API-KEY")' "$API/wf-main/task/$T1/status"
expect "wrong secret: 401" 401 '.error.type == "awf.auth/unauthorized"' "$API/wf-main/task/$T1/status" -H "X-API-KEY: ${KEY%%.*}.wrong"
expect "malformed key: 401" 401 '.error.message | test("malformed")' "$API/wf-main/task/$T1/status" -H "X-API-KEY: nodot"
expect "key of another workflow: 403" 403 '.error.type == "awf.auth/forbidden"' "$API/wf-main/task/$T1/status" -H "X-API-KEY: $KEY_SHORT"
expect "key of another workflow cannot create: 403" 403 '.' -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY_SHORT" "${JSON[@]}" -d '{}'
expect "unknown workflow: 403 (no key of it exists)" 403 '.' "$API/no-such-workflow/task/status" -H "X-API-KEY: $KEY"

# --- bad input -------------------------------------------------------------------------------------
expect "wrong content type: 415" 415 '.' -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY" -H 'Content-Type: text/plain' -d '{}'
expect "no content type: 415" 415 '.' -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY" -H 'Content-Type:' -d '{}'
expect "another charset: 415" 415 '.' -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY" -H 'Content-Type: application/json; charset=latin1' -d '{}'
expect "body not JSON: 400" 400 '.error.message | test("not UTF-8 JSON")' -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY" "${JSON[@]}" -d '{oops'
expect "body not UTF-8: 400" 400 '.error.message | test("UTF-8")' -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY" "${JSON[@]}" \
  --data-binary $'{"a": "\xff\xfe"}'
expect "body not an object: 400" 400 '.error.message | test("object")' -X POST "$API/wf-main/task" -H "X-API-KEY: $KEY" "${JSON[@]}" -d '[1, 2]'
expect "bad verboseErrorOutput: 400" 400 '.' -X POST "$API/wf-main/task?verboseErrorOutput=yes" -H "X-API-KEY: $KEY" "${JSON[@]}" -d '{}'
expect "unknown task: 404" 404 '.' "$API/wf-main/task/11111111-1111-1111-1111-111111111111/status" -H "X-API-KEY: $KEY"
expect "task ID not a UUID: 404" 404 '.' "$API/wf-main/task/abc/response" -H "X-API-KEY: $KEY"
expect "wrong method: 405 with Allow" 405 '.' -X PUT "$API/wf-main/task/$T1/status" -H "X-API-KEY: $KEY"
expect "unknown NL Flow path: 404" 404 '.' "$API/wf-main/tasks" -H "X-API-KEY: $KEY"
[ "$(sql "SELECT count(*) FROM awf.nlflow_task WHERE workflow_id = 'wf-main'")" = 4 ] &&
  ok "refused requests created nothing" || not_ok "refused requests created nothing"

# --- delete ------------------------------------------------------------------------------------------
expect "delete one: 204" 204 '.' -X DELETE "$API/wf-main/task/$T1" -H "X-API-KEY: $KEY"
[ "$(sql "SELECT count(*) FROM awf.task WHERE id = '$T1'") $(sql "SELECT count(*) FROM awf.task_log WHERE task_id = '$T1'")" = "0 0" ] &&
  ok "delete one removes the task and its log" || not_ok "delete one removes every trace"
expect "delete it again: 404" 404 '.' -X DELETE "$API/wf-main/task/$T1" -H "X-API-KEY: $KEY"
expect "delete by statuses: 204" 204 '.' -X DELETE "$API/wf-main/task?taskStatuses=ERROR" -H "X-API-KEY: $KEY"
expect "…only those in the statuses are gone" 200 ".taskStatusMap == {\"$T4\": \"RUNNING\"}" "$API/wf-main/task/status" -H "X-API-KEY: $KEY"
expect "delete by a bad status: 400" 400 '.' -X DELETE "$API/wf-main/task?taskStatuses=NOPE" -H "X-API-KEY: $KEY"
expect "delete all: 204" 204 '.' -X DELETE "$API/wf-main/task" -H "X-API-KEY: $KEY"
expect "…none left" 200 '.taskStatusMap == {}' "$API/wf-main/task/status" -H "X-API-KEY: $KEY"

# --- traces deleted after the retention (awf.nlflow_trace_retention; here by a sweep with a cutoff) --
sql "SELECT awf.sweep_surfaces(clock_timestamp(), 1000, clock_timestamp() + interval '1 minute')" >/dev/null
expect "traces past the retention are gone" 404 '.' "$API/wf-short/task/$T5/status" -H "X-API-KEY: $KEY_SHORT"
[ "$(sql "SELECT count(*) FROM awf.task t WHERE t.definition LIKE 'e2e.nlflow/%'")" = 0 ] &&
  ok "…with their tasks" || not_ok "trace retention deletes the tasks"
