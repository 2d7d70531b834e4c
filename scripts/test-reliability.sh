#!/usr/bin/env bash
# Run by scripts/test.sh inside a pg_virtualenv cluster of its own with awf preloaded: the
# reliability and security tests of test/reliability/ (RELIABILITY.md says what each proves).
# The fault tests kill and restart PostgreSQL, so they run last and in a cluster no other suite
# shares. Short versions by default; AWF_RELIABILITY_LONG=1 passes --long to the tests that have
# one. Writes "<passed> <failed>" to $AWF_LOG_DIR/<suite>.counts.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG_DIR=${AWF_LOG_DIR:?}
source scripts/suite-record.sh
long=()
[ "${AWF_RELIABILITY_LONG:-0}" = 1 ] && long=(--long)

for suite in security sql-hostile http-hostile slow-clients sweeper faults; do
  script=test/reliability/${suite//-/_}.sh
  args=()
  case $suite in sql-hostile|slow-clients|sweeper|faults) args=("${long[@]}") ;; esac
  bash "$script" "${args[@]}" >"$LOG_DIR/$suite.log" 2>&1
  record "$suite"
done
