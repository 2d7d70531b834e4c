-- Security, item 10 at the SQL level: every function of schema awf called directly by every role
-- of awf and by two roles that are none of them, compared with what the catalog grants. Run by
-- security.sh with psql -X -qAt -v ON_ERROR_STOP=1 in a scratch database that has the extension and
-- the roles security_plain (LOGIN, no awf grant at all) and security_usage (LOGIN, USAGE on schema
-- awf and nothing else: shows that no function is executable by PUBLIC).
--
-- Expected: the role may call the function (USAGE on awf and EXECUTE on it, per pg_proc's ACL,
-- including through role membership). A call is "refused" when it fails with 42501; anything else
-- (success or another error) means the function ran. Every call is made with NULL arguments (a
-- long-poll and wait_ready with timeout 0, the STRICT functions with values) inside a subtransaction that is then rolled back, so no
-- call changes anything. Output, one line each:
--   mismatch|ROLE|FUNCTION|expected allowed/refused|SQLSTATE: message
--   summary|CALLS|EXPECTED_ALLOWS|UNEXPECTED_ALLOWS|UNEXPECTED_REFUSALS|FUNCTIONS|ROLES
SET client_min_messages = warning;
SET statement_timeout = '30s';

CREATE FUNCTION pg_temp.security_call(fn regprocedure, who name, OUT state text, OUT message text)
LANGUAGE plpgsql AS $$
DECLARE
  args text;
BEGIN
  SELECT coalesce(string_agg(
           CASE WHEN p.proname IN ('task_long_poll', 'wait_ready') AND a.n = p.pronargs THEN '0'
                -- A STRICT function given a NULL constant is folded to NULL by the planner without
                -- being called (nor its EXECUTE checked): give those a value of the type.
                WHEN p.proisstrict THEN format('%L::%s', CASE
                  WHEN a.t IN ('text'::regtype, 'name'::regtype) THEN 'security.matrix'
                  WHEN a.t IN ('integer'::regtype, 'bigint'::regtype) THEN '0'
                  WHEN a.t = 'timestamptz'::regtype THEN '2000-01-01T00:00:00Z'
                  WHEN a.t = 'boolean'::regtype THEN 'false'
                  WHEN a.t = 'uuid'::regtype THEN '00000000-0000-0000-0000-000000000000'
                  WHEN a.t = 'jsonb'::regtype THEN '{}'
                  WHEN EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = a.t AND t.typcategory = 'A') THEN '{}'
                  END, format_type(a.t, NULL))
                ELSE format('NULL::%s', format_type(a.t, NULL)) END, ', ' ORDER BY a.n), '')
    INTO args
    FROM pg_proc p CROSS JOIN LATERAL unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, n)
   WHERE p.oid = fn;
  BEGIN
    PERFORM set_config('role', who, true);
    EXECUTE format('SELECT %s(%s)', fn::oid::regproc::text, coalesce(args, ''));
    -- It ran: undo whatever it did.
    RAISE EXCEPTION USING ERRCODE = 'SEC00', MESSAGE = 'ran';
  EXCEPTION WHEN OTHERS THEN
    state := SQLSTATE;
    message := SQLERRM;
  END;
  PERFORM set_config('role', 'none', true);
END $$;

CREATE TEMP TABLE security_result AS
SELECT r.rolname AS who, p.oid::regprocedure AS fn,
       has_schema_privilege(r.oid, 'awf', 'USAGE') AND has_function_privilege(r.oid, p.oid, 'EXECUTE') AS expected,
       c.state AS sqlstate, c.message
  FROM pg_roles r
 CROSS JOIN pg_proc p
 CROSS JOIN LATERAL pg_temp.security_call(p.oid::regprocedure, r.rolname) c
 WHERE r.rolname IN ('awf_executor', 'awf_user', 'awf_admin', 'security_plain', 'security_usage')
   AND p.pronamespace = 'awf'::regnamespace;

SELECT 'mismatch|' || who || '|' || fn::text || '|' ||
       CASE WHEN expected THEN 'expected allowed' ELSE 'expected refused' END || '|' ||
       sqlstate || ': ' || left(message, 200)
  FROM security_result
 WHERE expected = (sqlstate = '42501')
 ORDER BY who, fn::text;

SELECT 'summary|' || count(*) || '|' || count(*) FILTER (WHERE expected) || '|' ||
       count(*) FILTER (WHERE NOT expected AND sqlstate <> '42501') || '|' ||
       count(*) FILTER (WHERE expected AND sqlstate = '42501') || '|' ||
       count(DISTINCT fn) || '|' || count(DISTINCT who)
  FROM security_result;
