#!/usr/bin/env bash
# Security (issue 8, items 10-12): who may call what, install scripts that adopt nothing, secrets.
#
#  11. Install and upgrade adopt no pre-existing object: an attacker (a LOGIN role that owns its
#      database, no superuser) pre-creates schema awf (empty, with a look-alike function, or a
#      superuser's schema it may create in, or left holding its object) before CREATE EXTENSION,
#      and before ALTER EXTENSION awf UPDATE (1.0 -> 1.4); awf roles that exist with LOGIN,
#      SUPERUSER, CREATEROLE or BYPASSRLS. Each must make the extension refuse (error), leaving
#      nothing of awf behind. The CREATE OR REPLACE / IF NOT EXISTS of the install scripts are
#      listed and each judged. Per version (1.0, 1.1, 1.2, 1.3, 1.4, and a fresh 1.4): every SECURITY
#      DEFINER function pins search_path and is owned by a superuser, no function is executable
#      by PUBLIC, every object of schema awf is a member of the extension (sql/hardening.sql
#      checks the final state once; this extends it to every version).
#  10. A role matrix over real HTTP: every RPC method (alone and in a batch), every XINA action,
#      every NL Flow route and every GET endpoint, called as anonymous, with a wrong secret, as
#      executor, user, admin and a "foreign" client (one whose stored role is none of awf's), and
#      at the SQL level every function of schema awf called by every awf role and by LOGIN roles
#      without awf grants (security_sql_matrix.sql). The HTTP expectation is the table below
#      (from DESIGN.md), itself checked against the grants in pg_proc; the SQL one comes from
#      pg_proc's ACLs. Anonymous and wrong credentials never reach SQL: every call carries a
#      marker, and with log_statement = all the server log shows the markers of every call that
#      ran SQL and none of theirs; their creates leave no task.
#  12. Secrets: stored only as yescrypt hashes ($y$...), in no column of schema awf in clear,
#      never logged (a bridge without --quiet and PostgreSQL with log_statement = all, fed good and
#      bad secrets in Basic, Bearer and X-API-KEY: 0 occurrences of any secret, of its Basic
#      encoding or of its Bearer token), compared in constant time (bridge/auth.cpp read for the
#      code path; awf_security_auth_check runs it on the database with crypt_r interposed: an
#      unknown id still costs one hash of the same cost). No timing is measured.
#
# Runs inside a pg_virtualenv cluster with awf preloaded (PG* set; the server as the postgres
# user), from any directory:
#   AWF_BUILD_DIR=/tmp/build pg_virtualenv -t -v 15 -o shared_preload_libraries=awf \
#     -o awf.database=postgres -o awf.tick_interval=50 bash test/reliability/security.sh
# Needs $AWF_BUILD_DIR/awf-bridge and awf_security_auth_check (cmake --build BUILD --target
# awf-bridge awf_security_auth_check), the extension installed, psql, curl, jq. The server log is
# found with pg_current_logfile() or pg_lsclusters (SECURITY_PG_LOG overrides). Works in scratch
# databases (security, security_adopt_*) it drops at the end; it sets log_statement = all with
# ALTER SYSTEM for its run and resets it. Output: "ok - …"/"not ok - …", "# …" notes, figure lines
# "security: …", and last "security: N passed, N failed"; exit 0 iff none failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD_DIR=${AWF_BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
STARTED=$SECONDS

TMP=$(mktemp -d /tmp/awf-security.XXXXXX)
passed=0
failed=0
FINISHED=0
BRIDGE_PID=
LOGGING_SET=0
DB=security   # the scratch database of the matrix and the secrets

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
note() { echo "# $*"; }
figure() { echo "security: $*"; }
check() { if [ "$1" = 1 ]; then ok "$2"; else not_ok "$2"; fi; }

q() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1" 2>>"$TMP/psql.err" </dev/null; }   # in the PG* database
qd() { local db=$1; shift; psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1" 2>>"$TMP/psql.err" </dev/null; }
# try_sql DB SQL...: runs the statements (each -c, in order); prints "ok" or the error message.
try_sql() {
  local db=$1 out args=()
  shift
  for s in "$@"; do args+=(-c "$s"); done
  if out=$(psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" "${args[@]}" 2>&1 >/dev/null </dev/null); then
    echo ok
  else
    grep -m1 -E '^(psql:.*)?ERROR:' <<<"$out" | sed -E 's/^psql:[^:]*:[0-9]+: //; s/^ERROR: +//' || echo "$out" | head -1
  fi
}
uuid() { cat /proc/sys/kernel/random/uuid; }
new_uuid() { read -r "$1" </proc/sys/kernel/random/uuid; }   # new_uuid VAR: no fork (the matrix makes hundreds)
process_gone() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

stop_bridge() {
  [ -n "$BRIDGE_PID" ] || return 0
  if kill -0 "$BRIDGE_PID" 2>/dev/null; then
    kill -TERM "$BRIDGE_PID" 2>/dev/null
    local deadline=$((SECONDS + 15))
    while ! process_gone "$BRIDGE_PID" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    process_gone "$BRIDGE_PID" || kill -KILL "$BRIDGE_PID" 2>/dev/null
  fi
  wait "$BRIDGE_PID" 2>/dev/null
  BRIDGE_PID=
}

drop_scratch() {
  local d
  for d in $(q "SELECT datname FROM pg_database WHERE datname = 'security' OR datname LIKE 'security\_adopt\_%'"); do
    q "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null
  done
  # Roles this script made (the awf_* roles belong to the extension: left as CREATE EXTENSION made them).
  for d in $(q "SELECT rolname FROM pg_roles WHERE rolname LIKE 'security\_%'"); do
    q "DROP ROLE IF EXISTS \"$d\"" >/dev/null
  done
}

TORN_DOWN=0
FATAL=0
teardown() {  # stop the bridge, reset the logging, drop the scratch databases and roles
  [ "$TORN_DOWN" = 1 ] && return
  TORN_DOWN=1
  stop_bridge
  if [ "$LOGGING_SET" = 1 ]; then
    q "ALTER SYSTEM RESET log_statement" >/dev/null
    q "ALTER SYSTEM RESET log_parameter_max_length_on_error" >/dev/null
    q "SELECT pg_reload_conf()" >/dev/null
  fi
  drop_scratch
}

finish() {  # the last lines
  [ "$FINISHED" = 1 ] && return
  FINISHED=1
  [ "$failed" -eq 0 ] && [ "${KEEP_TMP:-0}" != 1 ] || note "files of this run (bridge output, markers, psql errors): $TMP"
  figure "wall time $((SECONDS - STARTED)) s"
  echo "security: $passed passed, $failed failed"
}

cleanup() {
  local rc=$?
  teardown
  if [ "$FINISHED" != 1 ]; then
    [ "$FATAL" = 1 ] || not_ok "the script stopped before its end (exit status $rc)"
    finish
  fi
  if [ "$failed" -eq 0 ] && [ "${KEEP_TMP:-0}" != 1 ]; then rm -rf "$TMP"; fi
  [ "$failed" -eq 0 ] || exit 1
  exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fatal() {
  FATAL=1
  not_ok "setup: $*"
  exit 1
}

# --- preflight ---------------------------------------------------------------------------------
for tool in curl jq psql; do command -v "$tool" >/dev/null || fatal "$tool is not installed"; done
[ -n "${PGPORT:-}" ] || fatal "run inside pg_virtualenv (PGPORT is not set)"
[ "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ] || fatal "PG* must name a superuser"
[ -x "$BUILD_DIR/awf-bridge" ] || fatal "$BUILD_DIR/awf-bridge not found (cmake --build $BUILD_DIR --target awf-bridge)"
AUTH_CHECK=$BUILD_DIR/awf_security_auth_check
[ -x "$AUTH_CHECK" ] || fatal "$AUTH_CHECK not found (cmake --build $BUILD_DIR --target awf_security_auth_check)"
# A private copy of the bridge: another build may replace the binary while this runs.
BIN=$TMP/awf-bridge
cp "$BUILD_DIR/awf-bridge" "$BIN" && "$BIN" --help | grep -q -- '--listen' || fatal "$BUILD_DIR/awf-bridge does not run"
drop_scratch  # leftovers of an interrupted run

# The server log, and statement logging for this run (item 12 greps it; item 10 finds markers).
PG_LOG=${SECURITY_PG_LOG:-}
if [ -z "$PG_LOG" ]; then
  PG_LOG=$(q "SELECT pg_current_logfile('stderr')")
  if [ -n "$PG_LOG" ] && [ "${PG_LOG#/}" = "$PG_LOG" ]; then PG_LOG=$(q "SHOW data_directory")/$PG_LOG; fi
fi
if [ -z "$PG_LOG" ] && command -v pg_lsclusters >/dev/null; then
  PG_LOG=$(pg_lsclusters -h | awk -v p="$PGPORT" '$3 == p {print $7; exit}')
fi
[ -n "$PG_LOG" ] && [ -r "$PG_LOG" ] || fatal "cannot read the server log (found '${PG_LOG:-nothing}'; set SECURITY_PG_LOG)"
q "ALTER SYSTEM SET log_statement = 'all'" >/dev/null && LOGGING_SET=1
q "ALTER SYSTEM SET log_parameter_max_length_on_error = -1" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
probe=security-log-probe-$(uuid)
deadline=$((SECONDS + 20))
until [ "$(psql -X -qAt -c "SELECT 1 AS \"$probe\"" 2>/dev/null)" = 1 ] && grep -qF "$probe" "$PG_LOG"; do
  [ $SECONDS -lt $deadline ] || fatal "log_statement = all does not reach $PG_LOG"
  sleep 0.2
done
note "server log $PG_LOG (log_statement = all for this run), bridge $BUILD_DIR/awf-bridge"

# ==============================================================================================
# Item 11: install and upgrade scripts adopt no pre-existing object
# ==============================================================================================
note "--- item 11: install and upgrade adopt nothing (t=$((SECONDS - STARTED)) s)"
q "CREATE ROLE security_attacker LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB" >/dev/null ||
  fatal "cannot create the role security_attacker"
ATTACKER=security_attacker
ADB=
# fresh_db: a scratch database owned by the attacker (who may therefore create schemas in it), with
# no extension awf and no schema awf: made once, then emptied of both between scenarios.
fresh_db() {
  if [ -z "$ADB" ]; then
    ADB=security_adopt_1
    q "CREATE DATABASE $ADB OWNER $ATTACKER" >/dev/null || fatal "CREATE DATABASE $ADB"
  else
    qd "$ADB" "SET client_min_messages = warning; DROP EXTENSION IF EXISTS awf CASCADE; DROP SCHEMA IF EXISTS awf CASCADE" >/dev/null
  fi
  [ "$(qd "$ADB" "SELECT count(*) FROM pg_namespace WHERE nspname = 'awf'")" = 0 ] || fatal "cannot empty $ADB"
}
as_attacker() { local db=$1; shift; try_sql "$db" "SET ROLE $ATTACKER" "$@"; }
awf_installed() { [ "$(qd "$1" "SELECT count(*) FROM pg_extension WHERE extname = 'awf'")" != 0 ]; }
awf_functions() { qd "$1" "SELECT count(*) FROM pg_proc WHERE pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'awf')"; }
ext_members() {  # ext_members DB: objects in schema awf that are members of extension awf
  qd "$1" "SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
            WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'awf' AND d.deptype = 'e'"
}

# Roles: the extension reuses awf_executor/awf_user/awf_admin when they exist (they are cluster-wide;
# a second database reuses them) but must refuse one that can log in or holds a dangerous attribute.
existing_roles=$(q "SELECT count(*) FROM pg_roles WHERE rolname IN ('awf_executor', 'awf_user', 'awf_admin')")
if [ "$existing_roles" != 0 ]; then
  note "SKIP pre-created awf roles: the awf roles exist already in this cluster (run in a fresh pg_virtualenv)"
else
  fresh_db
  for attr in LOGIN SUPERUSER CREATEROLE BYPASSRLS; do
    for role in awf_executor awf_admin; do
      case $attr in LOGIN) opts=LOGIN ;; *) opts="NOLOGIN $attr" ;; esac
      q "CREATE ROLE $role $opts" >/dev/null || fatal "CREATE ROLE $role $opts"
      r=$(try_sql "$ADB" "CREATE EXTENSION awf")
      left=$(qd "$ADB" "SELECT count(*) FROM pg_extension WHERE extname = 'awf'")
      grants=$(q "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid OR r.oid = m.member
                   WHERE r.rolname = '$role'")
      q "DROP ROLE $role" >/dev/null
      q "DROP ROLE IF EXISTS awf_executor, awf_user, awf_admin" >/dev/null
      if [ "$r" != ok ] && [ "$left" = 0 ] && [ "$grants" = 0 ] && grep -q "$role" <<<"$r"; then
        ok "a role $role that exists with $attr: CREATE EXTENSION refuses ($r)"
      else
        not_ok "a role $role that exists with $attr: CREATE EXTENSION gave '$r' (extension rows $left, memberships $grants)"
      fi
    done
  done
fi

# Schema awf made by someone else before CREATE EXTENSION (the control file names it; PostgreSQL
# uses an existing one as it is, so the scripts must refuse it).
refuses_install() {  # refuses_install DB WHAT: CREATE EXTENSION awf must fail and leave no awf object
  local db=$1 what=$2 r members
  r=$(try_sql "$db" "CREATE EXTENSION awf")
  members=$(ext_members "$db")
  if [ "$r" != ok ] && ! awf_installed "$db" && [ "$members" = 0 ]; then
    ok "$what: CREATE EXTENSION awf refuses ($r)"
  else
    not_ok "$what: CREATE EXTENSION awf gave '$r' (installed: $(awf_installed "$db" && echo yes || echo no), $members objects adopted as members, schema awf owned by $(qd "$db" "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'awf'"))"
  fi
}
fresh_db
r=$(as_attacker "$ADB" "CREATE SCHEMA awf")
[ "$r" = ok ] || fatal "the attacker cannot create schema awf in its own database: $r"
refuses_install "$ADB" "schema awf pre-created (empty) by a non-superuser"

fresh_db
r=$(as_attacker "$ADB" "CREATE SCHEMA awf" \
  "CREATE FUNCTION awf.task_poll(text[] DEFAULT NULL, text[] DEFAULT NULL, integer DEFAULT 1) RETURNS jsonb LANGUAGE sql AS 'SELECT ''{}''::jsonb'" \
  "CREATE FUNCTION awf.gen_random_uuid() RETURNS uuid LANGUAGE sql AS 'SELECT ''00000000-0000-0000-0000-000000000000''::uuid'")
[ "$r" = ok ] || fatal "the attacker cannot plant functions: $r"
refuses_install "$ADB" "schema awf pre-created by a non-superuser with look-alike awf.task_poll and awf.gen_random_uuid"
check "$([ "$(qd "$ADB" "SELECT count(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
                           WHERE p.pronamespace = 'awf'::regnamespace AND r.rolname = '$ATTACKER'")" = 2 ] &&
         [ "$(qd "$ADB" "SELECT count(*) FROM pg_proc WHERE pronamespace = 'awf'::regnamespace")" = 2 ] && echo 1)" \
  "... the look-alikes are still the attacker's, and no awf function was left beside them"

fresh_db
qd "$ADB" "CREATE SCHEMA awf; GRANT CREATE ON SCHEMA awf TO $ATTACKER" >/dev/null
refuses_install "$ADB" "schema awf pre-created by a superuser who granted CREATE on it to a non-superuser"

fresh_db
qd "$ADB" "CREATE SCHEMA awf; GRANT CREATE, USAGE ON SCHEMA awf TO $ATTACKER" >/dev/null
r=$(as_attacker "$ADB" "CREATE FUNCTION awf.jsonb_build_object(text, text) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb'")
qd "$ADB" "REVOKE CREATE, USAGE ON SCHEMA awf FROM $ATTACKER" >/dev/null
[ "$r" = ok ] || fatal "the attacker cannot plant a function in a granted schema: $r"
refuses_install "$ADB" "schema awf of a superuser still holding a non-superuser's function (CREATE since revoked)"

fresh_db
qd "$ADB" "CREATE SCHEMA awf" >/dev/null
r=$(try_sql "$ADB" "CREATE EXTENSION awf")
check "$([ "$r" = ok ] && echo 1)" "control: schema awf pre-created by a superuser, nothing else in it: CREATE EXTENSION awf installs ($r)"

# Upgrades: objects that 1.1 to 1.3 create, pre-created before ALTER EXTENSION awf UPDATE.
fresh_db
r=$(try_sql "$ADB" "CREATE EXTENSION awf VERSION '1.0'")
[ "$r" = ok ] || fatal "CREATE EXTENSION awf VERSION '1.0': $r"
plants=(
  "CREATE TABLE awf.workflow (id uuid)"
  "CREATE TABLE awf.nlflow_workflow (id text)"
  "CREATE FUNCTION awf.scheduler_rule_list(text) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb'"
  "CREATE FUNCTION awf.sweep_surfaces(timestamptz, integer, timestamptz) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb'"
  "CREATE TYPE awf.xina_task AS (num bigint)"
  "CREATE VIEW awf.task_sequence AS SELECT 1 AS x"
)
refused=0
for p in "${plants[@]}"; do
  r=$(as_attacker "$ADB" "$p")
  case $r in *"permission denied for schema awf"*) refused=$((refused + 1)) ;; *) note "attacker: $p -> $r" ;; esac
done
check "$([ "$refused" = ${#plants[@]} ] && echo 1)" \
  "after a clean 1.0 install the database owner cannot pre-create what 1.1-1.3 create ($refused/${#plants[@]} refused: permission denied for schema awf)"
r=$(try_sql "$ADB" "ALTER EXTENSION awf UPDATE")
bad=$(qd "$ADB" "SELECT count(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
                  WHERE p.pronamespace = 'awf'::regnamespace AND NOT r.rolsuper")
check "$([ "$r" = ok ] && [ "$(qd "$ADB" "SELECT extversion FROM pg_extension WHERE extname = 'awf'")" = 1.4 ] && [ "$bad" = 0 ] && echo 1)" \
  "control: ALTER EXTENSION awf UPDATE from a clean 1.0 reaches 1.4 ($r; functions not owned by a superuser: $bad)"

# An attacker-owned schema awf that 1.0 (released, unchanged) took as it was: the update must refuse.
fresh_db
as_attacker "$ADB" "CREATE SCHEMA awf" >/dev/null
r=$(try_sql "$ADB" "CREATE EXTENSION awf VERSION '1.0'")
note "known, not fixable in place: the released 1.0 script installs into a schema awf a non-superuser made ($r); the update to 1.3 must refuse it"
r=$(try_sql "$ADB" "ALTER EXTENSION awf UPDATE")
v=$(qd "$ADB" "SELECT extversion FROM pg_extension WHERE extname = 'awf'")
check "$([ "$r" != ok ] && [ "$v" = 1.0 ] && echo 1)" \
  "1.0 installed in a non-superuser's schema awf: ALTER EXTENSION awf UPDATE refuses (update: $r; version now $v)"
r=$(as_attacker "$ADB" "CREATE TABLE awf.workflow (id uuid)")
r2=$(try_sql "$ADB" "ALTER EXTENSION awf UPDATE")
m=$(qd "$ADB" "SELECT count(*) FROM pg_depend d JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
                WHERE c.oid = 'awf.workflow'::regclass AND d.deptype = 'e'")
check "$([ "$r" = ok ] && [ "$r2" != ok ] && [ "$m" = 0 ] && echo 1)" \
  "... and with a planted awf.workflow (a table 1.3 creates): the update refuses and does not adopt it (update: $r2; members named awf.workflow: $m)"
r=$(as_attacker "$ADB" "DROP FUNCTION awf.tick(integer)")
check "$(grep -q 'extension awf requires it' <<<"$r" && echo 1)" \
  "... the schema's owner cannot drop a member to swap in its own (what CREATE OR REPLACE would then take): $r"

# The install scripts' CREATE OR REPLACE / IF NOT EXISTS, each judged: replacing a non-member is
# the danger (PostgreSQL 15 refuses CREATE OR REPLACE of an object that is not the extension's).
judged=0
unjudged=()
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  text=${rest#*:}
  case "$(basename "$file"):$text" in
    "awf--1.1--1.2.sql:CREATE OR REPLACE FUNCTION awf.sweep_surfaces("*|"awf--1.1--1.2.sql:CREATE OR REPLACE FUNCTION awf.nlflow_workflow_put("*|\
    "awf--1.2--1.3.sql:CREATE OR REPLACE FUNCTION awf.client_put("*|"awf--1.2--1.3.sql:CREATE OR REPLACE FUNCTION awf.nlflow_key_put("*|\
    "awf--1.3--1.4.sql:CREATE OR REPLACE FUNCTION awf.sweep_surfaces("*|"awf--1.3--1.4.sql:CREATE OR REPLACE FUNCTION awf.cleanup_run("*)
      note "judged: $(basename "$file"):${rest%%:*}: ${text:0:70}… replaces an earlier version's own member; a non-member of that name is refused by PostgreSQL and cannot be planted (schema awf is the superuser's, members cannot be dropped)"
      judged=$((judged + 1)) ;;
    "awf--1.0.sql:    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN")
      note "judged: awf--1.0.sql:${rest%%:*}: the awf roles are reused when they exist (cluster-wide, shared by databases) unless they can log in or hold SUPERUSER/CREATEROLE/BYPASSRLS (tested above)"
      judged=$((judged + 1)) ;;
    *)
      if grep -qE '^[[:space:]]*--' <<<"$text"; then
        :  # a comment
      elif grep -qiE '^[[:space:]]*(IF|ELSIF|WHEN)[[:space:]]+(NOT[[:space:]]+)?EXISTS[[:space:]]*\(' <<<"$text"; then
        judged=$((judged + 1))  # a PL/pgSQL condition on data, not DDL
      else
        unjudged+=("$(basename "$file"):$rest")
      fi ;;
  esac
done < <(grep -n -i -E 'OR[[:space:]]+REPLACE|IF[[:space:]]+(NOT[[:space:]]+)?EXISTS' "$ROOT"/sql/awf--*.sql)
check "$([ ${#unjudged[@]} = 0 ] && echo 1)" \
  "every CREATE OR REPLACE / IF [NOT] EXISTS of sql/awf--*.sql is judged ($judged; unjudged: ${#unjudged[@]})"
for u in "${unjudged[@]}"; do note "  unjudged: $u"; done

# The SECURITY DEFINER audit at every version, and a fresh install against the upgraded one.
audit_sql="
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = 'awf'),
ext AS (SELECT oid FROM pg_extension WHERE extname = 'awf'),
mem AS (SELECT classid, objid FROM pg_depend
         WHERE refclassid = 'pg_extension'::regclass AND refobjid = (SELECT oid FROM ext) AND deptype = 'e'),
f AS (SELECT p.*, r.rolsuper AS super FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
       WHERE p.pronamespace = (SELECT oid FROM ns))
SELECT 'definer without search_path=pg_catalog, awf, pg_temp: ' || oid::regprocedure FROM f
 WHERE prosecdef AND NOT ('search_path=pg_catalog, awf, pg_temp' = ANY (coalesce(proconfig, '{}')))
UNION ALL SELECT 'function not owned by a superuser: ' || oid::regprocedure FROM f WHERE NOT super
UNION ALL SELECT 'EXECUTE for PUBLIC: ' || oid::regprocedure FROM f
 WHERE EXISTS (SELECT 1 FROM aclexplode(coalesce(proacl, acldefault('f', proowner))) a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
UNION ALL SELECT 'function not a member of extension awf: ' || oid::regprocedure FROM f
 WHERE NOT EXISTS (SELECT 1 FROM mem WHERE classid = 'pg_proc'::regclass AND objid = f.oid)
UNION ALL SELECT 'relation not a member of extension awf: ' || c.oid::regclass FROM pg_class c
 WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind NOT IN ('i', 'I', 't')
   AND NOT EXISTS (SELECT 1 FROM mem WHERE classid = 'pg_class'::regclass AND objid = c.oid)
UNION ALL SELECT 'type not a member of extension awf: ' || t.oid::regtype FROM pg_type t
 WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typrelid = 0 AND t.typcategory <> 'A'
   AND NOT EXISTS (SELECT 1 FROM mem WHERE classid = 'pg_type'::regclass AND objid = t.oid)
UNION ALL SELECT 'grant to PUBLIC on ' || c.oid::regclass || ': ' || a.privilege_type FROM pg_class c
 CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))) a
 WHERE c.relnamespace = (SELECT oid FROM ns) AND a.grantee = 0
UNION ALL SELECT 'schema awf owned by a non-superuser' FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
 WHERE n.nspname = 'awf' AND NOT r.rolsuper
UNION ALL SELECT 'CREATE on schema awf for ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
  FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
 WHERE n.nspname = 'awf' AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner"
shape_sql="SELECT md5(string_agg(p.oid::regprocedure::text || '|' || p.prosecdef || '|' || coalesce(p.proconfig::text, '') || '|'
                  || coalesce((SELECT string_agg(a.grantee::regrole::text || ':' || a.privilege_type, ',' ORDER BY 1)
                                 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                WHERE a.grantee <> p.proowner), ''), E'\n' ORDER BY 1)) || ' '
                  || count(*) || ' ' || count(*) FILTER (WHERE p.prosecdef)
             FROM pg_proc p WHERE p.pronamespace = 'awf'::regnamespace"
fresh_db
for v in 1.0 1.1 1.2 1.3 1.4; do
  if [ "$v" = 1.0 ]; then r=$(try_sql "$ADB" "CREATE EXTENSION awf VERSION '1.0'")
  else r=$(try_sql "$ADB" "ALTER EXTENSION awf UPDATE TO '$v'"); fi
  problems=$(qd "$ADB" "$audit_sql")
  counts=$(qd "$ADB" "SELECT count(*) || ' functions, ' || count(*) FILTER (WHERE prosecdef) || ' SECURITY DEFINER'
                       FROM pg_proc WHERE pronamespace = 'awf'::regnamespace")
  if [ "$r" = ok ] && [ -z "$problems" ]; then
    ok "version $v (installed 1.0, updated step by step): $counts; every definer pins search_path, nothing for PUBLIC, every object a member, all owned by superusers"
  else
    not_ok "version $v: install/update '$r'; problems:"
    while IFS= read -r line; do [ -n "$line" ] && note "  $line"; done <<<"$problems"
  fi
done
stepwise=$(qd "$ADB" "$shape_sql")
fresh_db
r=$(try_sql "$ADB" "CREATE EXTENSION awf")
problems=$(qd "$ADB" "$audit_sql")
fresh=$(qd "$ADB" "$shape_sql")
check "$([ "$r" = ok ] && [ -z "$problems" ] && [ "$fresh" = "$stepwise" ] && echo 1)" \
  "a fresh CREATE EXTENSION awf (1.4) passes the same audit and has the same functions, definers, search_paths and grants as 1.0 updated to 1.4 ($(awk '{print $2 " functions, " $3 " definers"}' <<<"$fresh"))"
[ -z "$problems" ] || while IFS= read -r line; do note "  $line"; done <<<"$problems"

# ==============================================================================================
# Setup of the matrix: a scratch database, the bridge's login, clients of every kind, NL Flow keys
# ==============================================================================================
q "CREATE DATABASE $DB" >/dev/null || fatal "CREATE DATABASE $DB"
qd "$DB" "SET client_min_messages = warning; CREATE EXTENSION awf" >/dev/null || fatal "CREATE EXTENSION awf in $DB"
BRIDGE_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
q "CREATE ROLE security_bridge LOGIN PASSWORD '$BRIDGE_PASSWORD' IN ROLE awf_admin" >/dev/null ||
  fatal "cannot create the bridge's login role"
# foreign: a role that is none of awf's, that the bridge's login could assume (so that what refuses a
# foreign client is the bridge's own check of the role, not a failing SET ROLE);
# security_plain/security_usage: the SQL matrix.
q "CREATE ROLE security_foreign NOLOGIN; GRANT security_foreign TO security_bridge;
   CREATE ROLE security_plain LOGIN; CREATE ROLE security_usage LOGIN" >/dev/null || fatal "cannot create the roles"
qd "$DB" "GRANT USAGE ON SCHEMA awf TO security_usage" >/dev/null
CONNINFO="host=127.0.0.1 port=$PGPORT dbname=$DB user=security_bridge password=$BRIDGE_PASSWORD"
client_add() {  # client_add ID ROLE: prints the secret
  "$BIN" client add "$1" --role "$2" --db "$CONNINFO" 2>>"$TMP/client-add.err" | sed -n -E 's/^ *secret: *//p'
}
EXEC_ID=security-executor; EXEC_SECRET=$(client_add $EXEC_ID awf_executor)
USER_ID=security-user; USER_SECRET=$(client_add $USER_ID awf_user)
ADMIN_ID=security-admin; ADMIN_SECRET=$(client_add $ADMIN_ID awf_admin)
DISABLED_ID=security-disabled; DISABLED_SECRET=$(client_add $DISABLED_ID awf_admin)
FOREIGN_ID=security-foreign; FOREIGN_SECRET=$(client_add $FOREIGN_ID awf_user)
for s in "$EXEC_SECRET" "$USER_SECRET" "$ADMIN_SECRET" "$DISABLED_SECRET" "$FOREIGN_SECRET"; do
  [ ${#s} -ge 40 ] || fatal "awf-bridge client add printed no secret ($(tail -2 "$TMP/client-add.err"))"
done
qd "$DB" "UPDATE awf.client SET disabled = true WHERE id = '$DISABLED_ID'" >/dev/null

# The foreign client. What the product allows: `client add --role` takes only the awf roles, and
# awf.client_put (and the table's CHECK) refuses any other. To see what the bridge does with one
# anyway, its row gets a foreign role with the CHECK set aside by a superuser, then restored.
r=$("$BIN" client add security-foreign2 --role security_foreign --db "$CONNINFO" 2>&1)
rc=$?
n=$(qd "$DB" "SELECT count(*) FROM awf.client WHERE id = 'security-foreign2'")
check "$([ $rc != 0 ] && [ "$n" = 0 ] && echo 1)" "awf-bridge client add --role security_foreign is refused (exit $rc: ${r:0:90})"
r=$(try_sql "$DB" "SET ROLE awf_admin" "SELECT awf.client_put('security-foreign2', '\$y\$j9T\$x\$y', 'security_foreign')")
r2=$(try_sql "$DB" "SET ROLE awf_admin" "SELECT awf.client_put('security-foreign2', '\$y\$j9T\$x\$y', 'postgres')")
check "$(grep -q 'role of client security-foreign2 must be awf_executor, awf_user or awf_admin' <<<"$r" &&
         grep -q 'role of client security-foreign2 must be awf_executor, awf_user or awf_admin' <<<"$r2" && echo 1)" \
  "awf.client_put with a role that is not awf's (security_foreign, postgres) is refused (WA101 naming the role; the CHECK of awf.client backs it)"
check_def=$(qd "$DB" "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'client_role_check' AND conrelid = 'awf.client'::regclass")
[ -n "$check_def" ] || fatal "awf.client has no client_role_check"
qd "$DB" "ALTER TABLE awf.client DROP CONSTRAINT client_role_check;
          UPDATE awf.client SET role = 'security_foreign' WHERE id = '$FOREIGN_ID'" >/dev/null ||
  fatal "cannot give the foreign client its role"

# NL Flow: the workflow under test, and another one whose key is "foreign" to it.
WF=security-wf
qd "$DB" "SELECT awf.nlflow_workflow_put('$WF', 'Security', 'security.matrix/nlflow');
          SELECT awf.nlflow_workflow_put('security-other', 'Other', 'security.matrix/nlflow-other')" >/dev/null ||
  fatal "cannot register the NL Flow workflows"
key_add() { "$BIN" nlflow-key add "$1" --db "$CONNINFO" 2>>"$TMP/client-add.err" | sed -n -E 's/^ *X-API-KEY: *//p'; }
KEY=$(key_add $WF)
OTHER_KEY=$(key_add security-other)
[ -n "$KEY" ] && [ -n "$OTHER_KEY" ] || fatal "awf-bridge nlflow-key add printed no key"
KEY_ID=${KEY%%.*}
KEY_SECRET=${KEY#*.}
WRONG_SECRET=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')       # admin's id, wrong secret
WRONG_KEY_SECRET=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')   # the key's id, wrong secret

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  port_free "$port" || continue
  BASE=http://127.0.0.1:$port
  # Not --quiet: every request is logged (item 12 greps these files).
  "$BIN" --listen "127.0.0.1:$port" --db "$CONNINFO" >"$TMP/bridge.out" 2>"$TMP/bridge.err" &
  BRIDGE_PID=$!
  deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ] && ! process_gone "$BRIDGE_PID"; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health")" = 200 ] && break 2
    sleep 0.05
  done
  stop_bridge
done
[ -n "$BRIDGE_PID" ] || fatal "the bridge did not answer GET /health ($(tail -3 "$TMP/bridge.err"))"
note "bridge pid $BRIDGE_PID at $BASE, database $DB"

# --- HTTP helpers --------------------------------------------------------------------------------
http() {  # http METHOD PATH [CURL ARGS...]: sets ST (000 when no answer) and B (the body)
  local method=$1 path=$2
  shift 2
  : >"$TMP/body"
  curl -sS -o "$TMP/body" -w '%{http_code}' --max-time 30 -X "$method" "$@" "$BASE$path" >"$TMP/status" 2>"$TMP/curl.err"
  ST=
  read -r ST <"$TMP/status"
  [ -n "$ST" ] || ST=000
  B=
  IFS= read -r -d '' B <"$TMP/body"
}
auth_for() {  # the credential of an identity, for /rpc, /xina/actions and /AidboxTask
  case $1 in
    anonymous) AUTH=() ;;
    wrong) AUTH=(-u "$ADMIN_ID:$WRONG_SECRET") ;;
    executor) AUTH=(-u "$EXEC_ID:$EXEC_SECRET") ;;
    user) AUTH=(-u "$USER_ID:$USER_SECRET") ;;
    admin) AUTH=(-u "$ADMIN_ID:$ADMIN_SECRET") ;;
    foreign) AUTH=(-u "$FOREIGN_ID:$FOREIGN_SECRET") ;;
  esac
}
nlflow_auth_for() {  # ... and for the NL Flow routes, which take only X-API-KEY
  case $1 in
    anonymous) AUTH=() ;;
    wrong) AUTH=(-H "X-API-KEY: $KEY_ID.$WRONG_KEY_SECRET") ;;
    executor|user|admin) auth_for "$1" ;;        # a client's credential is not an API key
    foreign) AUTH=(-H "X-API-KEY: $OTHER_KEY") ;;  # a key of another workflow
    apikey) AUTH=(-H "X-API-KEY: $KEY") ;;
  esac
}

# ==============================================================================================
# Item 10: the role matrix over HTTP
# ==============================================================================================
note "--- item 10: the role matrix (t=$((SECONDS - STARTED)) s)"
IDENTITIES=(anonymous wrong executor user admin foreign)
# The expectation, from DESIGN.md ("Roles and hardening", "Bridge"): A = allowed (2xx, or a domain
# error 400/404/409/422: the SQL ran), R = refused (401/403). Columns: anonymous, wrong secret,
# executor, user, admin, foreign. admin is a member of awf_executor and awf_user (awf--1.0.sql).
RPC_TABLE="
awf.task/poll                    RRARAR
awf.task/long-poll               RRARAR
awf.task/start                   RRARAR
awf.task/notify                  RRARAR
awf.task/heartbeat               RRARAR
awf.task/progress                RRARAR
awf.task/success                 RRARAR
awf.task/fail                    RRARAR
awf.task/create                  RRRAAR
awf.task/create-and-execute      RRRAAR
awf.task/status                  RRRAAR
awf.task/cancel                  RRRAAR
awf.task/list                    RRRAAR
awf.workflow/create              RRRAAR
awf.workflow/create-and-execute  RRRAAR
awf.workflow/status              RRRAAR
awf.workflow/cancel              RRRAAR
awf.workflow/list                RRRAAR
awf.nlflow/workflow-put          RRRRAR
awf.nlflow/workflow-list         RRRRAR
awf.scheduler/rule-put           RRRRAR
awf.scheduler/rule-delete        RRRRAR
awf.scheduler/rule-list          RRRRAR"
# XINA actions: users act on tasks, executors (and users) conclude them.
XINA_TABLE="
run       RRRAAR
conclude  RRAAAR
cancel    RRRAAR
clean     RRRAAR
destroy   RRRAAR
pause     RRRAAR
resume    RRRAAR"
# GET endpoints: counting is for executors and users, listing entries for users; /health and
# /metrics are public (no credential is read).
GET_TABLE="
/AidboxTask?_count=0  RRAAAR
/AidboxTask?_count=1  RRRAAR
/health               AAAAAA
/metrics              AAAAAA"
# NL Flow: only the workflow's own X-API-KEY (7th column, apikey); a client's Basic credential is
# not a key, and foreign is a key of another workflow.
NLFLOW_IDENTITIES=(anonymous wrong executor user admin foreign apikey)
NLFLOW_TABLE="
create         RRRRRRA
status         RRRRRRA
status-map     RRRRRRA
response       RRRRRRA
request        RRRRRRA
delete         RRRRRRA
delete-many    RRRRRRA"

# The table covers every name the product knows, and agrees with the grants.
known_methods=$(grep -oE '\{Method::[A-Za-z]+, "[^"]+", "[a-z_]+"' "$ROOT/src/core/methods.cpp" | sed -E 's/.*, "([^"]+)", "([a-z_]+)"/\1 \2/')
table_methods=$(awk 'NF == 2 {print $1}' <<<"$RPC_TABLE" | sort)
check "$([ -n "$known_methods" ] && [ "$(awk '{print $1}' <<<"$known_methods" | sort)" = "$table_methods" ] && echo 1)" \
  "the RPC table names exactly the $(wc -l <<<"$known_methods") methods of src/core/methods.cpp"
known_actions=$(sed -n -E 's/.*kActions\[\] = \{(.*)\};.*/\1/p' "$ROOT/bridge/xina.cpp" | tr -d '" ' | tr ',' '\n' | sort)
check "$([ -n "$known_actions" ] && [ "$known_actions" = "$(awk 'NF == 2 {print $1}' <<<"$XINA_TABLE" | sort)" ] && echo 1)" \
  "the XINA table names exactly the actions of bridge/xina.cpp ($(paste -sd ' ' <<<"$known_actions"))"
known_calls=$(grep -c 'case NlflowCall::[A-Za-z]*: return "nlflow' "$ROOT/bridge/nlflow.cpp")
check "$([ "$known_calls" = "$(awk 'NF == 2' <<<"$NLFLOW_TABLE" | wc -l)" ] && echo 1)" \
  "the NL Flow table has a row for each of the $known_calls calls of bridge/nlflow.cpp"
grant_mismatch=()
letter() { [ "$1" = t ] && echo A || echo R; }
while read -r method fn; do
  want=$(awk -v m="$method" '$1 == m {print $2}' <<<"$RPC_TABLE")
  got=$(qd "$DB" "SELECT string_agg(CASE WHEN has_function_privilege(r, p.oid, 'EXECUTE') THEN 'A' ELSE 'R' END, '' ORDER BY o)
                    FROM unnest(ARRAY['awf_executor', 'awf_user', 'awf_admin', 'security_foreign']) WITH ORDINALITY AS x(r, o),
                         pg_proc p WHERE p.pronamespace = 'awf'::regnamespace AND p.proname = '$fn'")
  [ "${want:2:4}" = "$got" ] || grant_mismatch+=("$method (awf.$fn): table ${want:2:4}, grants $got")
done <<<"$known_methods"
while read -r action want; do
  [ -n "$action" ] || continue
  got=$(qd "$DB" "SELECT string_agg(CASE WHEN has_function_privilege(r, 'awf.xina_action(jsonb)', 'EXECUTE')
                                          AND has_function_privilege(r, p.oid, 'EXECUTE') THEN 'A' ELSE 'R' END, '' ORDER BY o)
                    FROM unnest(ARRAY['awf_executor', 'awf_user', 'awf_admin', 'security_foreign']) WITH ORDINALITY AS x(r, o),
                         pg_proc p WHERE p.pronamespace = 'awf'::regnamespace AND p.proname = 'xina_$action'")
  [ "${want:2:4}" = "$got" ] || grant_mismatch+=("xina $action (awf.xina_$action): table ${want:2:4}, grants $got")
done <<<"$XINA_TABLE"
for spec in "_count=0:task_count" "_count=1:task_count,task_list"; do
  fns=${spec#*:}
  want=$(awk -v p="/AidboxTask?${spec%%:*}" '$1 == p {print $2}' <<<"$GET_TABLE")
  got=$(qd "$DB" "SELECT string_agg(CASE WHEN bool_and THEN 'A' ELSE 'R' END, '' ORDER BY o) FROM (
                    SELECT o, bool_and(has_function_privilege(r, p.oid, 'EXECUTE'))
                      FROM unnest(ARRAY['awf_executor', 'awf_user', 'awf_admin', 'security_foreign']) WITH ORDINALITY AS x(r, o),
                           pg_proc p WHERE p.pronamespace = 'awf'::regnamespace
                                       AND p.proname = ANY (string_to_array('$fns', ',')) GROUP BY o) s")
  [ "${want:2:4}" = "$got" ] || grant_mismatch+=("GET /AidboxTask?${spec%%:*} ($fns): table ${want:2:4}, grants $got")
done
nl_grants=$(qd "$DB" "SELECT bool_and(has_function_privilege('awf_user', p.oid, 'EXECUTE')) FROM pg_proc p
                       WHERE p.pronamespace = 'awf'::regnamespace AND p.proname IN ('nlflow_task_create', 'nlflow_task_status',
                         'nlflow_status_map', 'nlflow_task_response', 'nlflow_task_request', 'nlflow_task_delete')")
[ "$nl_grants" = t ] || grant_mismatch+=("NL Flow: awf_user (the bridge's role for API keys) lacks EXECUTE on an awf.nlflow_* function")
check "$([ ${#grant_mismatch[@]} = 0 ] && echo 1)" \
  "the HTTP table agrees with pg_proc's grants for executor, user, admin and foreign (RPC, XINA, /AidboxTask, NL Flow)"
for m in "${grant_mismatch[@]}"; do note "  $m"; done

# --- the calls -----------------------------------------------------------------------------------
calls=0
expected_allows=0
unexpected_allows=0
unexpected_refusals=0
errors=0
MISMATCHES=()
: >"$TMP/markers.silent"   # markers of calls that must not reach SQL
: >"$TMP/markers.ran"      # markers of calls that must have run SQL
classify() {  # classify HTTP_STATUS: sets CLS to A, R or E
  case $1 in
    2??) CLS=A ;;
    400|404|409|422) CLS=A ;;
    401|403) CLS=R ;;
    *) CLS=E ;;
  esac
}
record_call() {  # record_call LABEL IDENTITY EXPECTED GOT [DETAIL]; the detail defaults to HTTP $ST and $B's error type
  calls=$((calls + 1))
  [ "$3" = A ] && expected_allows=$((expected_allows + 1))
  if [ "$3" != "$4" ]; then
    case "$3$4" in
      RA) unexpected_allows=$((unexpected_allows + 1)) ;;
      AR) unexpected_refusals=$((unexpected_refusals + 1)) ;;
      *) errors=$((errors + 1)) ;;
    esac
    MISMATCHES+=("$1 as $2: expected $3, got $4 (${5:-HTTP $ST $(jq -c '.error.type // empty' <<<"$B" 2>/dev/null)})")
  fi
}
# A marker per call: in params (unknown keys are ignored), the body, the query or the path.
marker() { new_uuid MARK; MARK=secm-$1-$MARK; }
# note_marker IDENTITY HOW: which list the marker goes to. HOW is "in-statement" when the bridge sets
# the role inside the statement that carries the payload (POST /rpc: the statement is parsed as the
# bridge's login, so it runs and PostgreSQL logs its parameters even when the grants refuse the
# call), "before-statement" when it sets the role in a statement of its own first (XINA, GET
# /AidboxTask: a role without USAGE on awf, the foreign one, is refused while the statement is
# parsed, before its parameters are bound and logged). The foreign client never reaches SQL: the
# bridge assumes only awf's roles (is_client_role) and answers 403 before any statement.
note_marker() {
  case $1 in
    anonymous|wrong|foreign) echo "$MARK" >>"$TMP/markers.silent" ;;
    *) echo "$MARK" >>"$TMP/markers.ran" ;;
  esac
}
rpc_params() {  # rpc_params METHOD IDENTITY: sets PARAMS, valid params (so that only the grants decide), with $MARK
  local id1 id2
  new_uuid id1
  new_uuid id2
  rpc_params_text "$@"
}
rpc_params_text() {
  case $1 in
    awf.task/poll) PARAMS="{\"taskDefinitions\": [\"security.matrix/none\"], \"securityMarker\": \"$MARK\"}" ;;
    awf.task/long-poll) PARAMS="{\"taskDefinitions\": [\"security.matrix/none\"], \"timeout\": 0, \"securityMarker\": \"$MARK\"}" ;;
    awf.task/start|awf.task/success|awf.task/fail|awf.task/heartbeat)
      PARAMS="{\"id\": \"$id1\", \"execId\": \"$id2\", \"securityMarker\": \"$MARK\"}" ;;
    awf.task/notify) PARAMS="{\"id\": \"$id1\", \"execId\": \"$id2\", \"notification\": \"heartbeat\", \"message\": \"m\", \"securityMarker\": \"$MARK\"}" ;;
    awf.task/progress) PARAMS="{\"id\": \"$id1\", \"execId\": \"$id2\", \"progress-current\": 1, \"progress-total\": 2, \"securityMarker\": \"$MARK\"}" ;;
    awf.task/create|awf.task/create-and-execute)
      PARAMS="{\"definition\": \"security.matrix/create/$2\", \"params\": {\"m\": \"$MARK\"}}" ;;
    awf.task/status|awf.task/cancel|awf.workflow/status|awf.workflow/cancel)
      PARAMS="{\"id\": \"$id1\", \"securityMarker\": \"$MARK\"}" ;;
    awf.task/list|awf.workflow/list|awf.nlflow/workflow-list|awf.scheduler/rule-list)
      PARAMS="{\"securityMarker\": \"$MARK\"}" ;;
    awf.workflow/create|awf.workflow/create-and-execute)
      PARAMS="{\"definition\": \"security.matrix/workflow/$2\", \"params\": {\"m\": \"$MARK\"}}" ;;
    awf.nlflow/workflow-put)
      PARAMS="{\"id\": \"security-put-$2\", \"name\": \"$MARK\", \"definition\": \"security.matrix/put/$2\"}" ;;
    awf.scheduler/rule-put)
      PARAMS="{\"id\": \"security-rule-$2\", \"schedule\": \"0 0 1 1 *\", \"task-request\": {\"definition\": \"security.matrix/rule/$2\"}, \"securityMarker\": \"$MARK\"}" ;;
    awf.scheduler/rule-delete) PARAMS="{\"id\": \"security-no-rule\", \"securityMarker\": \"$MARK\"}" ;;
    *) PARAMS="{\"securityMarker\": \"$MARK\"}" ;;
  esac
}

# POST /rpc, one method at a time.
for who in "${IDENTITIES[@]}"; do
  auth_for "$who"
  col=0
  for i in "${!IDENTITIES[@]}"; do [ "${IDENTITIES[$i]}" = "$who" ] && col=$i; done
  while read -r method row; do
    [ -n "$method" ] || continue
    want=${row:$col:1}
    marker "$who"
    note_marker "$who" in-statement
    rpc_params "$method" "$who"
    http POST /rpc "${AUTH[@]}" -H 'Content-Type: application/json' \
      --data-binary "{\"method\": \"$method\", \"params\": $PARAMS}"
    classify "$ST"
    record_call "POST /rpc $method" "$who" "$want" "$CLS"
  done <<<"$RPC_TABLE"
done

# POST /rpc, every method in one batch (one transaction, the role set once): each item counts.
for who in "${IDENTITIES[@]}"; do
  auth_for "$who"
  col=0
  for i in "${!IDENTITIES[@]}"; do [ "${IDENTITIES[$i]}" = "$who" ] && col=$i; done
  methods=()
  wants=()
  items=()
  while read -r method row; do
    [ -n "$method" ] || continue
    marker "$who"
    note_marker "$who" in-statement
    methods+=("$method")
    wants+=("${row:$col:1}")
    rpc_params "$method" "$who"
    items+=("{\"method\": \"$method\", \"params\": $PARAMS}")
  done <<<"$RPC_TABLE"
  batch="[$(IFS=,; echo "${items[*]}")]"
  http POST /rpc "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary "$batch"
  # One line per item: A (a result, or an error of the SQL: a sqlstate), R (awf.auth/forbidden), E.
  outcomes=()
  if [ "$ST" = 200 ]; then
    mapfile -t outcomes < <(jq -r '.[] | (if has("result") then "A" elif .error.type == "awf.auth/forbidden" then "R"
                                      elif (.error.sqlstate // "") != "" then "A" else "E" end) + " " + (.error.type // "result")' \
                                <<<"$B" 2>/dev/null)
  fi
  for k in "${!methods[@]}"; do
    if [ "$ST" = 200 ]; then
      o=${outcomes[$k]:-E none}
      record_call "POST /rpc batch item ${methods[$k]}" "$who" "${wants[$k]}" "${o%% *}" "item ${o#* }"
    else
      classify "$ST"
      record_call "POST /rpc batch item ${methods[$k]}" "$who" "${wants[$k]}" "$CLS" "HTTP $ST for the batch"
    fi
  done
done

# POST /xina/actions, each action.
for who in "${IDENTITIES[@]}"; do
  auth_for "$who"
  col=0
  for i in "${!IDENTITIES[@]}"; do [ "${IDENTITIES[$i]}" = "$who" ] && col=$i; done
  while read -r action row; do
    [ -n "$action" ] || continue
    marker "$who"
    note_marker "$who" before-statement
    case $action in
      run) doc="{\"action\": \"run\", \"tasks\": [{\"name\": \"security.matrix/xina/$who\", \"conf\": {\"m\": \"$MARK\"}}]}" ;;
      conclude) doc="{\"action\": \"conclude\", \"task\": 999999999, \"securityMarker\": \"$MARK\"}" ;;
      cancel|clean|destroy) doc="{\"action\": \"$action\", \"tasks\": [999999999], \"securityMarker\": \"$MARK\"}" ;;
      pause|resume) doc="{\"action\": \"$action\", \"threads\": [\"security.matrix.thread.$who\"], \"securityMarker\": \"$MARK\"}" ;;
    esac
    http POST /xina/actions "${AUTH[@]}" -H 'Content-Type: application/json; charset=utf-8' --data-binary "$doc"
    classify "$ST"
    record_call "POST /xina/actions $action" "$who" "${row:$col:1}" "$CLS"
  done <<<"$XINA_TABLE"
done

# GET endpoints.
for who in "${IDENTITIES[@]}"; do
  auth_for "$who"
  col=0
  for i in "${!IDENTITIES[@]}"; do [ "${IDENTITIES[$i]}" = "$who" ] && col=$i; done
  while read -r path row; do
    [ -n "$path" ] || continue
    case $path in
      /AidboxTask*) marker "$who"; note_marker "$who" before-statement; target="$path&definition=$MARK" ;;
      *) target=$path ;;
    esac
    http GET "$target" "${AUTH[@]}"
    classify "$ST"
    record_call "GET $path" "$who" "${row:$col:1}" "$CLS"
  done <<<"$GET_TABLE"
done

# NL Flow routes: a task of the workflow exists, so that the allowed calls find it.
NL_TASK=$(qd "$DB" "SELECT awf.nlflow_task_create('$WF', '{\"q\": \"security\"}', 'security-corr')")
[ -n "$NL_TASK" ] || fatal "cannot create an NL Flow task"
NLP=/api/v1/runtime/workflow/$WF/task
for who in "${NLFLOW_IDENTITIES[@]}"; do
  nlflow_auth_for "$who"
  col=0
  for i in "${!NLFLOW_IDENTITIES[@]}"; do [ "${NLFLOW_IDENTITIES[$i]}" = "$who" ] && col=$i; done
  while read -r call row; do
    [ -n "$call" ] || continue
    marker "$who"
    want=${row:$col:1}
    # Only the workflow's own key may reach the SQL that carries the markers. $MARK travels in the
    # body or the query (create, delete-many), the task id $mid in every call.
    case $call in
      create|delete-many)
        case $who in apikey) echo "$MARK" >>"$TMP/markers.ran" ;; *) echo "$MARK" >>"$TMP/markers.silent" ;; esac ;;
    esac
    new_uuid mid   # a task id that is a marker too (the only one of the calls on one task)
    [ "$who" = apikey ] && echo "$mid" >>"$TMP/markers.ran" || echo "$mid" >>"$TMP/markers.silent"
    case $call in
      create) http POST "$NLP" "${AUTH[@]}" -H 'Content-Type: application/json; charset=utf-8' \
                --data-binary "{\"q\": \"$MARK\", \"id\": \"$mid\"}" ;;
      status) http GET "$NLP/$mid/status" "${AUTH[@]}" ;;
      status-map) http GET "$NLP/status?taskIds=$mid" "${AUTH[@]}" ;;
      response) http GET "$NLP/$mid/response" "${AUTH[@]}" ;;
      request) http GET "$NLP/$mid/request" "${AUTH[@]}" ;;
      delete) http DELETE "$NLP/$mid" "${AUTH[@]}" ;;
      delete-many) http DELETE "$NLP?taskStatuses=$MARK,$mid" "${AUTH[@]}" ;;
    esac
    classify "$ST"
    record_call "NL Flow $call" "$who" "$want" "$CLS"
  done <<<"$NLFLOW_TABLE"
done

figure "HTTP role matrix: calls=$calls expected_allows=$expected_allows unexpected_allows=$unexpected_allows unexpected_refusals=$unexpected_refusals other_statuses=$errors"
for m in "${MISMATCHES[@]}"; do note "  mismatch: $m"; done
check "$([ "$unexpected_allows" = 0 ] && echo 1)" "role matrix over HTTP: no unexpected allow ($calls calls)"
check "$([ "$unexpected_refusals" = 0 ] && [ "$errors" = 0 ] && echo 1)" \
  "role matrix over HTTP: no unexpected refusal, no other status ($expected_allows expected allows)"

# Anonymous and wrong credentials never reached SQL: their markers are not in the server log,
# while those of every call that ran SQL are (the positive control: the log does record them).
ran_total=$(sort -u "$TMP/markers.ran" | wc -l)
deadline=$((SECONDS + 15))
while :; do
  ran_found=$(grep -o -F -f "$TMP/markers.ran" "$PG_LOG" | sort -u | wc -l)
  [ "$ran_found" -ge "$ran_total" ] || [ $SECONDS -ge $deadline ] || { sleep 0.2; continue; }
  break
done
silent_total=$(sort -u "$TMP/markers.silent" | wc -l)
silent_found=$(grep -o -F -f "$TMP/markers.silent" "$PG_LOG" | sort -u | wc -l)
figure "markers in the server log: $ran_found of $ran_total calls that ran SQL, $silent_found of $silent_total calls refused before SQL"
check "$([ "$ran_total" -gt 0 ] && [ "$ran_found" = "$ran_total" ] && echo 1)" \
  "control: the server log shows the marker of every call that reached SQL ($ran_found/$ran_total)"
check "$([ "$silent_total" -gt 0 ] && [ "$silent_found" = 0 ] && echo 1)" \
  "no call refused before SQL (anonymous, wrong secret; NL Flow without its own key) ran SQL with its payload ($silent_found of $silent_total markers in the log)"
[ "$silent_found" = 0 ] || grep -o -F -f "$TMP/markers.silent" "$PG_LOG" | sort -u | head -5 | sed 's/^/#   leaked marker: /'
# kind:identity=count of what the matrix created (definitions and ids end in the identity).
left=$(qd "$DB" "SELECT string_agg(k || '=' || n, ' ' ORDER BY k) FROM (
                   SELECT 'task:' || regexp_replace(definition, '^.*/', '') AS k, count(*) AS n FROM awf.task
                    WHERE definition LIKE 'security.matrix/%' OR definition LIKE 'awf.workflow/decision-task@security.matrix/%'
                    GROUP BY 1
                   UNION ALL SELECT 'workflow:' || regexp_replace(definition, '^.*/', ''), count(*) FROM awf.workflow
                    WHERE definition LIKE 'security.matrix/%' GROUP BY 1
                   UNION ALL SELECT 'rule:' || substr(id, 15), 1 FROM awf.scheduler_rule WHERE id LIKE 'security-rule-%'
                   UNION ALL SELECT 'nlflow:' || substr(id, 14), 1 FROM awf.nlflow_workflow WHERE id LIKE 'security-put-%') s")
note "created by the matrix: $left"
bad_left=$(tr ' ' '\n' <<<"$left" | grep -E ':(anonymous|wrong|executor|foreign)=' | tr '\n' ' ')
good_want="nlflow:admin rule:admin task:admin task:user workflow:admin workflow:user"
good_got=$(tr ' ' '\n' <<<"$left" | grep -E ':(user|admin)=' | sed 's/=.*//' | sort | tr '\n' ' ' | sed 's/ $//')
check "$([ -z "$bad_left" ] && [ "$good_got" = "$good_want" ] && echo 1)" \
  "the refused identities' creates left nothing (tasks, XINA tasks, workflows, rules, NL Flow workflows); the allowed ones' exist (${good_got})${bad_left:+; found: $bad_left}"

# At the SQL level: every function of schema awf, called by each role.
note "SQL matrix (t=$((SECONDS - STARTED)) s)"
out=$(psql -X -qAt -v ON_ERROR_STOP=1 -d "$DB" -f "$ROOT/test/reliability/security_sql_matrix.sql" 2>&1)
summary=$(grep '^summary|' <<<"$out")
if [ -z "$summary" ]; then
  not_ok "the SQL role matrix ran (${out:0:300})"
else
  IFS='|' read -r _ s_calls s_allows s_ua s_ur s_fns s_roles <<<"$summary"
  figure "SQL role matrix: calls=$s_calls expected_allows=$s_allows unexpected_allows=$s_ua unexpected_refusals=$s_ur ($s_fns functions x $s_roles roles: awf_executor, awf_user, awf_admin, security_plain, security_usage)"
  grep '^mismatch|' <<<"$out" | sed 's/^/#   /'
  check "$([ "$s_ua" = 0 ] && echo 1)" "SQL role matrix: no unexpected allow; a LOGIN role without awf grants (with or without USAGE on awf) runs no function of awf"
  check "$([ "$s_ur" = 0 ] && echo 1)" "SQL role matrix: no unexpected refusal ($s_allows expected allows)"
fi
combined_calls=$((calls + ${s_calls:-0}))
combined_allows=$((expected_allows + ${s_allows:-0}))
combined_ua=$((unexpected_allows + ${s_ua:-0}))
combined_ur=$((unexpected_refusals + ${s_ur:-0}))
figure "role matrix: calls=$combined_calls expected_allows=$combined_allows unexpected_allows=$combined_ua unexpected_refusals=$combined_ur (HTTP and SQL)"

# The foreign client's row goes back to an awf role and the CHECK is restored.
qd "$DB" "UPDATE awf.client SET role = 'awf_user' WHERE id = '$FOREIGN_ID';
          ALTER TABLE awf.client ADD CONSTRAINT client_role_check $check_def" >/dev/null ||
  not_ok "restoring awf.client's CHECK ($check_def)"

# ==============================================================================================
# Item 12: secrets
# ==============================================================================================
note "--- item 12: secrets (t=$((SECONDS - STARTED)) s)"
hashes=$(qd "$DB" "SELECT count(*) FILTER (WHERE secret_hash ~ '^\\\$y\\\$[./A-Za-z0-9]+\\\$[./A-Za-z0-9]+\\\$[./A-Za-z0-9]{43}\$') || '/' || count(*) FROM awf.client")
keys=$(qd "$DB" "SELECT count(*) FILTER (WHERE secret_hash ~ '^\\\$y\\\$[./A-Za-z0-9]+\\\$[./A-Za-z0-9]+\\\$[./A-Za-z0-9]{43}\$') || '/' || count(*) FROM awf.nlflow_api_key")
check "$([ "${hashes%/*}" = "${hashes#*/}" ] && [ "${keys%/*}" = "${keys#*/}" ] && [ "${hashes#*/}" -ge 5 ] && echo 1)" \
  "secrets are stored as yescrypt hashes \$y\$…: clients $hashes, NL Flow API keys $keys"

# Requests with good and bad secrets in every form, failing ones included (the matrix made more);
# each answered as it should be: 401 for a bad credential, 403 for a refused role or another
# workflow's key.
b64() { printf '%s' "$1" | base64 | tr -d '\n'; }
BOGUS=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
declare -a SECRET_FORMS=()
form() { SECRET_FORMS+=("$@"); }
auth_answers=0
auth_wrong=()
expect_status() {  # expect_status WANT LABEL: the last http call answered WANT
  auth_answers=$((auth_answers + 1))
  [ "$ST" = "$1" ] || auth_wrong+=("$2: HTTP $ST, want $1")
}
j='{"method": "awf.task/list", "params": {}}'
for spec in "$EXEC_ID:$EXEC_SECRET:403:200" "$USER_ID:$USER_SECRET:200:200" "$ADMIN_ID:$ADMIN_SECRET:200:200" \
            "$ADMIN_ID:$WRONG_SECRET:401:401" "$DISABLED_ID:$DISABLED_SECRET:401:401" "security-nobody:$BOGUS:401:401"; do
  IFS=: read -r id sec want_list want_count <<<"$spec"
  http POST /rpc -H "Authorization: Basic $(b64 "$id:$sec")" -H 'Content-Type: application/json' --data-binary "$j"
  expect_status "$want_list" "Basic $id, awf.task/list"
  http POST /rpc -H "Authorization: Bearer $id.$sec" -H 'Content-Type: application/json' --data-binary "$j"
  expect_status "$want_list" "Bearer $id, awf.task/list"
  http GET "/AidboxTask?_count=0" -H "Authorization: Bearer $id.$sec"
  expect_status "$want_count" "Bearer $id, GET /AidboxTask?_count=0"
  form "$sec" "$(b64 "$id:$sec")" "$id.$sec"
done
form "$FOREIGN_SECRET" "$(b64 "$FOREIGN_ID:$FOREIGN_SECRET")" "$FOREIGN_ID.$FOREIGN_SECRET"   # used by the matrix
# Malformed: the secret alone in Basic (no colon), in Bearer (no dot), as the whole header, and a
# Basic whose only part is a real secret.
http POST /rpc -H "Authorization: Basic $(b64 "$BOGUS")" -H 'Content-Type: application/json' --data-binary "$j"
expect_status 401 "Basic without a colon"
http POST /rpc -H "Authorization: Bearer $USER_SECRET" -H 'Content-Type: application/json' --data-binary "$j"
expect_status 401 "Bearer without a dot"
http POST /rpc -H "Authorization: $ADMIN_SECRET" -H 'Content-Type: application/json' --data-binary "$j"
expect_status 401 "a secret as the whole Authorization header"
http POST /rpc -H "Authorization: Basic $(b64 "$EXEC_SECRET")" -H 'Content-Type: application/json' --data-binary "$j"
expect_status 401 "Basic of a secret alone"
form "$(b64 "$BOGUS")" "$(b64 "$EXEC_SECRET")"
# X-API-KEY: right, wrong secret, unknown id, no dot, another workflow's.
for spec in "$KEY 200 202 404" "$KEY_ID.$WRONG_KEY_SECRET 401 401 401" "securityNoKey.$KEY_SECRET 401 401 401" \
            "$KEY_SECRET 401 401 401" "$OTHER_KEY 403 403 403"; do
  read -r k want_status want_create want_response <<<"$spec"
  http GET "$NLP/$NL_TASK/status" -H "X-API-KEY: $k"
  expect_status "$want_status" "X-API-KEY ${k:0:8}…, GET …/status"
  http POST "$NLP" -H "X-API-KEY: $k" -H 'Content-Type: application/json; charset=utf-8' --data-binary '{"q": 1}'
  expect_status "$want_create" "X-API-KEY ${k:0:8}…, POST …/task"
  http GET "$NLP/$(uuid)/response" -H "X-API-KEY: $k"
  expect_status "$want_response" "X-API-KEY ${k:0:8}…, GET …/response of no task"
  form "$k"
done
form "$KEY_SECRET" "${OTHER_KEY#*.}" "$WRONG_KEY_SECRET" "$BOGUS" "$WRONG_SECRET"
# Calls that fail after authentication (a refused method: PostgreSQL logs the error and its statement).
http POST /rpc -u "$USER_ID:$USER_SECRET" -H 'Content-Type: application/json' \
  --data-binary '{"method": "awf.task/poll", "params": {"taskDefinitions": ["x"]}}'
expect_status 403 "user: awf.task/poll"
http POST /rpc -u "$EXEC_ID:$EXEC_SECRET" -H 'Content-Type: application/json' \
  --data-binary '{"method": "awf.task/create", "params": {"definition": "security.matrix/create/executor"}}'
expect_status 403 "executor: awf.task/create"
check "$([ ${#auth_wrong[@]} = 0 ] && echo 1)" \
  "$auth_answers requests with good, wrong, unknown, disabled and malformed credentials (Basic, Bearer, X-API-KEY) answered 200/202/404 when good, 401 when bad, 403 when refused"
for w in "${auth_wrong[@]}"; do note "  $w"; done

# The credential check itself, on this database (its lookups are in the server log too).
out=$(SECURITY_DB="host=127.0.0.1 port=$PGPORT dbname=$DB user=${PGUSER:-postgres}" \
      SECURITY_CLIENT_ID=$EXEC_ID SECURITY_CLIENT_SECRET=$EXEC_SECRET \
      SECURITY_DISABLED_ID=$DISABLED_ID SECURITY_DISABLED_SECRET=$DISABLED_SECRET \
      SECURITY_KEY_ID=$KEY_ID SECURITY_KEY_SECRET=$KEY_SECRET "$AUTH_CHECK" 2>&1)
rc=$?
while IFS= read -r line; do
  case $line in
    "ok - "*) ok "auth check: ${line#ok - }" ;;
    "not ok - "*) not_ok "auth check: ${line#not ok - }" ;;
    "auth-check: "*) ;;
    *) note "auth check: $line" ;;
  esac
done <<<"$out"
grep -q '^auth-check: [0-9]* passed, 0 failed$' <<<"$out" && [ $rc = 0 ] || not_ok "awf_security_auth_check exited $rc"

# The code path of the comparison (bridge/auth.cpp): read, not timed.
auth_src=$ROOT/bridge/auth.cpp
sm=$(sed -n '/^bool secret_matches(/,/^}/p' "$auth_src")
cte=$(sed -n '/^bool constant_time_equal(/,/^}/p' "$auth_src")
cs=$(sed -n '/check_secret(pqxx::connection/,/^}/p' "$auth_src")
code_ok=1
grep -q 'return constant_time_equal(hash, stored_hash);' <<<"$sm" || { code_ok=0; note "secret_matches does not end in constant_time_equal(hash, stored_hash)"; }
grep -q 'crypt_r(secret.c_str(), stored_hash.c_str()' <<<"$sm" || { code_ok=0; note "secret_matches does not hash the secret with the stored setting"; }
grep -qE 'for \(size_t i = 0; i < n; \+\+i\) diff \|=' <<<"$cte" && ! grep -qE 'return (false|true)|break' <<<"$cte" ||
  { code_ok=0; note "constant_time_equal is not one pass over every byte without an early exit"; }
grep -q 'secret_matches(credential.secret, decoy)' <<<"$cs" || { code_ok=0; note "an unknown id does not hash against a decoy in check_secret"; }
if grep -nE '(strcmp|strncmp|memcmp|bcmp)\(|stored_hash *[!=]=|[!=]= *stored_hash|secret *[!=]=|[!=]= *(credential\.)?secret\b|\.compare\(' "$auth_src" >"$TMP/cmp"; then
  code_ok=0
  note "other comparisons in bridge/auth.cpp: $(tr '\n' ' ' <<<"$(cat "$TMP/cmp")")"
fi
check "$code_ok" "bridge/auth.cpp: secret_matches hashes the secret with the stored setting and compares with constant_time_equal (one pass, no early exit); an unknown id hashes against a decoy; no other comparison of secrets or hashes"

# Now grep every log for every secret, its Basic encoding and its Bearer token.
stop_bridge   # flushes and closes its output
sort -u <(printf '%s\n' "${SECRET_FORMS[@]}") | grep -v '^$' >"$TMP/secrets"
n_secrets=$(wc -l <"$TMP/secrets")
bridge_lines=$(cat "$TMP/bridge.out" "$TMP/bridge.err" | grep -c '"path"')
bridge_401=$(grep -c '"status":401' "$TMP/bridge.err")
lookups=$(grep -cE 'client_lookup|nlflow_key_lookup' "$PG_LOG")
hits_bridge=$(cat "$TMP/bridge.out" "$TMP/bridge.err" | grep -c -F -f "$TMP/secrets")
hits_pg=$(grep -c -F -f "$TMP/secrets" "$PG_LOG")
figure "secrets: $n_secrets secret strings (secrets, Basic encodings, Bearer tokens, API keys) searched in the bridge's output ($bridge_lines request lines, $bridge_401 of them 401) and the server log ($(wc -l <"$PG_LOG") lines, $lookups credential lookups): $hits_bridge + $hits_pg occurrences"
check "$([ "$bridge_lines" -gt 100 ] && [ "$bridge_401" -gt 10 ] && [ "$lookups" -gt 10 ] && echo 1)" \
  "control: the bridge logged every request ($bridge_lines lines) and the server log holds the credential lookups ($lookups)"
check "$([ "$hits_bridge" = 0 ] && echo 1)" "no secret in the bridge's stdout/stderr (0 of $n_secrets strings)"
check "$([ "$hits_pg" = 0 ] && echo 1)" "no secret in the PostgreSQL server log with log_statement = all (0 of $n_secrets strings)"
[ "$hits_bridge$hits_pg" = 00 ] || grep -n -F -f "$TMP/secrets" "$TMP/bridge.out" "$TMP/bridge.err" "$PG_LOG" | head -5 |
  sed -E 's/[A-Za-z0-9_-]{40,}/<secret>/g; s/^/#   /'

# No column of schema awf holds a secret in clear: every row of every table, as text. The secrets
# go in by COPY (its data is not logged) on a session that logs no statement.
found=$( { echo "SET log_statement = 'none';"
           echo "CREATE TEMP TABLE s (v text);"
           echo "COPY s FROM STDIN;"
           cat "$TMP/secrets"
           echo '\.'
           cat <<'EOF'
DO $$
DECLARE
  t regclass;
  n bigint := 0;
  c bigint;
BEGIN
  FOR t IN SELECT oid FROM pg_class WHERE relnamespace = 'awf'::regnamespace AND relkind IN ('r', 'p') LOOP
    EXECUTE format('SELECT count(*) FROM %s x, s WHERE strpos(x::text, s.v) > 0', t) INTO c;
    n := n + c;
  END LOOP;
  RAISE NOTICE 'found %', n;
END $$;
EOF
         } | psql -X -q -d "$DB" 2>&1 | sed -n -E 's/.*NOTICE: +found ([0-9]+).*/\1/p')
tables=$(qd "$DB" "SELECT count(*) FROM pg_class WHERE relnamespace = 'awf'::regnamespace AND relkind IN ('r', 'p')")
check "$([ "$found" = 0 ] && echo 1)" "no row of the $tables tables of schema awf contains any of the $n_secrets secret strings in clear (found: ${found:-?})"

finish
