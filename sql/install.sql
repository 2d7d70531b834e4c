-- What CREATE EXTENSION awf creates: schema, tables, indexes, functions, roles and grants.
SELECT extname, extversion, extrelocatable, n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'awf';

SELECT c.relname, c.relkind FROM pg_class c
  WHERE c.relnamespace = 'awf'::regnamespace ORDER BY c.relname;

-- The claim index is partial on status = 'ready'.
SELECT indexrelid::regclass, pg_get_expr(indpred, indrelid) AS predicate
  FROM pg_index WHERE indrelid = 'awf.task'::regclass ORDER BY indexrelid::regclass::text;

-- Every function: SECURITY DEFINER ones pin search_path; nothing is executable by PUBLIC.
SELECT p.proname, p.prosecdef, p.proconfig,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p WHERE p.pronamespace = 'awf'::regnamespace ORDER BY p.proname;

SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'awf\_%' ORDER BY rolname;

-- Which role may call which function.
SELECT p.proname,
       has_function_privilege('awf_executor', p.oid, 'EXECUTE') AS executor,
       has_function_privilege('awf_user', p.oid, 'EXECUTE') AS "user",
       has_function_privilege('awf_admin', p.oid, 'EXECUTE') AS admin
  FROM pg_proc p WHERE p.pronamespace = 'awf'::regnamespace ORDER BY p.proname;

-- The tables are dumped with pg_dump (user data, not extension objects).
SELECT unnest(extconfig)::regclass::text AS config FROM pg_extension WHERE extname = 'awf' ORDER BY 1;

-- Wakeup slots: a fixed hash the bridge computes too (test/unit pins the same values).
SELECT d, awf.definition_slot(d) FROM unnest(ARRAY['aidbox.bulk/import-resource-task', 'lp', '']) d;
