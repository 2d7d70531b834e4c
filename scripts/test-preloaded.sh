#!/usr/bin/env bash
# Run by scripts/test.sh inside a pg_virtualenv cluster with awf in shared_preload_libraries: the
# background worker tests, the long-poll wakeup test, and the bridge's end-to-end (/rpc, NL Flow, XINA,
# workflows)
# and load checks.
# Writes "<passed> <failed>" to $AWF_LOG_DIR/<suite>.counts.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG_DIR=${AWF_LOG_DIR:?}

source scripts/suite-record.sh

bash test/worker/worker_test.sh >"$LOG_DIR/worker.log" 2>&1
record worker

if [ -x build/awf_longpoll_test ]; then
  ./build/awf_longpoll_test --mode preload >"$LOG_DIR/longpoll.log" 2>&1
  rc=$?
  cat "$LOG_DIR/longpoll.log"
  if [ $rc -eq 0 ]; then echo "1 0" >"$LOG_DIR/longpoll.counts"; else echo "0 1" >"$LOG_DIR/longpoll.counts"; fi
fi

# The bridge end to end: a real awf-bridge process over HTTP (it restarts PostgreSQL once, after
# the worker and long-poll tests are done with the cluster).
bash test/bridge/e2e_test.sh >"$LOG_DIR/bridge-e2e.log" 2>&1
record bridge-e2e

# The NL Flow REST API through the bridge, with executors on /rpc and the worker's timeouts.
bash test/bridge/nlflow_e2e.sh >"$LOG_DIR/nlflow-e2e.log" 2>&1
record nlflow-e2e

# The XINA task actions through the bridge: every action, sequences under 4 executors, pause and
# resume, the worker's delayed concludes, deadlines and retention.
bash test/bridge/xina_e2e.sh >"$LOG_DIR/xina-e2e.log" 2>&1
record xina-e2e

# Aidbox workflows through the bridge: decision tasks polled through workflowDefinitions, built-in
# tasks and scheduler rules run by the worker, concurrency limits under 8 executors.
bash test/bridge/workflow_e2e.sh >"$LOG_DIR/workflow-e2e.log" 2>&1
record workflow-e2e

# The bridge under load: lifecycle rate through HTTP (JSON, YAML) against direct SQL, and 1,000 idle
# long-polls (memory, database connections). Figures are printed; only hard limits fail it.
AWF_LOAD_SECONDS=${AWF_LOAD_SECONDS:-3} AWF_LOAD_LOG_DIR="$LOG_DIR" \
  bash test/bridge/load_check.sh >"$LOG_DIR/bridge-load.log" 2>&1
record bridge-load
