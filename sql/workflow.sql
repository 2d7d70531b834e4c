-- Schema 1.3 in SQL: Aidbox workflows driven by decision tasks (through awf.rpc and the typed
-- functions), the built-in tasks awf.task/wait and awf.task/clean-up-activities, scheduler rules
-- with cron schedules, concurrency limits per definition, and the roles of the new methods.
-- No background worker runs here: awf.tick() does the time-driven work (built-ins, rules), and
-- time passing is simulated by moving timestamps into the past (as superuser).
-- Every definition of this file starts with "wf." so that it sees only its own tasks and workflows,
-- whichever tests ran before it. Ids are random: each one that matters gets a name (pg_temp.nm)
-- and prints as <name>; any other uuid prints as <uuid>, every timestamp as <ts>.

CREATE TEMP TABLE named (name text PRIMARY KEY, id uuid NOT NULL UNIQUE);
GRANT ALL ON named TO PUBLIC;
-- nm(name, id): names an id (answers the name); id(name): the id of a name.
CREATE FUNCTION pg_temp.nm(label text, v_id uuid) RETURNS text LANGUAGE sql AS $$
  INSERT INTO named VALUES (label, v_id) ON CONFLICT (name) DO UPDATE SET id = EXCLUDED.id RETURNING name
$$;
CREATE FUNCTION pg_temp.id(label text) RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT n.id FROM named n WHERE n.name = label
$$;
CREATE FUNCTION pg_temp.name_of(v_id uuid) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT n.name FROM named n WHERE n.id = v_id), CASE WHEN v_id IS NOT NULL THEN '<uuid>' END)
$$;
-- mask(text): named ids as <name>, other uuids as <uuid>, timestamps as <ts>.
CREATE FUNCTION pg_temp.mask(doc text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  n record;
BEGIN
  FOR n IN SELECT * FROM named LOOP
    doc := replace(doc, n.id::text, '<' || n.name || '>');
  END LOOP;
  doc := regexp_replace(doc, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
  RETURN regexp_replace(doc, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z', '<ts>', 'g');
END $$;
-- rpc(method, params): the masked answer, or SQLSTATE: message.
CREATE FUNCTION pg_temp.rpc(method text, params jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN pg_temp.mask(awf.rpc(method, params)::text);
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || pg_temp.mask(SQLERRM);
END $$;
CREATE FUNCTION pg_temp.try_sql(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || pg_temp.mask(SQLERRM);
END $$;
-- create(name, definition, params [, id]): awf.workflow/create-and-execute through awf.rpc; names
-- the new workflow and its first decision task ("<name>.d1") and answers status and outcome.
CREATE FUNCTION pg_temp.create(label text, def text, params jsonb DEFAULT NULL, v_id uuid DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
BEGIN
  r := awf.rpc('awf.workflow/create-and-execute',
               jsonb_strip_nulls(jsonb_build_object('definition', def, 'params', params, 'id', v_id)));
  PERFORM pg_temp.nm(label, (r #>> '{resource,id}')::uuid);
  RETURN concat_ws(' ', r #>> '{resource,status}', r #>> '{resource,outcome}');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || pg_temp.mask(SQLERRM);
END $$;
-- poll(params): awf.task/poll through awf.rpc; each task claimed, named if new: a decision task
-- "<workflow>.d<n>", another task "<definition>#<n>".
CREATE FUNCTION pg_temp.poll(params jsonb)
RETURNS TABLE (task text, definition text, event text, workflow text, activity text)
LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  label text;
BEGIN
  -- tasks of equal priority and executeAt are claimed in any order: they are named in params order
  FOR r IN SELECT e FROM jsonb_array_elements(awf.rpc('awf.task/poll', params) -> 'resources') e
            ORDER BY coalesce((e ->> 'priority')::int, 0) DESC, e ->> 'executeAt', e ->> 'params' LOOP
    label := (SELECT n.name FROM named n WHERE n.id = (r ->> 'id')::uuid);
    IF label IS NULL THEN
      IF r ->> 'definition' = 'awf.workflow/decision-task' THEN
        label := pg_temp.name_of((r #>> '{params,workflow,id}')::uuid) || '.d';
      ELSE
        label := (r ->> 'definition') || '#';
      END IF;
      label := label || (SELECT count(*) + 1 FROM named n WHERE n.name LIKE label || '%');
      PERFORM pg_temp.nm(label, (r ->> 'id')::uuid);
    END IF;
    task := label;
    definition := r ->> 'definition';
    event := replace(r #>> '{params,event}', 'awf.workflow.event/', '');
    workflow := CASE WHEN r #> '{params,workflow}' IS NOT NULL
                     THEN pg_temp.name_of((r #>> '{params,workflow,id}')::uuid) || ' ' || (r #>> '{params,workflow,status}') END;
    activity := CASE WHEN r #> '{params,activity}' IS NOT NULL
                     THEN pg_temp.name_of((r #>> '{params,activity,id}')::uuid) || ' '
                          || concat_ws(' ', r #>> '{params,activity,status}', r #>> '{params,activity,outcome}') END;
    RETURN NEXT;
  END LOOP;
END $$;
-- exec(task, step [, doc]): awf.task/<step> (start, success with result doc, fail with error doc)
-- through awf.rpc with the execId of the task's claim; answers status and outcome, or the error.
CREATE FUNCTION pg_temp.exec(task text, step text, doc jsonb DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  params jsonb;
  r jsonb;
BEGIN
  SELECT jsonb_build_object('id', t.id, 'execId', t.exec_id) INTO params FROM awf.task t WHERE t.id = pg_temp.id(task);
  IF doc IS NOT NULL THEN
    params := params || jsonb_build_object(CASE step WHEN 'fail' THEN 'error' ELSE 'result' END, doc);
  END IF;
  r := awf.rpc('awf.task/' || step, params);
  RETURN concat_ws(' ', r #>> '{resource,status}', r #>> '{resource,outcome}');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || pg_temp.mask(SQLERRM);
END $$;
-- decide(task, result): start a claimed decision task and succeed it with `result`.
CREATE FUNCTION pg_temp.decide(task text, result jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT t.status FROM awf.task t WHERE t.id = pg_temp.id(task)) = 'requested' THEN
    PERFORM pg_temp.exec(task, 'start');
  END IF;
  RETURN pg_temp.exec(task, 'success', result);
END $$;
-- attempt(task, result): what succeeding a started decision task with `result` answers, rolled back.
CREATE FUNCTION pg_temp.attempt(task text, result jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  answer text;
BEGIN
  answer := pg_temp.exec(task, 'success', result);
  RAISE EXCEPTION USING ERRCODE = 'P0099', MESSAGE = answer;
EXCEPTION WHEN SQLSTATE 'P0099' THEN
  RETURN SQLERRM;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO PUBLIC;
-- The workflows of this file, and the tasks of a workflow (decision tasks included).
CREATE TEMP VIEW wf AS
  SELECT pg_temp.name_of(w.id) AS workflow, w.definition, w.status, w.outcome,
         w.outcome_reason ->> 'type' AS reason, w.result, w.error,
         pg_temp.name_of(w.parent_id) AS parent, pg_temp.name_of(w.decision_task_id) AS deciding
    FROM awf.workflow w WHERE w.definition LIKE 'wf.%';
CREATE TEMP VIEW wt AS
  SELECT pg_temp.name_of(t.workflow_id) AS workflow, pg_temp.name_of(t.id) AS task,
         regexp_replace(t.definition, '@.*', '@') AS definition, t.status, t.outcome,
         t.outcome_reason ->> 'type' AS reason, t.retry_count AS tries,
         replace(t.params ->> 'event', 'awf.workflow.event/', '') AS event,
         pg_temp.name_of((t.params #>> '{activity,id}')::uuid) AS activity, t.created_at
    FROM awf.task t WHERE t.workflow_id IS NOT NULL;
GRANT SELECT ON wf, wt TO PUBLIC;

-- Long defaults: no claim or execution of this file expires while it runs, however slowly.
SET awf.default_requested_to_start_timeout = '1h';
SET awf.default_in_progress_timeout = '1h';

--
-- 1. Lifecycle: create, decide, schedule a task, complete
--
SELECT pg_temp.create('w1', 'wf.order', '{"orderId": 42}', '00000000-0000-4000-8000-0000000000a1');
-- the workflow as the API answers it: in-progress, no outcome (absent keys, not nulls)
SELECT pg_temp.mask(jsonb_pretty(awf.rpc('awf.workflow/status', '{"id": "00000000-0000-4000-8000-0000000000a1"}')));
-- the same id again is the same workflow (no second workflow-init); with another definition WA007
SELECT pg_temp.create('w1', 'wf.order', '{"orderId": 43}', '00000000-0000-4000-8000-0000000000a1') AS same_id_again;
SELECT params FROM awf.workflow WHERE id = pg_temp.id('w1');
SELECT pg_temp.create('w1x', 'wf.other', NULL, '00000000-0000-4000-8000-0000000000a1') AS same_id_other_definition;
-- reserved, missing, empty or badly typed definitions and params
SELECT n, pg_temp.rpc('awf.workflow/create-and-execute', p) AS result FROM (VALUES
  (1, '{"definition": "awf.x"}'::jsonb),
  (2, '{"definition": "awf.workflow/decision-task"}'),
  (3, '{}'),
  (4, '{"definition": ""}'),
  (5, '{"definition": 5}'),
  (6, '{"definition": "wf.order", "params": [1]}'),
  (7, '{"definition": "wf.order", "id": "nope"}')
) AS cases(n, p) ORDER BY n;
-- the alias awf.workflow/create and the typed function
SELECT pg_temp.mask(awf.rpc('awf.workflow/create', '{"definition": "wf.order", "id": "00000000-0000-4000-8000-0000000000a1"}') #>> '{resource,id}') AS alias_same_id;
SELECT pg_temp.try_sql($$SELECT awf.workflow_create('awf.typed')$$) AS typed_reserved;
SELECT pg_temp.try_sql($$SELECT awf.workflow_create(NULL)$$) AS typed_null;
SELECT count(*) AS workflows, count(*) FILTER (WHERE definition = 'wf.order') AS orders FROM awf.workflow WHERE definition LIKE 'wf.%';
-- one decision task, ready: a workflow-init event
SELECT workflow, task, definition, status, event, activity FROM wt WHERE workflow = 'w1' ORDER BY created_at, task;
SELECT workflow, status, deciding FROM wf WHERE workflow = 'w1';
-- a second workflow of another definition
SELECT pg_temp.create('w2', 'wf.other');
-- polling taskDefinitions of the workflow's name does not claim its decision; long-polling the
-- other workflow definition claims only that one's
SELECT * FROM pg_temp.poll('{"taskDefinitions": ["wf.order", "wf.other"], "maxBatchSize": 10}');
SELECT jsonb_array_length(r -> 'resources') AS claimed, pg_temp.nm('w2.d1', (r #>> '{resources,0,id}')::uuid) AS task,
       r #>> '{resources,0,definition}' AS definition
  FROM awf.rpc('awf.task/long-poll', '{"workflowDefinitions": ["wf.other"], "maxBatchSize": 10, "timeout": 0}') r;
SELECT workflow, task, status, event FROM wt WHERE workflow = 'w2';
-- workflowDefinitions, with taskDefinitions too
SELECT * FROM pg_temp.poll('{"taskDefinitions": ["wf.nothing"], "workflowDefinitions": ["wf.order"], "maxBatchSize": 10}');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}') AS claimed_again;
-- the decision task as claimed: definition awf.workflow/decision-task, params {event, workflow}
SELECT pg_temp.mask(jsonb_pretty((awf.task_status(pg_temp.id('w1.d1')) -> 'resource') - 'meta'));
-- the executor decides: schedule a task (bare array of actions)
SELECT pg_temp.decide('w1.d1', '[{"action": "awf.workflow.action/schedule-task",
   "task-request": {"definition": "wf.ship", "params": {"to": "Oslo"}, "label": "ship it", "priority": 5}}]');
SELECT workflow, task, definition, status, outcome FROM wt WHERE workflow = 'w1' ORDER BY created_at, task;
SELECT workflow, status, deciding FROM wf WHERE workflow = 'w1';
-- the task is polled by its definition, like any task
SELECT * FROM pg_temp.poll('{"taskDefinitions": ["wf.ship"]}');
SELECT t.definition, t.params, t.label, t.priority, t.status FROM awf.task t WHERE t.id = pg_temp.id('wf.ship#1');
SELECT pg_temp.exec('wf.ship#1', 'start'), pg_temp.exec('wf.ship#1', 'success', '{"tracking": "T-1"}');
-- its completion is a task-completed decision whose activity is the task
SELECT workflow, task, definition, status, event, activity FROM wt WHERE workflow = 'w1' ORDER BY created_at, task;
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
SELECT pg_temp.mask(jsonb_pretty(awf.task_status(pg_temp.id('w1.d2')) #> '{resource,params,activity}'));
SELECT awf.task_status(pg_temp.id('w1.d2')) #> '{resource,params,workflow,status}' AS workflow_status_in_event;
-- complete, with {actions: [...]}: do-nothing, then complete-workflow with a result
SELECT pg_temp.decide('w1.d2', '{"actions": [{"action": "awf.workflow.action/do-nothing"},
   {"type": "awf.workflow.action/complete-workflow", "result": {"shipped": true}}]}');
SELECT workflow, status, outcome, reason, result, error, deciding FROM wf WHERE workflow = 'w1';
SELECT pg_temp.mask(jsonb_pretty(awf.rpc('awf.workflow/status', '{"id": "00000000-0000-4000-8000-0000000000a1", "include-activities": true}')));
-- the typed function: without activities, and an unknown id
SELECT awf.workflow_status(pg_temp.id('w1')) ? 'activities' AS has_activities,
       jsonb_array_length(awf.workflow_status(pg_temp.id('w1'), true) -> 'activities') AS activities;
SELECT pg_temp.rpc('awf.workflow/status', '{"id": "00000000-0000-4000-8000-00000000dead"}') AS unknown_status;
SELECT pg_temp.rpc('awf.workflow/status', '{}') AS no_id;
-- a done workflow gets no more decisions
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}') AS after_done;
-- list: newest first, filtered by definition and status (a string or an array), paged
SELECT pg_temp.create('w3', 'wf.order', '{"n": 3}');
SELECT pg_temp.create('w4', 'wf.order', '{"n": 4}');
SELECT n, (SELECT string_agg(pg_temp.name_of((r ->> 'id')::uuid) || ':' || (r ->> 'status'), ' ' ORDER BY o)
             FROM jsonb_array_elements(awf.rpc('awf.workflow/list', p) -> 'resources') WITH ORDINALITY AS x(r, o)) AS listed
  FROM (VALUES
  (1, '{"filter": {"definition": "wf.order"}}'::jsonb),
  (2, '{"filter": {"definition": ["wf.order", "wf.other"]}}'),
  (3, '{"filter": {"definition": ["wf.order", "wf.other"], "status": "in-progress"}}'),
  (4, '{"filter": {"definition": "wf.order", "status": ["done"]}}'),
  (5, '{"filter": {"definition": "wf.order"}, "paging": {"count": 2}}'),
  (6, '{"filter": {"definition": "wf.order"}, "paging": {"count": 2, "page": 2}}'),
  (7, '{"filter": {"definition": "wf.order"}, "paging": {"count": 2, "page": 3}}'),
  (8, '{"filter": {"definition": "wf.none"}}')
) AS cases(n, p) ORDER BY n;
SELECT n, pg_temp.rpc('awf.workflow/list', p) AS result FROM (VALUES
  (1, '{"paging": {"count": 0}}'::jsonb),
  (2, '{"paging": {"count": 1001}}'),
  (3, '{"paging": {"page": 0}}'),
  (4, '{"filter": {"definition": 5}}'),
  (5, '{"filter": []}')
) AS cases(n, p) ORDER BY n;
SELECT (SELECT string_agg(pg_temp.name_of((r ->> 'id')::uuid), ' ')
          FROM jsonb_array_elements(awf.workflow_list(ARRAY['wf.order'], ARRAY['in-progress'], 1, 1) -> 'resources') r) AS typed_list;

--
-- 2. One decision at a time, in event order
--
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}');
SELECT pg_temp.decide('w3.d1', '[
  {"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step", "params": {"n": 1}}},
  {"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step", "params": {"n": 2}}}]');
SELECT pg_temp.decide('w4.d1', '[{"action": "awf.workflow.action/do-nothing"}]');
SELECT * FROM pg_temp.poll('{"taskDefinitions": ["wf.step"], "maxBatchSize": 10}');
SELECT task, (SELECT params FROM awf.task WHERE id = pg_temp.id(task)) AS params FROM (VALUES ('wf.step#1'), ('wf.step#2')) v(task);
-- the second finishes first: its event makes the decision; the first one's event waits
SELECT pg_temp.exec('wf.step#2', 'start'), pg_temp.exec('wf.step#2', 'success', '{}');
SELECT pg_temp.exec('wf.step#1', 'start'), pg_temp.exec('wf.step#1', 'success', '{}');
SELECT workflow, task, definition, status, event, activity FROM wt WHERE workflow = 'w3' ORDER BY created_at, task;
SELECT count(*) AS waiting_events, min(replace(event, 'awf.workflow.event/', '')) AS event,
       pg_temp.name_of((min(activity ->> 'id'))::uuid) AS activity
  FROM awf.workflow_event WHERE workflow_id = pg_temp.id('w3');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}') AS none_while_deciding;
SELECT pg_temp.decide('w3.d2', '[]');
-- done: the next event gets its decision
SELECT count(*) AS waiting_events FROM awf.workflow_event WHERE workflow_id = pg_temp.id('w3');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}');
SELECT workflow, task, definition, status, event, activity FROM wt WHERE workflow = 'w3' ORDER BY created_at, task;
-- a task canceled by the user is a task-completed event too
SELECT pg_temp.decide('w3.d3', '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step", "params": {"n": 3}}}]');
SELECT pg_temp.nm('step3', id) FROM awf.task WHERE workflow_id = pg_temp.id('w3') AND params = '{"n": 3}';
SELECT pg_temp.rpc('awf.task/cancel', jsonb_build_object('id', pg_temp.id('step3'))) ~ '"outcome": "canceled"' AS canceled;
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}');
-- and one that failed with no retry left
SELECT pg_temp.decide('w3.d4', '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step", "params": {"n": 4}, "allowedRetryCount": 0}}]');
SELECT * FROM pg_temp.poll('{"taskDefinitions": ["wf.step"]}');
SELECT pg_temp.exec('wf.step#3', 'start'), pg_temp.exec('wf.step#3', 'fail', '{"message": "broken"}');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}');
SELECT awf.task_status(pg_temp.id('w3.d5')) #> '{resource,params,activity,error}' AS activity_error;
SELECT pg_temp.decide('w3.d5', '[{"action": "awf.workflow.action/complete-workflow"}]');
SELECT workflow, status, outcome, result FROM wf WHERE workflow = 'w3';

--
-- 3. Failing: the fail action, and a decision task that fails until its retries run out
--
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}') AS w4_has_no_decision;
SELECT pg_temp.create('w5', 'wf.order');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}');
SELECT pg_temp.decide('w5.d1', '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step"}},
  {"action": "awf.workflow.action/fail", "error": {"message": "out of stock", "sku": 7}}]');
SELECT workflow, status, outcome, reason, error FROM wf WHERE workflow = 'w5';
SELECT pg_temp.mask(awf.workflow_status(pg_temp.id('w5')) #>> '{resource,outcomeReason}') AS outcome_reason;
-- the task it scheduled in the same decision is canceled with it
SELECT workflow, task, definition, status, outcome, reason FROM wt WHERE workflow = 'w5' ORDER BY created_at, task;
-- a decision task failed by its executor: one retry, at once, then the workflow fails
INSERT INTO awf.definition (name, allowed_retry_count, retry_delay) VALUES ('awf.workflow/decision-task@wf.fragile', 1, 0);
SELECT pg_temp.create('w6', 'wf.fragile');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.fragile"]}');
SELECT pg_temp.exec('w6.d1', 'start'), pg_temp.exec('w6.d1', 'fail', '{"message": "cannot decide"}');
SELECT workflow, task, status, outcome, tries FROM wt WHERE workflow = 'w6';
SELECT workflow, status, outcome FROM wf WHERE workflow = 'w6';
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.fragile"]}');
SELECT pg_temp.exec('w6.d1', 'start'), pg_temp.exec('w6.d1', 'fail', '{"message": "still cannot"}');
SELECT workflow, task, status, outcome, reason, tries FROM wt WHERE workflow = 'w6';
SELECT workflow, status, outcome, reason, error, deciding FROM wf WHERE workflow = 'w6';
SELECT pg_temp.mask(awf.workflow_status(pg_temp.id('w6')) #>> '{resource,outcomeReason}') AS outcome_reason;
-- a decision task that times out in progress (no retry left) fails the workflow: unknown-error
INSERT INTO awf.definition (name, allowed_retry_count, retry_delay) VALUES ('awf.workflow/decision-task@wf.slowpoke', 0, 0);
SELECT pg_temp.create('w6t', 'wf.slowpoke');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.slowpoke"]}');
SELECT pg_temp.exec('w6t.d1', 'start');
UPDATE awf.task SET due_at = clock_timestamp() - interval '1 second' WHERE id = pg_temp.id('w6t.d1');
SELECT awf.tick() IS NOT NULL AS ticked;
SELECT workflow, task, status, outcome, reason FROM wt WHERE workflow = 'w6t';
SELECT workflow, status, outcome, reason FROM wf WHERE workflow = 'w6t';
SELECT pg_temp.mask(awf.workflow_status(pg_temp.id('w6t')) #>> '{resource,outcomeReason,message}') AS message;
-- with the default settings (two retries) the first failure retries
SELECT pg_temp.create('w7', 'wf.order');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
SELECT pg_temp.exec('w7.d1', 'start'), pg_temp.exec('w7.d1', 'fail', '{"message": "flaky"}');
SELECT workflow, task, status, outcome, tries FROM wt WHERE workflow = 'w7';
SELECT workflow, status FROM wf WHERE workflow = 'w7';

--
-- 4. Cancel: unfinished tasks (the decision task too) and sub-workflows are canceled
--
SELECT pg_temp.create('w8', 'wf.order');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"], "maxBatchSize": 10}');
SELECT pg_temp.decide('w8.d1', '[
  {"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.slow", "params": {"n": 1}, "priority": 3}},
  {"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.slow", "params": {"n": 2}, "priority": 2}},
  {"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.slow", "params": {"n": 3}, "priority": 1}},
  {"action": "awf.workflow.action/schedule-workflow", "workflow-request": {"definition": "wf.child", "params": {"of": 8}}}]');
SELECT pg_temp.nm('w8.child', id) FROM awf.workflow WHERE parent_id = pg_temp.id('w8');
-- slow 1 finishes (a decision for w8 runs), slow 2 is in progress, slow 3 waits ready
SELECT * FROM pg_temp.poll('{"taskDefinitions": ["wf.slow"], "maxBatchSize": 2}');
SELECT pg_temp.exec('wf.slow#1', 'start'), pg_temp.exec('wf.slow#1', 'success', '{}');
SELECT pg_temp.exec('wf.slow#2', 'start');
SELECT pg_temp.nm('wf.slow#3', id) FROM awf.task WHERE workflow_id = pg_temp.id('w8') AND definition = 'wf.slow' AND status = 'ready';
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order", "wf.child"], "maxBatchSize": 10}');
SELECT workflow, task, definition, status, outcome FROM wt WHERE workflow IN ('w8', 'w8.child') ORDER BY workflow, created_at, task;
SELECT pg_temp.mask(jsonb_pretty((awf.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w8'))) -> 'resource') - 'meta'));
SELECT workflow, status, outcome, reason, parent, deciding FROM wf WHERE workflow IN ('w8', 'w8.child') ORDER BY workflow;
SELECT pg_temp.mask(awf.workflow_status(pg_temp.id('w8.child')) #>> '{resource,outcomeReason,message}') AS child_reason;
SELECT workflow, task, definition, status, outcome, reason FROM wt WHERE workflow IN ('w8', 'w8.child') ORDER BY workflow, created_at, task;
-- the executors of canceled tasks are refused; nothing new to decide
SELECT pg_temp.exec('wf.slow#2', 'success', '{}') AS late_success;
SELECT pg_temp.exec('w8.d2', 'start') AS late_start;
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order", "wf.child"], "maxBatchSize": 10}');
SELECT count(*) AS waiting_events FROM awf.workflow_event WHERE workflow_id IN (pg_temp.id('w8'), pg_temp.id('w8.child'));
-- cancel again, of any done workflow, is WA005; an unknown id WA006
SELECT pg_temp.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w8'))) AS cancel_again;
SELECT pg_temp.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w1'))) AS cancel_succeeded;
SELECT pg_temp.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w8.child'))) AS cancel_child;
SELECT pg_temp.rpc('awf.workflow/cancel', '{"id": "00000000-0000-4000-8000-00000000dead"}') AS cancel_unknown;
SELECT pg_temp.try_sql($$SELECT awf.workflow_cancel(NULL)$$) AS typed_cancel_null;
-- cancel with a decision waiting for its retry (w7), and with no decision (w4)
SELECT pg_temp.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w7'))) ~ '"outcome": "canceled"' AS w7_canceled;
SELECT pg_temp.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w4'))) ~ '"outcome": "canceled"' AS w4_canceled;
SELECT workflow, task, status, outcome, reason FROM wt WHERE workflow IN ('w4', 'w7') ORDER BY workflow, created_at, task;

--
-- 5. Sub-workflows: the parent decides again when a child is done
--
SELECT pg_temp.create('w9', 'wf.order', '{"parent": true}');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
SELECT pg_temp.decide('w9.d1', '[{"action": "awf.workflow.action/schedule-workflow",
   "workflow-request": {"definition": "wf.child", "params": {"item": 1}}}]');
SELECT pg_temp.nm('w9.child', id) FROM awf.workflow WHERE parent_id = pg_temp.id('w9');
SELECT workflow, definition, status, parent, deciding FROM wf WHERE workflow IN ('w9', 'w9.child') ORDER BY workflow;
SELECT pg_temp.mask(jsonb_pretty((awf.workflow_status(pg_temp.id('w9.child')) -> 'resource') - 'meta'));
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.child"]}');
SELECT pg_temp.decide('w9.child.d1', '[{"action": "awf.workflow.action/complete-workflow", "result": {"item": 1, "ok": true}}]');
SELECT workflow, status, outcome, result FROM wf WHERE workflow IN ('w9', 'w9.child') ORDER BY workflow;
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order", "wf.child"], "maxBatchSize": 10}');
SELECT pg_temp.mask(jsonb_pretty((awf.task_status(pg_temp.id('w9.d2')) #> '{resource,params,activity}') - 'meta'));
-- the parent's activities: the sub-workflow (its decision tasks are not activities)
SELECT pg_temp.mask(a ->> 'resourceType' || ' ' || (a ->> 'id') || ' ' || (a ->> 'status') || ' ' || coalesce(a ->> 'outcome', '-')) AS activity
  FROM jsonb_array_elements(awf.workflow_status(pg_temp.id('w9'), true) -> 'activities') a;
SELECT pg_temp.decide('w9.d2', '[{"action": "awf.workflow.action/complete-workflow", "result": {"children": 1}}]');
SELECT workflow, status, outcome, result FROM wf WHERE workflow = 'w9';
-- a child that fails is a workflow-completed event too
SELECT pg_temp.create('w10', 'wf.order');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
SELECT pg_temp.decide('w10.d1', '[{"action": "awf.workflow.action/schedule-workflow", "workflow-request": {"definition": "wf.child"}}]');
SELECT pg_temp.nm('w10.child', id) FROM awf.workflow WHERE parent_id = pg_temp.id('w10');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.child"]}');
SELECT pg_temp.decide('w10.child.d1', '[{"action": "awf.workflow.action/fail", "error": {"message": "child broke"}}]');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
SELECT pg_temp.decide('w10.d2', '[{"action": "awf.workflow.action/complete-workflow"}]');
SELECT workflow, status, outcome, reason, error, parent FROM wf WHERE workflow IN ('w10', 'w10.child') ORDER BY workflow;
-- and a child canceled by the user
SELECT pg_temp.create('w16', 'wf.order');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
SELECT pg_temp.decide('w16.d1', '[{"action": "awf.workflow.action/schedule-workflow", "workflow-request": {"definition": "wf.child"}}]');
SELECT pg_temp.nm('w16.child', id) FROM awf.workflow WHERE parent_id = pg_temp.id('w16');
SELECT pg_temp.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w16.child'))) ~ '"outcome": "canceled"' AS child_canceled;
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order", "wf.child"], "maxBatchSize": 10}');
SELECT pg_temp.decide('w16.d2', '[{"action": "awf.workflow.action/fail", "error": {"message": "child canceled"}}]');
SELECT workflow, status, outcome, reason, parent FROM wf WHERE workflow IN ('w16', 'w16.child') ORDER BY workflow;

--
-- 6. A bad decision result is refused (WA101, naming the action) and changes nothing
--
SELECT pg_temp.create('w11', 'wf.order');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
SELECT pg_temp.exec('w11.d1', 'start');
CREATE TEMP TABLE before AS
  SELECT (SELECT count(*) FROM awf.task) AS tasks, (SELECT count(*) FROM awf.workflow) AS workflows,
         (SELECT sum(version) FROM awf.task) AS task_versions, (SELECT sum(version) FROM awf.workflow) AS workflow_versions,
         (SELECT count(*) FROM awf.workflow_event) AS events, (SELECT count(*) FROM awf.task_log) AS logs;
SELECT n, pg_temp.exec('w11.d1', 'success', r) AS result FROM (VALUES
  (1, '[{"action": "awf.workflow.action/explode"}]'::jsonb),
  (2, '[{"action": "awf.workflow.action/do-nothing"}, 5]'),
  (3, '[{}]'),
  (4, '[{"action": 5}]'),
  (5, '[{"action": "awf.workflow.action/complete-workflow"}, {"action": "awf.workflow.action/do-nothing"}]'),
  (6, '[{"action": "awf.workflow.action/fail", "error": {"message": "x"}}, {"action": "awf.workflow.action/do-nothing"}]'),
  (7, '[{"action": "awf.workflow.action/fail", "error": "boom"}]'),
  (8, '{"actions": 5}'),
  (9, '{"actions": {"action": "awf.workflow.action/do-nothing"}}'),
  (10, jsonb_build_object('actions', (SELECT jsonb_agg('{"action": "awf.workflow.action/do-nothing"}'::jsonb) FROM generate_series(1, 1001)))),
  (11, '[{"action": "awf.workflow.action/schedule-task"}]'),
  (12, '[{"action": "awf.workflow.action/schedule-task", "task-request": "wf.step"}]'),
  (13, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"params": {}}}]'),
  (14, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step", "params": [1]}}]'),
  (15, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "awf.workflow/decision-task@wf.order"}}]'),
  (16, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step", "priority": "high"}}]'),
  (17, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step", "priority": 2147483648}}]'),
  (18, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step", "executeAt": "2024-13-45T00:00:00Z"}}]'),
  (19, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step", "allowedRetryCount": -1}}]'),
  (20, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "awf.task/wait", "params": {}}}]'),
  (21, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "awf.task/wait", "params": {"duration": {"seconds": "5"}}}}]'),
  (22, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step"}},
         {"action": "awf.workflow.action/schedule-task", "task-request": {"definition": ""}}]'),
  (23, '[{"action": "awf.workflow.action/schedule-workflow"}]'),
  (24, '[{"action": "awf.workflow.action/schedule-workflow", "workflow-request": {"definition": "wf.child", "params": 1}}]'),
  (25, '[{"action": "awf.workflow.action/schedule-workflow", "workflow-request": {"definition": "awf.child"}}]'),
  (26, '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.step"}},
         {"action": "awf.workflow.action/schedule-workflow", "workflow-request": {"definition": "awf.child"}}]'),
  (27, '5'),
  (28, '"done"')
) AS cases(n, r) ORDER BY n;
-- nothing changed: the decision task is still in progress, no task, workflow or event was made
SELECT (SELECT count(*) FROM awf.task) = b.tasks AS same_tasks, (SELECT count(*) FROM awf.workflow) = b.workflows AS same_workflows,
       (SELECT sum(version) FROM awf.task) = b.task_versions AS same_task_versions,
       (SELECT sum(version) FROM awf.workflow) = b.workflow_versions AS same_workflow_versions,
       (SELECT count(*) FROM awf.workflow_event) = b.events AS same_events, (SELECT count(*) FROM awf.task_log) = b.logs AS same_logs
  FROM before b;
SELECT workflow, task, status, outcome FROM wt WHERE workflow = 'w11';
SELECT workflow, status, deciding FROM wf WHERE workflow = 'w11';
-- executeAt is an ISO-8601 timestamp, as awf.task/create takes it: not PostgreSQL's special values
-- (a task to execute at "infinity" would never run). Each attempt is rolled back.
SELECT v AS execute_at, pg_temp.attempt('w11.d1', jsonb_build_array(jsonb_build_object('action', 'awf.workflow.action/schedule-task',
         'task-request', jsonb_build_object('definition', 'wf.step', 'executeAt', v))))
       LIKE 'WA101: decision result.actions[0].task-request.executeAt %' AS refused
  FROM unnest(ARRAY['infinity', 'tomorrow']) v;
SELECT pg_temp.rpc('awf.task/create', '{"definition": "wf.step", "executeAt": "infinity"}') AS create_infinity;
-- an object without "actions" is refused (a misspelt key would stall the workflow); the executor
-- can still succeed it with good actions (none at all is good too)
SELECT pg_temp.exec('w11.d1', 'success', '{"note": "no actions key"}');
SELECT pg_temp.exec('w11.d1', 'success', '{"actions": []}');
SELECT workflow, status, deciding FROM wf WHERE workflow = 'w11';
-- a direct awf.task/create of a reserved definition is refused as well
SELECT pg_temp.rpc('awf.task/create', '{"definition": "awf.workflow/decision-task@wf.order"}') AS create_reserved;
-- a plain task's result may be an array too, never a scalar
SELECT pg_temp.rpc('awf.task/create', '{"definition": "wf.plain", "id": "00000000-0000-4000-8000-0000000000b1"}') ~ '"status": "ready"' AS created;
SELECT * FROM pg_temp.poll('{"taskDefinitions": ["wf.plain"]}');
SELECT pg_temp.exec('wf.plain#1', 'start'), pg_temp.exec('wf.plain#1', 'success', '5');
SELECT pg_temp.exec('wf.plain#1', 'success', '[1, 2]');
SELECT result FROM awf.task WHERE id = pg_temp.id('wf.plain#1');

--
-- 7. Built-in tasks, run by awf.tick()
--
SELECT array_agg(k ORDER BY k) AS tick_keys FROM jsonb_object_keys(awf.tick()) k;
-- executors never claim them (a poll naming one is refused): the engine runs them
SELECT pg_temp.nm('wait.unclaimed', (awf.rpc('awf.task/create', '{"definition": "awf.task/wait", "params": {"until": "2999-01-01T00:00:00Z"}}') #>> '{resource,id}')::uuid);
SELECT awf.rpc('awf.task/poll', '{"taskDefinitions": ["awf.task/wait"], "maxBatchSize": 10}');
SELECT (awf.tick() ->> 'builtinsRun')::int AS builtins_run;
SELECT status, execute_at = '2999-01-01T00:00:00Z' AS executes_in_2999 FROM awf.task WHERE id = pg_temp.id('wait.unclaimed');
SELECT n, pg_temp.nm(label, (awf.rpc('awf.task/create', jsonb_build_object('definition', 'awf.task/wait', 'params', p)) #>> '{resource,id}')::uuid) AS task
  FROM (VALUES
  (1, 'wait.zero', '{"duration": {"seconds": 0}}'::jsonb),
  (2, 'wait.past', '{"until": "2000-01-01T00:00:00Z"}'),
  (3, 'wait.future', '{"until": "2999-01-01T00:00:00Z"}'),
  (4, 'wait.hours', '{"duration": {"hours": 5, "minutes": 30}}'),
  (5, 'wait.none', '{}'),
  (6, 'wait.negative', '{"duration": {"seconds": -1}}'),
  (7, 'wait.bad-until', '{"until": "someday"}'),
  (8, 'wait.string', '{"duration": "5s"}'),
  (9, 'wait.offset', '{"until": "2000-01-01T05:00:00+05:00"}')
) AS cases(n, label, p) ORDER BY n;
CREATE TEMP VIEW waits AS
  SELECT pg_temp.name_of(t.id) AS task, t.status, t.outcome, t.outcome_reason ->> 'type' AS reason,
         t.outcome_reason ->> 'message' AS message, t.result,
         CASE WHEN t.status = 'waiting' THEN
           CASE WHEN t.params ? 'until' THEN awf.json_time(t.execute_at) ELSE 'created + ' || (t.execute_at - t.created_at) END
         END AS waits_until
    FROM awf.task t JOIN named n ON n.id = t.id WHERE n.name LIKE 'wait.%' AND n.name <> 'wait.unclaimed';
SELECT task, status FROM waits ORDER BY task;
SELECT (awf.tick() ->> 'builtinsRun')::int AS builtins_run;
SELECT task, status, outcome, reason, message, waits_until FROM waits ORDER BY task;
-- waitedUntil: created + duration, or until
SELECT w.task, w.result ->> 'waitedUntil' = awf.json_time(t.created_at) AS waited_until_created
  FROM waits w JOIN awf.task t ON t.id = pg_temp.id(w.task) WHERE w.task = 'wait.zero';
SELECT task, result FROM waits WHERE task IN ('wait.past', 'wait.offset') ORDER BY task;
-- an until of "infinity" is not an ISO-8601 timestamp either: the task fails, it never waits forever
SELECT pg_temp.nm('until.infinity', (awf.rpc('awf.task/create', '{"definition": "awf.task/wait", "params": {"until": "infinity"}}') #>> '{resource,id}')::uuid);
SELECT (awf.tick() ->> 'builtinsRun')::int AS builtins_run;
SELECT status, outcome, outcome_reason ->> 'type' = 'awf.task/invalid-params' AS invalid_params
  FROM awf.task WHERE id = pg_temp.id('until.infinity');
-- ticks again: the waiting ones stay waiting
SELECT (awf.tick() ->> 'builtinsRun')::int AS builtins_run;
SELECT task, status FROM waits WHERE status <> 'done' ORDER BY task;
-- 6 hours later (created_at and its timer moved back), wait.hours is over in the next tick
UPDATE awf.task SET created_at = created_at - interval '6 hours', execute_at = execute_at - interval '6 hours',
                    due_at = due_at - interval '6 hours'
 WHERE id = pg_temp.id('wait.hours');
SELECT (awf.tick() ->> 'builtinsRun')::int AS builtins_run;
SELECT w.task, w.status, w.outcome,
       w.result ->> 'waitedUntil' = awf.json_time(t.created_at + interval '5 hours 30 minutes') AS waited_until_ok
  FROM waits w JOIN awf.task t ON t.id = pg_temp.id(w.task) WHERE w.task = 'wait.hours';
-- a wait in a workflow: the tick finishes it, the workflow gets its task-completed decision
SELECT pg_temp.create('w12', 'wf.order');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
SELECT pg_temp.decide('w12.d1', '[{"action": "awf.workflow.action/schedule-task",
   "task-request": {"definition": "awf.task/wait", "params": {"duration": {"seconds": 0}}}}]');
SELECT pg_temp.nm('w12.wait', id) FROM awf.task WHERE workflow_id = pg_temp.id('w12') AND definition = 'awf.task/wait';
SELECT workflow, task, definition, status, event, activity FROM wt WHERE workflow = 'w12' ORDER BY created_at, task;
SELECT (awf.tick() ->> 'builtinsRun')::int AS builtins_run;
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
SELECT awf.task_status(pg_temp.id('w12.d2')) #>> '{resource,params,activity,definition}' AS activity_definition,
       awf.task_status(pg_temp.id('w12.d2')) #> '{resource,params,activity,result}' ? 'waitedUntil' AS waited;
SELECT pg_temp.decide('w12.d2', '[{"action": "awf.workflow.action/complete-workflow"}]');
-- clean-up-activities: done tasks and workflows of the definitions a rule includes, older than
-- its retention (moved 2 hours back: less than the worker's own retention of a day)
SELECT pg_temp.nm(label, (awf.rpc('awf.task/create', jsonb_build_object('definition', def)) #>> '{resource,id}')::uuid)
  FROM (VALUES ('old.a1', 'wf.clean.a'), ('old.a2', 'wf.clean.a'), ('old.a.ready', 'wf.clean.a'),
               ('old.a.archived', 'wf.clean.a'), ('young.a', 'wf.clean.a'), ('old.b', 'wf.clean.b')) v(label, def);
SELECT pg_temp.create('wclean.a', 'wf.clean.a');
SELECT pg_temp.create('wclean.b', 'wf.clean.b');
SELECT pg_temp.create('wclean.a.running', 'wf.clean.a');
SELECT count(*) AS canceled FROM (
  SELECT awf.task_cancel(pg_temp.id(x)) FROM unnest(ARRAY['old.a1', 'old.a2', 'old.a.archived', 'young.a', 'old.b']) x
  UNION ALL SELECT awf.workflow_cancel(pg_temp.id(x)) FROM unnest(ARRAY['wclean.a', 'wclean.b']) x) c;
UPDATE awf.task SET archived = true WHERE id = pg_temp.id('old.a.archived');
UPDATE awf.task SET updated_at = updated_at - interval '2 hours'
 WHERE id IN (SELECT pg_temp.id(x) FROM unnest(ARRAY['old.a1', 'old.a2', 'old.a.ready', 'old.a.archived', 'old.b']) x);
UPDATE awf.workflow SET updated_at = updated_at - interval '2 hours'
 WHERE id IN (SELECT pg_temp.id(x) FROM unnest(ARRAY['wclean.a', 'wclean.b', 'wclean.a.running']) x);
SELECT pg_temp.nm('cleanup', (awf.rpc('awf.task/create', '{"definition": "awf.task/clean-up-activities", "params": {"rules": [
  {"retentionPolicy": {"unit": "hours", "value": 1}, "includeDefinitions": ["wf.clean.a", "wf.clean.none"]}]}}') #>> '{resource,id}')::uuid);
SELECT pg_temp.nm('cleanup.bad', (awf.rpc('awf.task/create', '{"definition": "awf.task/clean-up-activities", "params": {"rules": [
  {"retentionPolicy": {"unit": "fortnight", "value": 1}}]}}') #>> '{resource,id}')::uuid);
SELECT pg_temp.nm('cleanup.both', (awf.rpc('awf.task/create', '{"definition": "awf.task/clean-up-activities", "params": {"rules": [
  {"retentionPolicy": {"unit": "day", "value": 1}, "includeDefinitions": ["wf.clean.a"], "excludeDefinitions": ["wf.clean.b"]}]}}') #>> '{resource,id}')::uuid);
SELECT pg_temp.nm('cleanup.none', (awf.rpc('awf.task/create', '{"definition": "awf.task/clean-up-activities", "params": {"rules": []}}') #>> '{resource,id}')::uuid);
-- bounded: the worker runs every rule in its tick
SELECT pg_temp.nm('cleanup.many', (awf.rpc('awf.task/create', jsonb_build_object('definition', 'awf.task/clean-up-activities',
  'params', jsonb_build_object('rules', (SELECT jsonb_agg('{"retentionPolicy": {"unit": "day", "value": 1}}'::jsonb) FROM generate_series(1, 101)))))
  #>> '{resource,id}')::uuid);
SELECT pg_temp.nm('cleanup.long', (awf.rpc('awf.task/create', jsonb_build_object('definition', 'awf.task/clean-up-activities',
  'params', jsonb_build_object('rules', jsonb_build_array(jsonb_build_object('retentionPolicy', '{"unit": "day", "value": 1}'::jsonb,
    'excludeDefinitions', (SELECT jsonb_agg('d' || g) FROM generate_series(1, 1001) g))))))
  #>> '{resource,id}')::uuid);
SELECT (awf.tick() ->> 'builtinsRun')::int AS builtins_run;
SELECT pg_temp.name_of(id) AS task, status, outcome, outcome_reason ->> 'type' AS reason, outcome_reason ->> 'message' AS message, result
  FROM awf.task WHERE id IN (pg_temp.id('cleanup'), pg_temp.id('cleanup.bad'), pg_temp.id('cleanup.both'), pg_temp.id('cleanup.none'),
                             pg_temp.id('cleanup.many'), pg_temp.id('cleanup.long'))
 ORDER BY 1;
SELECT x AS activity, EXISTS (SELECT 1 FROM awf.task WHERE id = pg_temp.id(x)) OR EXISTS (SELECT 1 FROM awf.workflow WHERE id = pg_temp.id(x)) AS kept
  FROM unnest(ARRAY['old.a1', 'old.a2', 'old.a.ready', 'old.a.archived', 'young.a', 'old.b', 'wclean.a', 'wclean.b', 'wclean.a.running']) x;
-- the logs of the deleted tasks go with them
SELECT count(*) AS logs_left FROM awf.task_log WHERE task_id IN (pg_temp.id('old.a1'), pg_temp.id('old.a2'));

--
-- 8. Scheduler rules
--
SET ROLE awf_admin;
SELECT n, pg_temp.rpc('awf.scheduler/rule-put', p) AS result FROM (VALUES
  (1, '{"id": "wf.bad", "schedule": "61 * * * *", "task-request": {"definition": "wf.tick"}}'::jsonb),
  (2, '{"id": "wf.bad", "schedule": "* * * *", "task-request": {"definition": "wf.tick"}}'),
  (3, '{"id": "wf.bad", "schedule": "0 0 30 2 *", "task-request": {"definition": "wf.tick"}}'),
  (4, '{"id": "wf.bad", "task-request": {"definition": "wf.tick"}}'),
  (5, '{"id": "wf.bad", "schedule": 5, "task-request": {"definition": "wf.tick"}}'),
  (6, '{"id": "wf.bad", "schedule": "* * * * *"}'),
  (7, '{"id": "wf.bad", "schedule": "* * * * *", "task-request": {"definition": "wf.tick"}, "workflow-request": {"definition": "wf.order"}}'),
  (8, '{"id": "wf.bad", "schedule": "* * * * *", "task-request": {"definition": "wf.tick"}, "concurrency-policy": "replace"}'),
  (9, '{"id": "bad id!", "schedule": "* * * * *", "task-request": {"definition": "wf.tick"}}'),
  (10, '{"id": "-wf", "schedule": "* * * * *", "task-request": {"definition": "wf.tick"}}'),
  (11, '{"schedule": "* * * * *", "task-request": {"definition": "wf.tick"}}'),
  (12, '{"id": "wf.bad", "schedule": "* * * * *", "task-request": {"definition": "wf.tick"}, "execute-on-setup": "yes"}'),
  (13, '{"id": "wf.bad", "schedule": "* * * * *", "task-request": {"definition": "wf.tick"}, "start-deadline-seconds": 0}'),
  (14, '{"id": "wf.bad", "schedule": "* * * * *", "task-request": {"params": {}}}'),
  (15, '{"id": "wf.bad", "schedule": "* * * * *", "task-request": {"definition": "awf.task/wait", "params": {}}}'),
  (16, '{"id": "wf.bad", "schedule": "* * * * *", "task-request": {"definition": "awf.workflow/decision-task@wf.order"}}'),
  (17, '{"id": "wf.bad", "schedule": "* * * * *", "workflow-request": {"definition": "awf.order"}}'),
  (18, '{"id": "wf.bad", "schedule": "* * * * *", "workflow-request": {"params": {}}}'),
  (19, '{"id": "wf.bad", "schedule": "* * * * *", "task-request": "wf.tick"}')
) AS cases(n, p) ORDER BY n;
SELECT pg_temp.try_sql($$SELECT awf.scheduler_rule_put(NULL)$$) AS typed_null;
SELECT count(*) AS rules FROM awf.scheduler_rule;
-- yearly, fired once at setup: several ticks in a row make one task
SELECT pg_temp.mask(jsonb_pretty(awf.rpc('awf.scheduler/rule-put', '{"id": "wf.yearly", "schedule": "0 0 1 1 *",
  "execute-on-setup": true, "task-request": {"definition": "wf.tick", "params": {"from": "rule"}, "label": "yearly"}}')));
SELECT next_run_at <= clock_timestamp() AS due_now FROM awf.scheduler_rule WHERE id = 'wf.yearly';
RESET ROLE;
SELECT (awf.tick() ->> 'scheduled')::int AS scheduled_1, (awf.tick() ->> 'scheduled')::int AS scheduled_2,
       (awf.tick() ->> 'scheduled')::int AS scheduled_3;
SELECT id, runs, skipped, last_skip, next_run_at = awf.cron_next('0 0 1 1 *', clock_timestamp()) AS next_is_new_year,
       last_activity_id IS NOT NULL AS has_activity
  FROM awf.scheduler_rule WHERE id = 'wf.yearly';
SELECT pg_temp.nm('yearly.1', last_activity_id) FROM awf.scheduler_rule WHERE id = 'wf.yearly';
SELECT count(*) AS tick_tasks FROM awf.task WHERE definition = 'wf.tick';
SELECT t.status, t.params, t.label, t.requester ->> 'resourceType' AS requester, t.requester ->> 'id' AS rule,
       t.requester ->> 'fireTime' = awf.json_time(r.last_run_at) AS fire_time_ok
  FROM awf.task t JOIN awf.scheduler_rule r ON r.id = 'wf.yearly' WHERE t.id = pg_temp.id('yearly.1');
-- put again: replaces the rule, keeps its counters; not due before the new year
SET ROLE awf_admin;
SELECT pg_temp.mask(awf.rpc('awf.scheduler/rule-put', '{"id": "wf.yearly", "schedule": "0 0 1 1 *",
  "execute-on-setup": true, "concurrency-policy": "forbid", "task-request": {"definition": "wf.tick", "params": {"v": 2}}}') #>> '{resource,state}') AS state;
RESET ROLE;
SELECT (awf.tick() ->> 'scheduled')::int AS scheduled;
-- forbid: made due again while its last task is not done, the fire time is skipped
UPDATE awf.scheduler_rule SET next_run_at = clock_timestamp() - interval '1 second' WHERE id = 'wf.yearly';
SELECT (awf.tick() ->> 'scheduled')::int AS scheduled;
SELECT runs, skipped, pg_temp.mask(last_skip) AS last_skip, next_run_at > clock_timestamp() AS next_in_future
  FROM awf.scheduler_rule WHERE id = 'wf.yearly';
-- once it is done, the next fire time runs
SELECT awf.task_cancel(pg_temp.id('yearly.1')) #>> '{resource,status}' AS yearly_1;
UPDATE awf.scheduler_rule SET next_run_at = clock_timestamp() - interval '1 second' WHERE id = 'wf.yearly';
SELECT (awf.tick() ->> 'scheduled')::int AS scheduled;
SELECT runs, skipped, last_activity_id <> pg_temp.id('yearly.1') AS new_activity FROM awf.scheduler_rule WHERE id = 'wf.yearly';
SELECT t.params FROM awf.task t JOIN awf.scheduler_rule r ON t.id = r.last_activity_id WHERE r.id = 'wf.yearly';
-- a fire time more than start-deadline-seconds late is skipped
UPDATE awf.scheduler_rule SET next_run_at = clock_timestamp() - interval '1 hour', concurrency_policy = 'allow' WHERE id = 'wf.yearly';
SELECT (awf.tick() ->> 'scheduled')::int AS scheduled;
SELECT runs, skipped, regexp_replace(pg_temp.mask(last_skip), '\d+ s late', 'N s late') AS last_skip,
       next_run_at > clock_timestamp() AS next_in_future
  FROM awf.scheduler_rule WHERE id = 'wf.yearly';
-- without execute-on-setup a rule waits for its schedule
SET ROLE awf_admin;
SELECT pg_temp.rpc('awf.scheduler/rule-put', '{"id": "wf.later", "schedule": "0 0 1 1 *", "task-request": {"definition": "wf.tick"}}')
       ~ '"execute-on-setup": false' AS put;
RESET ROLE;
SELECT (awf.tick() ->> 'scheduled')::int AS scheduled;
SELECT runs, next_run_at = awf.cron_next('0 0 1 1 *', clock_timestamp()) AS next_is_new_year FROM awf.scheduler_rule WHERE id = 'wf.later';
-- a workflow rule
SET ROLE awf_admin;
SELECT pg_temp.rpc('awf.scheduler/rule-put', '{"id": "wf.flow/nightly", "schedule": "0 30 2 * * *", "execute-on-setup": true,
  "start-deadline-seconds": 3600, "workflow-request": {"definition": "wf.scheduled", "params": {"night": true}}}') ~ '"start-deadline-seconds": 3600' AS put;
RESET ROLE;
SELECT (awf.tick() ->> 'scheduled')::int AS scheduled;
SELECT pg_temp.nm('nightly.1', last_activity_id), runs FROM awf.scheduler_rule WHERE id = 'wf.flow/nightly';
SELECT workflow, definition, status FROM wf WHERE workflow = 'nightly.1';
SELECT w.params, w.requester ->> 'id' AS rule FROM awf.workflow w WHERE w.id = pg_temp.id('nightly.1');
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.scheduled"]}');
-- forbid waits for a workflow to be done too
UPDATE awf.scheduler_rule SET concurrency_policy = 'forbid', next_run_at = clock_timestamp() - interval '1 second'
 WHERE id = 'wf.flow/nightly';
SELECT (awf.tick() ->> 'scheduled')::int AS scheduled;
SELECT runs, skipped, pg_temp.mask(last_skip) AS last_skip FROM awf.scheduler_rule WHERE id = 'wf.flow/nightly';
UPDATE awf.scheduler_rule SET concurrency_policy = 'allow' WHERE id = 'wf.flow/nightly';
-- list and delete
SET ROLE awf_admin;
SELECT regexp_replace(pg_temp.mask(r::text), '\d+ s late', 'N s late') AS rule
  FROM jsonb_array_elements(awf.rpc('awf.scheduler/rule-list', '{}') -> 'resources') r ORDER BY r ->> 'id';
SELECT pg_temp.rpc('awf.scheduler/rule-list', '{"id": "wf.none"}') AS list_unknown;
SELECT jsonb_array_length(awf.scheduler_rule_list('wf.yearly') -> 'resources') AS typed_list;
SELECT pg_temp.rpc('awf.scheduler/rule-delete', '{"id": "wf.yearly"}') ~ '"id": "wf.yearly"' AS deleted;
SELECT pg_temp.rpc('awf.scheduler/rule-delete', '{"id": "wf.yearly"}') AS delete_again;
SELECT pg_temp.rpc('awf.scheduler/rule-delete', '{}') AS delete_no_id;
SELECT pg_temp.try_sql($$SELECT awf.scheduler_rule_delete(NULL)$$) AS typed_delete_null;
SELECT pg_temp.rpc('awf.scheduler/rule-delete', '{"id": "wf.flow/nightly"}') ~ '"skipped": 1' AS deleted;
SELECT awf.scheduler_rule_delete('wf.later') #>> '{resource,id}' AS deleted;
SELECT count(*) AS rules FROM awf.scheduler_rule;
RESET ROLE;
-- awf.cron_next: strictly after, UTC
SET TimeZone = 'UTC';
SELECT s, after, awf.cron_next(s, after) AS next FROM (VALUES
  ('* * * * * *', '2024-01-01 00:00:00+00'::timestamptz),
  ('* * * * * *', '2024-01-01 00:00:00.5+00'),
  ('*/5 * * * *', '2024-01-01 00:03:10+00'),
  ('*/5 * * * *', '2024-01-01 00:05:00+00'),
  ('0 0 1 1 *', '2024-06-15 12:00:00+00'),
  ('0 0 29 2 *', '2024-03-01 00:00:00+00'),
  ('30 2 * * 1-5', '2024-01-05 03:00:00+00'),
  ('0 0 13 * 5', '2024-09-01 00:00:00+00'),
  ('0 0 30 2 *', '2024-01-01 00:00:00+00'),
  ('@daily', '2024-01-01 10:00:00+00')
) AS cases(s, after);
-- in UTC whatever the session's time zone
SET TimeZone = 'Asia/Tokyo';
SELECT awf.cron_next('0 0 * * *', '2024-01-01 08:00:00+09') AT TIME ZONE 'UTC' AS next_utc_midnight;
RESET TimeZone;
SELECT awf.cron_next(NULL, now()) IS NULL AS strict_null;
SELECT n, pg_temp.try_sql(format('SELECT awf.cron_next(%L, now())', s)) AS result FROM (VALUES
  (1, 'every minute'), (2, '* * * *'), (3, '60 * * * *'), (4, '* * * * * * *'), (5, ''), (6, '*/0 * * * *')
) AS cases(n, s) ORDER BY n;

--
-- 9. Concurrency limits
--
INSERT INTO awf.definition (name, concurrency_limit, concurrency_path)
VALUES ('wf.limited', 2, NULL), ('wf.per-type', 1, '{params,resourceType}');
SELECT count(pg_temp.nm(label, (awf.task_create(def, p) #>> '{resource,id}')::uuid)) AS created FROM (VALUES
  ('lim1', 'wf.limited', '{}'::jsonb), ('lim2', 'wf.limited', '{}'), ('lim3', 'wf.limited', '{}'),
  ('lim4', 'wf.limited', '{}'), ('lim5', 'wf.limited', '{}'),
  ('free1', 'wf.unlimited', '{}'), ('free2', 'wf.unlimited', '{}'), ('free3', 'wf.unlimited', '{}'),
  ('typeA1', 'wf.per-type', '{"resourceType": "A"}'), ('typeA2', 'wf.per-type', '{"resourceType": "A"}'),
  ('typeB1', 'wf.per-type', '{"resourceType": "B"}')) v(label, def, p);
SELECT task, definition FROM pg_temp.poll('{"taskDefinitions": ["wf.limited", "wf.unlimited"], "maxBatchSize": 10}') ORDER BY task;
SELECT task, definition FROM pg_temp.poll('{"taskDefinitions": ["wf.limited", "wf.unlimited"], "maxBatchSize": 10}') AS claimed_again;
SELECT pg_temp.exec('lim1', 'start'), pg_temp.exec('lim1', 'success', '{}');
SELECT task, definition FROM pg_temp.poll('{"taskDefinitions": ["wf.limited"], "maxBatchSize": 10}');
SELECT task, definition FROM pg_temp.poll('{"taskDefinitions": ["wf.limited"], "maxBatchSize": 10}') AS full_again;
-- a failure that retries frees its slot
SELECT pg_temp.exec('lim2', 'start'), pg_temp.exec('lim2', 'fail', '{"message": "retry me"}');
SELECT status FROM awf.task WHERE id = pg_temp.id('lim2');
SELECT task, definition FROM pg_temp.poll('{"taskDefinitions": ["wf.limited"], "maxBatchSize": 10}');
SELECT pg_temp.name_of(id) AS task, status FROM awf.task WHERE definition = 'wf.limited' ORDER BY 1;
-- per value of params.resourceType
SELECT task, (SELECT params ->> 'resourceType' FROM awf.task WHERE id = pg_temp.id(task)) AS resource_type
  FROM pg_temp.poll('{"taskDefinitions": ["wf.per-type"], "maxBatchSize": 10}') ORDER BY task;
SELECT task FROM pg_temp.poll('{"taskDefinitions": ["wf.per-type"], "maxBatchSize": 10}') AS claimed_again;
SELECT pg_temp.exec('typeA1', 'start'), pg_temp.exec('typeA1', 'success', '{}');
SELECT task FROM pg_temp.poll('{"taskDefinitions": ["wf.per-type"], "maxBatchSize": 10}');
-- the limit shows in the task's settings
SELECT awf.task_status(pg_temp.id('lim5'), false, true) #> '{settings,concurrencyLimit}' AS limit_setting;
-- only in READ COMMITTED
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.rpc('awf.task/poll', '{"taskDefinitions": ["wf.limited"]}') AS repeatable_read;
ROLLBACK;

--
-- 10. Roles: executors decide but do not create workflows; users create workflows, not rules
--
SELECT pg_temp.create('w13', 'wf.order');
SET ROLE awf_executor;
SELECT pg_temp.rpc('awf.workflow/create-and-execute', '{"definition": "wf.order"}') AS executor_create;
SELECT pg_temp.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w13'))) AS executor_cancel;
SELECT pg_temp.rpc('awf.scheduler/rule-list', '{}') AS executor_rules;
SELECT * FROM pg_temp.poll('{"workflowDefinitions": ["wf.order"]}');
RESET ROLE;
SELECT pg_temp.nm('w13.exec', exec_id) FROM awf.task WHERE id = pg_temp.id('w13.d1');
SET ROLE awf_executor;
SELECT awf.rpc('awf.task/start', jsonb_build_object('id', pg_temp.id('w13.d1'), 'execId', pg_temp.id('w13.exec'))) #>> '{resource,status}' AS started;
SELECT awf.rpc('awf.task/success', jsonb_build_object('id', pg_temp.id('w13.d1'), 'execId', pg_temp.id('w13.exec'),
  'result', '[{"action": "awf.workflow.action/complete-workflow", "result": {"by": "executor"}}]'::jsonb)) #>> '{resource,status}' AS decided;
RESET ROLE;
SELECT workflow, status, outcome, result FROM wf WHERE workflow = 'w13';
SET ROLE awf_user;
SELECT pg_temp.create('w14', 'wf.order') AS user_create;
SELECT pg_temp.rpc('awf.workflow/status', jsonb_build_object('id', pg_temp.id('w14'))) ~ '"in-progress"' AS user_status;
SELECT jsonb_array_length(awf.rpc('awf.workflow/list', '{"filter": {"definition": "wf.order"}}') -> 'resources') > 0 AS user_list;
SELECT pg_temp.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w14'))) ~ '"canceled"' AS user_cancel;
SELECT pg_temp.rpc('awf.scheduler/rule-put', '{"id": "wf.user", "schedule": "* * * * *", "task-request": {"definition": "wf.tick"}}') AS user_rule_put;
SELECT pg_temp.rpc('awf.scheduler/rule-delete', '{"id": "wf.user"}') AS user_rule_delete;
SELECT pg_temp.try_sql($$SELECT awf.scheduler_rule_put('{}')$$) AS user_typed_rule_put;
SELECT pg_temp.try_sql($$SELECT count(*) FROM awf.scheduler_rule$$) AS user_reads_rules;
SELECT pg_temp.try_sql($$SELECT count(*) FROM awf.workflow$$) AS user_reads_workflows;
SELECT pg_temp.try_sql($$UPDATE awf.workflow SET status = 'done'$$) AS user_writes_workflows;
SELECT pg_temp.try_sql($$SELECT awf.cron_next('* * * * *', now())$$) AS user_cron_next;
RESET ROLE;
SET ROLE awf_admin;
SELECT pg_temp.create('w15', 'wf.order') AS admin_create;
SELECT pg_temp.rpc('awf.workflow/cancel', jsonb_build_object('id', pg_temp.id('w15'))) ~ '"canceled"' AS admin_cancel;
RESET ROLE;
SELECT count(*) AS rules FROM awf.scheduler_rule;

--
-- 11. Hardening found in review
--
-- a clean-up deletes history: a workflow's executor may not schedule one (scheduler rules may)
SELECT pg_temp.create('r16', 'wf.review');
SELECT task FROM pg_temp.poll('{"workflowDefinitions": ["wf.review"]}');
SELECT pg_temp.exec('r16.d1', 'start');
SELECT pg_temp.exec('r16.d1', 'success', '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "awf.task/clean-up-activities", "params": {"rules": [{"retentionPolicy": {"unit": "second", "value": 0}}]}}}]') AS cleanup_in_decision;
-- a timestamp PostgreSQL would reject later (offset out of range) is refused up front, not an internal error
SELECT pg_temp.exec('r16.d1', 'success', '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "awf.task/wait", "params": {"until": "2030-01-01T00:00:00+16:00"}}}]') AS bad_offset;
SELECT pg_temp.exec('r16.d1', 'success', '[{"action": "awf.workflow.action/do-nothing"}]');
-- nor may awf_user create one (an admin may, as above)
SET ROLE awf_user;
SELECT pg_temp.rpc('awf.task/create', '{"definition": "awf.task/clean-up-activities", "params": {"rules": [{"retentionPolicy": {"unit": "day", "value": 1}}]}}') AS user_cleanup;
RESET ROLE;
-- a built-in task that fails for any reason fails alone; the tick goes on
SELECT pg_temp.nm('cleanup.huge', (awf.rpc('awf.task/create', '{"definition": "awf.task/clean-up-activities", "params": {"rules": [{"retentionPolicy": {"unit": "week", "value": 100000000}}]}}') #>> '{resource,id}')::uuid);
SELECT pg_temp.nm('wait.offset16', (awf.rpc('awf.task/create', '{"definition": "awf.task/wait", "params": {"until": "2030-01-01T00:00:00+16:00"}}') #>> '{resource,id}')::uuid);
SELECT (awf.tick() ->> 'builtinsRun')::int AS builtins_run;
SELECT n.name AS task, t.status, t.outcome, t.outcome_reason ->> 'type' AS reason, t.outcome_reason ->> 'message' AS message
  FROM awf.task t JOIN named n ON n.id = t.id WHERE n.name IN ('cleanup.huge', 'wait.offset16') ORDER BY 1;
-- a limit set while tasks run counts them: 3 running, then a limit of 2 -> nothing more is claimed
SELECT count(awf.task_create('wf.late-limit', NULL)) FROM generate_series(1, 5);
SELECT count(*) AS claimed_before_limit FROM pg_temp.poll('{"taskDefinitions": ["wf.late-limit"], "maxBatchSize": 3}');
INSERT INTO awf.definition (name, concurrency_limit) VALUES ('wf.late-limit', 2);
SELECT count(*) AS slots FROM awf.concurrency_slot WHERE definition = 'wf.late-limit';
SELECT count(*) AS claimed_over_limit FROM pg_temp.poll('{"taskDefinitions": ["wf.late-limit"], "maxBatchSize": 3}');
-- concurrency_path must name a value in params
INSERT INTO awf.definition (name, concurrency_limit, concurrency_path) VALUES ('wf.bad-path', 1, '{label}');
-- a task of a workflow that was done while the task was being changed is canceled at its next change
SELECT pg_temp.create('r17', 'wf.review');
SELECT task FROM pg_temp.poll('{"workflowDefinitions": ["wf.review"]}');
SELECT pg_temp.decide('r17.d1', '[{"action": "awf.workflow.action/schedule-task", "task-request": {"definition": "wf.orphan"}}]');
SELECT pg_temp.nm('r17.t1', (SELECT id FROM awf.task WHERE definition = 'wf.orphan'));
-- (as if the workflow's finish had skipped the task: mark the workflow done behind its back)
UPDATE awf.workflow SET status = 'done', outcome = 'canceled' WHERE id = pg_temp.id('r17');
SELECT count(*) AS claimed FROM pg_temp.poll('{"taskDefinitions": ["wf.orphan"]}');
SELECT status, outcome, outcome_reason ->> 'type' AS reason FROM awf.task WHERE id = pg_temp.id('r17.t1');

--
-- 12. Bulk enqueue (awf.task_create_many)
--
SELECT awf.task_create_many('wf.bulk', ARRAY['{"n": 1}', NULL, '{"n": 3}']::jsonb[]) AS created;
SELECT count(*) AS tasks, count(*) FILTER (WHERE status = 'ready') AS ready, count(*) FILTER (WHERE params = '{}') AS empty_params,
       (SELECT count(*) FROM awf.task_log l JOIN awf.task t ON t.id = l.task_id WHERE t.definition = 'wf.bulk') AS logged
  FROM awf.task WHERE definition = 'wf.bulk';
SELECT awf.task_create_many('wf.bulk-later', ARRAY['{}', '{}']::jsonb[], 5, now() + interval '1 hour') AS created_later;
SELECT status, priority, count(*) FROM awf.task WHERE definition = 'wf.bulk-later' GROUP BY 1, 2;
SELECT awf.task_create_many('wf.bulk', NULL) AS none, awf.task_create_many('wf.bulk', '{}') AS empty;
SELECT pg_temp.try_sql($$SELECT awf.task_create_many('wf.bulk', ARRAY['{}', '[1]', '2']::jsonb[])$$) AS not_objects;
SELECT pg_temp.try_sql($$SELECT awf.task_create_many('awf.task/clean-up-activities', ARRAY['{}']::jsonb[])$$) AS reserved;
SELECT pg_temp.try_sql($$SELECT awf.task_create_many('', ARRAY['{}']::jsonb[])$$) AS empty_definition;
SELECT pg_temp.try_sql($$SELECT awf.task_create_many('wf.bulk', ARRAY['{}']::jsonb[], NULL)$$) AS null_priority;
SELECT pg_temp.try_sql($$SELECT awf.task_create_many('wf.bulk', ARRAY['{}']::jsonb[], 0, 'infinity')$$) AS infinite_time;
SET ROLE awf_user;
SELECT pg_temp.try_sql($$SELECT awf.task_create_many('wf.bulk', ARRAY['{}']::jsonb[])$$) AS user_bulk;
RESET ROLE;
SET ROLE awf_executor;
SELECT pg_temp.try_sql($$SELECT awf.task_create_many('wf.bulk', ARRAY['{}']::jsonb[])$$) AS executor_bulk;
RESET ROLE;

--
-- Clean up
--
DELETE FROM awf.definition WHERE name LIKE 'wf.%' OR name LIKE 'awf.workflow/decision-task@wf.%';
WITH d AS (DELETE FROM awf.workflow WHERE definition LIKE 'wf.%' RETURNING 1) SELECT count(*) > 0 AS workflows_deleted FROM d;
WITH t AS (DELETE FROM awf.task WHERE definition LIKE 'wf.%' OR definition LIKE 'awf.workflow/decision-task@wf.%'
                                   OR definition LIKE 'awf.task/%' RETURNING id),
     l AS (DELETE FROM awf.task_log WHERE task_id IN (SELECT id FROM t))
SELECT count(*) > 0 AS tasks_deleted FROM t;
