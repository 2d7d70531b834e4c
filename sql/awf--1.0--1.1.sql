-- pg_awf 1.1: the NL Flow asynchronous-workflow API (seed 003) on the same tasks, and overall
-- task deadlines enforced by the background worker.
\echo Use "ALTER EXTENSION awf UPDATE TO '1.1'" to load this file. \quit

-- Tasks with an overall deadline (NL Flow workflow timeout, XINA timeout) that are not done yet:
-- the worker's deadline sweep reads only these.
CREATE INDEX task_deadline_idx ON awf.task (deadline_at)
  WHERE deadline_at IS NOT NULL AND status <> 'done';

-- An NL Flow workflow: its tasks are ordinary tasks of `definition` (executors poll that
-- definition), dropped when queue time + execution time exceed `timeout_ms`, or when the
-- workflow is unpublished.
CREATE TABLE awf.nlflow_workflow (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  definition text NOT NULL CHECK (length(definition) BETWEEN 1 AND 255),
  timeout_ms bigint NOT NULL DEFAULT 3600000 CHECK (timeout_ms > 0),
  published boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- API keys of a workflow ("KEYID.SECRET", sent as X-API-KEY): the secret is stored as a crypt(3)
-- yescrypt hash made by `awf-bridge nlflow-key add`; never in clear.
CREATE TABLE awf.nlflow_api_key (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
  workflow_id text NOT NULL REFERENCES awf.nlflow_workflow (id) ON DELETE CASCADE,
  secret_hash text NOT NULL CHECK (secret_hash LIKE '$%'),
  description text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX nlflow_api_key_workflow_idx ON awf.nlflow_api_key (workflow_id);

-- The NL Flow side of a task: which workflow it belongs to, and what its caller sent along.
-- Its traces (this row, the task, its log) are deleted awf.nlflow_trace_retention after creation.
CREATE TABLE awf.nlflow_task (
  task_id uuid PRIMARY KEY,
  workflow_id text NOT NULL,
  correlation_id text,
  verbose_errors boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL
);
CREATE INDEX nlflow_task_workflow_idx ON awf.nlflow_task (workflow_id, created_at);
CREATE INDEX nlflow_task_created_idx ON awf.nlflow_task (created_at);

-- Their rows are user data: pg_dump must keep them (as it keeps tasks and definitions).
SELECT pg_catalog.pg_extension_config_dump('awf.nlflow_workflow', '');
SELECT pg_catalog.pg_extension_config_dump('awf.nlflow_api_key', '');
SELECT pg_catalog.pg_extension_config_dump('awf.nlflow_task', '');

-- The NL Flow status of a task, from its core lifecycle:
--   SUBMITTED  created, or waiting for its first executeAt (not queued yet)
--   RUNNING    ready, requested, in-progress, or waiting to be retried
--   COMPLETED  done, succeeded
--   ERROR      done, failed (by the executor or by its in-progress timeout, retries used up)
--   DROPPED    done past its deadline (queue + execution time over the workflow timeout), or
--              canceled (the workflow was unpublished, or the task canceled)
-- The deadline is enforced by the worker's sweep, so at most awf.tick_interval late.
CREATE FUNCTION awf.nlflow_status(status text, outcome text, outcome_reason jsonb, retry_count integer)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE
    WHEN status IS NULL THEN NULL  -- the task is gone (awf.retention ran first)
    WHEN status = 'created' OR (status = 'waiting' AND retry_count = 0) THEN 'SUBMITTED'
    WHEN status <> 'done' THEN 'RUNNING'
    WHEN outcome = 'succeeded' THEN 'COMPLETED'
    WHEN outcome = 'canceled' OR outcome_reason ->> 'type' = 'awf.task/failed-due-to-deadline' THEN 'DROPPED'
    ELSE 'ERROR' END
$$;

-- Checks a list of NL Flow statuses (taskStatuses=); NULL stays NULL (no filter).
CREATE FUNCTION awf.nlflow_check_statuses(statuses text[])
RETURNS text[] LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  s text;
BEGIN
  IF statuses IS NULL THEN RETURN NULL; END IF;
  IF cardinality(statuses) = 0 THEN
    RAISE EXCEPTION 'taskStatuses is empty: give one or more of SUBMITTED, RUNNING, COMPLETED, ERROR, DROPPED'
      USING ERRCODE = 'WA101';
  END IF;
  FOREACH s IN ARRAY statuses LOOP
    IF s IS NULL OR s NOT IN ('SUBMITTED', 'RUNNING', 'COMPLETED', 'ERROR', 'DROPPED') THEN
      RAISE EXCEPTION 'taskStatuses: "%" is not a task status (SUBMITTED, RUNNING, COMPLETED, ERROR, DROPPED)',
        coalesce(s, 'null') USING ERRCODE = 'WA101';
    END IF;
  END LOOP;
  RETURN statuses;
END
$$;

-- The workflow, or WA001 naming it.
CREATE FUNCTION awf.nlflow_workflow_get(workflow_id text)
RETURNS awf.nlflow_workflow LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.nlflow_workflow;
BEGIN
  SELECT * INTO w FROM awf.nlflow_workflow WHERE id = workflow_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no NL Flow workflow "%"', workflow_id USING ERRCODE = 'WA001';
  END IF;
  RETURN w;
END
$$;

-- Registers or changes a workflow. Unpublishing it drops its unfinished tasks (DROPPED).
CREATE FUNCTION awf.nlflow_workflow_put(id text, name text, definition text,
                                        timeout_ms bigint DEFAULT 3600000,
                                        published boolean DEFAULT true)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.nlflow_workflow;
  now timestamptz := clock_timestamp();
BEGIN
  IF id IS NULL OR id !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' THEN
    RAISE EXCEPTION 'NL Flow workflow id "%" is not valid: 1 to 128 letters, digits, ".", "_" or "-"',
      coalesce(id, 'null') USING ERRCODE = 'WA101';
  END IF;
  IF name IS NULL OR length(name) NOT BETWEEN 1 AND 255 THEN
    RAISE EXCEPTION 'NL Flow workflow "%": name must be 1 to 255 characters', id USING ERRCODE = 'WA101';
  END IF;
  IF definition IS NULL OR length(definition) NOT BETWEEN 1 AND 255 THEN
    RAISE EXCEPTION 'NL Flow workflow "%": definition must be 1 to 255 characters', id USING ERRCODE = 'WA101';
  END IF;
  IF timeout_ms IS NULL OR timeout_ms <= 0 THEN
    RAISE EXCEPTION 'NL Flow workflow "%": timeout_ms must be a positive number of milliseconds, got %',
      id, coalesce(timeout_ms::text, 'null') USING ERRCODE = 'WA101';
  END IF;
  INSERT INTO awf.nlflow_workflow AS x (id, name, definition, timeout_ms, published, created_at, updated_at)
  VALUES (nlflow_workflow_put.id, nlflow_workflow_put.name, nlflow_workflow_put.definition,
          nlflow_workflow_put.timeout_ms, coalesce(nlflow_workflow_put.published, true), now, now)
  ON CONFLICT ON CONSTRAINT nlflow_workflow_pkey DO UPDATE
    SET name = excluded.name, definition = excluded.definition, timeout_ms = excluded.timeout_ms,
        published = excluded.published, updated_at = now
  RETURNING * INTO w;
  IF NOT w.published THEN
    -- Lock order: nlflow_task, then task (as the trace sweep and deletes do).
    WITH mine AS (
      SELECT n.task_id, t.status AS old_status
        FROM awf.nlflow_task n JOIN awf.task t ON t.id = n.task_id
       WHERE n.workflow_id = w.id AND t.status <> 'done'
         FOR UPDATE OF n),
    dropped AS (
      UPDATE awf.task t
         SET status = 'done', outcome = 'canceled',
             outcome_reason = jsonb_build_object('type', 'awf.nlflow/workflow-unpublished',
               'message', format('Dropped: NL Flow workflow "%s" was unpublished', w.id)),
             due_at = NULL, updated_at = now, version = t.version + 1
        FROM mine
       WHERE t.id = mine.task_id AND t.status <> 'done'
      RETURNING t.id, t.exec_id, mine.old_status)
    INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)
    SELECT d.id, now, 'status', d.exec_id, d.old_status, 'done', 'NL Flow workflow unpublished'
      FROM dropped d;
  END IF;
  RETURN jsonb_build_object('id', w.id, 'name', w.name, 'definition', w.definition,
                            'timeout', w.timeout_ms, 'published', w.published);
END
$$;

-- API keys: the bridge's `awf-bridge nlflow-key add WORKFLOW` makes the key and its hash.
CREATE FUNCTION awf.nlflow_key_put(key_id text, workflow_id text, secret_hash text,
                                   description text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  PERFORM awf.nlflow_workflow_get(workflow_id);
  INSERT INTO awf.nlflow_api_key AS k (id, workflow_id, secret_hash, description)
  VALUES (key_id, workflow_id, secret_hash, description)
  ON CONFLICT (id) DO UPDATE SET workflow_id = excluded.workflow_id,
                                 secret_hash = excluded.secret_hash, description = excluded.description;
END
$$;

CREATE FUNCTION awf.nlflow_key_lookup(key_id text, OUT workflow_id text, OUT secret_hash text)
RETURNS record LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$ SELECT k.workflow_id, k.secret_hash FROM awf.nlflow_api_key k WHERE k.id = key_id $$;

-- Creates a task of the workflow: its params are the request body as it came.
CREATE FUNCTION awf.nlflow_task_create(workflow_id text, input jsonb,
                                       correlation_id text DEFAULT NULL,
                                       verbose_errors boolean DEFAULT false)
RETURNS uuid LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.nlflow_workflow := awf.nlflow_workflow_get(workflow_id);
  created jsonb;
  task_id uuid;
  created_at timestamptz;
BEGIN
  IF NOT w.published THEN
    RAISE EXCEPTION 'NL Flow workflow "%" is not published: it takes no new tasks', w.id
      USING ERRCODE = 'WA003';
  END IF;
  IF input IS NULL OR jsonb_typeof(input) <> 'object' THEN
    RAISE EXCEPTION 'the input of a task of NL Flow workflow "%" must be a JSON object, got %',
      w.id, coalesce(jsonb_typeof(input), 'nothing') USING ERRCODE = 'WA101';
  END IF;
  IF correlation_id IS NOT NULL AND length(correlation_id) > 255 THEN
    RAISE EXCEPTION 'X-Correlation-Id is longer than 255 characters' USING ERRCODE = 'WA101';
  END IF;
  created := awf.task_create(definition => w.definition, params => input, label => correlation_id);
  task_id := (created -> 'resource' ->> 'id')::uuid;
  UPDATE awf.task t SET deadline_at = t.created_at + w.timeout_ms * interval '1 millisecond'
   WHERE t.id = task_id
  RETURNING t.created_at INTO created_at;
  INSERT INTO awf.nlflow_task (task_id, workflow_id, correlation_id, verbose_errors, created_at)
  VALUES (task_id, w.id, correlation_id, coalesce(verbose_errors, false), created_at);
  RETURN task_id;
END
$$;

-- The task of the workflow, or WA001 naming both.
CREATE FUNCTION awf.nlflow_task_get(workflow_id text, task_id uuid)
RETURNS awf.task LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  found_task awf.task;
BEGIN
  PERFORM awf.nlflow_workflow_get(workflow_id);
  SELECT t.* INTO found_task
    FROM awf.nlflow_task n JOIN awf.task t ON t.id = n.task_id
   WHERE n.task_id = nlflow_task_get.task_id AND n.workflow_id = nlflow_task_get.workflow_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'NL Flow workflow "%" has no task %', workflow_id, coalesce(task_id::text, 'null')
      USING ERRCODE = 'WA001';
  END IF;
  RETURN found_task;
END
$$;

CREATE FUNCTION awf.nlflow_task_status(workflow_id text, task_id uuid)
RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  t awf.task := awf.nlflow_task_get(workflow_id, task_id);
BEGIN
  RETURN awf.nlflow_status(t.status, t.outcome, t.outcome_reason, t.retry_count);
END
$$;

-- {taskId: status} of the workflow's tasks: all of them, those listed, or those in the statuses.
CREATE FUNCTION awf.nlflow_status_map(workflow_id text, task_ids uuid[] DEFAULT NULL,
                                      statuses text[] DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  wanted text[] := awf.nlflow_check_statuses(statuses);
  missing uuid;
  result jsonb;
BEGIN
  PERFORM awf.nlflow_workflow_get(workflow_id);
  IF task_ids IS NOT NULL THEN
    SELECT x INTO missing FROM unnest(task_ids) x
     WHERE x IS NULL OR NOT EXISTS (SELECT 1 FROM awf.nlflow_task n JOIN awf.task t ON t.id = n.task_id
                                     WHERE n.task_id = x AND n.workflow_id = nlflow_status_map.workflow_id)
     LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'NL Flow workflow "%" has no task %', workflow_id, coalesce(missing::text, 'null')
        USING ERRCODE = 'WA001';
    END IF;
  END IF;
  SELECT coalesce(jsonb_object_agg(s.id, s.st), '{}') INTO result
    FROM (SELECT t.id::text AS id, awf.nlflow_status(t.status, t.outcome, t.outcome_reason, t.retry_count) AS st
            FROM awf.nlflow_task n JOIN awf.task t ON t.id = n.task_id
           WHERE n.workflow_id = nlflow_status_map.workflow_id
             AND (task_ids IS NULL OR n.task_id = ANY (task_ids))) s
   WHERE wanted IS NULL OR s.st = ANY (wanted);
  RETURN jsonb_build_object('taskStatusMap', result);
END
$$;

-- The outcome: the workflow output (the task's result) when COMPLETED; the description of the
-- problem when ERROR or DROPPED ({message}, and {details} with verboseErrorOutput=true); WA003
-- while the task is SUBMITTED or RUNNING.
CREATE FUNCTION awf.nlflow_task_response(workflow_id text, task_id uuid)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  t awf.task := awf.nlflow_task_get(workflow_id, task_id);
  st text := awf.nlflow_status(t.status, t.outcome, t.outcome_reason, t.retry_count);
  problem jsonb;
BEGIN
  IF st = 'COMPLETED' THEN
    RETURN coalesce(t.result, 'null'::jsonb);
  ELSIF st IN ('SUBMITTED', 'RUNNING') THEN
    RAISE EXCEPTION 'task % of NL Flow workflow "%" is %: its outcome is ready once it is COMPLETED, ERROR or DROPPED',
      t.id, workflow_id, st USING ERRCODE = 'WA003';
  END IF;
  -- ERROR: the executor's own message first; DROPPED: why it was dropped.
  problem := jsonb_build_object('message', coalesce(
    CASE WHEN st = 'ERROR' AND jsonb_typeof(t.error -> 'message') = 'string' THEN t.error ->> 'message' END,
    t.outcome_reason ->> 'message',
    format('task %s of NL Flow workflow "%s" failed', t.id, workflow_id)));
  IF (SELECT n.verbose_errors FROM awf.nlflow_task n WHERE n.task_id = t.id) THEN
    problem := problem || jsonb_build_object('details', jsonb_strip_nulls(jsonb_build_object(
      'status', st, 'outcomeReason', t.outcome_reason, 'error', t.error, 'attempts', t.retry_count)));
  END IF;
  RETURN problem;
END
$$;

-- The input: the body of the creating request.
CREATE FUNCTION awf.nlflow_task_request(workflow_id text, task_id uuid)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  RETURN (awf.nlflow_task_get(workflow_id, task_id)).params;
END
$$;

-- Deletes every trace of tasks of the workflow: one task (WA001 if it has no such task), those in
-- the statuses, or all. Returns how many. A running task's executor is refused from then on.
CREATE FUNCTION awf.nlflow_task_delete(workflow_id text, task_id uuid DEFAULT NULL,
                                       statuses text[] DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  wanted text[] := awf.nlflow_check_statuses(statuses);
  deleted bigint;
BEGIN
  -- Errors name the missing workflow or task (nlflow_task_get checks the workflow too).
  IF task_id IS NOT NULL THEN
    PERFORM awf.nlflow_task_get(workflow_id, task_id);
  ELSE
    PERFORM awf.nlflow_workflow_get(workflow_id);
  END IF;
  -- Lock order: nlflow_task, then task (as the trace sweep does).
  WITH doomed AS (
    SELECT n.task_id FROM awf.nlflow_task n LEFT JOIN awf.task t ON t.id = n.task_id
     WHERE n.workflow_id = nlflow_task_delete.workflow_id
       AND (nlflow_task_delete.task_id IS NULL OR n.task_id = nlflow_task_delete.task_id)
       AND (wanted IS NULL OR awf.nlflow_status(t.status, t.outcome, t.outcome_reason, t.retry_count) = ANY (wanted))
     FOR UPDATE OF n),
  gone AS (DELETE FROM awf.nlflow_task n USING doomed WHERE n.task_id = doomed.task_id RETURNING n.task_id),
  tasks AS (DELETE FROM awf.task t USING gone WHERE t.id = gone.task_id),
  logs AS (DELETE FROM awf.task_log l USING gone WHERE l.task_id = gone.task_id)
  SELECT count(*) INTO deleted FROM gone;
  RETURN deleted;
END
$$;

-- The time-driven work of the API surfaces, run by awf.tick after the core sweep:
-- tasks past their deadline fail (outcomeReason awf.task/failed-due-to-deadline; NL Flow shows
-- them DROPPED, and a late success is refused), and NL Flow traces older than `trace_cutoff`
-- are deleted. Bounded by `batch` rows each; SKIP LOCKED, so claimers are never blocked.
CREATE FUNCTION awf.sweep_surfaces(now timestamptz, batch integer, trace_cutoff timestamptz)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  expired bigint;
  traces bigint := 0;
BEGIN
  WITH due AS (
    SELECT r.id, r.status, r.exec_id FROM awf.task r
     WHERE r.deadline_at <= now AND r.status <> 'done'
     ORDER BY r.deadline_at LIMIT batch FOR UPDATE SKIP LOCKED),
  failed AS (
    UPDATE awf.task t
       SET status = 'done', outcome = 'failed',
           outcome_reason = '{"type": "awf.task/failed-due-to-deadline",
                              "message": "Failed: queue time and execution time exceeded the deadline"}',
           due_at = NULL, updated_at = now, version = t.version + 1
      FROM due WHERE t.id = due.id
    RETURNING t.id, due.status AS old_status, due.exec_id)
  INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)
  SELECT f.id, now, 'status', f.exec_id, f.old_status, 'done', 'deadline exceeded' FROM failed f;
  GET DIAGNOSTICS expired = ROW_COUNT;
  IF trace_cutoff IS NOT NULL THEN
    WITH old AS (
      SELECT n.task_id FROM awf.nlflow_task n WHERE n.created_at < trace_cutoff
       ORDER BY n.created_at LIMIT batch FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM awf.nlflow_task n USING old WHERE n.task_id = old.task_id RETURNING n.task_id),
    tasks AS (DELETE FROM awf.task t USING gone WHERE t.id = gone.task_id),
    logs AS (DELETE FROM awf.task_log l USING gone WHERE l.task_id = gone.task_id)
    SELECT count(*) INTO traces FROM gone;
  END IF;
  RETURN jsonb_build_object('deadlineExceeded', expired, 'tracesDeleted', traces);
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA awf FROM PUBLIC;
REVOKE ALL ON awf.nlflow_workflow, awf.nlflow_api_key, awf.nlflow_task FROM PUBLIC;

-- NL Flow callers (the bridge, after checking the workflow's X-API-KEY) act as awf_user.
GRANT EXECUTE ON FUNCTION
  awf.nlflow_task_create(text, jsonb, text, boolean),
  awf.nlflow_task_status(text, uuid),
  awf.nlflow_status_map(text, uuid[], text[]),
  awf.nlflow_task_response(text, uuid),
  awf.nlflow_task_request(text, uuid),
  awf.nlflow_task_delete(text, uuid, text[]),
  awf.nlflow_status(text, text, jsonb, integer)
  TO awf_user;
GRANT EXECUTE ON FUNCTION
  awf.nlflow_workflow_put(text, text, text, bigint, boolean),
  awf.nlflow_key_put(text, text, text, text),
  awf.nlflow_key_lookup(text),
  awf.sweep_surfaces(timestamptz, integer, timestamptz)
  TO awf_admin;
GRANT SELECT ON awf.nlflow_workflow, awf.nlflow_task TO awf_user;
