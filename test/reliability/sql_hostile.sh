#!/usr/bin/env bash
# Hostile arguments for every SQL function of the extension (issue 8, item 8): every function of
# schema awf (from pg_catalog, every overload) and every awf.rpc method (from
# src/core/methods.cpp), each argument position in turn given NULLs, wrong types, 1 MB texts,
# 100,000-element arrays, 10,000-deep JSON, out-of-range numbers, infinite timestamps, injection
# text and JSON documents of the wrong shape; each call in a subtransaction of its own. No
# internal error (XX***, 58***, WA900), no crash, no change left by a failing call, no hang; a
# role without grants gets 42501 everywhere. See sql_hostile.cpp for the details.
#
# Runs inside a pg_virtualenv cluster (PG* set, superuser), in a database of its own, e.g.
#   AWF_BUILD_DIR=/tmp/build pg_virtualenv -t -v 15 -o shared_preload_libraries=awf \
#     -o awf.database=postgres -o awf.tick_interval=50 bash test/reliability/sql_hostile.sh
# --full: heavy values at every depth of every JSON document and for the engine's own functions
# (several minutes). Last line: "sql-hostile: N passed, N failed"; exit 0 iff none failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${AWF_BUILD_DIR:-build}
args=()
for a in "$@"; do
  case $a in
    --full|--verbose) args+=("$a") ;;
    --long) args+=(--full) ;;
    *) echo "sql_hostile.sh: unknown argument $a" >&2; echo "sql-hostile: 0 passed, 1 failed"; exit 1 ;;
  esac
done
tool=$BUILD_DIR/awf_sql_hostile
if [ ! -x "$tool" ]; then
  echo "FAIL build: $tool not found (cmake --build $BUILD_DIR --target awf_sql_hostile)"
  echo "sql-hostile: 0 passed, 1 failed"
  exit 1
fi

db=awf_hostile_$$
cleanup() {
  psql -XAtq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  psql -XAtq -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS awf_hostile_nobody" >/dev/null 2>&1
}
trap cleanup EXIT
if ! psql -XAtq -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" ||
   ! psql -XAtq -d "$db" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION awf"; then
  echo "FAIL setup: could not create database $db with the awf extension"
  echo "sql-hostile: 0 passed, 1 failed"
  exit 1
fi

start=$(date +%s)
out=$(mktemp)
"$tool" "dbname=$db" --methods-source src/core/methods.cpp "${args[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
passed=$(grep -c '^PASS ' "$out")
failed=$(grep -c '^FAIL ' "$out")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "FAIL awf_sql_hostile exited with status $rc"
  failed=$((failed + 1))
fi
if [ "$rc" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "FAIL awf_sql_hostile reported no checks"
  failed=$((failed + 1))
fi
rm -f "$out"
echo "sql-hostile: wall time $(( $(date +%s) - start )) s"
echo "sql-hostile: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
