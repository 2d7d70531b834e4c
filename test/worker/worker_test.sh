#!/usr/bin/env bash
# The background worker against a real cluster with awf preloaded. Run inside pg_virtualenv with
#   -o shared_preload_libraries=awf -o awf.database=postgres -o awf.tick_interval=50
# (scripts/test-in-cluster.sh does). Prints TAP lines ("ok N - ...", "not ok N - ...") and ends
# with "worker: N passed, N failed". Timers use short timeouts (hundreds of ms); every wait is a
# poll for a condition with a generous deadline, never a fixed sleep that a slow machine could miss.
set -uo pipefail

q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }
passed=0
failed=0
n=0
check() {  # check "description" COMMAND...: ok when the command succeeds
  local description=$1
  shift
  n=$((n + 1))
  if "$@"; then
    passed=$((passed + 1))
    echo "ok $n - $description"
  else
    failed=$((failed + 1))
    echo "not ok $n - $description"
  fi
}
# wait_for SQL SECONDS: until SQL returns 't'
wait_for() {
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(q "$1" 2>/dev/null)" = "t" ] && return 0
    sleep 0.05
  done
  echo "# timed out after $2 s waiting for: $1" >&2
  return 1
}
equals() {  # equals EXPECTED SQL
  local got
  got=$(q "$2" 2>&1)
  [ "$got" = "$1" ] && return 0
  echo "# expected '$1', got '$got' from: $2" >&2
  return 1
}
status_of() { echo "SELECT status FROM awf.task WHERE id = '$1'"; }
claim() {  # claim ID DEFINITION: polls the definition, prints the execId for ID
  q "SELECT r->>'execId' FROM jsonb_array_elements(awf.task_poll(ARRAY['$2'], NULL, 10)->'resources') r WHERE r->>'id' = '$1'"
}
worker_pid() { q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_awf worker'"; }

q "CREATE EXTENSION IF NOT EXISTS awf" || { echo "worker: 0 passed, 1 failed"; exit 1; }
# The SQLSTATE a statement fails with, or 'ok'.
q "CREATE OR REPLACE FUNCTION awf_test_sqlstate(statement text) RETURNS text LANGUAGE plpgsql AS
   \$\$ BEGIN EXECUTE statement; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END \$\$"

# 0. The worker runs, in the configured database, visible in pg_stat_activity.
check "the worker is running in pg_stat_activity" \
  wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_awf worker' AND datname = 'postgres'" 10

# 1. waiting -> ready at executeAt.
id=00000000-0000-0000-0000-000000000101
q "SELECT awf.task_create('w.later', NULL, '$id', execute_at => clock_timestamp() + interval '1500 ms')" >/dev/null
check "a task with executeAt in the future waits" equals waiting "$(status_of $id)"
check "it becomes ready at executeAt" wait_for "SELECT status = 'ready' AND clock_timestamp() >= execute_at FROM awf.task WHERE id = '$id'" 5
check "its log says waiting -> ready" equals "waiting->ready" \
  "SELECT status_from || '->' || status_to FROM awf.task_log WHERE task_id = '$id' AND status_from = 'waiting'"

# 2. requested past requestedToStartTimeout -> ready; the old execId is refused.
id=00000000-0000-0000-0000-000000000102
q "SELECT awf.task_create('w.claim', NULL, '$id', requested_to_start_timeout => 300)" >/dev/null
exec_id=$(claim $id w.claim)
check "the claim gave an execId" test -n "$exec_id"
check "an unstarted claim goes back to ready" wait_for "SELECT status = 'ready' FROM awf.task WHERE id = '$id'" 5
check "the stale execId is refused with WA002" equals WA002 \
  "SELECT awf_test_sqlstate(\$\$SELECT awf.task_start('$id', '$exec_id')\$\$)"

# 3. in-progress past inProgressTimeoutAt: retried while retries remain, then failed.
id=00000000-0000-0000-0000-000000000103
q "SELECT awf.task_create('w.silent', NULL, '$id', in_progress_timeout => 300, allowed_retry_count => 1, retry_delay => 0)" >/dev/null
exec_id=$(claim $id w.silent)
q "SELECT awf.task_start('$id', '$exec_id')" >/dev/null
check "a silent execution times out and is retried (ready again)" \
  wait_for "SELECT status = 'ready' AND retry_count = 1 AND outcome IS NULL FROM awf.task WHERE id = '$id'" 5
exec_id=$(claim $id w.silent)
q "SELECT awf.task_start('$id', '$exec_id')" >/dev/null
check "the last attempt times out into done/failed" \
  wait_for "SELECT status = 'done' AND outcome = 'failed' AND retry_count = 2 FROM awf.task WHERE id = '$id'" 5
check "with outcomeReason awf.task/failed-due-to-in-progress-timeout" equals awf.task/failed-due-to-in-progress-timeout \
  "SELECT awf.task_status('$id')#>>'{resource,outcomeReason,type}'"

# 4. A retry with a delay waits retryDelay, then the worker makes it ready.
id=00000000-0000-0000-0000-000000000104
q "SELECT awf.task_create('w.delay', NULL, '$id', retry_delay => 2000)" >/dev/null
exec_id=$(claim $id w.delay)
q "SELECT awf.task_start('$id', '$exec_id')" >/dev/null
q "SELECT awf.task_fail('$id', '$exec_id', '{\"message\": \"try again\"}')" >/dev/null
check "a failed task with retries left waits retryDelay" equals waiting "$(status_of $id)"
check "then it is ready again" wait_for "SELECT status = 'ready' FROM awf.task WHERE id = '$id'" 5

# 5. Heartbeats keep a task alive for 10x its timeout: 6 s of heartbeats every 100 ms against a
# 600 ms timeout, from one session that commits each (a DO block may COMMIT at top level).
id=00000000-0000-0000-0000-000000000105
q "SELECT awf.task_create('w.busy', NULL, '$id', in_progress_timeout => 600, allowed_retry_count => 0)" >/dev/null
exec_id=$(claim $id w.busy)
q "SELECT awf.task_start('$id', '$exec_id')" >/dev/null
check "6 s of heartbeats every 100 ms keep a 600 ms timeout from firing" q "
  DO \$\$ BEGIN
    FOR i IN 1..60 LOOP
      PERFORM awf.task_notify('$id', '$exec_id', 'heartbeat', 'beat ' || i);
      COMMIT;
      PERFORM pg_sleep(0.1);
    END LOOP;
  END \$\$"
check "the task is still in-progress" equals in-progress "$(status_of $id)"
check "every heartbeat was logged" equals 60 "SELECT count(*) FROM awf.task_log WHERE task_id = '$id' AND kind = 'heartbeat'"
check "and succeeds" equals done "SELECT awf.task_success('$id', '$exec_id')#>>'{resource,status}'"

# 6. Retention deletes done tasks (and their logs) older than awf.retention, keeps recent ones.
old=00000000-0000-0000-0000-000000000106
q "SELECT awf.task_create('w.old', NULL, '$old')" >/dev/null
q "SELECT awf.task_cancel('$old')" >/dev/null
q "UPDATE awf.task SET updated_at = clock_timestamp() - interval '2 days' WHERE id = '$old'"
check "an old done task is deleted" wait_for "SELECT NOT EXISTS (SELECT 1 FROM awf.task WHERE id = '$old')" 5
check "with its log" equals 0 "SELECT count(*) FROM awf.task_log WHERE task_id = '$old'"
check "a recent done task stays" equals 1 "SELECT count(*) FROM awf.task WHERE id = '00000000-0000-0000-0000-000000000105'"

# 7. SIGHUP: the worker reloads its settings and keeps working, same process.
pid=$(worker_pid)
q "ALTER SYSTEM SET awf.tick_interval = '80ms'" && q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
check "after SIGHUP the worker is the same process" equals "$pid" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_awf worker'"
id=00000000-0000-0000-0000-000000000107
q "SELECT awf.task_create('w.hup', NULL, '$id', execute_at => clock_timestamp() + interval '200 ms')" >/dev/null
check "and still promotes due tasks" wait_for "SELECT status = 'ready' FROM awf.task WHERE id = '$id'" 5

# 8. SIGTERM: the worker exits and the postmaster starts a new one.
pid=$(worker_pid)
kill -TERM "$pid" 2>/dev/null || q "SELECT pg_terminate_backend($pid)" >/dev/null
check "after SIGTERM a new worker starts" \
  wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_awf worker' AND pid <> $pid" 10
id=00000000-0000-0000-0000-000000000108
q "SELECT awf.task_create('w.term', NULL, '$id', execute_at => clock_timestamp() + interval '200 ms')" >/dev/null
check "and it works" wait_for "SELECT status = 'ready' FROM awf.task WHERE id = '$id'" 5

# 9. pg_terminate_backend of the worker: restarted the same way.
pid=$(worker_pid)
check "pg_terminate_backend stops the worker" equals t "SELECT pg_terminate_backend($pid)"
check "and a new one starts" \
  wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_awf worker' AND pid <> $pid" 10
id=00000000-0000-0000-0000-000000000109
q "SELECT awf.task_create('w.kill', NULL, '$id', requested_to_start_timeout => 200)" >/dev/null
claim $id w.kill >/dev/null
check "which re-queues expired claims again" wait_for "SELECT status = 'ready' FROM awf.task WHERE id = '$id'" 5

q "ALTER SYSTEM RESET awf.tick_interval" && q "SELECT pg_reload_conf()" >/dev/null

# 10. Claim marks (src/task/claim_marks.cpp; they need the shared-memory change counter, so only a
# preloaded cluster uses them). One session, one definition; each poll takes one task and prints
# its label. A task that becomes ready behind the mark at the mark's priority (here: an executeAt
# an hour in the past) waits while newer tasks fill the batch, is taken as soon as the marks find
# nothing, and at the latest after awf.claim_rescan_interval; a higher priority never waits;
# with the interval 0 the order is strict.
marks=$(psql -X -A -t -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE FUNCTION pg_temp.make(label text, back interval DEFAULT '0', priority int DEFAULT 0) RETURNS void
  LANGUAGE sql AS $$ SELECT NULL FROM awf.task_create('w.marks', label => label,
                            execute_at => clock_timestamp() - back, priority => priority) $$;
CREATE FUNCTION pg_temp.take() RETURNS text
  LANGUAGE sql AS $$ SELECT awf.task_poll(ARRAY['w.marks']) #>> '{resources,0,label}' $$;
SET awf.claim_rescan_interval = '1h';
SELECT pg_temp.make('A'); SELECT pg_temp.take();
SELECT pg_temp.make('B', '1 hour'); SELECT pg_temp.make('C'); SELECT pg_temp.take(); SELECT pg_temp.take();
SELECT pg_temp.make('D', '1 hour', 5); SELECT pg_temp.make('E'); SELECT pg_temp.take(); SELECT pg_temp.take();
SET awf.claim_rescan_interval = '2s';
SELECT pg_sleep(2.1); SELECT pg_temp.make('F'); SELECT pg_temp.take();
SELECT pg_temp.make('G', '1 hour'); SELECT pg_temp.make('H'); SELECT pg_temp.make('I'); SELECT pg_temp.take();
SELECT pg_sleep(2.1); SELECT pg_temp.take(); SELECT pg_temp.take();
SET awf.claim_rescan_interval = 0;
SELECT pg_temp.make('J'); SELECT pg_temp.take();
SELECT pg_temp.make('K', '1 hour'); SELECT pg_temp.make('L'); SELECT pg_temp.take(); SELECT pg_temp.take();
SQL
)
marks=$(grep -v '^$' <<<"$marks" | tr '\n' ' ')
check "claim marks: a task behind the mark waits while newer ones fill the batch, then comes (C B)" \
  test "$(cut -d' ' -f1-3 <<<"$marks")" = "A C B"
check "claim marks: a higher priority never waits (D E)" test "$(cut -d' ' -f4-5 <<<"$marks")" = "D E"
check "claim marks: after awf.claim_rescan_interval the claim reads from the head again (F H G I)" \
  test "$(cut -d' ' -f6-9 <<<"$marks")" = "F H G I"
check "claim marks: with awf.claim_rescan_interval = 0 the order is strict (J K L)" \
  test "$(cut -d' ' -f10-12 <<<"$marks")" = "J K L"
[ "$(wc -w <<<"$marks")" = 12 ] || echo "# claim marks: the session printed: $marks" >&2

echo "1..$n"
echo "worker: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
