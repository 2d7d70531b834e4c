#!/usr/bin/env bash
# End-to-end test of schema 1.3 through a real awf-bridge: workflows driven by decision tasks that
# executors poll with workflowDefinitions, failing steps and deciders, cancel, sub-workflows, the
# built-in awf.task/wait inside a workflow, scheduler rules (every second; forbid), concurrency
# limits (per definition and per params path) under 8 executors, and bad input. Everything goes
# through POST /rpc as executors and users would (JSON, and YAML for some calls); SQL only sets
# definitions up and reads the tables to check. Run from the repo root inside a cluster with awf
# preloaded (the worker runs built-in tasks, scheduler rules and retries):
#
#   pg_virtualenv -t -v 15 -o shared_preload_libraries=awf -o awf.database=postgres \
#     -o awf.tick_interval=50 bash test/bridge/workflow_e2e.sh
#
# Needs the extension installed and build/awf-bridge built. Output: "ok"/"not ok" lines, "#"
# figures, then exactly one line "workflow-e2e: N passed, N failed"; non-zero exit when anything
# failed. Waits poll a condition with a deadline; fixed sleeps only make the scheduler's window
# and give a wrong early long-poll answer time to show (never failing a right implementation).
set -uo pipefail
cd "$(dirname "$0")/../.."
BRIDGE_BIN=${AWF_BRIDGE:-$PWD/build/awf-bridge}
TMP=$(mktemp -d /tmp/awf-workflow-e2e.XXXXXX)
BRIDGE_PID=
AUTH_PID=
LOOP_PIDS=()
STARTED_AT=$EPOCHREALTIME
passed=0
failed=0

# shellcheck source=test/bridge/lib.sh
source test/bridge/lib.sh
finish() {
  touch "$TMP/stop"
  for pid in "${LOOP_PIDS[@]}" $AUTH_PID $BRIDGE_PID; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  sql "DELETE FROM awf.scheduler_rule WHERE id LIKE 'we-%'" 2>/dev/null
  rm -rf "$TMP"
  awk -v a="$STARTED_AT" -v b="$EPOCHREALTIME" 'BEGIN { printf "# run time: %.1f s\n", b - a }'
  echo "workflow-e2e: $passed passed, $failed failed"
  exit $((failed > 0))  # explicit: a bare `exit` in an EXIT trap keeps the status from before the trap
}
trap finish EXIT

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# --- setup: the extension, definitions, a bridge with --no-auth (awf_admin) -------------------------
sql "CREATE EXTENSION IF NOT EXISTS awf" || exit 1
# we/fails and the decisions of we/bad-decider: the executor's fail is final (we/fails) or retried
# once at once (we/bad-decider). we/limited: 2 at once; we/perpath: 1 at once per params.resourceType.
sql "INSERT INTO awf.definition (name, allowed_retry_count, retry_delay, concurrency_limit, concurrency_path)
     VALUES ('we/fails', 0, 0, NULL, NULL), ('awf.workflow/decision-task@we/bad-decider', 1, 0, NULL, NULL),
            ('we/limited', NULL, NULL, 2, NULL), ('we/perpath', NULL, NULL, 1, '{params,resourceType}')" || exit 1
PORT=$(free_port)
"$BRIDGE_BIN" --listen "127.0.0.1:$PORT" --no-auth --pool-size 12 --quiet >"$TMP/bridge.log" 2>&1 &
BRIDGE_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
BASE=http://127.0.0.1:$PORT
JSON=(-H 'Content-Type: application/json')

# rpc METHOD PARAMS-JSON: prints the body. rpc_code METHOD PARAMS-JSON: prints the HTTP status only
# (the background loops call it too). rx NAME STATUS JQ METHOD PARAMS-JSON: a check of one call by
# the main script (body in $TMP/body).
rpc() { curl -s --max-time 30 "$BASE/rpc" "${JSON[@]}" -d "{\"method\":\"$1\",\"params\":$2}"; }
rpc_code() { curl -s --max-time 30 -o /dev/null -w '%{http_code}' "$BASE/rpc" "${JSON[@]}" -d "{\"method\":\"$1\",\"params\":$2}"; }
rx() { expect "$1" "$2" "$3" -X POST "$BASE/rpc" "${JSON[@]}" -d "{\"method\":\"$4\",\"params\":$5}"; }
yaml_rpc() {  # yaml_rpc YAML-BODY: POST /rpc as text/yaml, the answer in JSON
  curl -s --max-time 30 "$BASE/rpc" -H 'Content-Type: text/yaml' -H 'Accept: application/json' --data-binary "$1"
}
wait_sql() {  # wait_sql SQL WANT [TENTHS]: polls until the query answers WANT (default 10 s)
  for _ in $(seq "${3:-100}"); do [ "$(sql "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}
wf_status() { rpc awf.workflow/status "{\"id\":\"$1\"}" | jq -r '.result.resource | "\(.status)/\(.outcome // "-")"'; }
wait_wf_done() {  # wait_wf_done ID [TENTHS]: polls awf.workflow/status over HTTP until done (default 15 s)
  for _ in $(seq "${2:-150}"); do [[ $(wf_status "$1") == done/* ]] && return 0; sleep 0.1; done
  return 1
}
create_wf() {  # create_wf DEFINITION PARAMS-JSON: prints the new workflow's id
  rpc awf.workflow/create-and-execute "{\"definition\":\"$1\",\"params\":$2}" | jq -r '.result.resource.id // empty'
}

# --- the executors: two decision loops and one step executor, each a background loop ---------------
# decide.jq: the decisions, from the event, the activity and the workflow's progress (its
# activities, read with awf.workflow/status include-activities). Input {task, acts}; output an
# array of actions, {actions: [...]}, or "FAIL" (the decider fails the decision task).
cat >"$TMP/decide.jq" <<'EOF'
def sched($d; $p): {action: "awf.workflow.action/schedule-task", "task-request": {definition: $d, params: $p}};
def complete($r): {action: "awf.workflow.action/complete-workflow", result: $r};
.task.params as $p | $p.workflow as $w | ($p.activity // {}) as $a | ($p.event | ltrimstr("awf.workflow.event/")) as $e |
if $w.definition == "we/seq" then            # params.steps: the step definitions, run one after another
  (.acts // []) as $acts |
  if $e == "workflow-init" then [sched($w.params.steps[0]; {n: 1})]
  elif $e == "task-completed" and $a.outcome != "succeeded" then
    [{action: "awf.workflow.action/fail", error: {message: "step \($a.definition) \($a.outcome)", step: $a.error}}]
  elif ($acts | map(select(.status == "done" and .outcome == "succeeded")) | length) == ($w.params.steps | length) then
    [complete({values: [$acts[].result.value]})]
  else ($acts | length) as $i | [sched($w.params.steps[$i]; {n: ($i + 1)})]
  end
elif $w.definition == "we/bad-decider" then "FAIL"
elif $w.definition == "we/cancel" then [sched("we/slow"; {})]
elif $w.definition == "we/parent2" then        # a sub-workflow nobody decides: canceled with its parent
  [{action: "awf.workflow.action/schedule-workflow", "workflow-request": {definition: "we/orphan"}}]
elif $w.definition == "we/parent" then
  if $e == "workflow-init" then
    [{action: "awf.workflow.action/schedule-workflow", "workflow-request": {definition: "we/child", params: {x: $w.params.x}}}]
  else [complete({fromChild: $a.result})] end
elif $w.definition == "we/child" then
  if $e == "workflow-init" then [sched("we/step1"; {n: $w.params.x}), {action: "awf.workflow.action/do-nothing"}]
  else {actions: [complete({childValue: $a.result.value})]} end
elif $w.definition == "we/wait" then
  if $e == "workflow-init" then [sched("awf.task/wait"; {duration: {seconds: 1}})]
  else [complete({waitedUntil: $a.result.waitedUntil})] end
else [{action: "awf.workflow.action/do-nothing"}] end
EOF
# decider NAME WORKFLOW-DEFINITIONS-JSON: claims decision tasks (long-poll), starts, decides, succeeds
# (or fails); one JSON line per decision in $TMP/decisions.NAME, in the order handled.
decider() {
  local name=$1 defs=$2 out task id exec acts actions claimed sent code_start code
  while [ ! -e "$TMP/stop" ]; do
    out=$(rpc awf.task/long-poll "{\"workflowDefinitions\":$defs,\"maxBatchSize\":1,\"timeout\":1000}")
    task=$(jq -c '.result.resources[0] // empty' <<<"$out" 2>/dev/null)
    if [ -z "$task" ]; then [ -n "$out" ] || sleep 0.05; continue; fi
    claimed=$(now_ms)
    read -r id exec < <(jq -r '"\(.id) \(.execId)"' <<<"$task")
    code_start=$(rpc_code awf.task/start "{\"id\":\"$id\",\"execId\":\"$exec\"}")
    acts=null
    if [ "$(jq -r .params.workflow.definition <<<"$task")" = we/seq ]; then
      acts=$(rpc awf.workflow/status "{\"id\":$(jq .params.workflow.id <<<"$task"),\"include-activities\":true}" | jq -c '.result.activities')
    fi
    actions=$(jq -c -n --argjson task "$task" --argjson acts "$acts" '{task: $task, acts: $acts}' | jq -c -f "$TMP/decide.jq")
    sent=$(now_ms)
    if [ "$actions" = '"FAIL"' ]; then
      code=$(rpc_code awf.task/fail "{\"id\":\"$id\",\"execId\":\"$exec\",\"error\":{\"message\":\"decider cannot decide\"}}")
    else
      code=$(rpc_code awf.task/success "{\"id\":\"$id\",\"execId\":\"$exec\",\"result\":$actions}")
    fi
    jq -c -n --arg by "$name" --argjson task "$task" --argjson actions "$actions" --argjson claimed "$claimed" \
      --argjson sent "$sent" --arg start "$code_start" --arg code "$code" \
      '{by: $by, decision: $task.id, exec: $task.execId, wf: $task.params.workflow.id, def: $task.params.workflow.definition,
        wfStatus: $task.params.workflow.status, taskDef: $task.definition, event: $task.params.event,
        activity: $task.params.activity, actions: $actions, claimed: $claimed, sent: $sent, start: $start, code: $code}' \
      >>"$TMP/decisions.$name"
  done
}
# stepper: the executor of the step tasks: we/stepN succeeds with {value: n*10}, we/fails fails.
stepper() {
  local out id exec def n code_start code
  while [ ! -e "$TMP/stop" ]; do
    out=$(rpc awf.task/long-poll '{"taskDefinitions":["we/step1","we/step2","we/step3","we/fails"],"maxBatchSize":1,"timeout":1000}')
    read -r id exec def n < <(jq -r '.result.resources[0] // empty | "\(.id) \(.execId) \(.definition) \(.params.n)"' <<<"$out" 2>/dev/null)
    if [ -z "${id:-}" ]; then [ -n "$out" ] || sleep 0.05; continue; fi
    code_start=$(rpc_code awf.task/start "{\"id\":\"$id\",\"execId\":\"$exec\"}")
    if [ "$def" = we/fails ]; then
      code=$(rpc_code awf.task/fail "{\"id\":\"$id\",\"execId\":\"$exec\",\"error\":{\"message\":\"boom\"}}")
    else
      code=$(rpc_code awf.task/success "{\"id\":\"$id\",\"execId\":\"$exec\",\"result\":{\"value\":$((n * 10)),\"by\":\"stepper\"}}")
    fi
    echo "$id $def $code_start $code" >>"$TMP/steps"
    id=
  done
}
: >"$TMP/decisions.main"; : >"$TMP/decisions.child"; : >"$TMP/steps"
decider main '["we/seq","we/bad-decider","we/cancel","we/parent","we/wait","we/parent2"]' & LOOP_PIDS+=($!)
decider child '["we/child"]' & LOOP_PIDS+=($!)
stepper & LOOP_PIDS+=($!)
# wait_logs: the loops write their line after the call that finishes a task, so a workflow can be
# done before the line of its last decision (or step) is written: wait until every attempt the
# database shows (an in-progress transition of a decision task of the loops' workflows, or of a
# step task) has its line.
LOOP_DECISIONS="'awf.workflow/decision-task@we/seq', 'awf.workflow/decision-task@we/bad-decider', 'awf.workflow/decision-task@we/cancel',
  'awf.workflow/decision-task@we/parent', 'awf.workflow/decision-task@we/wait', 'awf.workflow/decision-task@we/child',
  'awf.workflow/decision-task@we/parent2'"
wait_logs() {
  local want
  for _ in $(seq 100); do
    want=$(sql "SELECT count(*) FILTER (WHERE t.definition IN ($LOOP_DECISIONS)) || ' ' || count(*) FILTER (WHERE t.definition IN ('we/step1', 'we/step2', 'we/step3', 'we/fails'))
                  FROM awf.task t JOIN awf.task_log l ON l.task_id = t.id AND l.status_to = 'in-progress'")
    [ "$want" = "$(cat "$TMP"/decisions.* | wc -l) $(wc -l <"$TMP/steps")" ] && return 0
    sleep 0.1
  done
  not_ok "the loops logged every attempt within 10 s (database: $want; logged: $(cat "$TMP"/decisions.* | wc -l) $(wc -l <"$TMP/steps"))"
}
decisions() {  # decisions [-r] WORKFLOW [JQ]: the logged decisions of a workflow, in the order handled
  local raw=-c
  [ "$1" = -r ] && { raw=-r; shift; }
  cat "$TMP"/decisions.* | jq -s "$raw" --arg wf "$1" "map(select(.wf == \$wf)) | ${2:-.}"
}

# --- 1, 2, 4, 5: five workflows at once --------------------------------------------------------------
WF_SEQ=$(create_wf we/seq '{"steps":["we/step1","we/step2","we/step3"]}')
WF_FAIL=$(create_wf we/seq '{"steps":["we/fails","we/step2"]}')
WF_BAD=$(create_wf we/bad-decider '{}')
WF_PARENT=$(create_wf we/parent '{"x":7}')
# The wait workflow is created in YAML, as the seed's executors talk.
WF_WAIT=$(yaml_rpc 'method: awf.workflow/create-and-execute
params:
  definition: we/wait
  params:
    note: "waits 1 s"' | jq -r '.result.resource.id // empty')
[ -n "$WF_SEQ" ] && [ -n "$WF_FAIL" ] && [ -n "$WF_BAD" ] && [ -n "$WF_PARENT" ] && [ -n "$WF_WAIT" ] &&
  ok "five workflows created over HTTP (one in YAML)" || not_ok "workflows created ('$WF_SEQ' '$WF_FAIL' '$WF_BAD' '$WF_PARENT' '$WF_WAIT')"
for wf in "$WF_SEQ" "$WF_FAIL" "$WF_BAD" "$WF_PARENT" "$WF_WAIT"; do
  wait_wf_done "$wf" || not_ok "workflow $wf done within 15 s (now $(wf_status "$wf"))"
done
wait_logs

# 1. three steps
echo "# 1. three steps: $(decisions "$WF_SEQ" 'map(.event | ltrimstr("awf.workflow.event/")) | join(" -> ")')"
eq "seq: decision events in order (init, task-completed x3)" \
  '["awf.workflow.event/workflow-init","awf.workflow.event/task-completed","awf.workflow.event/task-completed","awf.workflow.event/task-completed"]' \
  "$(decisions "$WF_SEQ" 'map(.event)')"
eq "seq: every decision claimed through workflowDefinitions by the main decider, started and succeeded (200)" \
  "4 4 4" "$(decisions -r "$WF_SEQ" '[length, (map(select(.by == "main" and .taskDef == "awf.workflow/decision-task" and .start == "200" and .code == "200")) | length), (map(.decision) | unique | length)] | join(" ")')"
eq "seq: decision params: the workflow (its id, definition, in-progress)" "true" \
  "$(decisions "$WF_SEQ" "all(.wf == \"$WF_SEQ\" and .def == \"we/seq\" and .wfStatus == \"in-progress\")")"
eq "seq: init has no activity; each task-completed's activity is the step task done, with its result" \
  '[null,["AidboxTask","we/step1","done","succeeded",{"by":"stepper","value":10}],["AidboxTask","we/step2","done","succeeded",{"by":"stepper","value":20}],["AidboxTask","we/step3","done","succeeded",{"by":"stepper","value":30}]]' \
  "$(decisions "$WF_SEQ" 'map(.activity | if . == null then null else [.resourceType, .definition, .status, .outcome, .result] end)')"
eq "seq: the decisions' actions: schedule step1, step2, step3, then complete-workflow" \
  '[["awf.workflow.action/schedule-task","we/step1"],["awf.workflow.action/schedule-task","we/step2"],["awf.workflow.action/schedule-task","we/step3"],["awf.workflow.action/complete-workflow",null]]' \
  "$(decisions "$WF_SEQ" 'map(.actions[0] | [.action, .["task-request"].definition])')"
rx "seq: status: done/succeeded with the result" 200 \
  ".result.resource | .status == \"done\" and .outcome == \"succeeded\" and .result == {values: [10, 20, 30]} and .id == \"$WF_SEQ\" and (has(\"error\") | not)" \
  awf.workflow/status "{\"id\":\"$WF_SEQ\"}"
rx "seq: status include-activities: the 3 step tasks, oldest first, done/succeeded (no decision tasks)" 200 \
  '.result.activities | length == 3 and map(.definition) == ["we/step1", "we/step2", "we/step3"] and all(.resourceType == "AidboxTask" and .status == "done" and .outcome == "succeeded")' \
  awf.workflow/status "{\"id\":\"$WF_SEQ\",\"include-activities\":true}"
eq "seq: the activity of each task-completed is the task listed in activities (same ids, in order)" \
  "$(jq -c '[.result.activities[].id]' "$TMP/body")" "$(decisions "$WF_SEQ" '[.[1:][].activity.id]')"
SEQ_STEPS=$(sql "SELECT string_agg(id::text, '|') FROM awf.task WHERE workflow_id = '$WF_SEQ' AND definition LIKE 'we/step%'")
eq "seq: in SQL: 4 decision tasks done/succeeded, 3 step tasks; each step started once by the step executor (start, success 200)" \
  "4|3|3 3" \
  "$(sql "SELECT count(*) FILTER (WHERE definition = 'awf.workflow/decision-task@we/seq' AND outcome = 'succeeded') || '|' ||
              count(*) FILTER (WHERE definition LIKE 'we/step%' AND outcome = 'succeeded')
         FROM awf.task WHERE workflow_id = '$WF_SEQ'")|$(grep -cE "^($SEQ_STEPS) " "$TMP/steps") $(grep -cE "^($SEQ_STEPS) we/step[123] 200 200$" "$TMP/steps")"

# 2. a failing step; a failing decider
eq "failing step: decisions: init, then task-completed with the step failed (its error)" \
  '[["awf.workflow.event/workflow-init",null,null,null],["awf.workflow.event/task-completed","we/fails","failed","boom"]]' \
  "$(decisions "$WF_FAIL" 'map([.event, .activity.definition, .activity.outcome, .activity.error.message])')"
eq "failing step: the decision was awf.workflow.action/fail, accepted (200)" '["awf.workflow.action/fail"]|200' \
  "$(decisions "$WF_FAIL" '.[1].actions | map(.action)')|$(decisions -r "$WF_FAIL" '.[1].code')"
rx "failing step: workflow done/failed, outcomeReason awf.workflow/failed-by-executor, error from the decision" 200 \
  '.result.resource | .status == "done" and .outcome == "failed" and .outcomeReason.type == "awf.workflow/failed-by-executor"
   and .outcomeReason.message == "step we/fails failed" and .error.step.message == "boom" and (has("result") | not)' \
  awf.workflow/status "{\"id\":\"$WF_FAIL\"}"
ATTEMPTS="(SELECT count(*) FROM awf.task_log l WHERE l.task_id = t.id AND l.status_to = 'in-progress')"
eq "failing step: one attempt (allowed_retry_count 0), done/failed; step2 never scheduled" "done/failed/1|0" \
  "$(sql "SELECT status || '/' || outcome || '/' || $ATTEMPTS FROM awf.task t WHERE workflow_id = '$WF_FAIL' AND definition = 'we/fails'")|$(sql "SELECT count(*) FROM awf.task WHERE workflow_id = '$WF_FAIL' AND definition = 'we/step2'")"
BAD_DECISION=$(decisions -r "$WF_BAD" '.[0].decision')
eq "failing decider: the init decision was failed twice (one retry), the same task, both fails accepted" \
  "2 1 200,200 awf.workflow.event/workflow-init" \
  "$(decisions -r "$WF_BAD" '"\(length) \(map(.decision) | unique | length) \(map(.code) | join(",")) \(map(.event) | unique | join(","))"')"
rx "failing decider: workflow done/failed, failed-by-executor, error = the decision task's error" 200 \
  ".result.resource | .status == \"done\" and .outcome == \"failed\" and .outcomeReason.type == \"awf.workflow/failed-by-executor\"
   and .outcomeReason.data.task == \"$BAD_DECISION\" and .error.message == \"decider cannot decide\"" \
  awf.workflow/status "{\"id\":\"$WF_BAD\"}"
eq "failing decider: its decision task done/failed after 2 attempts (1 retry)" "done/failed/2" \
  "$(sql "SELECT status || '/' || outcome || '/' || $ATTEMPTS FROM awf.task t WHERE id = '$BAD_DECISION'")"

# 4. a sub-workflow
WF_CHILD=$(sql "SELECT id FROM awf.workflow WHERE parent_id = '$WF_PARENT'")
eq "sub-workflow: the parent's decisions: init -> schedule-workflow, workflow-completed -> complete (main decider)" \
  '[["awf.workflow.event/workflow-init","awf.workflow.action/schedule-workflow","main"],["awf.workflow.event/workflow-completed","awf.workflow.action/complete-workflow","main"]]' \
  "$(decisions "$WF_PARENT" 'map([.event, .actions[0].action, .by])')"
eq "sub-workflow: the child's decisions were polled by its own definition (the child decider)" \
  '[["awf.workflow.event/workflow-init","child","200"],["awf.workflow.event/task-completed","child","200"]]' \
  "$(decisions "$WF_CHILD" 'map([.event, .by, .code])')"
eq "sub-workflow: the parent's workflow-completed activity is the child (done/succeeded, its result, parentWorkflow)" \
  "[\"AidboxWorkflow\",\"$WF_CHILD\",\"we/child\",\"done\",\"succeeded\",{\"childValue\":70},\"$WF_PARENT\"]" \
  "$(decisions "$WF_PARENT" '.[1].activity | [.resourceType, .id, .definition, .status, .outcome, .result, .parentWorkflow.id]')"
rx "sub-workflow: parent done/succeeded with the child's result" 200 \
  '.result.resource | .status == "done" and .outcome == "succeeded" and .result == {fromChild: {childValue: 70}}' \
  awf.workflow/status "{\"id\":\"$WF_PARENT\"}"
rx "sub-workflow: the parent's activities list the child workflow" 200 \
  ".result.activities | length == 1 and .[0].resourceType == \"AidboxWorkflow\" and .[0].id == \"$WF_CHILD\"" \
  awf.workflow/status "{\"id\":\"$WF_PARENT\",\"include-activities\":true}"
rx "sub-workflow: the child's status: parentWorkflow, done/succeeded, its step task as activity" 200 \
  ".result.resource.parentWorkflow == {resourceType: \"AidboxWorkflow\", id: \"$WF_PARENT\"} and .result.resource.outcome == \"succeeded\"
   and (.result.activities | map(.definition) == [\"we/step1\"])" \
  awf.workflow/status "{\"id\":\"$WF_CHILD\",\"include-activities\":true}"

# 5. awf.task/wait inside a workflow
WAIT_MS=$(decisions -r "$WF_WAIT" 'if length == 2 then .[1].claimed - .[0].sent else "none" end')
echo "# 5. wait: next decision claimed $WAIT_MS ms after the decision that scheduled awf.task/wait {seconds: 1} was sent"
eq "wait: decisions init -> task-completed with the awf.task/wait activity done/succeeded, waitedUntil" \
  '[["awf.workflow.event/workflow-init",null,null,false],["awf.workflow.event/task-completed","awf.task/wait","succeeded",true]]' \
  "$(decisions "$WF_WAIT" 'map([.event, .activity.definition, .activity.outcome, (.activity.result.waitedUntil | type == "string")])')"
[ "$WAIT_MS" != none ] && [ "$WAIT_MS" -ge 1000 ] && [ "$WAIT_MS" -lt 5000 ] &&
  ok "wait: the next decision came after >= 1 s (${WAIT_MS} ms)" || not_ok "wait: next decision after 1 s, within 5 s (got $WAIT_MS ms)"
WAIT_DB=$(sql "SELECT t.exec_id IS NULL, l.at - t.created_at >= interval '1 s', l.at - t.created_at < interval '3 s', l.message, round(extract(epoch FROM l.at - t.created_at) * 1000)
                FROM awf.task t JOIN awf.task_log l ON l.task_id = t.id AND l.status_to = 'done' WHERE t.workflow_id = '$WF_WAIT' AND t.definition = 'awf.task/wait'")
echo "# 5. wait: in SQL the wait task was done $(cut -d'|' -f5 <<<"$WAIT_DB") ms after its creation"
eq "wait: in SQL the wait task was finished by the engine (no executor) 1-3 s after its creation" "t|t|t|run by the engine" \
  "$(cut -d'|' -f1-4 <<<"$WAIT_DB")"
rx "wait: workflow done/succeeded with the waitedUntil of the wait task" 200 \
  ".result.resource | .status == \"done\" and .outcome == \"succeeded\" and (.result.waitedUntil | type == \"string\")" \
  awf.workflow/status "{\"id\":\"$WF_WAIT\"}"

# --- 3. cancel while a step task is in progress ------------------------------------------------------
WF_C=$(create_wf we/cancel '{}')
wait_sql "SELECT count(*) FROM awf.task WHERE workflow_id = '$WF_C' AND definition = 'we/slow' AND status = 'ready'" 1 100 ||
  not_ok "cancel: the decider scheduled we/slow"
read -r SID SEXEC < <(rpc awf.task/poll '{"taskDefinitions":["we/slow"],"maxBatchSize":1}' | jq -r '.result.resources[0] // {} | "\(.id) \(.execId)"')
eq "cancel: an executor claims and starts the step task" 200 "$(rpc_code awf.task/start "{\"id\":\"$SID\",\"execId\":\"$SEXEC\"}")"
rx "cancel: awf.workflow/cancel -> done/canceled, outcomeReason awf.workflow/canceled" 200 \
  ".result.resource | .id == \"$WF_C\" and .status == \"done\" and .outcome == \"canceled\" and .outcomeReason.type == \"awf.workflow/canceled\"" \
  awf.workflow/cancel "{\"id\":\"$WF_C\"}"
rx "cancel: the in-progress step task is done/canceled" 200 \
  '.result.resource | .status == "done" and .outcome == "canceled"' awf.task/status "{\"id\":\"$SID\"}"
eq "cancel: the executor's later success is refused (422)" 422 \
  "$(rpc_code awf.task/success "{\"id\":\"$SID\",\"execId\":\"$SEXEC\",\"result\":{\"late\":true}}")"
before=$(sql "SELECT version || status || outcome FROM awf.workflow WHERE id = '$WF_C'")
rx "cancel again: 422 workflow-has-been-done" 422 '.error.type == "workflow-has-been-done" and .error.sqlstate == "WA005"' \
  awf.workflow/cancel "{\"id\":\"$WF_C\"}"
eq "cancel: only the init decision (none after the cancel), nothing unfinished, the 2nd cancel changed nothing, no late result stored" \
  "1|0|$before|done/canceled/-" \
  "$(sql "SELECT count(*) FILTER (WHERE definition LIKE 'awf.workflow/decision-task@%') || '|' || count(*) FILTER (WHERE status <> 'done') FROM awf.task WHERE workflow_id = '$WF_C'")|$(sql "SELECT version || status || outcome FROM awf.workflow WHERE id = '$WF_C'")|$(sql "SELECT status || '/' || outcome || '/' || coalesce(result::text, '-') FROM awf.task WHERE id = '$SID'")"

WF_P2=$(create_wf we/parent2 '{}')
wait_sql "SELECT count(*) FROM awf.workflow WHERE parent_id = '$WF_P2'" 1 100 || not_ok "cancel: the decider scheduled the sub-workflow"
WF_ORPHAN=$(sql "SELECT id FROM awf.workflow WHERE parent_id = '$WF_P2'")
rx "cancel of a parent whose sub-workflow runs: 200 done/canceled" 200 '.result.resource.outcome == "canceled"' \
  awf.workflow/cancel "{\"id\":\"$WF_P2\"}"
rx "cancel: the unfinished sub-workflow is canceled too" 200 \
  ".result.resource | .status == \"done\" and .outcome == \"canceled\" and .outcomeReason.type == \"awf.workflow/canceled\" and .parentWorkflow.id == \"$WF_P2\"" \
  awf.workflow/status "{\"id\":\"$WF_ORPHAN\"}"
eq "cancel: the sub-workflow's pending decision task is done/canceled, nobody can claim it" "done/canceled|[]" \
  "$(sql "SELECT string_agg(status || '/' || outcome, ',') FROM awf.task WHERE workflow_id = '$WF_ORPHAN'")|$(rpc awf.task/poll '{"workflowDefinitions":["we/orphan"]}' | jq -c '.result.resources')"

# --- 8. bad input over HTTP --------------------------------------------------------------------------
WF_M=$(yaml_rpc 'method: awf.workflow/create
params:
  definition: we/manual' | jq -r '.result.resource.id // empty')
read -r MID MEXEC < <(rpc awf.task/poll '{"workflowDefinitions":["we/manual"],"maxBatchSize":1}' | jq -r '.result.resources[0] // {} | "\(.id) \(.execId)"')
eq "manual decision: claimed through workflowDefinitions and started" 200 "$(rpc_code awf.task/start "{\"id\":\"$MID\",\"execId\":\"$MEXEC\"}")"
snapm() { sql "SELECT (SELECT version || status FROM awf.workflow WHERE id = '$WF_M') || '|' || (SELECT string_agg(status || ':' || version, ',' ORDER BY created_at) FROM awf.task WHERE workflow_id = '$WF_M') || '|' || (SELECT count(*) FROM awf.workflow WHERE parent_id = '$WF_M') || '|' || (SELECT count(*) FROM awf.workflow_event WHERE workflow_id = '$WF_M')"; }
before=$(snapm)
rx "decision success with an unknown action: 400 awf.rpc/invalid-params naming actions[0]" 400 \
  '.error.type == "awf.rpc/invalid-params" and (.error.message | test("actions\\[0\\]"))' \
  awf.task/success "{\"id\":\"$MID\",\"execId\":\"$MEXEC\",\"result\":[{\"action\":\"awf.workflow.action/explode\"}]}"
rx "decision success: complete-workflow not last: 400" 400 '.error.type == "awf.rpc/invalid-params" and (.error.message | test("last"))' \
  awf.task/success "{\"id\":\"$MID\",\"execId\":\"$MEXEC\",\"result\":{\"actions\":[{\"action\":\"awf.workflow.action/complete-workflow\"},{\"action\":\"awf.workflow.action/do-nothing\"}]}}"
rx "decision success: schedule-task without task-request.definition (after a good action): 400" 400 \
  '.error.type == "awf.rpc/invalid-params" and (.error.message | test("actions\\[1\\].task-request"))' \
  awf.task/success "{\"id\":\"$MID\",\"execId\":\"$MEXEC\",\"result\":[{\"action\":\"awf.workflow.action/schedule-task\",\"task-request\":{\"definition\":\"we/x\"}},{\"action\":\"awf.workflow.action/schedule-task\",\"task-request\":{\"params\":{}}}]}"
rx "decision success: a schedule-task of awf.task/wait with bad params: 400" 400 '.error.type == "awf.rpc/invalid-params"' \
  awf.task/success "{\"id\":\"$MID\",\"execId\":\"$MEXEC\",\"result\":[{\"action\":\"awf.workflow.action/schedule-task\",\"task-request\":{\"definition\":\"awf.task/wait\",\"params\":{}}}]}"
rx "decision success: result a scalar: 400" 400 '.error.type == "awf.rpc/invalid-params"' \
  awf.task/success "{\"id\":\"$MID\",\"execId\":\"$MEXEC\",\"result\":5}"
eq "refused decisions changed nothing (workflow, its tasks, sub-workflows, events); the decision is still in progress" \
  "$before|in-progress" "$(snapm)|$(sql "SELECT status FROM awf.task WHERE id = '$MID'")"
out=$(yaml_rpc "method: awf.task/success
params:
  id: $MID
  execId: $MEXEC
  result:
    - action: awf.workflow.action/complete-workflow
      result:
        answer: 42")
eq "the same decision then succeeds with a good action (YAML): the task done/succeeded, the workflow done/succeeded with the result" \
  'done/succeeded|done/succeeded|{"answer":42}' \
  "$(jq -r '.result.resource | "\(.status)/\(.outcome)"' <<<"$out")|$(wf_status "$WF_M")|$(rpc awf.workflow/status "{\"id\":\"$WF_M\"}" | jq -c '.result.resource.result')"
rx "workflow/status of an unknown id: 422" 422 '.error.sqlstate == "WA006" and .error.type == "awf.workflow/not-found"' awf.workflow/status '{"id":"00000000-0000-4000-8000-000000000000"}'
rx "workflow/cancel of an unknown id: 422" 422 '.error.sqlstate == "WA006" and .error.type == "awf.workflow/not-found"' awf.workflow/cancel '{"id":"00000000-0000-4000-8000-000000000000"}'
rx "workflow/create with a reserved definition (awf.*): 400" 400 '.error.type == "awf.rpc/invalid-params"' \
  awf.workflow/create '{"definition":"awf.mine"}'
rx "task/create of a decision task definition: 400" 400 '.error.type == "awf.rpc/invalid-params"' \
  awf.task/create '{"definition":"awf.workflow/decision-task@we/seq","params":{}}'
rx "workflow/create with the id of a workflow of another definition: 422 (WA007)" 422 '.error.sqlstate == "WA007" and .error.type == "awf.workflow/id-conflict"' \
  awf.workflow/create "{\"definition\":\"we/other\",\"id\":\"$WF_SEQ\"}"
rx "workflow/create again with the same id and definition: the same workflow, not restarted" 200 \
  ".result.resource | .id == \"$WF_SEQ\" and .status == \"done\" and .result == {values: [10, 20, 30]}" \
  awf.workflow/create "{\"definition\":\"we/seq\",\"id\":\"$WF_SEQ\",\"params\":{\"steps\":[\"we/step1\"]}}"
rx "workflow/list: filter by definition and status" 200 \
  "[.result.resources[].id] | sort == ([\"$WF_SEQ\", \"$WF_FAIL\"] | sort)" awf.workflow/list '{"filter":{"definition":"we/seq","status":"done"}}'

# --- 6. scheduler rules -------------------------------------------------------------------------------
wait_fraction() {  # until the current second's fraction is in [200, 300) ms (at most 2 s)
  local frac ms
  for _ in $(seq 200); do
    frac=${EPOCHREALTIME#*.}; ms=$((10#${frac:0:3}))
    [ "$ms" -ge 200 ] && [ "$ms" -lt 300 ] && return 0
    sleep 0.01
  done
  return 1
}
wait_fraction || not_ok "scheduler: the clock reached a .2-.3 s fraction"
t_put=$EPOCHREALTIME
rx "rule-put every second (execute-on-setup false): the rule with its next run" 200 \
  '.result.resource | .id == "we-every-second" and .resourceType == "SchedulerRule" and .schedule == "* * * * * *" and .state.runs == 0 and (.state.nextRunAt | test("\\.000000Z$"))' \
  awf.scheduler/rule-put '{"id":"we-every-second","schedule":"* * * * * *","execute-on-setup":false,"task-request":{"definition":"we/tick","params":{"k":1}}}'
NEXT=$(jq -r '.result.resource.state.nextRunAt' "$TMP/body")
# Delete half-way between the 5th fire time (nextRunAt + 4 s) and the 6th: about 5.5 s after the put,
# with 0.5 s of margin for the worker's tick on one side and for this script on the other.
next_epoch=$(date -d "$NEXT" +%s.%N 2>/dev/null || echo "$t_put")
sleep "$(awk -v n="$next_epoch" -v b="$EPOCHREALTIME" 'BEGIN { d = n + 4.5 - b; print (d > 0 ? d : 0) }')"
t_del=$EPOCHREALTIME
rx "rule-delete about 5.5 s later: the rule, 5 runs" 200 '.result.resource.state.runs == 5 and .result.resource.state.skipped == 0' \
  awf.scheduler/rule-delete '{"id":"we-every-second"}'
window=$(awk -v a="$t_put" -v b="$t_del" 'BEGIN { printf "put at .%03d, deleted %.3f s later", (a - int(a)) * 1000, b - a }')
RULE_Q="FROM awf.task WHERE requester->>'id' = 'we-every-second'"
RUNS=$(sql "SELECT count(*) $RULE_Q")
echo "# 6. scheduler every second: $RUNS runs ($window); fire times $(sql "SELECT string_agg(substr(requester->>'fireTime', 12, 12), ' ' ORDER BY requester->>'fireTime') $RULE_Q"), max lateness $(sql "SELECT round(extract(epoch FROM max(created_at - (requester->>'fireTime')::timestamptz)) * 1000) $RULE_Q") ms"
eq "scheduler: exactly 5 tasks made by the rule in 5.5 s ($window)" 5 "$RUNS"
eq "scheduler: 5 distinct fire times, whole seconds one second apart from nextRunAt, requester SchedulerRule, each made at/after its fire time" \
  "5|true|true|true|true" \
  "$(sql "WITH f AS (SELECT (requester->>'fireTime')::timestamptz AS ft, requester->>'resourceType' AS rt, created_at $RULE_Q)
          SELECT count(DISTINCT ft) || '|' || (min(ft) = '$NEXT'::timestamptz AND max(ft) = '$NEXT'::timestamptz + interval '4 s') || '|' ||
                 bool_and(ft = date_trunc('second', ft)) || '|' || bool_and(rt = 'SchedulerRule') || '|' || bool_and(created_at >= ft) FROM f")"
rx "rule-list: the deleted rule is gone" 200 '.result.resources | map(select(.id == "we-every-second")) == []' awf.scheduler/rule-list '{}'

# forbid: the rule's task is never completed, so further fire times are skipped until it is done
rx "rule-put forbid every second" 200 '.result.resource."concurrency-policy" == "forbid"' awf.scheduler/rule-put \
  '{"id":"we-forbid","schedule":"* * * * * *","concurrency-policy":"forbid","task-request":{"definition":"we/forbidden","params":{}}}'
FQ="FROM awf.task WHERE requester->>'id' = 'we-forbid'"
wait_sql "SELECT count(*) $FQ" 1 30 || not_ok "forbid: the first fire made a task within 3 s"
t_first=$EPOCHREALTIME
skipped=0
for _ in $(seq 60); do
  skipped=$(rpc awf.scheduler/rule-list '{"id":"we-forbid"}' | jq -r '.result.resources[0].state.skipped // 0')
  [ "$skipped" -ge 2 ] && break
  sleep 0.1
done
FORBID_STATE=$(rpc awf.scheduler/rule-list '{"id":"we-forbid"}' | jq -c '.result.resources[0].state')
echo "# 6. forbid: $(sql "SELECT count(*) $FQ") task(s) while its first is not done, $(awk -v a="$t_first" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s after it; state $FORBID_STATE"
eq "forbid: exactly 1 task while it is not done, runs 1, skipped >= 2, lastSkip says forbid" "1|1|true|true" \
  "$(sql "SELECT count(*) $FQ")|$(jq -r '.runs' <<<"$FORBID_STATE")|$(jq '.skipped >= 2' <<<"$FORBID_STATE")|$(jq '.lastSkip | test("forbid")' <<<"$FORBID_STATE")"
read -r FID FEXEC < <(rpc awf.task/poll '{"taskDefinitions":["we/forbidden"],"maxBatchSize":1}' | jq -r '.result.resources[0] // {} | "\(.id) \(.execId)"')
eq "forbid: an executor completes that task" "200 200" \
  "$(rpc_code awf.task/start "{\"id\":\"$FID\",\"execId\":\"$FEXEC\"}") $(rpc_code awf.task/success "{\"id\":\"$FID\",\"execId\":\"$FEXEC\",\"result\":{}}")"
wait_sql "SELECT count(*) $FQ" 2 30 && ok "forbid: the next fire after it is done makes a second task" ||
  not_ok "forbid: a second task within 3 s (got $(sql "SELECT count(*) $FQ"))"
rx "rule-delete forbid: runs 2" 200 '.result.resource.state.runs == 2 and .result.resource.state.skipped >= 2' \
  awf.scheduler/rule-delete '{"id":"we-forbid"}'
eq "forbid: the second task's fire time is >= 3 s after the first (the fires between were skipped)" t \
  "$(sql "SELECT max((requester->>'fireTime')::timestamptz) - min((requester->>'fireTime')::timestamptz) >= interval '3 s' $FQ")"
rx "rule-delete of an unknown rule: 422" 422 '.error.sqlstate == "WA008" and .error.type == "awf.scheduler/rule-not-found"' awf.scheduler/rule-delete '{"id":"we-forbid"}'

# --- 7. concurrency limits under 8 executors -----------------------------------------------------------
# sampler DEF TOTAL: in one SQL statement, samples every 20 ms the requested/in-progress tasks of DEF
# per params.resourceType until TOTAL are done (25 s at most); prints "samples max-total max-per-group
# max-groups". Each statement of a volatile DO block sees what has committed before it.
sampler() {
  psql -X -qAt -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE s (n int, g int, k int);
DO \$\$
DECLARE i int := 0;
BEGIN
  LOOP
    INSERT INTO s SELECT coalesce(sum(c), 0), coalesce(max(c), 0), count(*)
      FROM (SELECT count(*) AS c FROM awf.task WHERE definition = '$1' AND status IN ('requested', 'in-progress')
             GROUP BY params->>'resourceType') x;
    EXIT WHEN (SELECT count(*) FROM awf.task WHERE definition = '$1' AND status = 'done') >= $2 OR i >= 1250;
    i := i + 1;
    PERFORM pg_sleep(0.02);
  END LOOP;
END
\$\$;
SELECT count(*) || ' ' || max(n) || ' ' || max(g) || ' ' || max(k) FROM s;
SQL
}
# worker DEF: polls (maxBatchSize 1-3), starts, works 20-60 ms, succeeds, until $TMP/stop-DEF. Cheap
# when idle (this runs 8 times on small machines): an empty answer is recognised without jq, and
# the ids of a claim are read with bash's regex (every resource has one "id" and one "execId").
worker() {
  local def=$1 out rest p ids=() execs=()
  while [ ! -e "$TMP/stop-${def#we/}" ]; do
    out=$(rpc awf.task/poll "{\"taskDefinitions\":[\"$def\"],\"maxBatchSize\":$((1 + RANDOM % 3))}")
    ids=(); execs=(); rest=$out
    while [[ $rest =~ \"id\":\ \"([0-9a-f-]{36})\"(.*) ]]; do ids+=("${BASH_REMATCH[1]}"); rest=${BASH_REMATCH[2]}; done
    rest=$out
    while [[ $rest =~ \"execId\":\ \"([0-9a-f-]{36})\"(.*) ]]; do execs+=("${BASH_REMATCH[1]}"); rest=${BASH_REMATCH[2]}; done
    if [ ${#ids[@]} = 0 ]; then
      [[ $out == *'"resources": []'* ]] || echo "poll $out" >>"$TMP/refused"
      sleep "0.0$((3 + RANDOM % 5))"
      continue
    fi
    [ ${#ids[@]} = ${#execs[@]} ] || echo "poll $out" >>"$TMP/refused"
    for p in "${!ids[@]}"; do
      [ "$(rpc_code awf.task/start "{\"id\":\"${ids[p]}\",\"execId\":\"${execs[p]}\"}")" = 200 ] || echo "start ${ids[p]}" >>"$TMP/refused"
      echo "${ids[p]}" >>"$TMP/started"
    done
    sleep "0.0$((2 + RANDOM % 5))"
    for p in "${!ids[@]}"; do
      [ "$(rpc_code awf.task/success "{\"id\":\"${ids[p]}\",\"execId\":\"${execs[p]}\",\"result\":{}}")" = 200 ] || echo "success ${ids[p]}" >>"$TMP/refused"
    done
  done
}
run_limited() {  # run_limited DEF TOTAL: 8 workers and a sampler until TOTAL tasks are done; prints the sampler's line
  local pids=() spid out
  : >"$TMP/started"; : >"$TMP/refused"; rm -f "$TMP/stop-${1#we/}"
  sampler "$1" "$2" >"$TMP/sample-${1#we/}" 2>&1 & spid=$!
  for _ in 1 2 3 4 5 6 7 8; do worker "$1" & pids+=($!); LOOP_PIDS+=($!); done
  wait_sql "SELECT count(*) FROM awf.task WHERE definition = '$1' AND status = 'done'" "$2" 250 ||
    not_ok "$1: $2 tasks done within 25 s (got $(sql "SELECT count(*) FROM awf.task WHERE definition = '$1' AND status = 'done'"))"
  touch "$TMP/stop-${1#we/}"
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  wait "$spid"
}
for i in $(seq 40); do rpc_code awf.task/create "{\"definition\":\"we/limited\",\"params\":{\"i\":$i}}" >>"$TMP/created"; done
eq "limit 2: 40 tasks created over HTTP" 40 "$(grep -o 200 "$TMP/created" | wc -l)"
t0=$(now_ms)
run_limited we/limited 40
read -r SAMPLES MAXN _ _ <"$TMP/sample-limited"
T_LIMITED=$(( $(now_ms) - t0 ))
DONE=$(sql "SELECT count(*) FROM awf.task WHERE definition = 'we/limited' AND status = 'done' AND outcome = 'succeeded'")
echo "concurrency: max in flight ${MAXN:-?} of limit 2, tasks done $DONE ($SAMPLES samples, $T_LIMITED ms, 8 executors)"
eq "limit 2: all 40 done/succeeded, each started once, no start or success refused" "40 40 40 0" \
  "$DONE $(wc -l <"$TMP/started") $(sort -u "$TMP/started" | wc -l) $(wc -l <"$TMP/refused")"
[ -n "${MAXN:-}" ] && [ "$MAXN" -le 2 ] && ok "limit 2: never more than 2 requested/in-progress at once (max $MAXN)" ||
  not_ok "limit 2: max in flight <= 2 (got '${MAXN:-}'; sampler: $(head -c 300 "$TMP/sample-limited"))"
eq "limit 2: the limit was reached (max in flight == 2)" 2 "${MAXN:-}"

# A long-poll on the full definition is answered when a slot frees (the worker re-wakes long-polls
# of limited definitions each tick), never before.
for _ in 1 2 3; do rpc awf.task/create '{"definition":"we/limited","params":{"lp":true}}' >/dev/null; done
rx "limit 2: a poll with maxBatchSize 3 gets 2 of the 3 ready tasks" 200 '.result.resources | length == 2' \
  awf.task/poll '{"taskDefinitions":["we/limited"],"maxBatchSize":3}'
mapfile -t HELD < <(jq -r '.result.resources[] | "\(.id) \(.execId)"' "$TMP/body")
for h in "${HELD[@]}"; do rpc_code awf.task/start "{\"id\":\"${h% *}\",\"execId\":\"${h#* }\"}" >/dev/null; done
( curl -s --max-time 10 "$BASE/rpc" "${JSON[@]}" \
    -d '{"method":"awf.task/long-poll","params":{"taskDefinitions":["we/limited"],"maxBatchSize":1,"timeout":5000}}' >"$TMP/lp.tmp"
  mv "$TMP/lp.tmp" "$TMP/lp" ) & LOOP_PIDS+=($!)
sleep 0.3  # gives a wrong early answer time to show; a right implementation passes whatever the timing
[ ! -e "$TMP/lp" ] && ok "limit 2: a long-poll waits while 2 are in progress" ||
  not_ok "limit 2: the long-poll answered while the limit was full: $(head -c 300 "$TMP/lp")"
t_free=$EPOCHREALTIME
h=${HELD[0]}
rpc_code awf.task/success "{\"id\":\"${h% *}\",\"execId\":\"${h#* }\",\"result\":{}}" >/dev/null
for _ in $(seq 50); do [ -e "$TMP/lp" ] && break; sleep 0.1; done
LP_ID=$(jq -r '.result.resources[0].id // empty' "$TMP/lp" 2>/dev/null)
echo "# 7. long-poll on the full limited definition answered $(awk -v a="$t_free" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }') ms (at most; polled every 100 ms) after a slot freed"
eq "limit 2: after one succeeds, the waiting long-poll gets the third task" \
  "$(sql "SELECT id FROM awf.task WHERE definition = 'we/limited' AND params ? 'lp' AND id NOT IN ('${HELD[0]% *}', '${HELD[1]% *}')")" "$LP_ID"

: >"$TMP/created"
for i in $(seq 10); do
  for rt in Patient Observation; do
    rpc_code awf.task/create "{\"definition\":\"we/perpath\",\"params\":{\"resourceType\":\"$rt\",\"i\":$i}}" >>"$TMP/created"
  done
done
eq "per-path limit 1: 20 tasks (10 Patient, 10 Observation) created" 20 "$(grep -o 200 "$TMP/created" | wc -l)"
t0=$(now_ms)
run_limited we/perpath 20
T_PERPATH=$(( $(now_ms) - t0 ))
read -r SAMPLES MAXN MAXG MAXK <"$TMP/sample-perpath"
DONE=$(sql "SELECT count(*) FROM awf.task WHERE definition = 'we/perpath' AND status = 'done' AND outcome = 'succeeded'")
echo "concurrency per path: max per resourceType ${MAXG:-?} of limit 1, max in flight ${MAXN:-?}, resourceTypes at once ${MAXK:-?}, tasks done $DONE ($SAMPLES samples, $T_PERPATH ms)"
eq "per-path: all 20 done/succeeded, each started once, nothing refused" "20 20 20 0" \
  "$DONE $(wc -l <"$TMP/started") $(sort -u "$TMP/started" | wc -l) $(wc -l <"$TMP/refused")"
eq "per-path: never two of the same resourceType at once (max per group 1)" 1 "${MAXG:-}"
eq "per-path: the two resourceTypes ran in parallel (2 at once)" "2 2" "${MAXN:-} ${MAXK:-}"

# --- 8 (cont.). roles, with authentication on: executors decide but do not create workflows --------
client() { "$BRIDGE_BIN" client add "$1" --role "$2" | sed -n -E 's/^ *secret: *//p'; }
EXEC_SECRET=$(client "we-exec-$$" awf_executor)
USER_SECRET=$(client "we-user-$$" awf_user)
[ -n "$EXEC_SECRET" ] && [ -n "$USER_SECRET" ] && ok "clients made (awf_executor, awf_user)" || not_ok "awf-bridge client add printed secrets"
APORT=$(free_port)
"$BRIDGE_BIN" --listen "127.0.0.1:$APORT" --pool-size 2 --quiet >"$TMP/auth.log" 2>&1 &
AUTH_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$APORT/health" >/dev/null && break; sleep 0.1; done
arx() {  # arx NAME STATUS JQ USER:SECRET METHOD PARAMS-JSON
  expect "$1" "$2" "$3" -X POST "http://127.0.0.1:$APORT/rpc" "${JSON[@]}" -u "$4" -d "{\"method\":\"$5\",\"params\":$6}"
}
nwf=$(sql "SELECT count(*) FROM awf.workflow")
arx "awf_executor may not create a workflow: 403" 403 '.error.type == "awf.auth/forbidden"' "we-exec-$$:$EXEC_SECRET" \
  awf.workflow/create '{"definition":"we/auth"}'
eq "the refused create made nothing" "$nwf" "$(sql "SELECT count(*) FROM awf.workflow")"
arx "awf_user may not put a scheduler rule: 403" 403 '.error.type == "awf.auth/forbidden"' "we-user-$$:$USER_SECRET" \
  awf.scheduler/rule-put '{"id":"we-auth","schedule":"* * * * *","task-request":{"definition":"we/x"}}'
arx "awf_user creates a workflow: 200" 200 '.result.resource.status == "in-progress"' "we-user-$$:$USER_SECRET" \
  awf.workflow/create '{"definition":"we/auth"}'
WF_A=$(jq -r '.result.resource.id' "$TMP/body")
arx "awf_executor polls its decision through workflowDefinitions: 200" 200 \
  ".result.resources | length == 1 and .[0].params.workflow.id == \"$WF_A\"" "we-exec-$$:$EXEC_SECRET" \
  awf.task/poll '{"workflowDefinitions":["we/auth"]}'
read -r AID AEXEC < <(jq -r '.result.resources[0] // {} | "\(.id) \(.execId)"' "$TMP/body")
arx "awf_executor starts it" 200 '.' "we-exec-$$:$EXEC_SECRET" awf.task/start "{\"id\":\"$AID\",\"execId\":\"$AEXEC\"}"
arx "awf_executor completes the workflow by its decision" 200 '.' "we-exec-$$:$EXEC_SECRET" \
  awf.task/success "{\"id\":\"$AID\",\"execId\":\"$AEXEC\",\"result\":[{\"action\":\"awf.workflow.action/complete-workflow\",\"result\":{\"ok\":1}}]}"
arx "awf_user sees it done/succeeded" 200 '.result.resource | .status == "done" and .outcome == "succeeded" and .result == {ok: 1}' \
  "we-user-$$:$USER_SECRET" awf.workflow/status "{\"id\":\"$WF_A\"}"

# --- the end: the scheduler rules made nothing more; the decision loops handled each decision once --
eq "after everything: still exactly 5 tasks of the every-second rule, 2 of the forbid rule" "5 2" \
  "$(sql "SELECT count(*) $RULE_Q") $(sql "SELECT count(*) $FQ")"
wait_logs
eq "the decision loops: every claim handled once (distinct execIds); only the retried decision of we/bad-decider came twice" \
  "true [\"we/bad-decider\"]" \
  "$(cat "$TMP"/decisions.* | jq -sc '"\(length == (map(.exec) | unique | length)) \([group_by(.decision)[] | select(length > 1) | .[0].def])"' -r)"
