-- pg_awf 1.3 -> 1.4: the sweeps find their rows through indexes, whatever the size of the queue.
--
-- Each sweep statement picks at most `batch` rows (LIMIT ... FOR UPDATE SKIP LOCKED) and then
-- updates or deletes them, and their log rows, by id. Written as a join (UPDATE ... FROM due,
-- DELETE ... USING gone), the plan for a LIMIT that is a parameter expects a tenth of the table,
-- and hashes the whole of awf.task or awf.task_log for every batch: 0.3-2 s per 1,000 tasks once
-- the table holds a few hundred thousand, so retention fell behind a busy queue. `id = ANY
-- (ARRAY(SELECT ...))` gives each statement an index probe per picked row instead. The C++ sweep
-- statements (timers.cpp) take the same form; these are the ones written in SQL.
\echo Use "ALTER EXTENSION awf UPDATE TO '1.4'" to load this file. \quit

-- Deadlines, XINA delayed concludes and NL Flow trace retention; same signature and result as 1.2.
CREATE OR REPLACE FUNCTION awf.sweep_surfaces(now timestamptz, batch integer, trace_cutoff timestamptz)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  expired bigint;
  traces bigint := 0;
  concluded bigint;
  conclude_ids uuid[];
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
      FROM due WHERE t.id = ANY (ARRAY(SELECT id FROM due)) AND t.id = due.id
    RETURNING t.id, due.status AS old_status, due.exec_id)
  INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)
  SELECT f.id, now, 'status', f.exec_id, f.old_status, 'done', 'deadline exceeded' FROM failed f;
  GET DIAGNOSTICS expired = ROW_COUNT;

  -- Delayed concludes that are due (a task done meanwhile just loses its pending conclude).
  WITH due AS (
    SELECT x.num FROM awf.xina_task x
     WHERE x.conclude_at <= now ORDER BY x.conclude_at LIMIT batch FOR UPDATE SKIP LOCKED),
  cleared AS (
    UPDATE awf.xina_task x SET conclude_at = NULL WHERE x.num = ANY (ARRAY(SELECT num FROM due))
     RETURNING x.task_id)
  SELECT array_agg(c.task_id) INTO conclude_ids FROM cleared c;
  concluded := CASE WHEN conclude_ids IS NULL THEN 0 ELSE awf.xina_conclude_now(conclude_ids, now) END;

  IF trace_cutoff IS NOT NULL THEN
    WITH old AS (
      SELECT n.task_id FROM awf.nlflow_task n WHERE n.created_at < trace_cutoff
       ORDER BY n.created_at LIMIT batch FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM awf.nlflow_task n WHERE n.task_id = ANY (ARRAY(SELECT task_id FROM old))
              RETURNING n.task_id),
    tasks AS (DELETE FROM awf.task t WHERE t.id = ANY (ARRAY(SELECT task_id FROM gone))),
    logs AS (DELETE FROM awf.task_log l WHERE l.task_id = ANY (ARRAY(SELECT task_id FROM gone)))
    SELECT count(*) INTO traces FROM gone;
  END IF;
  RETURN jsonb_build_object('deadlineExceeded', expired, 'tracesDeleted', traces, 'concluded', concluded);
END
$$;

-- The clean-up-activities built-in task's deletes; same signature and result as 1.3.
CREATE OR REPLACE FUNCTION awf.cleanup_run(rules jsonb, now timestamptz, batch integer)
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
    gone AS (DELETE FROM awf.task t WHERE t.id = ANY (ARRAY(SELECT id FROM old)) RETURNING t.id),
    logs AS (DELETE FROM awf.task_log l WHERE l.task_id = ANY (ARRAY(SELECT id FROM gone))),
    xina AS (DELETE FROM awf.xina_task x WHERE x.task_id = ANY (ARRAY(SELECT id FROM gone))),
    nlflow AS (DELETE FROM awf.nlflow_task n WHERE n.task_id = ANY (ARRAY(SELECT id FROM gone)))
    SELECT count(*) INTO n FROM gone;
    tasks := tasks + n;
    more := more OR n >= batch;
    WITH old AS (
      SELECT w.id FROM awf.workflow w
       WHERE w.status = 'done' AND w.updated_at < cutoff
         AND (include IS NULL OR w.definition = ANY (include))
         AND (exclude IS NULL OR NOT w.definition = ANY (exclude))
       LIMIT batch FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM awf.workflow w WHERE w.id = ANY (ARRAY(SELECT id FROM old)) RETURNING w.id),
    links AS (DELETE FROM awf.workflow_task m WHERE m.workflow_id = ANY (ARRAY(SELECT id FROM gone)))
    SELECT count(*) INTO n FROM gone;
    workflows := workflows + n;
    more := more OR n >= batch;
  END LOOP;
  RETURN jsonb_build_object('tasks', tasks, 'workflows', workflows, 'more', more);
END
$$;
