#!/usr/bin/env bash
# Run by scripts/test.sh inside pg_virtualenv (PGHOST, PGPORT, PGUSER, PGPASSWORD are set).
# Writes "<passed> <failed>" to $AWF_LOG_DIR/<suite>.counts for each suite it runs.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG_DIR=${AWF_LOG_DIR:?}

# pg_regress (sql/, expected/) and isolation specs (test/isolation/), as two runs so that a
# failure in one does not hide the other. Result lines read "test NAME ... ok" or "... FAILED".
rm -rf results output_iso regression.diffs regression.out
make -s installcheck ISOLATION= >"$LOG_DIR/regress.log" 2>&1
make -s installcheck REGRESS= >"$LOG_DIR/isolation.log" 2>&1
for suite in regress isolation; do
  ok=$(grep -cE '\.\.\. +ok' "$LOG_DIR/$suite.log" || true)
  bad=$(grep -cE '\.\.\. +FAILED' "$LOG_DIR/$suite.log" || true)
  # A run that printed no result line at all (e.g. could not connect) counts as one failure.
  [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ] && bad=1
  echo "$ok $bad" >"$LOG_DIR/$suite.counts"
done

# The drain test: 8 pollers, 10,000 tasks, maxBatchSize 1 and 10; no task claimed twice or missed.
psql -qAtc "CREATE DATABASE awf_drain" >/dev/null && \
  PGDATABASE=awf_drain psql -qAtc "CREATE EXTENSION awf" >/dev/null
PGDATABASE=awf_drain ./build/awf_drain_test >"$LOG_DIR/drain.log" 2>&1
drain_rc=$?
cat "$LOG_DIR/drain.log"
ok=$(grep -c 'claimed_twice=0 never_claimed=0' "$LOG_DIR/drain.log" || true)
if [ "$drain_rc" -ne 0 ] || [ "$ok" -eq 0 ]; then
  echo "$ok 1" >"$LOG_DIR/drain.counts"
else
  echo "$ok 0" >"$LOG_DIR/drain.counts"
fi

# Long-poll without shared_preload_libraries: the sleep-and-retry fallback, for its figure.
if [ -x build/awf_longpoll_test ]; then
  PGDATABASE=awf_drain ./build/awf_longpoll_test --mode fallback --tasks 30 \
    >"$LOG_DIR/longpoll-fallback.log" 2>&1
  rc=$?
  cat "$LOG_DIR/longpoll-fallback.log"
  if [ $rc -eq 0 ]; then echo "1 0"; else echo "0 1"; fi >"$LOG_DIR/longpoll-fallback.counts"
fi
