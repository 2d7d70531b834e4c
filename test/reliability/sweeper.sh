#!/usr/bin/env bash
# Sweeper vs claimers (issue 8, item 5): 16 claimers poll, start, heartbeat, finish and abandon
# tasks with timeouts of 150-250 ms while the background worker (awf.tick_interval = 50 ms)
# re-queues and times out the same tasks. No deadlock (claimers' 40P01 and
# pg_stat_database.deadlocks), no serialization failure, no unexpected error, nothing stuck once
# the claimers stop, and the worker did re-queue. See sweeper_check.cpp for every check.
#
# Runs inside a pg_virtualenv cluster with awf preloaded (PG* set), e.g.
#   AWF_BUILD_DIR=/tmp/build pg_virtualenv -t -v 15 -o shared_preload_libraries=awf \
#     -o awf.database=postgres -o awf.tick_interval=50 bash test/reliability/sweeper.sh [--long]
# Default 30 s (CI); --long runs 300 s; --seconds N any other length; --claimers N.
# Last line: "sweeper: N passed, N failed"; exit 0 iff none failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${AWF_BUILD_DIR:-build}
seconds=30
claimers=16
while [ $# -gt 0 ]; do
  case $1 in
    --long) seconds=300 ;;
    --seconds) seconds=${2:?--seconds needs a value}; shift ;;
    --claimers) claimers=${2:?--claimers needs a value}; shift ;;
    *) echo "sweeper.sh: unknown argument $1" >&2; echo "sweeper: 0 passed, 1 failed"; exit 1 ;;
  esac
  shift
done

passed=0
failed=0
tool=$BUILD_DIR/awf_sweeper_check
if [ ! -x "$tool" ]; then
  echo "FAIL build: $tool not found (cmake --build $BUILD_DIR --target awf_sweeper_check)"
  echo "sweeper: 0 passed, 1 failed"
  exit 1
fi
db=${PGDATABASE:-postgres}
worker_db=$(psql -XAtqc "SHOW awf.database" 2>/dev/null)
if [ "$worker_db" != "$db" ]; then
  echo "FAIL setup: the awf worker sweeps database '${worker_db:-?}' (is awf preloaded?), this test uses '$db'"
  echo "sweeper: 0 passed, 1 failed"
  exit 1
fi
psql -XAtq -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS awf" || {
  echo "FAIL setup: CREATE EXTENSION awf"; echo "sweeper: 0 passed, 1 failed"; exit 1; }

start=$(date +%s)
out=$(mktemp)
"$tool" --seconds "$seconds" --claimers "$claimers" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
passed=$(grep -c '^PASS ' "$out")
failed=$(grep -c '^FAIL ' "$out")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "FAIL awf_sweeper_check exited with status $rc"
  failed=$((failed + 1))
fi
rm -f "$out"
echo "sweeper: wall time $(( $(date +%s) - start )) s"
echo "sweeper: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
