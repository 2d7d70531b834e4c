-- NL Flow (seed 003, awf 1.1): workflows, their tasks and NL Flow statuses, responses, deletes,
-- deadlines, trace retention and roles, on top of the core task lifecycle.
-- Task ids and execIds are random: the test names each task (pg_temp.names) and prints names,
-- and try_sql() replaces random (version 4) uuids in error messages with <uuid>.
CREATE FUNCTION pg_temp.try_sql(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM,
    '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}', '<uuid>', 'g');
END $$;
CREATE TEMP TABLE names (name text PRIMARY KEY, id uuid NOT NULL UNIQUE);
CREATE FUNCTION pg_temp.id(task_name text) RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT id FROM pg_temp.names WHERE name = task_name
$$;
-- {name: status} of a taskStatusMap (a task the test did not name would show its uuid)
CREATE FUNCTION pg_temp.named(doc jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_object_agg(coalesce(n.name, e.key), e.value), '{}')
    FROM jsonb_each(doc -> 'taskStatusMap') e LEFT JOIN pg_temp.names n ON n.id::text = e.key
$$;
-- an executor polls the definition of the named task; it must be the task it claims
CREATE FUNCTION pg_temp.poll(task_name text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  claimed jsonb := awf.task_poll(ARRAY[(SELECT definition FROM awf.task WHERE id = pg_temp.id(task_name))]);
BEGIN
  IF claimed #>> '{resources,0,id}' IS DISTINCT FROM pg_temp.id(task_name)::text THEN
    RETURN 'claimed another task: ' || claimed::text;
  END IF;
  RETURN claimed #>> '{resources,0,status}';
END $$;
CREATE FUNCTION pg_temp.exec(task_name text) RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT exec_id FROM awf.task WHERE id = pg_temp.id(task_name)
$$;
GRANT EXECUTE ON FUNCTION pg_temp.try_sql(text), pg_temp.id(text), pg_temp.named(jsonb),
  pg_temp.poll(text), pg_temp.exec(text) TO PUBLIC;
GRANT SELECT, INSERT ON pg_temp.names TO PUBLIC;

-- Long defaults: no claim or retry expires while this file runs, however slowly.
SET awf.default_requested_to_start_timeout = '1h';
SET awf.default_retry_delay = '1h';

-- awf.nlflow_status: the NL Flow status of each core state
SELECT status, outcome, reason, retry_count, awf.nlflow_status(status, outcome, reason, retry_count)
  FROM (VALUES ('created', NULL, NULL::jsonb, 0), ('waiting', NULL, NULL, 0), ('waiting', NULL, NULL, 1),
               ('ready', NULL, NULL, 0), ('requested', NULL, NULL, 0), ('in-progress', NULL, NULL, 1),
               ('done', 'succeeded', NULL, 1),
               ('done', 'failed', '{"type": "awf.task/failed-by-executor"}', 1),
               ('done', 'failed', '{"type": "awf.task/failed-due-to-deadline"}', 0),
               ('done', 'canceled', '{"type": "awf.nlflow/workflow-unpublished"}', 0))
       AS s(status, outcome, reason, retry_count);

--
-- awf.nlflow_workflow_put: create, update; it returns the workflow
--
SELECT awf.nlflow_workflow_put('wf.main', 'Main flow', 'nlflow.main', 60000);
SELECT awf.nlflow_workflow_put('wf.main', 'Main flow v2', 'nlflow.main', 7200000);
SELECT awf.nlflow_workflow_put('wf.paused', 'Paused flow', 'nlflow.paused');
SELECT awf.nlflow_workflow_put('wf.side', 'Side flow', 'nlflow.side');
SELECT awf.nlflow_workflow_put('wf.closed', 'Closed flow', 'nlflow.closed', published => false);
SELECT id, name, definition, timeout_ms, published, updated_at >= created_at AS updated_after_created
  FROM awf.nlflow_workflow ORDER BY id;
-- an id of 128 characters is the longest
SELECT awf.nlflow_workflow_put(repeat('L', 128), 'Long id', 'nlflow.long') ->> 'name' AS longest_id;
DELETE FROM awf.nlflow_workflow WHERE id = repeat('L', 128);

-- bad id, name, definition, timeout: each refused with WA101, nothing stored
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, $$SELECT awf.nlflow_workflow_put(NULL, 'x', 'd')$$),
  (2, $$SELECT awf.nlflow_workflow_put('', 'x', 'd')$$),
  (3, $$SELECT awf.nlflow_workflow_put('-dash-first', 'x', 'd')$$),
  (4, $$SELECT awf.nlflow_workflow_put('has space', 'x', 'd')$$),
  (5, $$SELECT awf.nlflow_workflow_put('a/b', 'x', 'd')$$),
  (6, format('SELECT awf.nlflow_workflow_put(%L, ''x'', ''d'')', repeat('a', 129))),
  (7, $$SELECT awf.nlflow_workflow_put('wf.bad', NULL, 'd')$$),
  (8, $$SELECT awf.nlflow_workflow_put('wf.bad', '', 'd')$$),
  (9, format('SELECT awf.nlflow_workflow_put(''wf.bad'', %L, ''d'')', repeat('n', 256))),
  (10, $$SELECT awf.nlflow_workflow_put('wf.bad', 'x', NULL)$$),
  (11, $$SELECT awf.nlflow_workflow_put('wf.bad', 'x', '')$$),
  (12, format('SELECT awf.nlflow_workflow_put(''wf.bad'', ''x'', %L)', repeat('d', 256))),
  (13, $$SELECT awf.nlflow_workflow_put('wf.bad', 'x', 'd', 0)$$),
  (14, $$SELECT awf.nlflow_workflow_put('wf.bad', 'x', 'd', -1000)$$),
  (15, $$SELECT awf.nlflow_workflow_put('wf.bad', 'x', 'd', NULL)$$),
  (16, $$SELECT awf.nlflow_workflow_put('wf.main', 'x', 'd', 0)$$)
) AS cases(n, s) ORDER BY n;
SELECT count(*) AS workflows, count(*) FILTER (WHERE name = 'Main flow v2') AS main_unchanged
  FROM awf.nlflow_workflow;

--
-- awf.nlflow_task_create
--
-- One attempt per task of nlflow.main: a failure is final (ERROR).
INSERT INTO awf.definition (name, allowed_retry_count) VALUES ('nlflow.main', 0);

SELECT awf.nlflow_task_create('wf.main', '{"question": "why?", "n": [1, 2.5, null], "deep": {"a": {"b": true}}}',
                              'corr-1') AS t1 \gset
INSERT INTO names VALUES ('t1', :'t1');
SELECT prorettype::regtype AS returns,
       :'t1' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS random_uuid
  FROM pg_proc WHERE oid = 'awf.nlflow_task_create'::regproc;
-- the task: its definition is the workflow's, its params the input, its label the correlation id,
-- its deadline creation + the workflow timeout (7200000 ms since the update)
SELECT t.definition, t.status,
       t.params = '{"question": "why?", "n": [1, 2.5, null], "deep": {"a": {"b": true}}}'::jsonb AS params_equal,
       t.label, t.deadline_at = t.created_at + interval '2 hours' AS deadline_is_timeout,
       n.workflow_id, n.correlation_id, n.verbose_errors, n.created_at = t.created_at AS same_created_at
  FROM awf.task t JOIN awf.nlflow_task n ON n.task_id = t.id WHERE t.id = :'t1';
-- the core log has its creation
SELECT kind, status_from, status_to FROM awf.task_log WHERE task_id = :'t1' ORDER BY at, ctid;
-- no correlation id: no label; verbose_errors is kept
INSERT INTO names VALUES ('s1', awf.nlflow_task_create('wf.side', '{}', verbose_errors => true));
SELECT t.label IS NULL AS no_label, n.correlation_id IS NULL AS no_correlation, n.verbose_errors,
       t.deadline_at = t.created_at + interval '1 hour' AS default_timeout
  FROM awf.task t JOIN awf.nlflow_task n ON n.task_id = t.id WHERE t.id = pg_temp.id('s1');
-- a correlation id of 255 characters is the longest
INSERT INTO names VALUES ('s2', awf.nlflow_task_create('wf.side', '{"x": 1}', repeat('c', 255)));
SELECT length(label) FROM awf.task WHERE id = pg_temp.id('s2');

-- refused: unknown workflow (WA001), unpublished (WA003), input not an object, correlation id too long (WA101)
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, $$SELECT awf.nlflow_task_create('wf.nope', '{}')$$),
  (2, $$SELECT awf.nlflow_task_create(NULL, '{}')$$),
  (3, $$SELECT awf.nlflow_task_create('wf.closed', '{}')$$),
  (4, $$SELECT awf.nlflow_task_create('wf.main', '[1, 2]')$$),
  (5, $$SELECT awf.nlflow_task_create('wf.main', '"text"')$$),
  (6, $$SELECT awf.nlflow_task_create('wf.main', '42')$$),
  (7, $$SELECT awf.nlflow_task_create('wf.main', 'null')$$),
  (8, $$SELECT awf.nlflow_task_create('wf.main', NULL)$$),
  (9, format('SELECT awf.nlflow_task_create(''wf.main'', ''{}'', %L)', repeat('c', 256)))
) AS cases(n, s) ORDER BY n;
SELECT count(*) AS nlflow_tasks, (SELECT count(*) FROM awf.task WHERE definition LIKE 'nlflow.%') AS tasks
  FROM awf.nlflow_task;

--
-- The statuses through the core lifecycle
--
-- t1: RUNNING when ready, requested and in-progress; COMPLETED after success
-- (each status in its own statement: a STABLE function sees the snapshot of its statement)
SELECT awf.nlflow_task_status('wf.main', :'t1') AS created;
SELECT awf.task_poll(ARRAY['nlflow.main']) #>> '{resources,0,id}' = :'t1' AS polled_t1;
SELECT exec_id AS e1 FROM awf.task WHERE id = :'t1' \gset
SELECT status, awf.nlflow_task_status('wf.main', :'t1') AS polled FROM awf.task WHERE id = :'t1';
SELECT awf.task_start(:'t1', :'e1') #>> '{resource,status}' AS core;
SELECT awf.nlflow_task_status('wf.main', :'t1') AS started;
SELECT awf.task_success(:'t1', :'e1', '{"answer": 42, "why": "because"}') #>> '{resource,status}' AS core;
SELECT awf.nlflow_task_status('wf.main', :'t1') AS succeeded;
-- a task is found only under its own workflow
SELECT pg_temp.try_sql(format('SELECT awf.nlflow_task_status(''wf.side'', %L)', :'t1'));
SELECT pg_temp.try_sql($$SELECT awf.nlflow_task_status('wf.main', '00000000-0000-0000-0000-00000000dead')$$);
SELECT pg_temp.try_sql($$SELECT awf.nlflow_task_status('wf.nope', '00000000-0000-0000-0000-00000000dead')$$);

-- t2 (quiet) and t3 (verbose errors): the executor fails them, no retry left: ERROR
INSERT INTO names VALUES ('t2', awf.nlflow_task_create('wf.main', '{"n": 2}', 'corr-2'));
SELECT pg_temp.poll('t2');
SELECT awf.task_start(pg_temp.id('t2'), pg_temp.exec('t2')) #>> '{resource,status}';
SELECT awf.task_fail(pg_temp.id('t2'), pg_temp.exec('t2'), '{"message": "model unavailable", "code": 503}')
       #>> '{resource,outcome}' AS outcome;
SELECT awf.nlflow_task_status('wf.main', pg_temp.id('t2'));
INSERT INTO names VALUES ('t3', awf.nlflow_task_create('wf.main', '{"n": 3}', verbose_errors => true));
SELECT pg_temp.poll('t3');
SELECT awf.task_start(pg_temp.id('t3'), pg_temp.exec('t3')) #>> '{resource,status}';
SELECT awf.task_fail(pg_temp.id('t3'), pg_temp.exec('t3'), '{"code": 504}') #>> '{resource,outcome}' AS outcome;
SELECT awf.nlflow_task_status('wf.main', pg_temp.id('t3'));

-- t4 (in progress) and t5 (never claimed) pass their deadline: the sweep drops both
INSERT INTO names VALUES ('t4', awf.nlflow_task_create('wf.main', '{"n": 4}', verbose_errors => true));
SELECT pg_temp.poll('t4');
SELECT exec_id AS e4 FROM awf.task WHERE id = pg_temp.id('t4') \gset
SELECT awf.task_start(pg_temp.id('t4'), :'e4') #>> '{resource,status}';
INSERT INTO names VALUES ('t5', awf.nlflow_task_create('wf.main', '{"n": 5}'));
SELECT awf.tick() ->> 'deadlineExceeded' AS deadline_exceeded_early;
UPDATE awf.task SET deadline_at = clock_timestamp() - interval '1 second'
 WHERE id IN (pg_temp.id('t4'), pg_temp.id('t5'));
SELECT awf.tick() ->> 'deadlineExceeded' AS deadline_exceeded;
SELECT n.name, t.status, t.outcome, t.outcome_reason ->> 'type' AS reason, t.due_at IS NULL AS no_timer,
       awf.nlflow_task_status('wf.main', t.id)
  FROM awf.task t JOIN names n ON n.id = t.id WHERE n.name IN ('t4', 't5') ORDER BY n.name;
SELECT n.name, l.status_from, l.status_to, l.message, l.exec_id IS NOT NULL AS has_exec_id
  FROM awf.task_log l JOIN names n ON n.id = l.task_id
 WHERE n.name IN ('t4', 't5') AND l.message = 'deadline exceeded' ORDER BY n.name;
SELECT version AS v4 FROM awf.task WHERE id = pg_temp.id('t4') \gset
-- the executor's late success is refused and changes nothing
SELECT pg_temp.try_sql(format('SELECT awf.task_success(%L, %L, ''{"late": true}'')', pg_temp.id('t4'), :'e4'));
SELECT status, outcome, result IS NULL AS no_result, version = :v4 AS same_version,
       awf.nlflow_task_status('wf.main', id)
  FROM awf.task WHERE id = pg_temp.id('t4');
-- the sweep is done with them
SELECT awf.tick() ->> 'deadlineExceeded' AS deadline_exceeded_again;

-- t6 stays RUNNING (ready)
INSERT INTO names VALUES ('t6', awf.nlflow_task_create('wf.main', '{"n": 6}', 'corr-6'));
SELECT awf.nlflow_task_status('wf.main', pg_temp.id('t6'));
-- t8 is canceled through the core API: DROPPED
INSERT INTO names VALUES ('t8', awf.nlflow_task_create('wf.main', '{"n": 8}'));
SELECT awf.task_cancel(pg_temp.id('t8')) #>> '{resource,outcome}' AS outcome;
SELECT awf.nlflow_task_status('wf.main', pg_temp.id('t8'));

-- unpublishing a workflow drops its unfinished tasks: p1 is COMPLETED and stays so; p2 (claimed,
-- requested) and p3 (ready) are DROPPED
INSERT INTO names VALUES ('p1', awf.nlflow_task_create('wf.paused', '{"p": 1}'));
SELECT pg_temp.poll('p1');
INSERT INTO names VALUES ('p2', awf.nlflow_task_create('wf.paused', '{"p": 2}', verbose_errors => true));
SELECT awf.task_start(pg_temp.id('p1'), pg_temp.exec('p1')) #>> '{resource,status}';
SELECT awf.task_success(pg_temp.id('p1'), pg_temp.exec('p1')) #>> '{resource,status}';
SELECT pg_temp.poll('p2');
SELECT exec_id AS ep2 FROM awf.task WHERE id = pg_temp.id('p2') \gset
INSERT INTO names VALUES ('p3', awf.nlflow_task_create('wf.paused', '{"p": 3}'));
SELECT pg_temp.named(awf.nlflow_status_map('wf.paused')) AS before_unpublish;
SELECT awf.nlflow_workflow_put('wf.paused', 'Paused flow', 'nlflow.paused', published => false);
SELECT pg_temp.named(awf.nlflow_status_map('wf.paused')) AS after_unpublish;
SELECT n.name, t.status, t.outcome, t.outcome_reason, t.due_at IS NULL AS no_timer
  FROM awf.task t JOIN names n ON n.id = t.id WHERE n.name LIKE 'p_' ORDER BY n.name;
SELECT n.name, l.status_from, l.status_to, l.message, l.exec_id IS NOT NULL AS has_exec_id
  FROM awf.task_log l JOIN names n ON n.id = l.task_id
 WHERE n.name LIKE 'p_' AND l.message = 'NL Flow workflow unpublished' ORDER BY n.name;
-- p2's executor is refused; no new task is taken
SELECT pg_temp.try_sql(format('SELECT awf.task_start(%L, %L)', pg_temp.id('p2'), :'ep2'));
SELECT pg_temp.try_sql($$SELECT awf.nlflow_task_create('wf.paused', '{}')$$);
-- unpublishing again changes nothing; publishing again takes new tasks, the dropped stay dropped
SELECT awf.nlflow_workflow_put('wf.paused', 'Paused flow', 'nlflow.paused', published => false) ->> 'published';
SELECT count(*) AS unpublish_logs FROM awf.task_log l JOIN names n ON n.id = l.task_id
 WHERE n.name LIKE 'p_' AND l.message = 'NL Flow workflow unpublished';
SELECT awf.nlflow_workflow_put('wf.paused', 'Paused flow', 'nlflow.paused') ->> 'published';
INSERT INTO names VALUES ('p4', awf.nlflow_task_create('wf.paused', '{"p": 4}'));
SELECT pg_temp.named(awf.nlflow_status_map('wf.paused')) AS republished;

--
-- awf.nlflow_status_map
--
SELECT pg_temp.named(awf.nlflow_status_map('wf.main')) AS all_tasks;
-- the same map, built from the ids
SELECT awf.nlflow_status_map('wf.main') = jsonb_build_object('taskStatusMap', jsonb_build_object(
         :'t1', 'COMPLETED', pg_temp.id('t2'), 'ERROR', pg_temp.id('t3'), 'ERROR',
         pg_temp.id('t4'), 'DROPPED', pg_temp.id('t5'), 'DROPPED', pg_temp.id('t6'), 'RUNNING',
         pg_temp.id('t8'), 'DROPPED')) AS same_map;
SELECT pg_temp.named(awf.nlflow_status_map('wf.main', ARRAY[:'t1', pg_temp.id('t4')]::uuid[])) AS some_tasks;
SELECT pg_temp.named(awf.nlflow_status_map('wf.main', statuses => ARRAY['ERROR', 'DROPPED'])) AS failed;
SELECT pg_temp.named(awf.nlflow_status_map('wf.main', statuses => ARRAY['SUBMITTED'])) AS submitted;
SELECT pg_temp.named(awf.nlflow_status_map('wf.main', ARRAY[:'t1', pg_temp.id('t2')]::uuid[],
                                           ARRAY['COMPLETED', 'RUNNING'])) AS both_filters;
SELECT awf.nlflow_status_map('wf.main', '{}'::uuid[]) AS no_ids;
SELECT v AS status, count(*) FROM jsonb_each_text(awf.nlflow_status_map('wf.main') -> 'taskStatusMap') e(k, v)
 GROUP BY v ORDER BY v;
SELECT awf.nlflow_status_map('wf.closed') AS no_tasks;
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, $$SELECT awf.nlflow_status_map('wf.main', ARRAY['00000000-0000-0000-0000-00000000dead']::uuid[])$$),
  (2, format('SELECT awf.nlflow_status_map(''wf.main'', ARRAY[%L, NULL]::uuid[])', :'t1')),
  (3, format('SELECT awf.nlflow_status_map(''wf.side'', ARRAY[%L]::uuid[])', :'t1')),
  (4, $$SELECT awf.nlflow_status_map('wf.main', statuses => ARRAY['FINISHED'])$$),
  (5, $$SELECT awf.nlflow_status_map('wf.main', statuses => ARRAY['RUNNING', 'running'])$$),
  (6, $$SELECT awf.nlflow_status_map('wf.main', statuses => ARRAY['RUNNING', NULL])$$),
  (7, $$SELECT awf.nlflow_status_map('wf.main', statuses => '{}')$$),
  (8, $$SELECT awf.nlflow_status_map('wf.nope')$$)
) AS cases(n, s) ORDER BY n;

--
-- awf.nlflow_task_response and awf.nlflow_task_request
--
SELECT n.name, awf.nlflow_task_response(w.id, n.id)
  FROM names n JOIN awf.nlflow_task x ON x.task_id = n.id JOIN awf.nlflow_workflow w ON w.id = x.workflow_id
 WHERE n.name IN ('t1', 't2', 't3', 't4', 't5', 't8', 'p2', 'p3') ORDER BY n.name;
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, format('SELECT awf.nlflow_task_response(''wf.main'', %L)', pg_temp.id('t6'))),
  (2, format('SELECT awf.nlflow_task_response(''wf.paused'', %L)', pg_temp.id('p4'))),
  (3, format('SELECT awf.nlflow_task_response(''wf.side'', %L)', :'t1')),
  (4, $$SELECT awf.nlflow_task_response('wf.main', NULL)$$),
  (5, format('SELECT awf.nlflow_task_request(''wf.side'', %L)', :'t1')),
  (6, $$SELECT awf.nlflow_task_request('wf.nope', '00000000-0000-0000-0000-00000000dead')$$)
) AS cases(n, s) ORDER BY n;
-- a success without a result: null
INSERT INTO names VALUES ('s3', awf.nlflow_task_create('wf.side', '{}'));
SELECT pg_temp.poll('s1'), pg_temp.poll('s2'), pg_temp.poll('s3');
SELECT awf.task_start(pg_temp.id('s3'), pg_temp.exec('s3')) #>> '{resource,status}';
SELECT awf.task_success(pg_temp.id('s3'), pg_temp.exec('s3')) #>> '{resource,status}';
SELECT awf.nlflow_task_response('wf.side', pg_temp.id('s3')) AS no_result;
-- the request is the input, as it came
SELECT awf.nlflow_task_request('wf.main', :'t1');
SELECT awf.nlflow_task_request('wf.main', :'t1') =
       '{"question": "why?", "n": [1, 2.5, null], "deep": {"a": {"b": true}}}'::jsonb AS same_input;
SELECT n.name, awf.nlflow_task_request(x.workflow_id, n.id)
  FROM names n JOIN awf.nlflow_task x ON x.task_id = n.id WHERE n.name IN ('t6', 'p2', 's1') ORDER BY n.name;

--
-- awf.nlflow_task_delete: every trace of one task, of some statuses, or of all tasks
--
SELECT (SELECT count(*) FROM awf.task WHERE id = :'t1') AS task,
       (SELECT count(*) > 0 FROM awf.task_log WHERE task_id = :'t1') AS has_log,
       (SELECT count(*) FROM awf.nlflow_task WHERE task_id = :'t1') AS nlflow_task;
SELECT awf.nlflow_task_delete('wf.main', :'t1') AS deleted;
SELECT (SELECT count(*) FROM awf.task WHERE id = :'t1') AS task,
       (SELECT count(*) FROM awf.task_log WHERE task_id = :'t1') AS log,
       (SELECT count(*) FROM awf.nlflow_task WHERE task_id = :'t1') AS nlflow_task;
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, format('SELECT awf.nlflow_task_delete(''wf.main'', %L)', :'t1')),
  (2, $$SELECT awf.nlflow_task_delete('wf.main', '00000000-0000-0000-0000-00000000dead')$$),
  (3, format('SELECT awf.nlflow_task_delete(''wf.side'', %L)', pg_temp.id('t2'))),
  (4, $$SELECT awf.nlflow_task_delete('wf.nope')$$),
  (5, $$SELECT awf.nlflow_task_delete('wf.main', statuses => ARRAY['GONE'])$$),
  (6, $$SELECT awf.nlflow_task_delete('wf.main', statuses => '{}')$$)
) AS cases(n, s) ORDER BY n;
SELECT pg_temp.named(awf.nlflow_status_map('wf.main')) AS after_refusals;
-- one task, with statuses it does not have: nothing
SELECT awf.nlflow_task_delete('wf.main', pg_temp.id('t6'), ARRAY['COMPLETED']) AS deleted;
-- by statuses
SELECT awf.nlflow_task_delete('wf.main', statuses => ARRAY['ERROR']) AS deleted;
SELECT pg_temp.named(awf.nlflow_status_map('wf.main')) AS after_error_delete;
SELECT count(*) AS traces_left FROM names n
 WHERE n.name IN ('t2', 't3') AND (EXISTS (SELECT 1 FROM awf.task WHERE id = n.id)
    OR EXISTS (SELECT 1 FROM awf.task_log WHERE task_id = n.id)
    OR EXISTS (SELECT 1 FROM awf.nlflow_task WHERE task_id = n.id));
-- a running task: its executor is refused from then on
INSERT INTO names VALUES ('t7', awf.nlflow_task_create('wf.main', '{"n": 7}'));
SELECT pg_temp.poll('t6'), pg_temp.poll('t7');
SELECT exec_id AS e7 FROM awf.task WHERE id = pg_temp.id('t7') \gset
SELECT awf.nlflow_task_delete('wf.main', pg_temp.id('t7'), ARRAY['RUNNING']) AS deleted;
SELECT pg_temp.try_sql(format('SELECT awf.task_start(%L, %L)', pg_temp.id('t7'), :'e7'));
-- all of a workflow's tasks; other workflows keep theirs
SELECT awf.nlflow_task_delete('wf.main') AS deleted;
SELECT awf.nlflow_status_map('wf.main') AS main_after_delete_all;
SELECT count(*) AS main_tasks FROM awf.task WHERE definition = 'nlflow.main';
SELECT pg_temp.named(awf.nlflow_status_map('wf.paused')) AS paused_kept;

--
-- Trace retention: awf.sweep_surfaces deletes NL Flow tasks created before the cutoff
-- (the task, its log and its nlflow_task row), at most `batch` of them per call
--
INSERT INTO names VALUES ('r1', awf.nlflow_task_create('wf.main', '{"r": 1}'));
INSERT INTO names VALUES ('r2', awf.nlflow_task_create('wf.main', '{"r": 2}'));
INSERT INTO names VALUES ('r3', awf.nlflow_task_create('wf.main', '{"r": 3}'));
SELECT pg_temp.poll('r1');
SELECT awf.task_start(pg_temp.id('r1'), pg_temp.exec('r1')) #>> '{resource,status}';
SELECT awf.task_success(pg_temp.id('r1'), pg_temp.exec('r1'), '{"ok": true}') #>> '{resource,status}';
UPDATE awf.nlflow_task SET created_at = created_at - interval '2 days'
 WHERE task_id IN (pg_temp.id('r1'), pg_temp.id('r2'));
-- no cutoff: no trace is deleted
SELECT awf.sweep_surfaces(clock_timestamp(), 100, NULL);
SELECT awf.sweep_surfaces(clock_timestamp(), 1, clock_timestamp() - interval '1 day');
SELECT awf.sweep_surfaces(clock_timestamp(), 100, clock_timestamp() - interval '1 day');
SELECT awf.sweep_surfaces(clock_timestamp(), 100, clock_timestamp() - interval '1 day');
SELECT n.name, (SELECT count(*) FROM awf.task WHERE id = n.id) AS task,
       (SELECT count(*) FROM awf.task_log WHERE task_id = n.id) AS log,
       (SELECT count(*) FROM awf.nlflow_task WHERE task_id = n.id) AS nlflow_task
  FROM names n WHERE n.name LIKE 'r_' ORDER BY n.name;
SELECT pg_temp.named(awf.nlflow_status_map('wf.main')) AS main_after_sweep;

--
-- API keys (made by awf-bridge nlflow-key add): stored per workflow, looked up by key id
--
SELECT awf.nlflow_key_put('key1', 'wf.side', '$y$j9T$salt$hash', 'test key');
SELECT * FROM awf.nlflow_key_lookup('key1');
SELECT * FROM awf.nlflow_key_lookup('nokey');
SELECT pg_temp.try_sql($$SELECT awf.nlflow_key_put('key2', 'wf.nope', '$y$j9T$salt$hash')$$);
SELECT pg_temp.try_sql($$SELECT awf.nlflow_key_put('key2', 'wf.side', 'clear-text')$$);

--
-- Roles: awf_user runs the task functions; awf_executor may not; awf_admin also manages workflows
--
SET ROLE awf_user;
INSERT INTO names VALUES ('u1', awf.nlflow_task_create('wf.side', '{"by": "user"}', 'corr-u1'));
SELECT awf.nlflow_task_status('wf.side', pg_temp.id('u1')) AS user_status;
SELECT pg_temp.named(awf.nlflow_status_map('wf.side', statuses => ARRAY['RUNNING'])) AS user_map;
SELECT awf.nlflow_task_request('wf.side', pg_temp.id('u1')) AS user_request;
SELECT awf.nlflow_task_response('wf.side', pg_temp.id('s3')) AS user_response;
SELECT count(*) AS user_reads_nlflow_tasks FROM awf.nlflow_task WHERE workflow_id = 'wf.side';
SELECT count(*) AS user_reads_workflows FROM awf.nlflow_workflow;
SELECT pg_temp.try_sql($$SELECT awf.nlflow_workflow_put('wf.user', 'User flow', 'nlflow.user')$$) AS user_put;
SELECT pg_temp.try_sql($$SELECT awf.nlflow_key_put('key3', 'wf.side', '$y$x')$$) AS user_key_put;
SELECT pg_temp.try_sql($$SELECT awf.nlflow_key_lookup('key1')$$) AS user_key_lookup;
SELECT pg_temp.try_sql($$SELECT awf.sweep_surfaces(now(), 10, NULL)$$) AS user_sweep;
SELECT pg_temp.try_sql($$SELECT count(*) FROM awf.nlflow_api_key$$) AS user_reads_keys;
SELECT pg_temp.try_sql($$DELETE FROM awf.nlflow_task$$) AS user_deletes_rows;
SELECT awf.nlflow_task_delete('wf.side', pg_temp.id('s3')) AS user_delete;
RESET ROLE;

SET ROLE awf_executor;
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, $$SELECT awf.nlflow_task_create('wf.side', '{}')$$),
  (2, format('SELECT awf.nlflow_task_status(''wf.side'', %L)', pg_temp.id('u1'))),
  (3, $$SELECT awf.nlflow_status_map('wf.side')$$),
  (4, format('SELECT awf.nlflow_task_response(''wf.side'', %L)', pg_temp.id('u1'))),
  (5, format('SELECT awf.nlflow_task_request(''wf.side'', %L)', pg_temp.id('u1'))),
  (6, format('SELECT awf.nlflow_task_delete(''wf.side'', %L)', pg_temp.id('u1'))),
  (7, $$SELECT awf.nlflow_workflow_put('wf.exec', 'x', 'd')$$),
  (8, $$SELECT count(*) FROM awf.nlflow_task$$)
) AS cases(n, s) ORDER BY n;
-- the executor runs the user's task through the core lifecycle (it cannot read awf.task: the
-- execId comes from the poll)
SELECT r ->> 'id' = pg_temp.id('u1')::text AS claimed_u1, r ->> 'execId' AS eu1
  FROM (SELECT awf.task_poll(ARRAY['nlflow.side']) #> '{resources,0}' AS r) x \gset
SELECT :'claimed_u1' AS claimed_u1;
SELECT awf.task_start(pg_temp.id('u1'), :'eu1') #>> '{resource,status}';
SELECT awf.task_success(pg_temp.id('u1'), :'eu1', '{"done": "by executor"}') #>> '{resource,status}';
RESET ROLE;

SET ROLE awf_admin;
SELECT awf.nlflow_workflow_put('wf.admin', 'Admin flow', 'nlflow.admin', 1000);
INSERT INTO names VALUES ('a1', awf.nlflow_task_create('wf.admin', '{"by": "admin"}'));
SELECT awf.nlflow_task_status('wf.admin', pg_temp.id('a1')) AS admin_status;
SELECT awf.nlflow_task_response('wf.side', pg_temp.id('u1')) AS admin_response;
SELECT awf.nlflow_task_delete('wf.admin') AS admin_delete;
SELECT awf.sweep_surfaces(now(), 10, NULL) AS admin_sweep;
RESET ROLE;

-- what the roles did, seen by the owner
SELECT pg_temp.named(awf.nlflow_status_map('wf.side')) AS side_tasks;
SELECT id, name, published FROM awf.nlflow_workflow ORDER BY id;

-- clean up
SELECT w.id, awf.nlflow_task_delete(w.id) AS deleted FROM awf.nlflow_workflow w ORDER BY w.id;
DELETE FROM awf.nlflow_workflow;
SELECT (SELECT count(*) FROM awf.nlflow_api_key) AS keys, (SELECT count(*) FROM awf.nlflow_task) AS nlflow_tasks,
       (SELECT count(*) FROM awf.task WHERE definition LIKE 'nlflow.%') AS tasks;
DELETE FROM awf.definition WHERE name = 'nlflow.main';
