-- Hardening: a stale executor is fenced off by its execId; a task created in a transaction that
-- rolls back never existed (every way of creating one); the SECURITY DEFINER functions pin
-- search_path and nothing is granted to PUBLIC; look-alike objects planted by a user in public
-- and pg_temp never run inside the extension; hostile arguments get clear errors, never a crash.
-- Task ids below are fixed (...ad..); random ids and execIds never print: \gset keeps them, and
-- try_sql() replaces random (version 4) uuids in messages with <uuid>.

-- try_sql(statement): 'ok', or SQLSTATE: message (with its DETAIL when with_detail)
CREATE FUNCTION pg_temp.try_sql(statement text, with_detail boolean DEFAULT false)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  detail text;
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || regexp_replace(
    SQLERRM || CASE WHEN with_detail AND detail <> '' THEN ' (' || detail || ')' ELSE '' END,
    '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}', '<uuid>', 'g');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.try_sql(text, boolean) TO PUBLIC;
-- what a task looks like to a stale executor: everything its calls could change
CREATE TEMP VIEW fence AS
  SELECT t.id, t.status, t.outcome, t.version, t.exec_id, t.retry_count, t.due_at, t.result, t.error,
         (SELECT count(*) FROM awf.task_log l WHERE l.task_id = t.id) AS log_rows
    FROM awf.task t;

-- Long defaults: nothing expires on its own while this file runs, however slowly.
SET awf.default_requested_to_start_timeout = '1h';
SET awf.default_in_progress_timeout = '1h';
SET awf.default_retry_delay = '1h';

--
-- 1. A stale executor is fenced off (issue 8, item 2)
--
-- One retry, at once (retry_delay 0): an execution that times out goes back to the queue.
INSERT INTO awf.definition (name, allowed_retry_count, retry_delay) VALUES ('hard.stale', 1, 0);
SELECT awf.task_create('hard.stale', '{"n": 1}', '00000000-0000-0000-0000-00000000ad01')
       -> 'resource' ->> 'status' AS created;
-- executor A claims and starts it
SELECT r ->> 'id' AS claimed, r ->> 'status' AS status
  FROM jsonb_array_elements(awf.task_poll(ARRAY['hard.stale']) -> 'resources') r;
SELECT exec_id AS exec_a FROM awf.task WHERE id = '00000000-0000-0000-0000-00000000ad01' \gset
SELECT awf.task_start('00000000-0000-0000-0000-00000000ad01', :'exec_a') -> 'resource' ->> 'status' AS a_started;
SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad01', :'exec_a') ? 'inProgressTimeoutAt' AS a_heartbeat_ok;
-- A goes silent: its in-progress timeout passes, and the sweep puts the task back in the queue
UPDATE awf.task SET due_at = now() - interval '1 second' WHERE id = '00000000-0000-0000-0000-00000000ad01';
SELECT awf.tick() IS NOT NULL AS ticked;
SELECT status, outcome, retry_count, exec_id IS NULL AS exec_cleared FROM awf.task
 WHERE id = '00000000-0000-0000-0000-00000000ad01';
SELECT status_from, status_to, exec_id = :'exec_a' AS logged_a, message FROM awf.task_log
 WHERE task_id = '00000000-0000-0000-0000-00000000ad01' AND message IS NOT NULL ORDER BY at, ctid;
-- while the task waits in the queue, A's calls are refused: no execution is in flight
CREATE TEMP TABLE fence_queued AS SELECT * FROM fence WHERE id = '00000000-0000-0000-0000-00000000ad01';
SELECT n, pg_temp.try_sql(format(s, :'exec_a'), true) AS a_while_queued FROM (VALUES
  (1, $$SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad01', %L)$$),
  (2, $$SELECT awf.task_success('00000000-0000-0000-0000-00000000ad01', %L, '{"by": "A"}')$$),
  (3, $$SELECT awf.task_fail('00000000-0000-0000-0000-00000000ad01', %L, '{"by": "A"}')$$),
  (4, $$SELECT awf.task_start('00000000-0000-0000-0000-00000000ad01', %L)$$)
) AS cases(n, s) ORDER BY n;
SELECT (SELECT f FROM fence f WHERE id = '00000000-0000-0000-0000-00000000ad01')
       = (SELECT q FROM fence_queued q) AS unchanged_while_queued;
-- executor B claims and starts it: a new execId
SELECT r ->> 'id' AS claimed, r ->> 'status' AS status
  FROM jsonb_array_elements(awf.task_poll(ARRAY['hard.stale']) -> 'resources') r;
SELECT exec_id AS exec_b FROM awf.task WHERE id = '00000000-0000-0000-0000-00000000ad01' \gset
SELECT :'exec_b' <> :'exec_a' AS new_exec_id;
SELECT awf.task_start('00000000-0000-0000-0000-00000000ad01', :'exec_b') -> 'resource' ->> 'status' AS b_started;
-- A wakes up: its heartbeat, progress, success, fail and start are each refused with WA002 ...
CREATE TEMP TABLE fence_b AS SELECT * FROM fence WHERE id = '00000000-0000-0000-0000-00000000ad01';
SELECT status, retry_count, exec_id = :'exec_b' AS owner_b, log_rows FROM fence_b;
SELECT n, pg_temp.try_sql(format(s, :'exec_a'), true) AS a_after_b FROM (VALUES
  (1, $$SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad01', %L)$$),
  (2, $$SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad01', %L, 'progress', 'half', 50, 100, 'rows')$$),
  (3, $$SELECT awf.task_success('00000000-0000-0000-0000-00000000ad01', %L, '{"by": "A"}')$$),
  (4, $$SELECT awf.task_fail('00000000-0000-0000-0000-00000000ad01', %L, '{"by": "A"}')$$),
  (5, $$SELECT awf.task_start('00000000-0000-0000-0000-00000000ad01', %L)$$),
  (6, $$SELECT awf.rpc('awf.task/success', jsonb_build_object('id', '00000000-0000-0000-0000-00000000ad01', 'execId', %L))$$)
) AS cases(n, s) ORDER BY n;
-- ... and change nothing: version, status, execId, retryCount, timeout, result, error, log
SELECT (SELECT f FROM fence f WHERE id = '00000000-0000-0000-0000-00000000ad01')
       = (SELECT b FROM fence_b b) AS unchanged_by_a;
-- B goes on: heartbeat, success; the task is B's
SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad01', :'exec_b') ? 'inProgressTimeoutAt' AS b_heartbeat_ok;
SELECT awf.task_success('00000000-0000-0000-0000-00000000ad01', :'exec_b', '{"by": "B"}')
       -> 'resource' ->> 'outcome' AS b_outcome;
SELECT status, outcome, result, retry_count, exec_id = :'exec_b' AS owner_b, exec_id = :'exec_a' AS owner_a
  FROM awf.task WHERE id = '00000000-0000-0000-0000-00000000ad01';
-- once done, A is still refused as stale (WA002), and B's second success as too late (WA003)
SELECT pg_temp.try_sql(format($$SELECT awf.task_success('00000000-0000-0000-0000-00000000ad01', %L)$$, :'exec_a')) AS a_after_done,
       pg_temp.try_sql(format($$SELECT awf.task_success('00000000-0000-0000-0000-00000000ad01', %L)$$, :'exec_b')) AS b_again;
-- the log: every change once, each with the execId that made it
SELECT kind, status_from, status_to,
       CASE exec_id WHEN :'exec_a' THEN 'A' WHEN :'exec_b' THEN 'B' END AS exec
  FROM awf.task_log WHERE task_id = '00000000-0000-0000-0000-00000000ad01' ORDER BY at, ctid;

--
-- 2. Transactional enqueue (item 6): a task created in a transaction that rolls back never existed
--
-- awf.task_create: visible inside its transaction, gone after ROLLBACK (no task, no log)
BEGIN;
SELECT awf.task_create('hard.tx', '{"n": 1}', '00000000-0000-0000-0000-00000000ad11') -> 'resource' ->> 'status' AS created;
SELECT awf.task_status('00000000-0000-0000-0000-00000000ad11') -> 'resource' ->> 'status' AS seen_inside;
ROLLBACK;
SELECT pg_temp.try_sql($$SELECT awf.task_status('00000000-0000-0000-0000-00000000ad11')$$) AS after_rollback;
SELECT count(*) AS log_rows FROM awf.task_log WHERE task_id = '00000000-0000-0000-0000-00000000ad11';
-- awf.rpc('awf.task/create')
BEGIN;
SELECT awf.rpc('awf.task/create', '{"definition": "hard.tx", "id": "00000000-0000-0000-0000-00000000ad12"}')
       -> 'resource' ->> 'status' AS created;
ROLLBACK;
SELECT pg_temp.try_sql($$SELECT awf.rpc('awf.task/status', '{"id": "00000000-0000-0000-0000-00000000ad12"}')$$) AS after_rollback;
SELECT count(*) AS log_rows FROM awf.task_log WHERE task_id = '00000000-0000-0000-0000-00000000ad12';
-- a XINA run, in a sequence: no task, no XINA row, no log, no sequence row
BEGIN;
SELECT awf.xina_action('{"action": "run", "tasks": [{"name": "hard.tx.xina", "seq": "hard.tx.lane", "ref_id": 9001}]}')
       -> 'tasks' ->> 0 AS xnum \gset
SELECT task_id AS xid FROM awf.xina_task WHERE num = :xnum \gset
SELECT t.status, t.seq, x.ref_id FROM awf.task t JOIN awf.xina_task x ON x.task_id = t.id WHERE x.num = :xnum;
ROLLBACK;
SELECT pg_temp.try_sql(format('SELECT awf.task_status(%L)', :'xid')) AS after_rollback;
SELECT (SELECT count(*) FROM awf.xina_task WHERE num = :xnum OR ref_id = 9001) AS xina_rows,
       (SELECT count(*) FROM awf.task WHERE definition = 'hard.tx.xina') AS tasks,
       (SELECT count(*) FROM awf.task_log WHERE task_id = :'xid') AS log_rows,
       (SELECT count(*) FROM awf.task_sequence WHERE name = 'hard.tx.lane') AS sequences;
-- a later action cannot reach the rolled-back task by id or by ref_id
SELECT pg_temp.try_sql(format($$SELECT awf.xina_action('{"action": "cancel", "tasks": [%s]}')$$, :xnum))
       ~ '^WA001: cancel: tasks\[0\]: no XINA task \d+$' AS cancel_by_id_not_found;
SELECT pg_temp.try_sql($$SELECT awf.xina_action('{"action": "cancel", "tasks": [{"type": "ref", "ref": [9001]}]}')$$) AS cancel_by_ref;
-- an NL Flow task
SELECT awf.nlflow_workflow_put('hard.wf', 'Hardening flow', 'hard.tx.nlflow') ->> 'id' AS workflow;
BEGIN;
SELECT awf.nlflow_task_create('hard.wf', '{"q": "rolled back"}', 'corr-tx') AS nid \gset
SELECT awf.nlflow_task_status('hard.wf', :'nid') AS seen_inside;
ROLLBACK;
SELECT pg_temp.try_sql(format('SELECT awf.nlflow_task_status(%L, %L)', 'hard.wf', :'nid')) AS nlflow_after_rollback,
       pg_temp.try_sql(format('SELECT awf.task_status(%L)', :'nid')) AS core_after_rollback;
SELECT (SELECT count(*) FROM awf.nlflow_task WHERE task_id = :'nid' OR workflow_id = 'hard.wf') AS nlflow_rows,
       (SELECT count(*) FROM awf.task WHERE definition = 'hard.tx.nlflow') AS tasks,
       (SELECT count(*) FROM awf.task_log WHERE task_id = :'nid') AS log_rows,
       awf.nlflow_status_map('hard.wf') AS status_map;
-- a savepoint rolled back removes only its own task
BEGIN;
SELECT awf.task_create('hard.tx', NULL, '00000000-0000-0000-0000-00000000ad13') IS NOT NULL AS before_savepoint;
SAVEPOINT sp;
SELECT awf.task_create('hard.tx', NULL, '00000000-0000-0000-0000-00000000ad14') IS NOT NULL AS in_savepoint;
SELECT awf.rpc('awf.task/create', '{"definition": "hard.tx", "id": "00000000-0000-0000-0000-00000000ad15"}') IS NOT NULL AS in_savepoint_rpc;
ROLLBACK TO SAVEPOINT sp;
SELECT awf.task_create('hard.tx', NULL, '00000000-0000-0000-0000-00000000ad16') IS NOT NULL AS after_savepoint;
COMMIT;
SELECT id, status, (SELECT count(*) FROM awf.task_log l WHERE l.task_id = t.id) AS log_rows
  FROM awf.task t WHERE definition = 'hard.tx' ORDER BY id;
SELECT pg_temp.try_sql($$SELECT awf.task_status('00000000-0000-0000-0000-00000000ad14')$$) AS rolled_back_14,
       pg_temp.try_sql($$SELECT awf.task_status('00000000-0000-0000-0000-00000000ad15')$$) AS rolled_back_15;
-- the id of a rolled-back task is free: creating it again makes a new task
SELECT awf.task_create('hard.tx', NULL, '00000000-0000-0000-0000-00000000ad11') -> 'resource' ->> 'status' AS recreated;
SELECT count(*) AS log_rows FROM awf.task_log WHERE task_id = '00000000-0000-0000-0000-00000000ad11';

--
-- 3. SECURITY DEFINER audit (item 11)
--
-- every SECURITY DEFINER function pins exactly search_path = pg_catalog, awf, pg_temp (none is missing it)
SELECT count(*) > 0 AS has_definer_functions,
       count(*) FILTER (WHERE NOT ('search_path=pg_catalog, awf, pg_temp' = ANY (coalesce(p.proconfig, '{}')))) AS unpinned
  FROM pg_proc p WHERE p.pronamespace = 'awf'::regnamespace AND p.prosecdef;
SELECT p.oid::regprocedure AS unpinned_definer, p.proconfig FROM pg_proc p
 WHERE p.pronamespace = 'awf'::regnamespace AND p.prosecdef
   AND NOT ('search_path=pg_catalog, awf, pg_temp' = ANY (coalesce(p.proconfig, '{}')))
 ORDER BY 1::text;
-- the SQL and PL/pgSQL functions that are not definers pin a search_path starting with pg_catalog too
SELECT p.oid::regprocedure AS unpinned_invoker, p.proconfig FROM pg_proc p
 JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'awf'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=pg\_catalog, %')
 ORDER BY 1::text;
-- every definer is owned by a superuser (so no non-superuser can replace its body)
SELECT p.oid::regprocedure AS definer_not_superuser_owned FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
 WHERE p.pronamespace = 'awf'::regnamespace AND p.prosecdef AND NOT r.rolsuper ORDER BY 1::text;
-- no function is executable by PUBLIC: no PUBLIC entry in the ACL (NULL means the default, which grants it)
SELECT p.oid::regprocedure AS public_execute FROM pg_proc p
 WHERE p.pronamespace = 'awf'::regnamespace
   AND (EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                 WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
        OR has_function_privilege('public', p.oid, 'EXECUTE'))
 ORDER BY 1::text;
-- no table, view or sequence grants anything to PUBLIC
SELECT c.oid::regclass AS public_grant, a.privilege_type FROM pg_class c
 CROSS JOIN LATERAL aclexplode(coalesce(c.relacl,
   acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
 WHERE c.relnamespace = 'awf'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND a.grantee = 0
 ORDER BY 1::text, 2;
-- the schema: PUBLIC may neither create in it nor use it; no awf_* role may create in it
SELECT has_schema_privilege('public', 'awf', 'CREATE') AS public_create,
       has_schema_privilege('public', 'awf', 'USAGE') AS public_usage,
       (SELECT count(*) FROM aclexplode((SELECT nspacl FROM pg_namespace WHERE nspname = 'awf')) a
         WHERE a.grantee = 0) AS public_acl_entries;
SELECT r.rolname AS may_create_in_awf FROM pg_roles r
 WHERE r.rolname LIKE 'awf\_%' AND has_schema_privilege(r.oid, 'awf', 'CREATE') ORDER BY 1;
-- writes: no awf_* role may write a table of awf (directly or through membership), except that
-- awf_admin manages awf.definition; TRUNCATE, TRIGGER and REFERENCES are nobody's
SELECT r.rolname, c.relname, p.priv AS may_write FROM pg_roles r
 CROSS JOIN pg_class c
 CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES']) p(priv)
 WHERE r.rolname LIKE 'awf\_%' AND c.relnamespace = 'awf'::regnamespace AND c.relkind IN ('r', 'p')
   AND has_table_privilege(r.oid, c.oid, p.priv)
 ORDER BY 1, 2, 3;
SELECT r.rolname AS may_write_core,
       bool_or(has_table_privilege(r.oid, t.rel, 'INSERT') OR has_table_privilege(r.oid, t.rel, 'UPDATE')
               OR has_table_privilege(r.oid, t.rel, 'DELETE')) AS any_write
  FROM pg_roles r CROSS JOIN unnest(ARRAY['awf.task', 'awf.task_log', 'awf.xina_task', 'awf.task_sequence',
                                          'awf.nlflow_task']::regclass[]) t(rel)
 WHERE r.rolname LIKE 'awf\_%' GROUP BY r.rolname ORDER BY 1;
-- reads: secrets (client and API key hashes) are nobody's; the task counter is nobody's
SELECT r.rolname, c.relname AS may_read FROM pg_roles r CROSS JOIN pg_class c
 WHERE r.rolname LIKE 'awf\_%' AND c.relnamespace = 'awf'::regnamespace AND c.relkind IN ('r', 'p')
   AND has_table_privilege(r.oid, c.oid, 'SELECT')
 ORDER BY 1, 2;
SELECT r.rolname, has_sequence_privilege(r.oid, 'awf.task_num_seq', 'USAGE') AS seq_usage,
       has_sequence_privilege(r.oid, 'awf.task_num_seq', 'UPDATE') AS seq_update
  FROM pg_roles r WHERE r.rolname LIKE 'awf\_%' ORDER BY 1;

--
-- 4. Hijack attempts (item 11): look-alike objects in public and pg_temp never run inside awf
--
CREATE ROLE attacker NOLOGIN IN ROLE awf_user;
GRANT CREATE ON SCHEMA public TO attacker;
SET ROLE attacker;
-- every trap records its name here when it runs, then does what the real object does
CREATE TABLE public.hijack_log (what text NOT NULL);
CREATE FUNCTION public.hijack(what text) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO public.hijack_log (what) VALUES (what) $$;
CREATE FUNCTION public.gen_random_uuid() RETURNS uuid LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN PERFORM public.hijack('gen_random_uuid'); RETURN pg_catalog.gen_random_uuid(); END $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql STABLE AS
  $$ BEGIN PERFORM public.hijack('now'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN PERFORM public.hijack('clock_timestamp'); RETURN pg_catalog.clock_timestamp(); END $$;
CREATE FUNCTION public.jsonb_build_object(text, text) RETURNS jsonb LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijack('jsonb_build_object'); RETURN pg_catalog.jsonb_build_object($1, $2); END $$;
CREATE FUNCTION public.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijack('public.jsonb_typeof'); RETURN pg_catalog.jsonb_typeof($1); END $$;
CREATE FUNCTION public.length(text) RETURNS integer LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijack('length'); RETURN pg_catalog.length($1); END $$;
CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijack('unnest'); RETURN QUERY SELECT * FROM pg_catalog.unnest($1); END $$;
CREATE FUNCTION public.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijack('= text'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE FUNCTION public.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijack('= uuid'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE FUNCTION public.text_ne(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijack('<> text'); RETURN $1 OPERATOR(pg_catalog.<>) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.text_eq);
CREATE OPERATOR public.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = public.uuid_eq);
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.text_ne);
CREATE FUNCTION pg_temp.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijack('pg_temp.jsonb_typeof'); RETURN pg_catalog.jsonb_typeof($1); END $$;
CREATE FUNCTION pg_temp.gen_random_uuid() RETURNS uuid LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.hijack('pg_temp.gen_random_uuid'); RETURN pg_catalog.gen_random_uuid(); END $$;
-- look-alike tables: anything written to them would show
CREATE TEMP TABLE task (LIKE awf.task);
CREATE TEMP TABLE task_log (LIKE awf.task_log);
CREATE TABLE public.definition (LIKE awf.definition);
INSERT INTO public.definition (name, allowed_retry_count, pool) VALUES ('hard.hijack', 999, 'evil-pool');
-- the traps are armed: with public searched before pg_catalog, plain SQL runs them
SET search_path = public, pg_temp, awf, pg_catalog;
SELECT gen_random_uuid() IS NOT NULL AS got_uuid, now() IS NOT NULL AS got_now, 'a'::text = 'a'::text AS eq_text,
       'a'::text <> 'b'::text AS ne_text, length('abc') AS len;
SELECT what, count(*) AS armed FROM public.hijack_log GROUP BY what ORDER BY what;
DELETE FROM public.hijack_log;
-- the calls of a user, under search_path public, pg_temp, awf: every one works normally
SET search_path = public, pg_temp, awf;
SELECT awf.task_create('hard.hijack', '{"k": "v"}', '00000000-0000-0000-0000-00000000ad21', 'lbl')
       -> 'resource' ->> 'status' AS created;
SELECT awf.task_create('hard.hijack', NULL, NULL, execute_at => now() + interval '1 hour')
       -> 'resource' ->> 'status' AS created_waiting;
SELECT awf.task_status('00000000-0000-0000-0000-00000000ad21', true, true) #>> '{resource,definition}' AS status_of;
SELECT awf.task_status('00000000-0000-0000-0000-00000000ad21', false, true) -> 'settings' AS settings;
SELECT jsonb_typeof(awf.rpc('awf.task/list', '{}') -> 'resources') AS list_type;
SELECT jsonb_array_length(awf.task_list(ARRAY['hard.hijack'], ilike => 'lbl') -> 'resources') AS listed;
SELECT awf.rpc('awf.task/create', '{"definition": "hard.hijack", "id": "00000000-0000-0000-0000-00000000ad22"}')
       -> 'resource' ->> 'status' AS rpc_created;
SELECT awf.task_cancel('00000000-0000-0000-0000-00000000ad22') -> 'resource' ->> 'outcome' AS canceled;
SELECT awf.xina_action('{"action": "run", "tasks": [{"name": "hard.hijack", "seq": "hard.hijack.lane"},
                                                    {"name": "hard.hijack", "seq": "hard.hijack.lane"}]}') AS xrun \gset
SELECT jsonb_array_length(:'xrun'::jsonb -> 'tasks') AS xina_ran;
SELECT jsonb_array_length(awf.xina_action(jsonb_build_object('action', 'cancel',
         'tasks', :'xrun'::jsonb -> 'tasks')) -> 'canceled') AS xina_canceled;
SELECT awf.nlflow_task_create('hard.wf', '{"q": "hijack?"}', 'corr-h') IS NOT NULL AS nlflow_created;
SELECT awf.nlflow_status_map('hard.wf', statuses => ARRAY['SUBMITTED', 'RUNNING']) -> 'taskStatusMap' <> '{}' AS nlflow_listed;
-- ... and under search_path public, pg_temp, awf, pg_catalog (the traps before the catalog)
SET search_path = public, pg_temp, awf, pg_catalog;
SELECT awf.task_create('hard.hijack', '{"k": 2}', '00000000-0000-0000-0000-00000000ad23') -> 'resource' ->> 'status' AS created;
SELECT awf.task_status('00000000-0000-0000-0000-00000000ad23') -> 'resource' ->> 'status' AS status_of;
SELECT awf.rpc('awf.task/list', '{"filter": {"includeDefinitions": ["hard.hijack"]}}') -> 'resources' IS NOT NULL AS listed;
SELECT awf.task_cancel('00000000-0000-0000-0000-00000000ad23') -> 'resource' ->> 'outcome' AS canceled;
SELECT awf.xina_action('{"action": "run", "tasks": [{"name": "hard.hijack", "conf": {"a": 1}}]}') AS xrun \gset
SELECT awf.xina_action(jsonb_build_object('action', 'cancel', 'tasks', :'xrun'::jsonb -> 'tasks')) -> 'canceled' IS NOT NULL AS xina_canceled;
SELECT awf.nlflow_task_create('hard.wf', '{"q": 2}') IS NOT NULL AS nlflow_created;
RESET search_path;
-- no trap ran, no look-alike table was written, and the tasks are what was asked for
SELECT count(*) AS traps_fired, string_agg(DISTINCT what, ', ') AS which FROM public.hijack_log;
SELECT (SELECT count(*) FROM pg_temp.task) AS temp_task_rows, (SELECT count(*) FROM pg_temp.task_log) AS temp_log_rows;
RESET ROLE;
SELECT status, outcome, params, label, pool, allowed_retry_count, count(*)
  FROM awf.task WHERE definition = 'hard.hijack'
 GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, params::text, 4;
SELECT awf.task_status('00000000-0000-0000-0000-00000000ad21', include_settings => true) -> 'settings' ->> 'allowedRetryCount' AS retries_from_guc;
-- clean up the attacker and everything it made
DROP TABLE pg_temp.task, pg_temp.task_log;
DROP FUNCTION pg_temp.jsonb_typeof(jsonb), pg_temp.gen_random_uuid();
DROP OWNED BY attacker;
DROP ROLE attacker;
SELECT count(*) AS leftovers FROM pg_proc WHERE pronamespace = 'public'::regnamespace
   AND proname IN ('gen_random_uuid', 'now', 'clock_timestamp', 'jsonb_build_object', 'text_eq', 'hijack');

--
-- 5. Hostile arguments (item 8): clear WA errors, never an internal error or a crash
--
CREATE TEMP TABLE hostile AS
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  -- NULL for every argument, and for each required one
  (1, $$SELECT awf.task_create(NULL)$$),
  (2, $$SELECT awf.task_create(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$),
  (3, $$SELECT awf.task_create('hard.null', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$),
  (4, $$SELECT awf.task_start(NULL, NULL)$$),
  (5, $$SELECT awf.task_start('00000000-0000-0000-0000-00000000ad01', NULL)$$),
  (6, $$SELECT awf.task_start(NULL, '00000000-0000-0000-0000-00000000ad01')$$),
  (7, $$SELECT awf.task_success(NULL, NULL, NULL)$$),
  (8, $$SELECT awf.task_success('00000000-0000-0000-0000-00000000ad01', NULL, NULL)$$),
  (9, $$SELECT awf.task_fail(NULL, NULL, NULL)$$),
  (10, $$SELECT awf.task_fail('00000000-0000-0000-0000-00000000ad01', NULL, NULL)$$),
  (11, $$SELECT awf.task_notify(NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$),
  (12, $$SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad01', NULL)$$),
  (13, $$SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad01', '00000000-0000-0000-0000-00000000ad01', NULL)$$),
  (14, $$SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad01', '00000000-0000-0000-0000-00000000ad01', 'progress', NULL, NULL, NULL, NULL)$$),
  (15, $$SELECT awf.task_poll(NULL, NULL, NULL)$$),
  (16, $$SELECT awf.task_poll(ARRAY[NULL]::text[])$$),
  (17, $$SELECT awf.task_poll(ARRAY['hard.none'], NULL, NULL)$$),
  (18, $$SELECT awf.task_long_poll(NULL, NULL, NULL, NULL)$$),
  (19, $$SELECT awf.task_list(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$),
  (20, $$SELECT awf.task_list(ARRAY[NULL]::text[])$$),
  (21, $$SELECT awf.task_list(status => ARRAY['ready', NULL])$$),
  (22, $$SELECT awf.task_cancel(NULL)$$),
  (23, $$SELECT awf.task_status(NULL)$$),
  (24, $$SELECT awf.task_status(NULL, NULL, NULL)$$),
  (25, $$SELECT awf.task_status('00000000-0000-0000-0000-00000000ad01', NULL, NULL)$$),
  (26, $$SELECT awf.rpc(NULL, NULL)$$),
  (27, $$SELECT awf.rpc('awf.task/status', NULL)$$),
  (28, $$SELECT awf.xina_action(NULL)$$),
  (29, $$SELECT awf.nlflow_task_create(NULL, NULL)$$),
  (30, $$SELECT awf.nlflow_task_create('hard.wf', NULL)$$),
  -- batch sizes
  (31, $$SELECT awf.task_poll(ARRAY['hard.none'], NULL, -1)$$),
  (32, $$SELECT awf.task_poll(ARRAY['hard.none'], NULL, 0)$$),
  (33, $$SELECT awf.task_poll(ARRAY['hard.none'], NULL, 2147483647)$$),
  (34, $$SELECT awf.task_poll(ARRAY['hard.none'], NULL, 1000)$$),
  (35, $$SELECT awf.task_poll(ARRAY['hard.none'], NULL, -2147483648)$$),
  (36, $$SELECT awf.task_long_poll(ARRAY['hard.none'], NULL, 2147483647, 0)$$),
  -- huge and odd definition lists
  (37, $$SELECT awf.task_poll(ARRAY(SELECT 'd' || i FROM generate_series(1, 100000) i))$$),
  (38, $$SELECT awf.task_poll(NULL, ARRAY(SELECT 'w' || i FROM generate_series(1, 100000) i))$$),
  (39, $$SELECT awf.task_poll(ARRAY(SELECT 'd' || i FROM generate_series(1, 100) i))$$),
  (40, $$SELECT awf.task_poll(ARRAY[['a', 'b'], ['c', 'd']])$$),
  (41, $$SELECT awf.task_poll(ARRAY['', 'x'])$$),
  (42, $$SELECT awf.task_poll(ARRAY[repeat('d', 256)])$$),
  (43, $$SELECT awf.task_list(ARRAY(SELECT 'd' || i FROM generate_series(1, 100000) i))$$),
  -- labels, params, results and errors
  (44, $$SELECT awf.task_create('hard.big', NULL, NULL, repeat('l', 1048576))$$),
  (45, $$SELECT awf.task_create('hard.big', NULL, '00000000-0000-0000-0000-00000000ad31', repeat('l', 1024))$$),
  (46, $$SELECT awf.task_create('hard.big', '[1, 2]')$$),
  (47, $$SELECT awf.task_create('hard.big', '"scalar"')$$),
  (48, $$SELECT awf.task_create('hard.big', '42')$$),
  (49, $$SELECT awf.task_create('hard.big', 'null')$$),
  (50, $$SELECT awf.task_create('hard.big', 'true')$$),
  (51, $$SELECT awf.rpc('awf.task/create', '{"definition": "hard.big", "params": [1, 2]}')$$),
  (52, $$SELECT awf.task_success('00000000-0000-0000-0000-00000000ad01', '00000000-0000-0000-0000-00000000ad01', '[1]')$$),
  (53, $$SELECT awf.task_fail('00000000-0000-0000-0000-00000000ad01', '00000000-0000-0000-0000-00000000ad01', '"boom"')$$),
  (54, $$SELECT awf.task_create('hard.big', execute_at => '-infinity')$$),
  (55, $$SELECT awf.task_create('hard.big', requested_to_start_timeout => -1)$$),
  (56, $$SELECT awf.task_create('hard.big', allowed_retry_count => 2147483647)$$),
  (57, $$SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad01', '00000000-0000-0000-0000-00000000ad01', 'heartbeat', repeat('m', 10001))$$),
  (58, $$SELECT awf.task_list(count => -1)$$),
  (59, $$SELECT awf.task_list(page => 2147483647)$$),
  (60, $$SELECT awf.tick(-1)$$),
  -- injection text is a name like any other
  (61, $$SELECT awf.rpc('awf.task/list''; DROP TABLE awf.task; --', '{}')$$),
  (62, $$SELECT awf.task_list(sort_by => 'createdAt; DROP TABLE awf.task')$$),
  (63, $$SELECT awf.task_list(sort_order => 'desc; DROP TABLE awf.task')$$),
  -- credentials: WA101 naming the parameter, not the table's constraint
  (64, $$SELECT awf.client_put(NULL, '$y$x', 'awf_user')$$),
  (65, $$SELECT awf.client_put('bad id; DROP TABLE awf.client', '$y$x', 'awf_user')$$),
  (66, $$SELECT awf.client_put('hard-client', 'clear-text', 'awf_user')$$),
  (67, $$SELECT awf.client_put('hard-client', '$y$x', 'postgres')$$),
  (68, $$SELECT awf.client_put('hard-client', NULL, NULL)$$),
  (69, $$SELECT awf.nlflow_key_put(repeat('k', 65), 'wf', '$y$x')$$),
  (70, $$SELECT awf.nlflow_key_put('hard-key', 'wf', NULL)$$)
) AS cases(n, s);
SELECT n, result FROM hostile ORDER BY n;
-- no internal error (XX...) and nothing outside the extension's own codes and permission errors
SELECT count(*) AS cases, count(*) FILTER (WHERE result = 'ok') AS ok,
       count(*) FILTER (WHERE result ~ '^WA[01]\d\d: ') AS wa_errors,
       count(*) FILTER (WHERE result !~ '^(ok|WA[01]\d\d: )') AS other
  FROM hostile;
-- injection text in a definition, label and params: stored and read back as plain text
SELECT awf.task_create($$x'; DROP TABLE awf.task; --$$, '{"sql": "1); DELETE FROM awf.task; --"}',
                       '00000000-0000-0000-0000-00000000ad41', $$'); TRUNCATE awf.task_log; --$$)
       -> 'resource' ->> 'definition' AS created_with;
SELECT to_regclass('awf.task') IS NOT NULL AS task_table_exists, (SELECT count(*) > 0 FROM awf.task) AS tasks_remain;
SELECT definition, label, params FROM awf.task WHERE id = '00000000-0000-0000-0000-00000000ad41';
SELECT awf.task_status('00000000-0000-0000-0000-00000000ad41') #>> '{resource,definition}' AS status_definition;
SELECT r ->> 'id' AS listed FROM jsonb_array_elements(awf.task_list(ARRAY[$$x'; DROP TABLE awf.task; --$$]) -> 'resources') r;
SELECT r ->> 'id' AS found_by_ilike
  FROM jsonb_array_elements(awf.task_list(ilike => $$'; DROP TABLE awf.task$$) -> 'resources') r ORDER BY 1;
SELECT r ->> 'id' AS claimed FROM jsonb_array_elements(awf.task_poll(ARRAY[$$x'; DROP TABLE awf.task; --$$]) -> 'resources') r;
-- ilike wildcards are literal: '%' and '_' match only themselves
SELECT awf.task_create('hard.like', NULL, '00000000-0000-0000-0000-00000000ad42', '100%_done') IS NOT NULL AS created;
SELECT awf.task_create('hard.like', NULL, '00000000-0000-0000-0000-00000000ad43', '100 done') IS NOT NULL AS created;
SELECT r ->> 'id' AS matches_percent_underscore
  FROM jsonb_array_elements(awf.task_list(ARRAY['hard.like'], ilike => '%_') -> 'resources') r ORDER BY 1;
SELECT jsonb_array_length(awf.task_list(ARRAY['hard.like'], ilike => '100_') -> 'resources') AS underscore_is_literal;
-- injection through XINA and the RPC: names are data
SELECT jsonb_array_length(awf.xina_action($${"action": "run", "tasks": [{"name": "x'); DROP TABLE awf.xina_task; --"}]}$$)
       -> 'tasks') AS xina_ran;
SELECT count(*) AS xina_injection_tasks FROM awf.task t JOIN awf.xina_task x ON x.task_id = t.id
 WHERE t.definition = $$x'); DROP TABLE awf.xina_task; --$$;
SELECT awf.rpc('awf.task/create', jsonb_build_object('definition', $$"; DROP TABLE awf.task; --$$,
               'id', '00000000-0000-0000-0000-00000000ad44')) #>> '{resource,definition}' AS rpc_definition;
-- a name of 205 characters but 405 bytes (UTF-8): whatever accepts it must be usable end to end.
-- A XINA task that run accepts must be claimable by an executor; a workflow that
-- nlflow_workflow_put accepts must take tasks (either may refuse the name instead).
SELECT 'hard.' || repeat(chr(233), 200) AS mbname \gset
SELECT length(:'mbname') AS chars, octet_length(:'mbname') AS bytes;
SELECT pg_temp.try_sql(format($$SELECT awf.xina_action(jsonb_build_object('action', 'run', 'tasks',
         jsonb_build_array(jsonb_build_object('name', %L))))$$, :'mbname')) AS xina_run \gset
SELECT :'xina_run' <> 'ok'
       OR pg_temp.try_sql(format('SELECT awf.task_poll(ARRAY[%L])', :'mbname')) = 'ok' AS xina_task_refused_or_claimable;
SELECT pg_temp.try_sql(format($$SELECT awf.nlflow_workflow_put('hard.mb', 'Multibyte', %L)$$, :'mbname')) AS wf_put \gset
SELECT :'wf_put' <> 'ok'
       OR pg_temp.try_sql($$SELECT awf.nlflow_task_create('hard.mb', '{}')$$) = 'ok' AS workflow_refused_or_usable;
-- the label limit: 1024 bytes is the longest (case 45); the 1 MB label made no task
SELECT length(label) AS longest_label FROM awf.task WHERE id = '00000000-0000-0000-0000-00000000ad31';
SELECT count(*) AS big_tasks FROM awf.task WHERE definition = 'hard.big';
-- the refused calls left ad01 (done by B) as it was
SELECT status, outcome, result, retry_count FROM awf.task WHERE id = '00000000-0000-0000-0000-00000000ad01';
-- after all of it the queue works: count, then a whole lifecycle
SELECT count(*) > 0 AS counted FROM awf.task;
SELECT awf.task_create('hard.after', '{"ok": true}', '00000000-0000-0000-0000-00000000ad51') -> 'resource' ->> 'status' AS created;
SELECT r ->> 'id' AS claimed FROM jsonb_array_elements(awf.task_poll(ARRAY['hard.after']) -> 'resources') r;
SELECT exec_id AS exec_c FROM awf.task WHERE id = '00000000-0000-0000-0000-00000000ad51' \gset
SELECT awf.task_start('00000000-0000-0000-0000-00000000ad51', :'exec_c') -> 'resource' ->> 'status' AS started;
SELECT awf.task_notify('00000000-0000-0000-0000-00000000ad51', :'exec_c', 'progress', 'half', 1, 2, 'steps') ? 'inProgressTimeoutAt' AS progressed;
SELECT awf.task_success('00000000-0000-0000-0000-00000000ad51', :'exec_c', '{"answer": 42}') -> 'resource' ->> 'outcome' AS outcome;
SELECT kind, status_from, status_to, message FROM awf.task_log
 WHERE task_id = '00000000-0000-0000-0000-00000000ad51' ORDER BY at, ctid;

-- clean up what this file made
DELETE FROM awf.nlflow_task WHERE workflow_id LIKE 'hard.%';
DELETE FROM awf.nlflow_workflow WHERE id LIKE 'hard.%';
DELETE FROM awf.xina_task x USING awf.task t WHERE t.id = x.task_id AND (t.definition LIKE 'hard.%' OR t.definition LIKE '%DROP TABLE%');
DELETE FROM awf.task_sequence WHERE name LIKE 'hard.%';
DELETE FROM awf.task_log l USING awf.task t WHERE t.id = l.task_id AND (t.definition LIKE 'hard.%' OR t.definition LIKE '%DROP TABLE%');
DELETE FROM awf.task WHERE definition LIKE 'hard.%' OR definition LIKE '%DROP TABLE%';
DELETE FROM awf.definition WHERE name = 'hard.stale';
