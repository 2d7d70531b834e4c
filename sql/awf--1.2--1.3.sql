-- pg_awf 1.3: Aidbox workflows driven by decision tasks, the built-in tasks awf.task/wait and
-- awf.task/clean-up-activities, scheduler rules (cron), and concurrency limits per definition.
\echo Use "ALTER EXTENSION awf UPDATE TO '1.3'" to load this file. \quit

-- Refuse a schema awf that a non-superuser controls. CREATE EXTENSION takes an existing schema awf
-- as it finds it (PostgreSQL neither creates it anew nor checks who owns it), and the SECURITY
-- DEFINER functions, owned by a superuser, search awf: whoever owns the schema or may create in it
-- could plant objects they run, or rename it and put a schema of their own in its place. 1.0 to
-- 1.2 did not check; this script runs last in every install and in every update to 1.3, so an
-- error here rolls the whole CREATE or ALTER EXTENSION back. Every operator is pg_catalog's: the
-- search_path of this script is the schema being checked.
DO $schema_guard$
DECLARE
  problem pg_catalog.text;
BEGIN
  SELECT pg_catalog.format('schema awf is owned by role %s, which is not a superuser', n.nspowner::pg_catalog.regrole)
    INTO problem
    FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
   WHERE n.nspname OPERATOR(pg_catalog.=) 'awf'::pg_catalog.name AND NOT r.rolsuper;
  IF problem IS NULL THEN
    SELECT pg_catalog.format('schema awf grants CREATE to %s, which is not a superuser',
                             CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
                                  ELSE a.grantee::pg_catalog.regrole::pg_catalog.text END)
      INTO problem
      FROM pg_catalog.pg_namespace n CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
     WHERE n.nspname OPERATOR(pg_catalog.=) 'awf'::pg_catalog.name
       AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'::pg_catalog.text
       AND NOT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) a.grantee), false)
     LIMIT 1;
  END IF;
  IF problem IS NULL THEN
    SELECT pg_catalog.format('schema awf holds %s, owned by role %s, which is not a superuser', o.what, o.owner::pg_catalog.regrole)
      INTO problem
      FROM (SELECT pg_catalog.format('relation %s', c.oid::pg_catalog.regclass) AS what, c.relowner AS owner, c.relnamespace AS nsp
              FROM pg_catalog.pg_class c
            UNION ALL SELECT pg_catalog.format('function %s', p.oid::pg_catalog.regprocedure), p.proowner, p.pronamespace
              FROM pg_catalog.pg_proc p
            UNION ALL SELECT pg_catalog.format('type %s', t.oid::pg_catalog.regtype), t.typowner, t.typnamespace
              FROM pg_catalog.pg_type t
            UNION ALL SELECT pg_catalog.format('operator %s', o.oid::pg_catalog.regoperator), o.oprowner, o.oprnamespace
              FROM pg_catalog.pg_operator o
            UNION ALL SELECT pg_catalog.format('collation %s', l.collname), l.collowner, l.collnamespace
              FROM pg_catalog.pg_collation l
            UNION ALL SELECT pg_catalog.format('conversion %s', v.conname), v.conowner, v.connamespace
              FROM pg_catalog.pg_conversion v
            UNION ALL SELECT pg_catalog.format('operator family %s', f.opfname), f.opfowner, f.opfnamespace
              FROM pg_catalog.pg_opfamily f
            UNION ALL SELECT pg_catalog.format('operator class %s', k.opcname), k.opcowner, k.opcnamespace
              FROM pg_catalog.pg_opclass k
            UNION ALL SELECT pg_catalog.format('text search configuration %s', g.cfgname), g.cfgowner, g.cfgnamespace
              FROM pg_catalog.pg_ts_config g
            UNION ALL SELECT pg_catalog.format('text search dictionary %s', d.dictname), d.dictowner, d.dictnamespace
              FROM pg_catalog.pg_ts_dict d
            UNION ALL SELECT pg_catalog.format('statistics object %s', s.stxname), s.stxowner, s.stxnamespace
              FROM pg_catalog.pg_statistic_ext s) o
      JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) o.owner
     WHERE o.nsp OPERATOR(pg_catalog.=) (SELECT n.oid FROM pg_catalog.pg_namespace n
                                          WHERE n.nspname OPERATOR(pg_catalog.=) 'awf'::pg_catalog.name)
       AND NOT r.rolsuper
     LIMIT 1;
  END IF;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'pg_awf: %', problem USING ERRCODE = 'object_not_in_prerequisite_state',
      DETAIL = 'The functions of awf run as a superuser and search schema awf; only superusers may control it.',
      HINT = 'Install awf where no schema awf exists (CREATE EXTENSION makes it), or give the schema and its '
             'objects to a superuser and revoke CREATE on it from everyone else; then retry.';
  END IF;
END
$schema_guard$;

---------------------------------------------------------------------------------------------------
-- Workflows
--
-- A workflow (AidboxWorkflow) does nothing by itself: each of its events -- its start, a task it
-- scheduled finishing, a sub-workflow finishing -- becomes a *decision task* that an executor
-- polls with `workflowDefinitions: [its definition]` and finishes with `awf.task/success`, whose
-- result is the list of actions to take. One decision of a workflow runs at a time, in event
-- order: events that arrive meanwhile wait in awf.workflow_event.
--
-- Decision tasks are ordinary tasks, queued under the definition
-- `awf.workflow/decision-task@<workflow definition>`: so polling workflowDefinitions is the same
-- one-statement claim on the ready index as polling taskDefinitions, and long-polls wake the same
-- way. The API shows their definition as `awf.workflow/decision-task`.
---------------------------------------------------------------------------------------------------

-- The workflow of a task (its decision tasks and the tasks it scheduled). Not indexed here: every
-- index on awf.task costs every transition of every task (they are not HOT updates); the tasks of
-- a workflow are found through awf.workflow_task instead.
ALTER TABLE awf.task ADD COLUMN workflow_id uuid;

CREATE TABLE awf.workflow (
  id uuid PRIMARY KEY,
  definition text NOT NULL,
  params jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL,            -- created | in-progress | done
  outcome text,                    -- succeeded | failed | canceled; set exactly when done
  outcome_reason jsonb,
  result jsonb,
  error jsonb,
  parent_id uuid,                  -- the workflow that scheduled this one (a sub-workflow)
  decision_task_id uuid,           -- its unfinished decision task; NULL while none runs
  requester jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  version bigint NOT NULL DEFAULT 1
);
CREATE INDEX workflow_parent_idx ON awf.workflow (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX workflow_created_idx ON awf.workflow (created_at);
CREATE INDEX workflow_done_idx ON awf.workflow (updated_at) WHERE status = 'done';

-- Events waiting for their decision: only while another decision of the workflow runs.
CREATE TABLE awf.workflow_event (
  workflow_id uuid NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  event text NOT NULL,             -- awf.workflow.event/task-completed | .../workflow-completed
  activity jsonb,                  -- the task or sub-workflow it is about
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, seq)
);

-- The tasks of each workflow (status include-activities, cancel).
CREATE TABLE awf.workflow_task (
  workflow_id uuid NOT NULL,
  task_id uuid NOT NULL,
  PRIMARY KEY (workflow_id, task_id)
);

SELECT pg_catalog.pg_extension_config_dump('awf.workflow', '');
SELECT pg_catalog.pg_extension_config_dump('awf.workflow_task', '');
SELECT pg_catalog.pg_extension_config_dump('awf.workflow_event_seq_seq', '');
SELECT pg_catalog.pg_extension_config_dump('awf.workflow_event', '');

-- ISO-8601 UTC with microseconds, as every timestamp of the API: 1.2's awf.xina_time under a name
-- that says what it is for (XINA keeps calling xina_time; one definition of the format).
CREATE FUNCTION awf.json_time(ts timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$ SELECT awf.xina_time(ts) $$;

-- An object without its null-valued top-level keys (absent keys rather than nulls; nulls inside
-- params and results are kept).
CREATE FUNCTION awf.json_compact(doc jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$ SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(doc) e
      WHERE jsonb_typeof(e.value) <> 'null' $$;

-- The AidboxWorkflow resource.
CREATE FUNCTION awf.workflow_json(w awf.workflow)
RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
  SELECT awf.json_compact(jsonb_build_object(
    'resourceType', 'AidboxWorkflow', 'id', w.id, 'definition', w.definition, 'params', w.params,
    'status', w.status, 'outcome', w.outcome, 'outcomeReason', w.outcome_reason,
    'result', w.result, 'error', w.error,
    'parentWorkflow', CASE WHEN w.parent_id IS NOT NULL
                           THEN jsonb_build_object('resourceType', 'AidboxWorkflow', 'id', w.parent_id) END,
    'requester', w.requester,
    'meta', jsonb_build_object('createdAt', awf.json_time(w.created_at),
                               'lastUpdated', awf.json_time(w.updated_at),
                               'versionId', w.version::text)))
$$;

-- The AidboxTask resource of a task, as the lifecycle functions render it.
CREATE FUNCTION awf.task_json(task_id uuid)
RETURNS jsonb LANGUAGE sql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$ SELECT awf.task_status(task_id, false, false) -> 'resource' $$;

-- Reading documents of the workflow API. Each raises WA101 naming the field (`what`) it rejects.
CREATE FUNCTION awf.doc_text(what text, v jsonb, required boolean DEFAULT false, max_bytes integer DEFAULT 255)
RETURNS text LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    IF required THEN
      RAISE EXCEPTION '% is required', what USING ERRCODE = 'WA101';
    END IF;
    RETURN NULL;
  END IF;
  IF jsonb_typeof(v) <> 'string' THEN
    RAISE EXCEPTION '% must be a string, got %', what, jsonb_typeof(v) USING ERRCODE = 'WA101';
  END IF;
  IF (v #>> '{}') = '' THEN
    RAISE EXCEPTION '% must not be empty', what USING ERRCODE = 'WA101';
  END IF;
  IF octet_length(v #>> '{}') > max_bytes THEN
    RAISE EXCEPTION '% must be at most % bytes long, got %', what, max_bytes, octet_length(v #>> '{}')
      USING ERRCODE = 'WA101';
  END IF;
  RETURN v #>> '{}';
END
$$;

-- An integer field: absent -> NULL; else an integer (5.0 is 5) within [min, max].
CREATE FUNCTION awf.doc_int(what text, v jsonb, min bigint, max bigint)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  n numeric;
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(v) <> 'number' THEN
    RAISE EXCEPTION '% must be an integer, got %', what, jsonb_typeof(v) USING ERRCODE = 'WA101';
  END IF;
  n := (v #>> '{}')::numeric;
  IF n <> trunc(n) OR n < min OR n > max THEN
    RAISE EXCEPTION '% must be an integer from % to %, got %', what, min, max, left(v::text, 40)
      USING ERRCODE = 'WA101';
  END IF;
  RETURN n::bigint;
END
$$;

CREATE FUNCTION awf.doc_object(what text, v jsonb)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(v) <> 'object' THEN
    RAISE EXCEPTION '% must be an object, got %', what, jsonb_typeof(v) USING ERRCODE = 'WA101';
  END IF;
  RETURN v;
END
$$;

CREATE FUNCTION awf.doc_bool(what text, v jsonb)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(v) <> 'boolean' THEN
    RAISE EXCEPTION '% must be true or false, got %', what, left(v::text, 40) USING ERRCODE = 'WA101';
  END IF;
  RETURN v::text::boolean;
END
$$;

-- A timestamp field: ISO 8601 (date, time, optional fraction and offset; no offset is UTC), as
-- awf.task/create reads executeAt. PostgreSQL's own input would also take 'infinity' or
-- 'tomorrow', which no API sends and which would make a task wait forever.
CREATE FUNCTION awf.doc_time(what text, v jsonb)
RETURNS timestamptz LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  s text := awf.doc_text(what, v, false, 64);
BEGIN
  IF s IS NULL THEN
    RETURN NULL;
  END IF;
  IF s !~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$' THEN
    RAISE EXCEPTION '% must be an ISO-8601 timestamp like "2023-05-04T15:30:43Z", got "%"', what, s
      USING ERRCODE = 'WA101';
  END IF;
  IF s !~ '(Z|[+-]\d{2}(:?\d{2})?)$' THEN
    s := s || 'Z';
  END IF;
  RETURN s::timestamptz;
EXCEPTION WHEN data_exception THEN  -- 22008 out of range, 22009 bad offset, 22007 ...
  RAISE EXCEPTION '% is not a valid timestamp, got "%"', what, s USING ERRCODE = 'WA101';
END
$$;

-- The built-in task definitions: run by the background worker, never claimed by executors.
CREATE FUNCTION awf.builtin_definitions()
RETURNS text[] LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$ SELECT ARRAY['awf.task/wait', 'awf.task/clean-up-activities'] $$;

-- When an awf.task/wait task is over: `until` (a timestamp), or `duration {hours, minutes,
-- seconds}` counted from the task's creation.
CREATE FUNCTION awf.wait_until(what text, params jsonb, created timestamptz)
RETURNS timestamptz LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  d jsonb;
  total numeric := 0;
  unit text;
  n numeric;
BEGIN
  IF params ? 'until' AND jsonb_typeof(params -> 'until') <> 'null' THEN
    RETURN awf.doc_time(what || '.until', params -> 'until');
  END IF;
  d := awf.doc_object(what || '.duration', params -> 'duration');
  IF d IS NULL THEN
    RAISE EXCEPTION '% needs "duration" {hours, minutes, seconds} or "until"', what USING ERRCODE = 'WA101';
  END IF;
  FOREACH unit IN ARRAY ARRAY['hours', 'minutes', 'seconds'] LOOP
    IF d ? unit AND jsonb_typeof(d -> unit) <> 'null' THEN
      IF jsonb_typeof(d -> unit) <> 'number' OR (d ->> unit)::numeric < 0 OR (d ->> unit)::numeric > 1e7 THEN
        RAISE EXCEPTION '%.duration.% must be a number from 0 to 10000000, got %', what, unit,
          left((d -> unit)::text, 40) USING ERRCODE = 'WA101';
      END IF;
      n := (d ->> unit)::numeric;
      total := total + n * CASE unit WHEN 'hours' THEN 3600 WHEN 'minutes' THEN 60 ELSE 1 END;
    END IF;
  END LOOP;
  RETURN created + total * interval '1 second';
END
$$;

-- The rules of an awf.task/clean-up-activities task, checked; returns them normalized as
-- [{cutoff_seconds, include[], exclude[]}].
CREATE FUNCTION awf.cleanup_rules(what text, params jsonb)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  rules jsonb := params -> 'rules';
  rule jsonb;
  policy jsonb;
  i integer := 0;
  pos text;
  unit text;
  value bigint;
  seconds bigint;
  out jsonb := '[]';
  key text;
BEGIN
  IF rules IS NULL OR jsonb_typeof(rules) <> 'array' OR jsonb_array_length(rules) = 0 THEN
    RAISE EXCEPTION '%.rules must be a non-empty array of {retentionPolicy, includeDefinitions | excludeDefinitions}',
      what USING ERRCODE = 'WA101';
  END IF;
  -- Bounded: the worker runs every rule (two DELETEs each) inside its tick, which must stay short.
  IF jsonb_array_length(rules) > 100 THEN
    RAISE EXCEPTION '%.rules has % rules; at most 100 are allowed', what, jsonb_array_length(rules)
      USING ERRCODE = 'WA101';
  END IF;
  FOR rule IN SELECT e FROM jsonb_array_elements(rules) e LOOP
    pos := format('%s.rules[%s]', what, i);
    PERFORM awf.doc_object(pos, rule);
    policy := awf.doc_object(pos || '.retentionPolicy', rule -> 'retentionPolicy');
    IF policy IS NULL THEN
      RAISE EXCEPTION '%.retentionPolicy {unit, value} is required', pos USING ERRCODE = 'WA101';
    END IF;
    unit := awf.doc_text(pos || '.retentionPolicy.unit', policy -> 'unit', true, 16);
    value := awf.doc_int(pos || '.retentionPolicy.value', policy -> 'value', 0, 100000000);
    IF value IS NULL THEN
      RAISE EXCEPTION '%.retentionPolicy.value is required', pos USING ERRCODE = 'WA101';
    END IF;
    IF rtrim(unit, 's') NOT IN ('second', 'minute', 'hour', 'day', 'week') THEN
      RAISE EXCEPTION '%.retentionPolicy.unit must be second, minute, hour, day or week, got %', pos, unit
        USING ERRCODE = 'WA101';
    END IF;
    seconds := value * CASE rtrim(unit, 's') WHEN 'second' THEN 1 WHEN 'minute' THEN 60 WHEN 'hour' THEN 3600
                                             WHEN 'day' THEN 86400 ELSE 604800 END;
    IF seconds > 3153600000 THEN
      RAISE EXCEPTION '%.retentionPolicy is longer than 100 years', pos USING ERRCODE = 'WA101';
    END IF;
    IF rule ? 'includeDefinitions' AND rule ? 'excludeDefinitions' THEN
      RAISE EXCEPTION '% has both includeDefinitions and excludeDefinitions; give one', pos USING ERRCODE = 'WA101';
    END IF;
    FOREACH key IN ARRAY ARRAY['includeDefinitions', 'excludeDefinitions'] LOOP
      IF rule ? key AND (jsonb_typeof(rule -> key) <> 'array'
                         OR EXISTS (SELECT 1 FROM jsonb_array_elements(rule -> key) x
                                     WHERE jsonb_typeof(x) <> 'string')) THEN
        RAISE EXCEPTION '%.% must be an array of definition names', pos, key USING ERRCODE = 'WA101';
      END IF;
      IF rule ? key AND jsonb_array_length(rule -> key) > 1000 THEN
        RAISE EXCEPTION '%.% has % names; at most 1000 are allowed', pos, key, jsonb_array_length(rule -> key)
          USING ERRCODE = 'WA101';
      END IF;
    END LOOP;
    out := out || jsonb_build_object(
      'cutoff_seconds', seconds,
      'include', rule -> 'includeDefinitions', 'exclude', rule -> 'excludeDefinitions');
    i := i + 1;
  END LOOP;
  RETURN out;
END
$$;

-- Inserts one task of a workflow (or of a scheduler rule) from a task request {definition,
-- params, label, priority, executeAt, requestedToStartTimeout, inProgressTimeout,
-- allowedRetryCount, retryDelay}; `what` names the request in errors. Returns the task id.
CREATE FUNCTION awf.task_from_request(what text, request jsonb, wf uuid, requester jsonb, now timestamptz)
RETURNS uuid LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  def text;
  params jsonb;
  at timestamptz := now;
  new_id uuid := gen_random_uuid();
  new_status text;
BEGIN
  PERFORM awf.doc_object(what, request);
  IF request IS NULL THEN
    RAISE EXCEPTION '% {definition, params} is required', what USING ERRCODE = 'WA101';
  END IF;
  def := awf.doc_text(what || '.definition', request -> 'definition', true);
  IF def LIKE 'awf.workflow/%' THEN
    RAISE EXCEPTION '%.definition "%" is reserved for the workflow engine', what, def USING ERRCODE = 'WA101';
  END IF;
  params := coalesce(awf.doc_object(what || '.params', request -> 'params'), '{}');
  IF def = 'awf.task/wait' THEN
    PERFORM awf.wait_until(what || '.params', params, now);
  ELSIF def = 'awf.task/clean-up-activities' THEN
    -- Deletes history: only admins schedule it (scheduler rules), never a workflow's executor.
    IF wf IS NOT NULL THEN
      RAISE EXCEPTION '%.definition awf.task/clean-up-activities is for scheduler rules (awf_admin), not workflows',
        what USING ERRCODE = 'WA101';
    END IF;
    PERFORM awf.cleanup_rules(what || '.params', params);
  END IF;
  at := coalesce(awf.doc_time(what || '.executeAt', request -> 'executeAt'), now);
  new_status := CASE WHEN at > now THEN 'waiting' ELSE 'ready' END;
  INSERT INTO awf.task (id, definition, params, status, execute_at, due_at, label, priority,
                        requested_to_start_timeout, in_progress_timeout, allowed_retry_count,
                        retry_delay, pool, requester, workflow_id, created_at, updated_at)
  VALUES (new_id, def, params, new_status, greatest(at, now), CASE WHEN at > now THEN at END,
          awf.doc_text(what || '.label', request -> 'label', false, 1024),
          coalesce(awf.doc_int(what || '.priority', request -> 'priority', -2147483648, 2147483647), 0),
          awf.doc_int(what || '.requestedToStartTimeout', request -> 'requestedToStartTimeout', 1, 2147483647),
          awf.doc_int(what || '.inProgressTimeout', request -> 'inProgressTimeout', 1, 2147483647),
          awf.doc_int(what || '.allowedRetryCount', request -> 'allowedRetryCount', 0, 2147483647),
          awf.doc_int(what || '.retryDelay', request -> 'retryDelay', 0, 2147483647),
          (SELECT d.pool FROM awf.definition d WHERE d.name = def), requester, wf, now, now);
  INSERT INTO awf.task_log (task_id, at, kind, status_to) VALUES (new_id, now, 'status', new_status);
  IF wf IS NOT NULL THEN
    INSERT INTO awf.workflow_task (workflow_id, task_id) VALUES (wf, new_id);
  END IF;
  IF new_status = 'ready' THEN
    PERFORM awf.wakeup_note(def);
  END IF;
  RETURN new_id;
END
$$;

-- Makes the next decision task of a workflow from its oldest waiting event, if no decision runs.
CREATE FUNCTION awf.workflow_next_decision(wf uuid, now timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.workflow;
  e awf.workflow_event;
  queue text;
  new_id uuid := gen_random_uuid();
BEGIN
  SELECT * INTO w FROM awf.workflow WHERE id = wf;
  IF NOT FOUND OR w.status = 'done' OR w.decision_task_id IS NOT NULL THEN
    RETURN;
  END IF;
  SELECT * INTO e FROM awf.workflow_event WHERE workflow_id = wf ORDER BY seq LIMIT 1;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  DELETE FROM awf.workflow_event WHERE workflow_id = wf AND seq = e.seq;
  queue := 'awf.workflow/decision-task@' || w.definition;
  INSERT INTO awf.task (id, definition, params, status, execute_at, pool, workflow_id, created_at, updated_at)
  VALUES (new_id, queue,
          awf.json_compact(jsonb_build_object('event', e.event, 'workflow', awf.workflow_json(w),
                                              'activity', e.activity)),
          'ready', now, (SELECT d.pool FROM awf.definition d WHERE d.name = queue), wf, now, now);
  INSERT INTO awf.task_log (task_id, at, kind, status_to, message)
  VALUES (new_id, now, 'status', 'ready', e.event);
  INSERT INTO awf.workflow_task (workflow_id, task_id) VALUES (wf, new_id);
  UPDATE awf.workflow SET decision_task_id = new_id WHERE id = wf;
  PERFORM awf.wakeup_note(queue);
END
$$;

-- Queues an event of a workflow (a no-op once it is done) and starts its decision if none runs.
-- A sub-workflow whose parent is done (its cancel skipped it while it was busy) is canceled now.
CREATE FUNCTION awf.workflow_event_add(wf uuid, event text, activity jsonb, now timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  parent uuid;
BEGIN
  SELECT w.parent_id INTO parent FROM awf.workflow w WHERE w.id = wf AND w.status <> 'done' FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF parent IS NOT NULL AND EXISTS (SELECT 1 FROM awf.workflow p WHERE p.id = parent AND p.status = 'done') THEN
    PERFORM awf.workflow_finish(wf, 'canceled',
      jsonb_build_object('type', 'awf.workflow/canceled',
                         'message', format('Canceled: its parent workflow %s is done', parent)), NULL, NULL, now);
    RETURN;
  END IF;
  INSERT INTO awf.workflow_event (workflow_id, event, activity, created_at) VALUES (wf, event, activity, now);
  PERFORM awf.workflow_next_decision(wf, now);
END
$$;

-- Creates a workflow and its first event (workflow-init). Returns it.
CREATE FUNCTION awf.workflow_start(what text, def text, params jsonb, wf_id uuid, parent uuid,
                                   requester jsonb, now timestamptz)
RETURNS awf.workflow LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.workflow;
BEGIN
  IF def LIKE 'awf.%' THEN
    RAISE EXCEPTION '%.definition "%" is reserved (names starting with "awf." belong to the engine)', what, def
      USING ERRCODE = 'WA101';
  END IF;
  INSERT INTO awf.workflow AS x (id, definition, params, status, parent_id, requester, created_at, updated_at)
  VALUES (coalesce(wf_id, gen_random_uuid()), def, coalesce(params, '{}'), 'in-progress', parent,
          requester, now, now)
  ON CONFLICT (id) DO NOTHING
  RETURNING x.* INTO w;
  IF NOT FOUND THEN
    -- Idempotent: the same id answers the workflow made before, if it is the same definition.
    SELECT * INTO w FROM awf.workflow WHERE id = wf_id;
    IF w.definition IS DISTINCT FROM def THEN
      RAISE EXCEPTION 'workflow % exists with definition "%", not "%"', wf_id, w.definition, def
        USING ERRCODE = 'WA007', HINT = 'Use another id, or omit it to get a new one.';
    END IF;
    RETURN w;
  END IF;
  INSERT INTO awf.workflow_event (workflow_id, event, created_at)
  VALUES (w.id, 'awf.workflow.event/workflow-init', now);
  PERFORM awf.workflow_next_decision(w.id, now);
  SELECT * INTO w FROM awf.workflow WHERE id = w.id;
  RETURN w;
END
$$;

-- Finishes a workflow (locked by the caller): done with this outcome; its unfinished tasks and
-- sub-workflows are canceled; its parent gets a workflow-completed event.
-- It never waits for a task or sub-workflow (SKIP LOCKED), so it cannot deadlock with one that is
-- changing right now (which locks its own row, then its workflow's). A task skipped here is
-- canceled by awf.task_rules at its next status change (or finishes); a sub-workflow skipped here
-- is finished when its next event finds its parent done (awf.workflow_event_add).
CREATE FUNCTION awf.workflow_finish(wf uuid, v_outcome text, reason jsonb, v_result jsonb,
                                    v_error jsonb, now timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.workflow;
  child uuid;
BEGIN
  UPDATE awf.workflow x
     SET status = 'done', outcome = v_outcome, outcome_reason = reason, result = v_result,
         error = v_error, decision_task_id = NULL, updated_at = now, version = x.version + 1
   WHERE x.id = wf AND x.status <> 'done'
  RETURNING x.* INTO w;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  DELETE FROM awf.workflow_event WHERE workflow_id = wf;
  WITH target AS (
    SELECT t.id, t.status FROM awf.workflow_task m JOIN awf.task t ON t.id = m.task_id
     WHERE m.workflow_id = wf AND t.status <> 'done' FOR UPDATE OF t SKIP LOCKED),
  canceled AS (
    UPDATE awf.task t
       SET status = 'done', outcome = 'canceled',
           outcome_reason = jsonb_build_object('type', 'awf.task/canceled',
                                               'message', format('Canceled: its workflow %s is done (%s)', wf, v_outcome)),
           due_at = NULL, updated_at = now, version = t.version + 1
      FROM target g WHERE t.id = g.id AND t.status <> 'done'
    RETURNING t.id, t.exec_id, g.status AS status_from)
  INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)
  SELECT c.id, now, 'status', c.exec_id, c.status_from, 'done', 'workflow done' FROM canceled c;
  FOR child IN
    SELECT x.id FROM awf.workflow x WHERE x.parent_id = wf AND x.status <> 'done' FOR UPDATE SKIP LOCKED
  LOOP
    PERFORM awf.workflow_finish(child, 'canceled',
      jsonb_build_object('type', 'awf.workflow/canceled',
                         'message', format('Canceled: its parent workflow %s is done', wf)), NULL, NULL, now);
  END LOOP;
  IF w.parent_id IS NOT NULL THEN
    PERFORM awf.workflow_event_add(w.parent_id, 'awf.workflow.event/workflow-completed', awf.workflow_json(w), now);
  END IF;
END
$$;

-- The actions of a finished decision task: its result, a bare array or {actions: [...]}. All are
-- checked before any is taken, so a wrong one refuses the executor's success and changes nothing.
CREATE FUNCTION awf.workflow_actions(task_result jsonb)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  actions jsonb := CASE WHEN jsonb_typeof(task_result) = 'array' THEN task_result
                        WHEN jsonb_typeof(task_result) = 'object' THEN task_result -> 'actions' END;
  a jsonb;
  i integer := 0;
  n integer;
  kind text;
  pos text;
BEGIN
  IF task_result IS NULL OR jsonb_typeof(task_result) = 'null' THEN
    RETURN '[]';
  END IF;
  IF actions IS NULL THEN
    RAISE EXCEPTION 'decision result must be an array of workflow actions or {"actions": [...]}; got an object without "actions"'
      USING ERRCODE = 'WA101', HINT = 'To take no action send [] or [{"action": "awf.workflow.action/do-nothing"}].';
  END IF;
  IF jsonb_typeof(actions) <> 'array' THEN
    RAISE EXCEPTION 'decision result.actions must be an array of workflow actions, got %', jsonb_typeof(actions)
      USING ERRCODE = 'WA101';
  END IF;
  n := jsonb_array_length(actions);
  IF n > 1000 THEN
    RAISE EXCEPTION 'decision result has % actions; at most 1000 are allowed', n USING ERRCODE = 'WA101';
  END IF;
  FOR a IN SELECT e FROM jsonb_array_elements(actions) e LOOP
    pos := format('decision result.actions[%s]', i);
    IF jsonb_typeof(a) <> 'object' THEN
      RAISE EXCEPTION '% must be an object {action, ...}, got %', pos, jsonb_typeof(a) USING ERRCODE = 'WA101';
    END IF;
    kind := coalesce(awf.doc_text(pos || '.action', a -> 'action'), awf.doc_text(pos || '.type', a -> 'type'));
    IF kind IS NULL THEN
      RAISE EXCEPTION '%.action is required (awf.workflow.action/schedule-task, schedule-workflow, complete-workflow, fail, do-nothing)',
        pos USING ERRCODE = 'WA101';
    END IF;
    IF kind NOT IN ('awf.workflow.action/schedule-task', 'awf.workflow.action/schedule-workflow',
                    'awf.workflow.action/complete-workflow', 'awf.workflow.action/fail',
                    'awf.workflow.action/do-nothing') THEN
      RAISE EXCEPTION '%.action "%" is unknown; expected awf.workflow.action/schedule-task, schedule-workflow, complete-workflow, fail or do-nothing',
        pos, left(kind, 80) USING ERRCODE = 'WA101';
    END IF;
    IF kind IN ('awf.workflow.action/complete-workflow', 'awf.workflow.action/fail') AND i < n - 1 THEN
      RAISE EXCEPTION '%: % ends the workflow, so it must be the last action', pos, kind USING ERRCODE = 'WA101';
    END IF;
    IF kind = 'awf.workflow.action/schedule-workflow' THEN
      PERFORM awf.doc_object(pos || '.workflow-request', a -> 'workflow-request');
      PERFORM awf.doc_text(pos || '.workflow-request.definition', a #> '{workflow-request,definition}', true);
      PERFORM awf.doc_object(pos || '.workflow-request.params', a #> '{workflow-request,params}');
    ELSIF kind = 'awf.workflow.action/fail' THEN
      PERFORM awf.doc_object(pos || '.error', a -> 'error');
    END IF;
    i := i + 1;
  END LOOP;
  RETURN actions;
END
$$;

-- A decision task of workflow `wf` is done: take its actions, or fail the workflow when the
-- decision failed; then start the next decision if events wait.
CREATE FUNCTION awf.workflow_decided(wf uuid, d awf.task, now timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.workflow;
  actions jsonb;
  a jsonb;
  i integer := 0;
  kind text;
  pos text;
  req jsonb;
BEGIN
  SELECT * INTO w FROM awf.workflow WHERE id = wf FOR UPDATE;
  IF NOT FOUND OR w.status = 'done' THEN
    RETURN;
  END IF;
  UPDATE awf.workflow SET decision_task_id = NULL WHERE id = wf AND decision_task_id = d.id;
  IF d.outcome = 'succeeded' THEN
    actions := awf.workflow_actions(d.result);
    FOR a IN SELECT e FROM jsonb_array_elements(actions) e LOOP
      pos := format('decision result.actions[%s]', i);
      kind := coalesce(a ->> 'action', a ->> 'type');
      IF kind = 'awf.workflow.action/schedule-task' THEN
        PERFORM awf.task_from_request(pos || '.task-request', a -> 'task-request', wf, NULL, now);
      ELSIF kind = 'awf.workflow.action/schedule-workflow' THEN
        req := a -> 'workflow-request';
        PERFORM awf.workflow_start(pos || '.workflow-request', req ->> 'definition',
                                   coalesce(req -> 'params', '{}'), NULL, wf, NULL, now);
      ELSIF kind = 'awf.workflow.action/complete-workflow' THEN
        PERFORM awf.workflow_finish(wf, 'succeeded', NULL, a -> 'result', NULL, now);
      ELSIF kind = 'awf.workflow.action/fail' THEN
        PERFORM awf.workflow_finish(wf, 'failed',
          jsonb_build_object('type', 'awf.workflow/failed-by-executor',
                             'message', coalesce(a #>> '{error,message}', 'Failed by the decision task')),
          NULL, a -> 'error', now);
      END IF;
      i := i + 1;
    END LOOP;
  ELSE
    -- The decision task failed (its executor failed it, or it timed out, with no retries left)
    -- or was canceled: the workflow cannot go on.
    PERFORM awf.workflow_finish(wf, 'failed',
      jsonb_build_object(
        'type', CASE WHEN d.outcome_reason ->> 'type' = 'awf.task/failed-by-executor'
                     THEN 'awf.workflow/failed-by-executor' ELSE 'awf.executor/unknown-error' END,
        'message', format('Decision task %s %s: %s', d.id,
                          CASE d.outcome WHEN 'canceled' THEN 'was canceled' ELSE 'failed' END,
                          coalesce(d.outcome_reason ->> 'message', d.outcome)),
        'data', jsonb_build_object('task', d.id)),
      NULL, d.error, now);
  END IF;
  PERFORM awf.workflow_next_decision(wf, now);
END
$$;

-- One trigger keeps the rules of sequences (1.2) and workflows on every status change, whatever
-- made it (executor, timers, deadlines, cancels, concludes). One, not two: every trigger's WHEN
-- clause is prepared for every statement that updates awf.task, and the lifecycle rate pays for
-- it. Its WHEN keeps it off every task that is in neither a sequence nor a workflow.
--   * a task of a workflow done: a decision task takes its actions; any other task is a
--     task-completed event of its workflow;
--   * a task of a sequence: as awf.sequence_rules did in 1.2 (see awf--1.1--1.2.sql).
CREATE FUNCTION awf.task_rules()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  now timestamptz := clock_timestamp();
  paused boolean;
BEGIN
  IF NEW.status = OLD.status THEN
    RETURN NULL;
  END IF;
  IF NEW.workflow_id IS NOT NULL AND NEW.status = 'done' THEN
    IF NEW.definition LIKE 'awf.workflow/decision-task@%' THEN
      PERFORM awf.workflow_decided(NEW.workflow_id, NEW, now);
    ELSE
      PERFORM awf.workflow_event_add(NEW.workflow_id, 'awf.workflow.event/task-completed',
                                     awf.task_json(NEW.id), now);
    END IF;
  ELSIF NEW.workflow_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM awf.workflow w WHERE w.id = NEW.workflow_id AND w.status = 'done') THEN
    -- A task its workflow's finish skipped (it was changing then): canceled at this change.
    UPDATE awf.task t
       SET status = 'done', outcome = 'canceled',
           outcome_reason = jsonb_build_object('type', 'awf.task/canceled',
                                               'message', format('Canceled: its workflow %s is done', NEW.workflow_id)),
           due_at = NULL, updated_at = now, version = t.version + 1
     WHERE t.id = NEW.id AND t.status = NEW.status;
    INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)
    VALUES (NEW.id, now, 'status', NEW.exec_id, NEW.status, 'done', 'workflow done');
  END IF;
  IF NEW.seq IS NULL THEN
    RETURN NULL;
  END IF;
  IF NEW.status = 'done' AND NEW.outcome = 'failed' THEN
    -- The earliest failed task holds (the one the sequence stopped at); a later one does not
    -- take over an existing hold.
    INSERT INTO awf.task_sequence AS s (name, paused, held_task, updated_at)
    VALUES (NEW.seq, true, NEW.id, now)
    ON CONFLICT (name) DO UPDATE
      SET paused = true, updated_at = excluded.updated_at,
          held_task = CASE WHEN s.held_task IS NULL
                             OR NOT EXISTS (SELECT 1 FROM awf.task h WHERE h.id = s.held_task AND h.num < NEW.num)
                           THEN NEW.id ELSE s.held_task END;
    PERFORM awf.sequence_park(NEW.seq, now, format('sequence "%s" is held by a failed task', NEW.seq));
  ELSIF NEW.status = 'done' AND OLD.status <> 'created' THEN
    PERFORM awf.sequence_promote(NEW.seq);
  ELSIF NEW.status IN ('ready', 'waiting') AND OLD.status IN ('requested', 'in-progress') THEN
    SELECT s.paused INTO paused FROM awf.task_sequence s WHERE s.name = NEW.seq FOR SHARE;
    IF paused THEN
      UPDATE awf.task t SET status = 'created', due_at = NULL, updated_at = now, version = t.version + 1
       WHERE t.id = NEW.id AND t.status = NEW.status;
      INSERT INTO awf.task_log (task_id, at, kind, status_from, status_to, message)
      VALUES (NEW.id, now, 'status', NEW.status, 'created', format('sequence "%s" is paused', NEW.seq));
    END IF;
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER task_sequence_rules ON awf.task;
DROP FUNCTION awf.sequence_rules();
CREATE TRIGGER task_rules AFTER UPDATE OF status ON awf.task
  FOR EACH ROW WHEN (NEW.seq IS NOT NULL OR NEW.workflow_id IS NOT NULL)
  EXECUTE FUNCTION awf.task_rules();

-- awf.workflow/create-and-execute: starts a workflow of `definition`. The same `id` again answers
-- the workflow made the first time (idempotent).
CREATE FUNCTION awf.workflow_create(definition text, params jsonb DEFAULT '{}', id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.workflow;
BEGIN
  PERFORM awf.doc_text('awf.workflow/create-and-execute: "definition"', to_jsonb(workflow_create.definition), true);
  PERFORM awf.doc_object('awf.workflow/create-and-execute: "params"', workflow_create.params);
  w := awf.workflow_start('awf.workflow/create-and-execute', workflow_create.definition,
                          workflow_create.params, workflow_create.id, NULL, NULL, clock_timestamp());
  RETURN jsonb_build_object('resource', awf.workflow_json(w));
END
$$;

CREATE FUNCTION awf.workflow_get(what text, wf uuid, lock boolean)
RETURNS awf.workflow LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.workflow;
BEGIN
  IF wf IS NULL THEN
    RAISE EXCEPTION '%: "id" is required', what USING ERRCODE = 'WA101';
  END IF;
  IF lock THEN
    SELECT * INTO w FROM awf.workflow WHERE id = wf FOR UPDATE;
  ELSE
    SELECT * INTO w FROM awf.workflow WHERE id = wf;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION '%: workflow % not found', what, wf USING ERRCODE = 'WA006';
  END IF;
  RETURN w;
END
$$;

-- awf.workflow/status: the workflow; with include_activities, the tasks and sub-workflows it ran
-- (not its decision tasks), oldest first.
CREATE FUNCTION awf.workflow_status(id uuid, include_activities boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  w awf.workflow := awf.workflow_get('awf.workflow/status', workflow_status.id, false);
  activities jsonb;
BEGIN
  IF NOT coalesce(include_activities, false) THEN
    RETURN jsonb_build_object('resource', awf.workflow_json(w));
  END IF;
  -- Tasks of one decision share created_at; num orders them as the decision listed them.
  SELECT coalesce(jsonb_agg(a.doc ORDER BY a.created_at, a.num, a.id), '[]') INTO activities FROM (
    SELECT t.id, t.created_at, t.num, awf.task_json(t.id) AS doc
      FROM awf.workflow_task m JOIN awf.task t ON t.id = m.task_id
     WHERE m.workflow_id = w.id AND t.definition NOT LIKE 'awf.workflow/decision-task@%'
    UNION ALL
    SELECT x.id, x.created_at, NULL::bigint, awf.workflow_json(x) FROM awf.workflow x WHERE x.parent_id = w.id) a;
  RETURN jsonb_build_object('resource', awf.workflow_json(w), 'activities', activities);
END
$$;

-- awf.workflow/cancel: the workflow, its unfinished tasks and sub-workflows become done/canceled.
-- A done workflow is an error (workflow-has-been-done). It waits only for the workflow's own row
-- (see awf.workflow_finish), so it never deadlocks.
CREATE FUNCTION awf.workflow_cancel(id uuid)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  now timestamptz := clock_timestamp();
  w awf.workflow;
BEGIN
  w := awf.workflow_get('awf.workflow/cancel', workflow_cancel.id, true);
  IF w.status = 'done' THEN
    RAISE EXCEPTION 'awf.workflow/cancel: workflow % has been done (%)', w.id, w.outcome
      USING ERRCODE = 'WA005', HINT = 'Only a workflow that is not done can be canceled.';
  END IF;
  PERFORM awf.workflow_finish(w.id, 'canceled',
    '{"type": "awf.workflow/canceled", "message": "Canceled by user"}', NULL, NULL, now);
  SELECT * INTO w FROM awf.workflow x WHERE x.id = w.id;
  RETURN jsonb_build_object('resource', awf.workflow_json(w));
END
$$;

-- awf.workflow/list: workflows, newest first, filtered by definition and status, paged.
CREATE FUNCTION awf.workflow_list(definitions text[] DEFAULT NULL, statuses text[] DEFAULT NULL,
                                  count integer DEFAULT 100, page integer DEFAULT 1)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  out jsonb;
BEGIN
  IF coalesce(count, 100) NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION 'awf.workflow/list: "paging.count" must be 1 to 1000, got %', count USING ERRCODE = 'WA101';
  END IF;
  IF coalesce(page, 1) NOT BETWEEN 1 AND 1000000 THEN
    RAISE EXCEPTION 'awf.workflow/list: "paging.page" must be 1 to 1000000, got %', page USING ERRCODE = 'WA101';
  END IF;
  IF coalesce(cardinality(definitions), 0) > 1000 OR coalesce(cardinality(statuses), 0) > 1000 THEN
    RAISE EXCEPTION 'awf.workflow/list: a filter names more than 1000 values' USING ERRCODE = 'WA101';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(statuses) s WHERE s IS NULL OR s NOT IN ('created', 'in-progress', 'done')) THEN
    RAISE EXCEPTION 'awf.workflow/list: "filter.status" has an unknown value; expected created, in-progress or done'
      USING ERRCODE = 'WA101';
  END IF;
  SELECT coalesce(jsonb_agg(awf.workflow_json(x) ORDER BY x.created_at DESC, x.id), '[]') INTO out
    FROM (SELECT * FROM awf.workflow w
           WHERE (definitions IS NULL OR w.definition = ANY (definitions))
             AND (statuses IS NULL OR w.status = ANY (statuses))
           ORDER BY w.created_at DESC, w.id
           LIMIT coalesce(count, 100) OFFSET (coalesce(page, 1) - 1) * coalesce(count, 100)) x;
  RETURN jsonb_build_object('resources', out);
END
$$;

---------------------------------------------------------------------------------------------------
-- Built-in tasks, run by the background worker in its tick: ready tasks of these definitions are
-- taken from the ready index like any claim, and finished by the engine.
--   awf.task/wait                 done when `until`, or created + `duration`, has passed (until
--                                 then it waits as a task with executeAt does)
--   awf.task/clean-up-activities  deletes done tasks and workflows older than each rule's
--                                 retentionPolicy, of the definitions it names
---------------------------------------------------------------------------------------------------

-- Deletes what the rules of a clean-up task name, at most `batch` tasks and `batch` workflows per
-- rule in one run (one worker tick); returns {tasks, workflows, more}: more is true when a rule
-- filled its batch, and the task runs again at the next tick.
CREATE FUNCTION awf.cleanup_run(rules jsonb, now timestamptz, batch integer)
RETURNS jsonb LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  rule jsonb;
  include text[];
  exclude text[];
  cutoff timestamptz;
  n bigint;
  tasks bigint := 0;
  workflows bigint := 0;
  more boolean := false;
BEGIN
  FOR rule IN SELECT e FROM jsonb_array_elements(rules) e LOOP
    cutoff := now - (rule ->> 'cutoff_seconds')::bigint * interval '1 second';
    include := CASE WHEN rule -> 'include' IS NOT NULL AND jsonb_typeof(rule -> 'include') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(rule -> 'include')) END;
    exclude := CASE WHEN rule -> 'exclude' IS NOT NULL AND jsonb_typeof(rule -> 'exclude') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(rule -> 'exclude')) END;
    WITH old AS (
      SELECT t.id FROM awf.task t
       WHERE t.status = 'done' AND NOT t.archived AND t.updated_at < cutoff
         AND (include IS NULL OR t.definition = ANY (include))
         AND (exclude IS NULL OR NOT t.definition = ANY (exclude))
       LIMIT batch FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM awf.task t USING old WHERE t.id = old.id RETURNING t.id),
    logs AS (DELETE FROM awf.task_log l USING gone WHERE l.task_id = gone.id),
    xina AS (DELETE FROM awf.xina_task x USING gone WHERE x.task_id = gone.id),
    nlflow AS (DELETE FROM awf.nlflow_task n USING gone WHERE n.task_id = gone.id)
    SELECT count(*) INTO n FROM gone;
    tasks := tasks + n;
    more := more OR n >= batch;
    WITH old AS (
      SELECT w.id FROM awf.workflow w
       WHERE w.status = 'done' AND w.updated_at < cutoff
         AND (include IS NULL OR w.definition = ANY (include))
         AND (exclude IS NULL OR NOT w.definition = ANY (exclude))
       LIMIT batch FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM awf.workflow w USING old WHERE w.id = old.id RETURNING w.id),
    links AS (DELETE FROM awf.workflow_task m USING gone WHERE m.workflow_id = gone.id)
    SELECT count(*) INTO n FROM gone;
    workflows := workflows + n;
    more := more OR n >= batch;
  END LOOP;
  RETURN jsonb_build_object('tasks', tasks, 'workflows', workflows, 'more', more);
END
$$;

-- Runs the ready built-in tasks; returns how many it finished.
CREATE FUNCTION awf.builtins_run(now timestamptz, batch integer)
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  t awf.task;
  due timestamptz;
  res jsonb;
  finished bigint := 0;
BEGIN
  FOR t IN
    SELECT * FROM awf.task r WHERE r.status = 'ready' AND r.definition = ANY (awf.builtin_definitions())
     ORDER BY r.execute_at LIMIT batch FOR UPDATE SKIP LOCKED
  LOOP
    BEGIN
      IF t.definition = 'awf.task/wait' THEN
        due := awf.wait_until('params', t.params, t.created_at);
        IF due > now THEN
          UPDATE awf.task x SET status = 'waiting', execute_at = due, due_at = due, updated_at = now,
                                version = x.version + 1
           WHERE x.id = t.id;
          INSERT INTO awf.task_log (task_id, at, kind, status_from, status_to, message)
          VALUES (t.id, now, 'status', 'ready', 'waiting', 'waits until ' || awf.json_time(due));
          CONTINUE;
        END IF;
        res := jsonb_build_object('waitedUntil', awf.json_time(due));
      ELSE
        res := awf.cleanup_run(awf.cleanup_rules('params', t.params), now, batch);
        -- Totals so far: a large clean-up runs over several ticks, a batch per rule in each.
        res := jsonb_build_object('deleted', jsonb_build_object(
          'tasks', (res ->> 'tasks')::bigint + coalesce((t.result #>> '{deleted,tasks}')::bigint, 0),
          'workflows', (res ->> 'workflows')::bigint + coalesce((t.result #>> '{deleted,workflows}')::bigint, 0)),
          'more', res -> 'more');
        IF (res ->> 'more')::boolean THEN
          UPDATE awf.task x SET result = res - 'more', updated_at = now, version = x.version + 1 WHERE x.id = t.id;
          CONTINUE;
        END IF;
        res := res - 'more';
      END IF;
      UPDATE awf.task x SET status = 'done', outcome = 'succeeded', result = res, due_at = NULL,
                            updated_at = now, version = x.version + 1
       WHERE x.id = t.id;
    EXCEPTION WHEN OTHERS THEN
      -- A task the engine cannot run fails alone (its changes undone); the sweep goes on. Params
      -- it cannot read are invalid-params; anything else is an engine error, logged.
      IF SQLSTATE <> 'WA101' THEN
        RAISE WARNING 'pg_awf: built-in task % (%) failed: % (SQLSTATE %)', t.id, t.definition, SQLERRM, SQLSTATE;
      END IF;
      UPDATE awf.task x SET status = 'done', outcome = 'failed',
                            outcome_reason = jsonb_build_object(
                              'type', CASE WHEN SQLSTATE = 'WA101' THEN 'awf.task/invalid-params'
                                           ELSE 'awf.task/engine-error' END,
                              'message', SQLERRM),
                            due_at = NULL, updated_at = now, version = x.version + 1
       WHERE x.id = t.id;
    END;
    INSERT INTO awf.task_log (task_id, at, kind, status_from, status_to, message)
    VALUES (t.id, now, 'status', 'ready', 'done', 'run by the engine');
    finished := finished + 1;
  END LOOP;
  RETURN finished;
END
$$;

---------------------------------------------------------------------------------------------------
-- Scheduler rules: a cron schedule that makes a task or a workflow. The worker fires a rule when
-- its next_run_at has passed, in one transaction that makes the activity and moves next_run_at
-- on: never twice for one fire time, also across restarts. A fire time missed by more than
-- start-deadline-seconds (the worker was down) is skipped; the first one still within the
-- deadline, if any, runs instead: a rule catches up with one run, not a burst.
---------------------------------------------------------------------------------------------------

-- The first fire time of a cron schedule strictly after `after` (UTC): 5 fields (minute hour
-- day-of-month month day-of-week) or 6 with a leading second; NULL if it never fires again.
CREATE FUNCTION awf.cron_next(schedule text, after timestamptz)
RETURNS timestamptz LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'awf_cron_next';

CREATE TABLE awf.scheduler_rule (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$'),
  schedule text NOT NULL,
  execute_on_setup boolean NOT NULL DEFAULT false,
  concurrency_policy text NOT NULL DEFAULT 'allow' CHECK (concurrency_policy IN ('allow', 'forbid')),
  start_deadline_seconds integer NOT NULL DEFAULT 60 CHECK (start_deadline_seconds > 0),
  task_request jsonb,
  workflow_request jsonb,
  next_run_at timestamptz,          -- the next fire time not handled yet
  last_run_at timestamptz,          -- the fire time of the last activity made
  last_activity_id uuid,            -- that task or workflow (forbid waits for it to be done)
  runs bigint NOT NULL DEFAULT 0,
  skipped bigint NOT NULL DEFAULT 0,
  last_skip text,                   -- why the last fire time was skipped
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  CHECK ((task_request IS NULL) <> (workflow_request IS NULL))
);
CREATE INDEX scheduler_rule_next_idx ON awf.scheduler_rule (next_run_at);
SELECT pg_catalog.pg_extension_config_dump('awf.scheduler_rule', '');

CREATE FUNCTION awf.scheduler_rule_json(r awf.scheduler_rule)
RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
  SELECT awf.json_compact(jsonb_build_object(
    'resourceType', 'SchedulerRule', 'id', r.id, 'schedule', r.schedule,
    'execute-on-setup', r.execute_on_setup, 'concurrency-policy', r.concurrency_policy,
    'start-deadline-seconds', r.start_deadline_seconds,
    'task-request', r.task_request, 'workflow-request', r.workflow_request,
    'state', awf.json_compact(jsonb_build_object(
      'nextRunAt', awf.json_time(r.next_run_at), 'lastRunAt', awf.json_time(r.last_run_at),
      'lastActivity', CASE WHEN r.last_activity_id IS NOT NULL THEN jsonb_build_object(
                        'resourceType', CASE WHEN r.task_request IS NOT NULL THEN 'AidboxTask' ELSE 'AidboxWorkflow' END,
                        'id', r.last_activity_id) END,
      'runs', r.runs, 'skipped', r.skipped, 'lastSkip', r.last_skip)),
    'meta', jsonb_build_object('createdAt', awf.json_time(r.created_at),
                               'lastUpdated', awf.json_time(r.updated_at))))
$$;

-- Creates or replaces a rule (awf.scheduler/rule-put). A new rule with execute-on-setup fires at
-- the worker's next tick; otherwise at the schedule's next time. Replacing a rule keeps its
-- counters and last activity (so forbid still waits for it).
CREATE FUNCTION awf.scheduler_rule_put(rule jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  what text := 'awf.scheduler/rule-put';
  now timestamptz := clock_timestamp();
  v_id text;
  v_schedule text;
  v_setup boolean;
  v_policy text;
  v_deadline bigint;
  v_task jsonb;
  v_workflow jsonb;
  v_next timestamptz;
  r awf.scheduler_rule;
BEGIN
  PERFORM awf.doc_object(what || ': the rule', rule);
  IF rule IS NULL THEN
    RAISE EXCEPTION '%: the rule {id, schedule, task-request | workflow-request} is required', what USING ERRCODE = 'WA101';
  END IF;
  v_id := awf.doc_text(what || ': "id"', rule -> 'id', true, 128);
  IF v_id !~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$' THEN
    RAISE EXCEPTION '%: "id" must be letters, digits and . _ / - (starting with a letter or digit), got "%"',
      what, left(v_id, 64) USING ERRCODE = 'WA101';
  END IF;
  v_schedule := awf.doc_text(what || ': "schedule"', rule -> 'schedule', true, 256);
  BEGIN
    v_next := awf.cron_next(v_schedule, now);
  EXCEPTION WHEN SQLSTATE 'WA101' THEN
    RAISE EXCEPTION '%: %', what, SQLERRM USING ERRCODE = 'WA101',
      HINT = 'A cron expression: minute hour day-of-month month day-of-week, with an optional leading second.';
  END;
  IF v_next IS NULL THEN
    RAISE EXCEPTION '%: "schedule" "%" never fires', what, v_schedule USING ERRCODE = 'WA101';
  END IF;
  v_setup := coalesce(awf.doc_bool(what || ': "execute-on-setup"', rule -> 'execute-on-setup'), false);
  v_policy := coalesce(awf.doc_text(what || ': "concurrency-policy"', rule -> 'concurrency-policy'), 'allow');
  IF v_policy NOT IN ('allow', 'forbid') THEN
    RAISE EXCEPTION '%: "concurrency-policy" must be forbid or allow, got "%"', what, left(v_policy, 64)
      USING ERRCODE = 'WA101';
  END IF;
  v_deadline := coalesce(awf.doc_int(what || ': "start-deadline-seconds"', rule -> 'start-deadline-seconds',
                                     1, 31536000), 60);
  v_task := awf.doc_object(what || ': "task-request"', rule -> 'task-request');
  v_workflow := awf.doc_object(what || ': "workflow-request"', rule -> 'workflow-request');
  IF (v_task IS NULL) = (v_workflow IS NULL) THEN
    RAISE EXCEPTION '%: give exactly one of "task-request" and "workflow-request"', what USING ERRCODE = 'WA101';
  END IF;
  IF v_task IS NOT NULL THEN
    -- Checked now by making it in a subtransaction that is rolled back.
    BEGIN
      PERFORM awf.task_from_request(what || ': "task-request"', v_task, NULL, NULL, now);
      RAISE EXCEPTION USING ERRCODE = 'WA999';
    EXCEPTION WHEN SQLSTATE 'WA999' THEN NULL;
    END;
  ELSE
    PERFORM awf.doc_text(what || ': "workflow-request".definition', v_workflow -> 'definition', true);
    PERFORM awf.doc_object(what || ': "workflow-request".params', v_workflow -> 'params');
    IF (v_workflow ->> 'definition') LIKE 'awf.%' THEN
      RAISE EXCEPTION '%: "workflow-request".definition "%" is reserved', what, v_workflow ->> 'definition'
        USING ERRCODE = 'WA101';
    END IF;
  END IF;
  INSERT INTO awf.scheduler_rule AS x (id, schedule, execute_on_setup, concurrency_policy,
                                       start_deadline_seconds, task_request, workflow_request,
                                       next_run_at, created_at, updated_at)
  VALUES (v_id, v_schedule, v_setup, v_policy, v_deadline, v_task, v_workflow,
          CASE WHEN v_setup THEN now ELSE v_next END, now, now)
  ON CONFLICT (id) DO UPDATE
    SET schedule = EXCLUDED.schedule, execute_on_setup = EXCLUDED.execute_on_setup,
        concurrency_policy = EXCLUDED.concurrency_policy,
        start_deadline_seconds = EXCLUDED.start_deadline_seconds,
        task_request = EXCLUDED.task_request, workflow_request = EXCLUDED.workflow_request,
        next_run_at = v_next, updated_at = now
  RETURNING x.* INTO r;
  RETURN jsonb_build_object('resource', awf.scheduler_rule_json(r));
END
$$;

CREATE FUNCTION awf.scheduler_rule_delete(id text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  r awf.scheduler_rule;
BEGIN
  IF scheduler_rule_delete.id IS NULL THEN
    RAISE EXCEPTION 'awf.scheduler/rule-delete: "id" is required' USING ERRCODE = 'WA101';
  END IF;
  DELETE FROM awf.scheduler_rule x WHERE x.id = scheduler_rule_delete.id RETURNING x.* INTO r;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'awf.scheduler/rule-delete: scheduler rule "%" not found', left(scheduler_rule_delete.id, 128)
      USING ERRCODE = 'WA008';
  END IF;
  RETURN jsonb_build_object('resource', awf.scheduler_rule_json(r));
END
$$;

CREATE FUNCTION awf.scheduler_rule_list(id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
  SELECT jsonb_build_object('resources', coalesce(jsonb_agg(awf.scheduler_rule_json(r) ORDER BY r.id), '[]'))
    FROM awf.scheduler_rule r WHERE scheduler_rule_list.id IS NULL OR r.id = scheduler_rule_list.id
$$;

-- Fires the rules that are due; returns how many activities it made.
CREATE FUNCTION awf.scheduler_fire(now timestamptz, batch integer)
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  r awf.scheduler_rule;
  fire timestamptz;
  next timestamptz;
  skip text;
  missed text;
  activity uuid;
  made bigint := 0;
  requester jsonb;
BEGIN
  FOR r IN
    SELECT * FROM awf.scheduler_rule x WHERE x.next_run_at <= now
     ORDER BY x.next_run_at LIMIT batch FOR UPDATE SKIP LOCKED
  LOOP
    fire := r.next_run_at;
    skip := NULL;
    missed := NULL;
    activity := NULL;
    IF now - fire > r.start_deadline_seconds * interval '1 second' THEN
      -- Missed (the worker was down or behind): the first fire time still within the deadline,
      -- if there is one, runs now instead; the ones before it are skipped.
      missed := format('missed its start deadline: fire time %s, %s s late', awf.json_time(fire),
                       round(extract(epoch FROM now - fire)));
      fire := awf.cron_next(r.schedule, now - r.start_deadline_seconds * interval '1 second');
      IF fire IS NULL OR fire > now THEN
        skip := missed;
        fire := now;
      END IF;
    END IF;
    requester := jsonb_build_object('resourceType', 'SchedulerRule', 'id', r.id, 'fireTime', awf.json_time(fire));
    IF skip IS NOT NULL THEN
      NULL;
    ELSIF r.concurrency_policy = 'forbid' AND r.last_activity_id IS NOT NULL AND (
            EXISTS (SELECT 1 FROM awf.task t WHERE t.id = r.last_activity_id AND t.status <> 'done')
         OR EXISTS (SELECT 1 FROM awf.workflow w WHERE w.id = r.last_activity_id AND w.status <> 'done')) THEN
      skip := format('forbid: the previous run %s is not done', r.last_activity_id);
    ELSE
      BEGIN
        IF r.task_request IS NOT NULL THEN
          activity := awf.task_from_request(format('scheduler rule "%s" task-request', r.id), r.task_request,
                                            NULL, requester, now);
        ELSE
          activity := (awf.workflow_start(format('scheduler rule "%s" workflow-request', r.id),
                                          r.workflow_request ->> 'definition',
                                          coalesce(r.workflow_request -> 'params', '{}'), NULL, NULL,
                                          requester, now)).id;
        END IF;
      EXCEPTION WHEN OTHERS THEN
        skip := 'failed: ' || SQLERRM;
      END;
    END IF;
    -- Next: past both the fire time and now. NULL when the schedule has no further fire time in
    -- cron_next's horizon (no accepted schedule gets there; the rule then stops, and says so).
    next := awf.cron_next(r.schedule, greatest(fire, now));
    UPDATE awf.scheduler_rule x
       SET next_run_at = next,
           last_run_at = CASE WHEN activity IS NOT NULL THEN fire ELSE x.last_run_at END,
           last_activity_id = coalesce(activity, x.last_activity_id),
           runs = x.runs + (activity IS NOT NULL)::integer,
           skipped = x.skipped + (activity IS NULL OR missed IS NOT NULL)::integer,
           last_skip = CASE WHEN next IS NULL THEN 'the schedule has no further fire time'
                            ELSE coalesce(skip, missed, x.last_skip) END
     WHERE x.id = r.id;
    IF activity IS NOT NULL THEN
      made := made + 1;
    ELSE
      RAISE LOG 'pg_awf: scheduler rule "%" skipped %', r.id, skip;
    END IF;
  END LOOP;
  RETURN made;
END
$$;

---------------------------------------------------------------------------------------------------
-- Concurrency limits: a definition's concurrency_limit caps its requested and in-progress tasks,
-- per value of concurrency_path (e.g. {params,resourceType}) when it has one. The claim takes
-- limited definitions through awf.claim_limited, which serializes the claims of that one
-- definition with a transaction-scoped advisory lock: other definitions never wait for it.
---------------------------------------------------------------------------------------------------

-- The tasks claim_limited let run, while they may still hold their slot. A row is stale once its
-- task is neither requested nor in-progress; claim_limited deletes those before counting. So the
-- count costs a primary-key lookup per slot of that one definition, and the hot path of every
-- other definition pays nothing (an index of active tasks by definition would cost every claim
-- and start an index insert: 10% of the lifecycle rate, measured).
-- concurrency_path names a value in the task's params: {params, key, ...}. NOT VALID: rows made
-- before 1.3 are not checked (they had no effect then).
ALTER TABLE awf.definition ADD CONSTRAINT definition_concurrency_path_check
  CHECK (concurrency_path IS NULL OR (cardinality(concurrency_path) >= 2 AND concurrency_path[1] = 'params'))
  NOT VALID;

CREATE TABLE awf.concurrency_slot (
  task_id uuid PRIMARY KEY,
  definition text NOT NULL,
  group_key text NOT NULL           -- the value at concurrency_path ('' without a path)
);
CREATE INDEX concurrency_slot_definition_idx ON awf.concurrency_slot (definition, group_key);

-- The ready tasks of `def` (limited to `cap` running at once, per value of `path`) that may be
-- claimed now, locked, at most n; each takes a slot.
CREATE FUNCTION awf.claim_limited(def text, cap integer, path text[], n integer,
                                  OUT id uuid, OUT priority integer, OUT execute_at timestamptz)
RETURNS SETOF record LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  sub text[];
  counts jsonb;
  full_groups text[];
  picked uuid[] := '{}';
  r record;
  c bigint;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'tasks of "%" have a concurrency limit and can only be claimed in READ COMMITTED', def
      USING ERRCODE = 'WA101';
  END IF;
  -- After the lock, each query below sees the slots of the previous holder (committed).
  PERFORM pg_advisory_xact_lock(hashtextextended('awf.concurrency-limit:' || def, 0));
  DELETE FROM awf.concurrency_slot s
   WHERE s.definition = def
     AND NOT EXISTS (SELECT 1 FROM awf.task t
                      WHERE t.id = s.task_id AND t.status IN ('requested', 'in-progress'));
  -- Per value of the path: its first element is "params" (see the CHECK on awf.definition).
  sub := CASE WHEN path IS NULL OR cardinality(path) < 2 THEN NULL ELSE path[2:] END;
  SELECT coalesce(jsonb_object_agg(g.group_key, g.c), '{}') INTO counts
    FROM (SELECT s.group_key, count(*) AS c FROM awf.concurrency_slot s
           WHERE s.definition = def GROUP BY 1) g;
  -- Groups at their limit are left out of the scan, so their backlog never hides other groups.
  SELECT coalesce(array_agg(c.key), '{}') INTO full_groups FROM jsonb_each_text(counts) c
   WHERE c.value::bigint >= cap;
  IF sub IS NULL AND cardinality(full_groups) > 0 THEN
    RETURN;
  END IF;
  FOR r IN
    SELECT t.id, CASE WHEN sub IS NULL THEN '' ELSE coalesce(t.params #>> sub, '') END AS k
      FROM awf.task t
     WHERE t.status = 'ready' AND t.definition = def
       AND (sub IS NULL OR NOT coalesce(t.params #>> sub, '') = ANY (full_groups))
     ORDER BY t.priority DESC, t.execute_at
  LOOP
    c := coalesce((counts ->> r.k)::bigint, 0);
    CONTINUE WHEN c >= cap;
    counts := jsonb_set(counts, ARRAY[r.k], to_jsonb(c + 1));
    picked := picked || r.id;
    EXIT WHEN cardinality(picked) >= n OR (sub IS NULL AND c + 1 >= cap);
  END LOOP;
  FOR r IN
    SELECT t.id, t.priority, t.execute_at, CASE WHEN sub IS NULL THEN '' ELSE coalesce(t.params #>> sub, '') END AS k
      FROM awf.task t WHERE t.id = ANY (picked) AND t.status = 'ready' FOR UPDATE SKIP LOCKED
  LOOP
    INSERT INTO awf.concurrency_slot (task_id, definition, group_key) VALUES (r.id, def, r.k)
      ON CONFLICT (task_id) DO UPDATE SET definition = EXCLUDED.definition, group_key = EXCLUDED.group_key;
    id := r.id;
    priority := r.priority;
    execute_at := r.execute_at;
    RETURN NEXT;
  END LOOP;
END
$$;

-- A limit set or changed counts the tasks already running: their slots are made again, under the
-- definition's claim lock. Claims that started before the change committed may still take the
-- old rule.
CREATE FUNCTION awf.definition_limits_changed()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('awf.concurrency-limit:' || NEW.name, 0));
  DELETE FROM awf.concurrency_slot s WHERE s.definition = NEW.name;
  IF NEW.concurrency_limit IS NOT NULL THEN
    INSERT INTO awf.concurrency_slot (task_id, definition, group_key)
    SELECT t.id, t.definition,
           CASE WHEN cardinality(NEW.concurrency_path) >= 2
                THEN coalesce(t.params #>> NEW.concurrency_path[2:], '') ELSE '' END
      FROM awf.task t WHERE t.definition = NEW.name AND t.status IN ('requested', 'in-progress')
    ON CONFLICT (task_id) DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER definition_limits AFTER INSERT OR UPDATE OF concurrency_limit, concurrency_path
  ON awf.definition FOR EACH ROW EXECUTE FUNCTION awf.definition_limits_changed();

-- Every change of awf.definition is published at commit (shared memory): backends cache which
-- definitions have a limit, and claim the others without the limit check.
CREATE FUNCTION awf.definitions_changed()
RETURNS trigger LANGUAGE c
AS 'MODULE_PATHNAME', 'awf_definitions_changed';

CREATE TRIGGER definitions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON awf.definition
  FOR EACH STATEMENT EXECUTE FUNCTION awf.definitions_changed();

-- Limited definitions with ready tasks: their long-polls are woken every tick, since a task
-- finishing frees a slot without making anything ready.
CREATE FUNCTION awf.limited_wakeups()
RETURNS bigint LANGUAGE sql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
  SELECT count(awf.wakeup_note(d.name)) FROM awf.definition d
   WHERE d.concurrency_limit IS NOT NULL
     AND EXISTS (SELECT 1 FROM awf.task t WHERE t.status = 'ready' AND t.definition = d.name)
     -- a slot may be free: some group may have room (with a path), or fewer running than the limit
     AND (d.concurrency_path IS NOT NULL
          OR (SELECT count(*) FROM awf.concurrency_slot s JOIN awf.task t ON t.id = s.task_id
               WHERE s.definition = d.name AND t.status IN ('requested', 'in-progress')) < d.concurrency_limit)
$$;

-- The worker's sweep of the engine's own work, once per tick after the timers (so a wait task
-- made ready by its executeAt finishes in the same tick): built-in tasks, scheduler rules, and
-- the wakeups of concurrency-limited definitions.
CREATE FUNCTION awf.sweep_engine(now timestamptz, batch integer)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  RETURN jsonb_build_object('builtinsRun', awf.builtins_run(now, batch),
                            'scheduled', awf.scheduler_fire(now, batch),
                            'limitedWakeups', awf.limited_wakeups());
END
$$;

---------------------------------------------------------------------------------------------------
-- Vacuum the queue often. Every transition leaves a dead row version and dead index entries, and
-- claims walk the ready index from its head, where the dead entries of claimed tasks gather; the
-- default thresholds (20% of the table) let a busy queue's head grow long between vacuums. Here a
-- vacuum starts after 1,000 dead rows plus 1% of the table, and is not throttled.
---------------------------------------------------------------------------------------------------
ALTER TABLE awf.task SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
                          autovacuum_vacuum_insert_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05,
                          autovacuum_vacuum_cost_delay = 0);
ALTER TABLE awf.task_log SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_vacuum_cost_delay = 0);

---------------------------------------------------------------------------------------------------
-- No JIT for the claim and the list. Their plans are generic (prepared once) with a parameter
-- LIMIT, which the planner estimates as 10% of the rows: in a table of millions of tasks the
-- estimated cost passes jit_above_cost and every claim compiled itself (15-50 ms instead of
-- 0.2 ms, measured with 1,000,000 ready tasks). They read a handful of rows from an index, where
-- JIT never pays.
---------------------------------------------------------------------------------------------------
ALTER FUNCTION awf.task_poll(text[], text[], integer) SET jit = off;
ALTER FUNCTION awf.task_long_poll(text[], text[], integer, integer) SET jit = off;
ALTER FUNCTION awf.task_list(text[], text[], text[], text[], text, text, text, integer, integer) SET jit = off;
ALTER FUNCTION awf.task_count(text[], text[], text[]) SET jit = off;

---------------------------------------------------------------------------------------------------
-- Bulk enqueue: many tasks of one definition in one call (one statement, one commit), e.g.
--   SELECT awf.task_create_many('email/send', array_agg(jsonb_build_object('to', u.email))) FROM users u;
---------------------------------------------------------------------------------------------------

-- Notes that `count` tasks of `definition` became ready: as many waiting long-polls wake.
CREATE FUNCTION awf.wakeup_note(definition text, count integer)
RETURNS void LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'awf_wakeup_note';

-- Creates one task per element of `params` (each an object; NULL is {}), all of `definition`, with
-- this priority and executeAt (NULL: now). Returns how many it created. Settings come from the
-- definition and the GUC defaults, as for awf.task/create without overrides.
CREATE FUNCTION awf.task_create_many(definition text, params jsonb[], priority integer DEFAULT 0,
                                     execute_at timestamptz DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  what text := 'awf.task_create_many';
  now timestamptz := clock_timestamp();
  at timestamptz := coalesce(task_create_many.execute_at, now);
  v_status text := CASE WHEN task_create_many.execute_at > now THEN 'waiting' ELSE 'ready' END;
  bad integer;
  n bigint;
BEGIN
  PERFORM awf.doc_text(what || ': "definition"', to_jsonb(task_create_many.definition), true);
  IF task_create_many.definition LIKE 'awf.%' THEN
    RAISE EXCEPTION '%: "definition" "%" is reserved (names starting with "awf." belong to the engine)',
      what, task_create_many.definition USING ERRCODE = 'WA101';
  END IF;
  IF params IS NULL OR cardinality(params) = 0 THEN
    RETURN 0;
  END IF;
  IF cardinality(params) > 1000000 THEN
    RAISE EXCEPTION '%: "params" has % elements; at most 1000000 are allowed', what, cardinality(params)
      USING ERRCODE = 'WA101';
  END IF;
  IF priority IS NULL THEN
    RAISE EXCEPTION '%: "priority" must not be NULL', what USING ERRCODE = 'WA101';
  END IF;
  IF NOT isfinite(at) THEN
    RAISE EXCEPTION '%: "execute_at" must be finite', what USING ERRCODE = 'WA101';
  END IF;
  SELECT min(p.i) INTO bad FROM unnest(params) WITH ORDINALITY AS p(doc, i)
   WHERE p.doc IS NOT NULL AND jsonb_typeof(p.doc) <> 'object';
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION '%: params[%] must be an object, got %', what, bad - 1, jsonb_typeof(params[bad])
      USING ERRCODE = 'WA101';
  END IF;
  WITH inserted AS (
    INSERT INTO awf.task (id, definition, params, status, execute_at, due_at, priority, pool,
                          created_at, updated_at)
    SELECT gen_random_uuid(), task_create_many.definition, coalesce(p.doc, '{}'), v_status, at,
           CASE WHEN v_status = 'waiting' THEN at END, task_create_many.priority,
           (SELECT d.pool FROM awf.definition d WHERE d.name = task_create_many.definition), now, now
      FROM unnest(params) AS p(doc)
    RETURNING id),
  logged AS (
    INSERT INTO awf.task_log (task_id, at, kind, status_to)
    SELECT i.id, now, 'status', v_status FROM inserted i)
  SELECT count(*) INTO n FROM inserted;
  IF v_status = 'ready' THEN
    PERFORM awf.wakeup_note(task_create_many.definition, least(n, 2147483647)::integer);
  END IF;
  RETURN n;
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA awf FROM PUBLIC;
REVOKE ALL ON awf.workflow, awf.workflow_event, awf.workflow_task, awf.scheduler_rule, awf.concurrency_slot FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
  awf.task_create_many(text, jsonb[], integer, timestamptz),
  awf.workflow_create(text, jsonb, uuid),
  awf.workflow_status(uuid, boolean),
  awf.workflow_cancel(uuid),
  awf.workflow_list(text[], text[], integer, integer)
  TO awf_user;
GRANT EXECUTE ON FUNCTION
  awf.scheduler_rule_put(jsonb),
  awf.scheduler_rule_delete(text),
  awf.scheduler_rule_list(text)
  TO awf_admin;
GRANT EXECUTE ON FUNCTION awf.cron_next(text, timestamptz) TO awf_user, awf_admin;
GRANT SELECT ON awf.workflow TO awf_user;
GRANT SELECT ON awf.scheduler_rule TO awf_admin;

---------------------------------------------------------------------------------------------------
-- Credentials: bad arguments get WA101 naming the parameter, not the table's constraint (the
-- constraints stay, as the last word).
--
CREATE OR REPLACE FUNCTION awf.client_put(client_id text, secret_hash text, role name, description text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  IF client_id IS NULL OR client_id !~ '^[A-Za-z0-9._-]{1,64}$' THEN
    RAISE EXCEPTION 'awf.client_put: client_id must be 1 to 64 letters, digits, ".", "_" or "-", got %',
      coalesce(quote_literal(left(client_id, 80)), 'NULL') USING ERRCODE = 'WA101';
  END IF;
  IF secret_hash IS NULL OR left(secret_hash, 1) <> '$' THEN
    RAISE EXCEPTION 'awf.client_put: secret_hash of client % must be a crypt(3) hash ("$..."); awf-bridge client add makes one',
      client_id USING ERRCODE = 'WA101';
  END IF;
  IF role IS NULL OR role NOT IN ('awf_executor', 'awf_user', 'awf_admin') THEN
    RAISE EXCEPTION 'awf.client_put: role of client % must be awf_executor, awf_user or awf_admin, got %',
      client_id, coalesce(quote_literal(role), 'NULL') USING ERRCODE = 'WA101';
  END IF;
  INSERT INTO awf.client AS c (id, secret_hash, role, description)
  VALUES (client_id, secret_hash, role, description)
  ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash, role = excluded.role,
                                 description = excluded.description, disabled = false;
END
$$;

CREATE OR REPLACE FUNCTION awf.nlflow_key_put(key_id text, workflow_id text, secret_hash text,
                                              description text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  IF key_id IS NULL OR key_id !~ '^[A-Za-z0-9_-]{1,64}$' THEN
    RAISE EXCEPTION 'awf.nlflow_key_put: key_id must be 1 to 64 letters, digits, "_" or "-", got %',
      coalesce(quote_literal(left(key_id, 80)), 'NULL') USING ERRCODE = 'WA101';
  END IF;
  IF secret_hash IS NULL OR left(secret_hash, 1) <> '$' THEN
    RAISE EXCEPTION 'awf.nlflow_key_put: secret_hash of key % must be a crypt(3) hash ("$..."); awf-bridge nlflow-key add makes one',
      key_id USING ERRCODE = 'WA101';
  END IF;
  PERFORM awf.nlflow_workflow_get(workflow_id);
  INSERT INTO awf.nlflow_api_key AS k (id, workflow_id, secret_hash, description)
  VALUES (key_id, workflow_id, secret_hash, description)
  ON CONFLICT (id) DO UPDATE SET workflow_id = excluded.workflow_id,
                                 secret_hash = excluded.secret_hash, description = excluded.description;
END
$$;
