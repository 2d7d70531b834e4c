-- pg_awf 1.2: the XINA task actions (seed 004) on the same tasks -- numeric task ids, references
-- by ref_id, parents, sequences ("threads") that run one task at a time, pause and resume,
-- conclude with a delay, archive -- and the NL Flow workflow calls of the admin RPC.
\echo Use "ALTER EXTENSION awf UPDATE TO '1.2'" to load this file. \quit

-- Kept from retention (XINA `archive: true`). Retention reads unarchived done tasks only, so
-- archived ones never slow it down.
ALTER TABLE awf.task ADD COLUMN archived boolean NOT NULL DEFAULT false;
DROP INDEX awf.task_done_idx;
CREATE INDEX task_done_idx ON awf.task (updated_at) WHERE status = 'done' AND NOT archived;

-- Sequences: the tasks of one `seq` run one at a time, in creation order (awf.task.num). Only the
-- head -- the unfinished task with the lowest num -- is ever ready, waiting, requested or
-- in-progress; the tasks behind it stay `created` until it is done. So the claim needs no extra
-- condition and reads the ready index as before, however many sequences there are.
CREATE INDEX task_seq_idx ON awf.task (seq, num) WHERE seq IS NOT NULL AND status <> 'done';

-- The state of a sequence (XINA calls them threads). Its row is also the lock that orders every
-- change of which task runs next: run, pause, resume and the advance after a task finishes.
--   paused     no new task of the sequence starts (the running one finishes)
--   held_task  the task that holds the sequence: it failed (by its executor, a timeout or its
--              deadline -- also while waiting for its turn). The sequence stays paused until
--              `resume`; with `continue: true` the held task runs again before the rest.
CREATE TABLE awf.task_sequence (
  name text PRIMARY KEY,
  paused boolean NOT NULL DEFAULT false,
  held_task uuid,
  updated_at timestamptz NOT NULL
);

-- The XINA side of a task made by `run`: XINA actions address tasks by `num` (awf.task.num).
CREATE TABLE awf.xina_task (
  num bigint PRIMARY KEY,
  task_id uuid NOT NULL UNIQUE,
  parent_num bigint,
  ref_id bigint,
  auto boolean NOT NULL DEFAULT false,
  open boolean NOT NULL DEFAULT false,
  timeout_ms bigint,
  conclude_at timestamptz,   -- a `conclude` with a delay, done by the worker's sweep
  created_at timestamptz NOT NULL
);
CREATE INDEX xina_task_ref_idx ON awf.xina_task (ref_id) WHERE ref_id IS NOT NULL;
CREATE INDEX xina_task_parent_idx ON awf.xina_task (parent_num) WHERE parent_num IS NOT NULL;
CREATE INDEX xina_task_conclude_idx ON awf.xina_task (conclude_at) WHERE conclude_at IS NOT NULL;

SELECT pg_catalog.pg_extension_config_dump('awf.task_sequence', '');
SELECT pg_catalog.pg_extension_config_dump('awf.xina_task', '');

-- Notes that a task of `definition` became ready in this transaction: waiting long-polls wake
-- after commit. For the SQL functions below; no role may call it.
CREATE FUNCTION awf.wakeup_note(definition text)
RETURNS void LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'awf_wakeup_note';

-- Locks a sequence's row (made on first use) and returns it: the lock every change of which task
-- of the sequence runs next takes first.
CREATE FUNCTION awf.sequence_lock(seq_name text, now timestamptz)
RETURNS awf.task_sequence LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  s awf.task_sequence;
BEGIN
  INSERT INTO awf.task_sequence (name, updated_at) VALUES (seq_name, now) ON CONFLICT (name) DO NOTHING;
  SELECT * INTO s FROM awf.task_sequence q WHERE q.name = seq_name FOR UPDATE;
  RETURN s;
END
$$;

-- Lets the next task of a sequence run, unless the sequence is paused or has a task running.
-- Returns the num of the task it made ready or waiting, or NULL.
CREATE FUNCTION awf.sequence_promote(seq_name text)
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  now timestamptz := clock_timestamp();
  promoted awf.task;
BEGIN
  IF (awf.sequence_lock(seq_name, now)).paused OR EXISTS (SELECT 1 FROM awf.task t
                        WHERE t.seq = seq_name AND t.status <> 'done' AND t.status <> 'created') THEN
    RETURN NULL;
  END IF;
  -- FOR UPDATE re-checks a row another transaction changed meanwhile and moves on to the next.
  UPDATE awf.task t
     SET status = CASE WHEN t.execute_at > now THEN 'waiting' ELSE 'ready' END,
         due_at = CASE WHEN t.execute_at > now THEN t.execute_at END,
         updated_at = now, version = t.version + 1
   WHERE t.id = (SELECT c.id FROM awf.task c
                  WHERE c.seq = seq_name AND c.status <> 'done' AND c.status = 'created'
                  ORDER BY c.num LIMIT 1 FOR UPDATE)
     AND t.status = 'created'
  RETURNING t.* INTO promoted;
  IF promoted.id IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO awf.task_log (task_id, at, kind, status_from, status_to, message)
  VALUES (promoted.id, now, 'status', 'created', promoted.status, format('sequence "%s" moved on', seq_name));
  IF promoted.status = 'ready' THEN
    PERFORM awf.wakeup_note(promoted.definition);
  END IF;
  RETURN promoted.num;
END
$$;

-- Moves a queued head (ready or waiting) of a paused sequence back to `created`. SKIP LOCKED: a
-- head being claimed right now is running, and may go on.
CREATE FUNCTION awf.sequence_park(seq_name text, now timestamptz, why text)
RETURNS void LANGUAGE sql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
  WITH head AS (
    SELECT t.id, t.status AS old_status FROM awf.task t
     WHERE t.seq = seq_name AND t.status <> 'done' AND t.status IN ('ready', 'waiting')
     FOR UPDATE SKIP LOCKED),
  parked AS (
    UPDATE awf.task t SET status = 'created', due_at = NULL, updated_at = now, version = t.version + 1
      FROM head h WHERE t.id = h.id
    RETURNING t.id, h.old_status)
  INSERT INTO awf.task_log (task_id, at, kind, status_from, status_to, message)
  SELECT p.id, now, 'status', p.old_status, 'created', why FROM parked p
$$;

-- Keeps a sequence's rules on every status change of its tasks, whatever made it (executor,
-- timers, deadlines, cancels, concludes): a trigger, so no path can forget them. Its WHEN clause
-- keeps it off every task without a sequence (an AFTER trigger: it only reads the old row version,
-- it does not lock it). For a task of a sequence:
--   * finished (done) while it was the head: a failure holds the sequence (paused, held_task);
--     any other outcome lets the next task run;
--   * failed while waiting for its turn (created; e.g. its deadline passed): it holds the sequence
--     too, so the sequence stops where that task was to run. The earliest failed task holds, and
--     a hold parks a queued head as pause does;
--   * back to ready or waiting from a claim or a run (requeued, or failed with retries left)
--     while the sequence is paused: it goes back to created -- pause lets the running attempt
--     finish, not a new one start. The sequence row is locked first, so a pause committing
--     meanwhile is seen.
CREATE FUNCTION awf.sequence_rules()
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

CREATE TRIGGER task_sequence_rules AFTER UPDATE OF status ON awf.task
  FOR EACH ROW WHEN (NEW.seq IS NOT NULL)
  EXECUTE FUNCTION awf.sequence_rules();

-- Reading XINA action documents. Each raises WA101 naming the field (`what`) it rejects.
CREATE FUNCTION awf.xina_long(what text, v jsonb)
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
  IF n <> trunc(n) OR n < -9223372036854775808 OR n > 9223372036854775807 THEN
    RAISE EXCEPTION '% must be a 64-bit integer, got %', what, left(v::text, 64) USING ERRCODE = 'WA101';
  END IF;
  RETURN n::bigint;
END
$$;

CREATE FUNCTION awf.xina_bool(what text, v jsonb)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(v) <> 'boolean' THEN
    RAISE EXCEPTION '% must be true or false, got %', what, jsonb_typeof(v) USING ERRCODE = 'WA101';
  END IF;
  RETURN (v #>> '{}')::boolean;
END
$$;

CREATE FUNCTION awf.xina_text(what text, v jsonb, max_length integer DEFAULT 255)
RETURNS text LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(v) <> 'string' THEN
    RAISE EXCEPTION '% must be a string, got %', what, jsonb_typeof(v) USING ERRCODE = 'WA101';
  END IF;
  IF length(v #>> '{}') NOT BETWEEN 1 AND max_length THEN
    RAISE EXCEPTION '% must be 1 to % characters', what, max_length USING ERRCODE = 'WA101';
  END IF;
  RETURN v #>> '{}';
END
$$;

-- The nums of the XINA tasks that task references name, sorted and distinct: a reference is a
-- task id (a number) or {"type": "ref", "ref": [ref_id, ...]}, which names every task with one
-- of those ref_ids. A reference that names no task is an error (WA001), so an action never
-- silently does nothing.
CREATE FUNCTION awf.xina_resolve(action text, refs jsonb, first_index integer DEFAULT 0)
RETURNS bigint[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  ref jsonb;
  i integer := first_index;
  j integer;
  n bigint;
  matched bigint[];
  nums bigint[] := '{}';
BEGIN
  IF refs IS NULL OR jsonb_typeof(refs) = 'null' THEN
    RAISE EXCEPTION '%: "tasks" is required: a list of task ids or {"type": "ref", "ref": [ref_id, ...]}',
      action USING ERRCODE = 'WA101';
  END IF;
  IF jsonb_typeof(refs) <> 'array' OR jsonb_array_length(refs) = 0 THEN
    RAISE EXCEPTION '%: "tasks" must be a non-empty array of task references, got %',
      action, left(refs::text, 64) USING ERRCODE = 'WA101';
  END IF;
  IF jsonb_array_length(refs) > 10000 THEN
    RAISE EXCEPTION '%: "tasks" has % references; at most 10000 are allowed',
      action, jsonb_array_length(refs) USING ERRCODE = 'WA101';
  END IF;
  FOR ref IN SELECT e FROM jsonb_array_elements(refs) AS e LOOP
    IF jsonb_typeof(ref) = 'number' THEN
      n := awf.xina_long(format('%s: tasks[%s]', action, i), ref);
      IF NOT EXISTS (SELECT 1 FROM awf.xina_task x WHERE x.num = n) THEN
        RAISE EXCEPTION '%: tasks[%]: no XINA task %', action, i, n USING ERRCODE = 'WA001';
      END IF;
      nums := nums || n;
    ELSIF jsonb_typeof(ref) = 'object' AND ref -> 'type' = '"ref"' AND jsonb_typeof(ref -> 'ref') = 'array'
          AND jsonb_array_length(ref -> 'ref') BETWEEN 1 AND 10000 THEN
      FOR j IN 0 .. jsonb_array_length(ref -> 'ref') - 1 LOOP
        n := awf.xina_long(format('%s: tasks[%s].ref[%s]', action, i, j), ref -> 'ref' -> j);
        IF n IS NULL THEN
          RAISE EXCEPTION '%: tasks[%].ref[%] must be a ref_id (an integer), got null', action, i, j
            USING ERRCODE = 'WA101';
        END IF;
        SELECT array_agg(x.num) INTO matched FROM awf.xina_task x WHERE x.ref_id = n;
        IF matched IS NULL THEN
          RAISE EXCEPTION '%: tasks[%]: no XINA task has ref_id %', action, i, n USING ERRCODE = 'WA001';
        END IF;
        nums := nums || matched;
      END LOOP;
    ELSE
      RAISE EXCEPTION '%: tasks[%] must be a task id or {"type": "ref", "ref": [ref_id, ...]}, got %',
        action, i, left(ref::text, 64) USING ERRCODE = 'WA101';
    END IF;
    i := i + 1;
  END LOOP;
  RETURN ARRAY(SELECT DISTINCT u FROM unnest(nums) AS u ORDER BY u);
END
$$;

-- RUN: creates tasks from task definitions; a reference runs the tasks it names again, as new
-- tasks with the same fields. Answers {"tasks": [new task ids]} in the order given.
--   name      the definition executors poll          conf      the task's params (an object)
--   parent    the id of a XINA task                  seq       the sequence (thread) it runs in
--   priority  higher runs first                      timeout   ms from creation to done, else it fails
--   archive   kept from retention                    desc, ref_id, auto, open: kept with the task
CREATE FUNCTION awf.xina_run(tasks jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  now timestamptz := clock_timestamp();
  item jsonb;
  i integer := 0;
  pos text;
  specs jsonb[] := '{}';
  spec jsonb;
  copied jsonb;
  seq_name text;
  v_parent_num bigint;
  v_parent_id uuid;
  v_priority bigint;
  v_timeout bigint;
  free boolean;
  new_status text;
  new_id uuid;
  new_num bigint;
  nums bigint[] := '{}';
BEGIN
  IF tasks IS NULL OR jsonb_typeof(tasks) = 'null' THEN
    RAISE EXCEPTION 'run: "tasks" is required: a list of task definitions or references'
      USING ERRCODE = 'WA101';
  END IF;
  IF jsonb_typeof(tasks) <> 'array' OR jsonb_array_length(tasks) = 0 THEN
    RAISE EXCEPTION 'run: "tasks" must be a non-empty array of task definitions or references, got %',
      left(tasks::text, 64) USING ERRCODE = 'WA101';
  END IF;
  IF jsonb_array_length(tasks) > 1000 THEN
    RAISE EXCEPTION 'run: "tasks" has % entries; at most 1000 are allowed', jsonb_array_length(tasks)
      USING ERRCODE = 'WA101';
  END IF;

  -- 1. Read every entry into a spec (references become copies of the tasks they name).
  FOR item IN SELECT e FROM jsonb_array_elements(tasks) AS e LOOP
    pos := format('run: tasks[%s]', i);
    IF jsonb_typeof(item) = 'number' OR (jsonb_typeof(item) = 'object' AND item ? 'type' AND NOT item ? 'name') THEN
      FOR copied IN
        SELECT jsonb_build_object('name', t.definition, 'conf', t.params, 'parent', p.num,
                                  'seq', t.seq, 'auto', x.auto, 'archive', t.archived, 'open', x.open,
                                  'desc', t.description, 'priority', t.priority, 'timeout', x.timeout_ms,
                                  'ref_id', x.ref_id)
          FROM unnest(awf.xina_resolve('run', jsonb_build_array(item), i)) AS r(num)
          JOIN awf.xina_task x ON x.num = r.num JOIN awf.task t ON t.id = x.task_id
          LEFT JOIN awf.xina_task p ON p.num = x.parent_num   -- a parent cleaned since is left out
         ORDER BY r.num
      LOOP
        specs := specs || jsonb_strip_nulls(copied || jsonb_build_object('entry', i));
      END LOOP;
    ELSIF jsonb_typeof(item) = 'object' THEN
      IF item -> 'name' IS NULL OR jsonb_typeof(item -> 'name') = 'null' THEN
        RAISE EXCEPTION '%.name is required: the task definition executors poll', pos USING ERRCODE = 'WA101';
      END IF;
      PERFORM awf.xina_text(pos || '.name', item -> 'name');
      -- Definition names are limited in bytes, as everywhere in the core (awf.task_poll).
      IF octet_length(item ->> 'name') > 255 THEN
        RAISE EXCEPTION '%.name must be at most 255 bytes long, got %', pos, octet_length(item ->> 'name')
          USING ERRCODE = 'WA101';
      END IF;
      IF item ? 'conf' AND jsonb_typeof(item -> 'conf') NOT IN ('object', 'null') THEN
        RAISE EXCEPTION '%.conf must be an object, got %', pos, jsonb_typeof(item -> 'conf') USING ERRCODE = 'WA101';
      END IF;
      PERFORM awf.xina_text(pos || '.seq', item -> 'seq'),
              awf.xina_bool(pos || '.auto', item -> 'auto'),
              awf.xina_bool(pos || '.archive', item -> 'archive'),
              awf.xina_bool(pos || '.open', item -> 'open'),
              awf.xina_text(pos || '.desc', item -> 'desc', 10000);
      v_priority := awf.xina_long(pos || '.priority', item -> 'priority');
      IF v_priority NOT BETWEEN -2147483648 AND 2147483647 THEN
        RAISE EXCEPTION '%.priority must be a 32-bit integer, got %', pos, v_priority USING ERRCODE = 'WA101';
      END IF;
      v_timeout := awf.xina_long(pos || '.timeout', item -> 'timeout');
      IF v_timeout NOT BETWEEN 1 AND 2147483647 THEN
        RAISE EXCEPTION '%.timeout must be 1 to 2147483647 milliseconds, got %', pos, v_timeout
          USING ERRCODE = 'WA101';
      END IF;
      -- Normalized: numbers as parsed (5.0 is 5), and the entry it came from for later messages.
      specs := specs || jsonb_strip_nulls(item || jsonb_build_object(
        'priority', v_priority, 'timeout', v_timeout,
        'parent', awf.xina_long(pos || '.parent', item -> 'parent'),
        'ref_id', awf.xina_long(pos || '.ref_id', item -> 'ref_id'), 'entry', i));
    ELSE
      RAISE EXCEPTION '% must be a task definition (an object with "name") or a task reference, got %',
        pos, left(item::text, 64) USING ERRCODE = 'WA101';
    END IF;
    i := i + 1;
  END LOOP;

  -- 2. Lock the sequences involved, in name order (so two runs never deadlock).
  FOR seq_name IN
    SELECT DISTINCT s ->> 'seq' FROM unnest(specs) AS s WHERE s ? 'seq' ORDER BY 1
  LOOP
    PERFORM awf.sequence_lock(seq_name, now);
  END LOOP;

  -- 3. Create the tasks in order: nums grow with it, and that is the order of a sequence.
  i := 0;
  FOREACH spec IN ARRAY specs LOOP
    seq_name := spec ->> 'seq';
    v_parent_num := (spec ->> 'parent')::bigint;
    v_parent_id := NULL;
    IF v_parent_num IS NOT NULL THEN
      SELECT x.task_id INTO v_parent_id FROM awf.xina_task x WHERE x.num = v_parent_num;
      IF v_parent_id IS NULL THEN
        RAISE EXCEPTION 'run: tasks[%].parent: no XINA task %', spec ->> 'entry', v_parent_num
          USING ERRCODE = 'WA001';
      END IF;
    END IF;
    free := seq_name IS NULL OR (
      NOT (SELECT s.paused FROM awf.task_sequence s WHERE s.name = seq_name)
      AND NOT EXISTS (SELECT 1 FROM awf.task t WHERE t.seq = seq_name AND t.status <> 'done'));
    new_status := CASE WHEN free THEN 'ready' ELSE 'created' END;
    v_timeout := (spec ->> 'timeout')::bigint;
    INSERT INTO awf.task AS t (id, definition, params, status, execute_at, priority, pool, parent_id,
                               seq, ref_id, description, deadline_at, archived, created_at, updated_at)
    VALUES (gen_random_uuid(), spec ->> 'name', coalesce(spec -> 'conf', '{}'), new_status, now,
            coalesce((spec ->> 'priority')::integer, 0),
            (SELECT d.pool FROM awf.definition d WHERE d.name = spec ->> 'name'),
            v_parent_id, seq_name, (spec ->> 'ref_id')::bigint, spec ->> 'desc',
            now + v_timeout * interval '1 millisecond', coalesce((spec ->> 'archive')::boolean, false), now, now)
    RETURNING t.id, t.num INTO new_id, new_num;
    INSERT INTO awf.task_log (task_id, at, kind, status_to, message)
    VALUES (new_id, now, 'status', new_status,
            CASE WHEN NOT free THEN format('waits for its turn in sequence "%s"', seq_name) END);
    INSERT INTO awf.xina_task (num, task_id, parent_num, ref_id, auto, open, timeout_ms, created_at)
    VALUES (new_num, new_id, v_parent_num, (spec ->> 'ref_id')::bigint,
            coalesce((spec ->> 'auto')::boolean, false), coalesce((spec ->> 'open')::boolean, false),
            v_timeout, now);
    IF free THEN
      PERFORM awf.wakeup_note(spec ->> 'name');
    END IF;
    nums := nums || new_num;
    i := i + 1;
  END LOOP;
  RETURN jsonb_build_object('tasks', to_jsonb(nums));
END
$$;

-- Locks the tasks with these nums, in num order; returns them with their status.
CREATE FUNCTION awf.xina_lock(nums bigint[], OUT num bigint, OUT task_id uuid, OUT status text)
RETURNS SETOF record LANGUAGE sql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
  SELECT x.num, t.id, t.status FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id
   WHERE x.num = ANY (nums) ORDER BY x.num FOR UPDATE OF t
$$;

-- Cancels the unfinished tasks among `roots` and, recursively, their unfinished children.
-- Returns the nums canceled, sorted.
CREATE FUNCTION awf.xina_cancel_tree(roots bigint[], reason text)
RETURNS bigint[] LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  now timestamptz := clock_timestamp();
  canceled bigint[];
BEGIN
  WITH RECURSIVE tree(num) AS (
    SELECT r FROM unnest(roots) AS r
    UNION
    SELECT c.num FROM awf.xina_task c JOIN tree ON c.parent_num = tree.num),
  target AS (
    SELECT x.num, t.id, t.status AS old_status FROM tree
      JOIN awf.xina_task x ON x.num = tree.num JOIN awf.task t ON t.id = x.task_id
     WHERE t.status <> 'done' ORDER BY x.num FOR UPDATE OF t),
  done AS (
    UPDATE awf.task t
       SET status = 'done', outcome = 'canceled',
           outcome_reason = jsonb_build_object('type', 'awf.task/canceled', 'message', reason),
           due_at = NULL, updated_at = now, version = t.version + 1
      FROM target g WHERE t.id = g.id AND t.status <> 'done'
    RETURNING t.id, t.exec_id, g.num, g.old_status),
  logged AS (
    INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)
    SELECT d.id, now, 'status', d.exec_id, d.old_status, 'done', reason FROM done d)
  SELECT array_agg(d.num ORDER BY d.num) INTO canceled FROM done d;
  RETURN coalesce(canceled, '{}');
END
$$;

-- Deletes tasks with every trace: the task, its log, its XINA row.
CREATE FUNCTION awf.xina_delete(nums bigint[])
RETURNS void LANGUAGE sql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
  WITH gone AS (DELETE FROM awf.xina_task x WHERE x.num = ANY (nums) RETURNING x.task_id),
  tasks AS (DELETE FROM awf.task t USING gone WHERE t.id = gone.task_id)
  DELETE FROM awf.task_log l USING gone WHERE l.task_id = gone.task_id
$$;

-- CANCEL: only tasks that have not concluded (are not done) can be canceled. With `ignore` false
-- one concluded task fails the whole action (WA003) and nothing changes; with `ignore` true
-- concluded tasks are skipped. Canceling a task cancels its unfinished children.
CREATE FUNCTION awf.xina_cancel(tasks jsonb, ignore boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  targets bigint[] := awf.xina_resolve('cancel', tasks);
  open_nums bigint[];
  concluded bigint[];
BEGIN
  SELECT array_agg(l.num) FILTER (WHERE l.status <> 'done'), array_agg(l.num) FILTER (WHERE l.status = 'done')
    INTO open_nums, concluded FROM awf.xina_lock(targets) l;
  IF concluded IS NOT NULL AND NOT coalesce(ignore, false) THEN
    RAISE EXCEPTION 'cancel: task % has concluded; only tasks that have not concluded can be canceled',
      concluded[1]
      USING ERRCODE = 'WA003', DETAIL = format('Concluded: %s. Nothing was canceled.', array_to_string(concluded, ', ')),
            HINT = 'Send "ignore": true to cancel the others and skip concluded tasks.';
  END IF;
  RETURN jsonb_build_object(
    'canceled', to_jsonb(awf.xina_cancel_tree(coalesce(open_nums, '{}'), 'Canceled by XINA cancel action')),
    'ignored', to_jsonb(coalesce(concluded, '{}')));
END
$$;

-- CLEAN: permanently deletes concluded tasks. With `ignore` false one task that has not concluded
-- fails the whole action (WA003) and nothing changes; with `ignore` true those are skipped.
CREATE FUNCTION awf.xina_clean(tasks jsonb, ignore boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  targets bigint[] := awf.xina_resolve('clean', tasks);
  concluded bigint[];
  open_nums bigint[];
BEGIN
  SELECT array_agg(l.num) FILTER (WHERE l.status = 'done'), array_agg(l.num) FILTER (WHERE l.status <> 'done')
    INTO concluded, open_nums FROM awf.xina_lock(targets) l;
  IF open_nums IS NOT NULL AND NOT coalesce(ignore, false) THEN
    RAISE EXCEPTION 'clean: task % has not concluded; only concluded tasks can be cleaned', open_nums[1]
      USING ERRCODE = 'WA003', DETAIL = format('Not concluded: %s. Nothing was cleaned.', array_to_string(open_nums, ', ')),
            HINT = 'Cancel them first, send "ignore": true to skip them, or use "destroy".';
  END IF;
  PERFORM awf.xina_delete(coalesce(concluded, '{}'));
  RETURN jsonb_build_object('cleaned', to_jsonb(coalesce(concluded, '{}')),
                            'ignored', to_jsonb(coalesce(open_nums, '{}')));
END
$$;

-- DESTROY: cancels (with their unfinished children) and cleans the tasks, whatever their state.
CREATE FUNCTION awf.xina_destroy(tasks jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  targets bigint[] := awf.xina_resolve('destroy', tasks);
  open_nums bigint[];
  canceled bigint[];
BEGIN
  SELECT array_agg(l.num) FILTER (WHERE l.status <> 'done') INTO open_nums FROM awf.xina_lock(targets) l;
  canceled := awf.xina_cancel_tree(coalesce(open_nums, '{}'), 'Canceled by XINA destroy action');
  PERFORM awf.xina_delete(targets);
  RETURN jsonb_build_object('destroyed', to_jsonb(targets),
                            'canceled', to_jsonb(ARRAY(SELECT c FROM unnest(canceled) c
                                                        WHERE NOT c = ANY (targets) ORDER BY c)));
END
$$;

-- CONCLUDE: the task has concluded (an AWS Lambda task tells the server it finished): it becomes
-- done / succeeded now, or `delay` ms (0-5000) from now by the worker's sweep. Its executor's
-- execId is refused from then on. A task that has already concluded is an error (WA003).
CREATE FUNCTION awf.xina_conclude(task bigint, delay integer DEFAULT 0)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  now timestamptz := clock_timestamp();
  target_id uuid;
  target_status text;
  due timestamptz;
BEGIN
  IF task IS NULL THEN
    RAISE EXCEPTION 'conclude: "task" is required: the id of the task that concluded' USING ERRCODE = 'WA101';
  END IF;
  IF delay IS NOT NULL AND delay NOT BETWEEN 0 AND 5000 THEN
    RAISE EXCEPTION 'conclude: "delay" must be 0 to 5000 ms, got %', delay USING ERRCODE = 'WA101';
  END IF;
  SELECT l.task_id, l.status INTO target_id, target_status FROM awf.xina_lock(ARRAY[task]) l;
  IF target_id IS NULL THEN
    RAISE EXCEPTION 'conclude: no XINA task %', task USING ERRCODE = 'WA001';
  END IF;
  IF target_status = 'done' THEN
    RAISE EXCEPTION 'conclude: task % has already concluded', task USING ERRCODE = 'WA003';
  END IF;
  IF coalesce(delay, 0) > 0 THEN
    due := now + delay * interval '1 millisecond';
    UPDATE awf.xina_task x SET conclude_at = due WHERE x.num = task;
    RETURN jsonb_build_object('task', task, 'concludeAt', awf.xina_time(due));
  END IF;
  UPDATE awf.xina_task x SET conclude_at = NULL WHERE x.num = task AND x.conclude_at IS NOT NULL;
  PERFORM awf.xina_conclude_now(ARRAY[target_id], now);
  RETURN jsonb_build_object('task', task, 'concludedAt', awf.xina_time(now));
END
$$;

CREATE FUNCTION awf.xina_time(ts timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- Makes the tasks done / succeeded (those not done yet); returns how many.
CREATE FUNCTION awf.xina_conclude_now(ids uuid[], now timestamptz)
RETURNS bigint LANGUAGE sql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
  WITH target AS (
    SELECT t.id, t.status AS old_status FROM awf.task t
     WHERE t.id = ANY (ids) AND t.status <> 'done' FOR UPDATE),
  concluded AS (
    UPDATE awf.task t
       SET status = 'done', outcome = 'succeeded', due_at = NULL, updated_at = now, version = t.version + 1
      FROM target g WHERE t.id = g.id AND t.status <> 'done'
    RETURNING t.id, t.exec_id, g.old_status),
  logged AS (
    INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)
    SELECT c.id, now, 'status', c.exec_id, c.old_status, 'done', 'concluded by XINA conclude action'
      FROM concluded c)
  SELECT count(*) FROM concluded
$$;

-- Thread names of pause and resume: a non-empty array of sequence names.
CREATE FUNCTION awf.xina_threads(action text, threads text[])
RETURNS text[] LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, awf, pg_temp
AS $$
BEGIN
  IF threads IS NULL OR cardinality(threads) = 0 THEN
    RAISE EXCEPTION '%: "threads" must be a non-empty array of thread (sequence) names', action
      USING ERRCODE = 'WA101';
  END IF;
  IF cardinality(threads) > 10000 THEN
    RAISE EXCEPTION '%: "threads" has % names; at most 10000 are allowed', action, cardinality(threads)
      USING ERRCODE = 'WA101';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(threads) n WHERE n IS NULL OR length(n) NOT BETWEEN 1 AND 255) THEN
    RAISE EXCEPTION '%: every thread name must be a string of 1 to 255 characters', action
      USING ERRCODE = 'WA101';
  END IF;
  RETURN ARRAY(SELECT DISTINCT n FROM unnest(threads) n ORDER BY n);
END
$$;

-- PAUSE: no new task of these sequences starts until `resume`; a task already claimed or running
-- finishes. A queued head goes back to `created`.
CREATE FUNCTION awf.xina_pause(threads text[])
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  names text[] := awf.xina_threads('pause', threads);
  seq_name text;
  now timestamptz := clock_timestamp();
BEGIN
  FOREACH seq_name IN ARRAY names LOOP
    INSERT INTO awf.task_sequence AS s (name, paused, updated_at) VALUES (seq_name, true, now)
    ON CONFLICT (name) DO UPDATE SET paused = true, updated_at = now;
    PERFORM awf.sequence_park(seq_name, now, format('sequence "%s" paused', seq_name));
  END LOOP;
  RETURN jsonb_build_object('paused', to_jsonb(names));
END
$$;

-- RESUME: the sequences go on. With `continue` true, a held task (one that failed and so holds its
-- sequence) runs again first: a fresh start, its retries and timeout counted anew. Without it, a
-- held task stays failed and the next task runs.
CREATE FUNCTION awf.xina_resume(threads text[], continue_held boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  names text[] := awf.xina_threads('resume', threads);
  seq_name text;
  held uuid;
  now timestamptz := clock_timestamp();
  again_id uuid;
  again_num bigint;
  continued bigint[] := '{}';
BEGIN
  FOREACH seq_name IN ARRAY names LOOP
    held := (awf.sequence_lock(seq_name, now)).held_task;
    UPDATE awf.task_sequence s SET paused = false, held_task = NULL, updated_at = now WHERE s.name = seq_name;
    again_id := NULL;
    IF coalesce(continue_held, false) AND held IS NOT NULL THEN
      -- Back in line: the sequence runs it next (at once, unless an earlier task still runs).
      UPDATE awf.task t
         SET status = 'created', outcome = NULL, outcome_reason = NULL, error = NULL, result = NULL,
             exec_id = NULL, retry_count = 0, execute_at = now, due_at = NULL,
             deadline_at = now + x.timeout_ms * interval '1 millisecond',
             updated_at = now, version = t.version + 1
        FROM awf.xina_task x
       WHERE t.id = held AND x.task_id = t.id AND t.status = 'done' AND t.outcome = 'failed'
      RETURNING t.id, x.num INTO again_id, again_num;
    END IF;
    IF again_id IS NOT NULL THEN
      INSERT INTO awf.task_log (task_id, at, kind, status_from, status_to, message)
      VALUES (again_id, now, 'status', 'done', 'created', format('continued by resume of sequence "%s"', seq_name));
      continued := continued || again_num;
    END IF;
    PERFORM awf.sequence_promote(seq_name);
  END LOOP;
  RETURN jsonb_build_object('resumed', to_jsonb(names), 'continued', to_jsonb(continued));
END
$$;

-- One XINA action document, as POST /xina/actions takes it. Runs with the caller's rights: each
-- action is its typed function above, so what a role may do here is what it may do in SQL.
CREATE FUNCTION awf.xina_action(action jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, awf, pg_temp
AS $$
DECLARE
  action_name text;
  threads text[];
  delay bigint;
BEGIN
  IF action IS NULL OR jsonb_typeof(action) <> 'object' THEN
    RAISE EXCEPTION 'a XINA action must be a JSON object like {"action": "run", "tasks": [...]}'
      USING ERRCODE = 'WA101';
  END IF;
  IF jsonb_typeof(action -> 'action') IS DISTINCT FROM 'string' THEN
    RAISE EXCEPTION '"action" is required: one of run, conclude, cancel, clean, destroy, pause, resume'
      USING ERRCODE = 'WA101';
  END IF;
  action_name := action ->> 'action';
  IF action_name IN ('pause', 'resume') THEN
    IF jsonb_typeof(action -> 'threads') IS DISTINCT FROM 'array'
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(action -> 'threads') e WHERE jsonb_typeof(e) <> 'string') THEN
      RAISE EXCEPTION '%: "threads" is required: an array of thread (sequence) names', action_name
        USING ERRCODE = 'WA101';
    END IF;
    threads := ARRAY(SELECT e FROM jsonb_array_elements_text(action -> 'threads') e);
  END IF;
  CASE action_name
    WHEN 'run' THEN
      RETURN awf.xina_run(action -> 'tasks');
    WHEN 'conclude' THEN
      IF action -> 'task' IS NULL OR jsonb_typeof(action -> 'task') <> 'number' THEN
        RAISE EXCEPTION 'conclude: "task" is required: the id of the task that concluded'
          USING ERRCODE = 'WA101';
      END IF;
      delay := awf.xina_long('conclude: delay', action -> 'delay');
      IF delay NOT BETWEEN 0 AND 5000 THEN
        RAISE EXCEPTION 'conclude: "delay" must be 0 to 5000 ms, got %', delay USING ERRCODE = 'WA101';
      END IF;
      RETURN awf.xina_conclude(awf.xina_long('conclude: task', action -> 'task'), delay::integer);
    WHEN 'cancel' THEN
      RETURN awf.xina_cancel(action -> 'tasks', awf.xina_bool('cancel: ignore', action -> 'ignore'));
    WHEN 'clean' THEN
      RETURN awf.xina_clean(action -> 'tasks', awf.xina_bool('clean: ignore', action -> 'ignore'));
    WHEN 'destroy' THEN
      RETURN awf.xina_destroy(action -> 'tasks');
    WHEN 'pause' THEN
      RETURN awf.xina_pause(threads);
    WHEN 'resume' THEN
      RETURN awf.xina_resume(threads, awf.xina_bool('resume: continue', action -> 'continue'));
    ELSE
      RAISE EXCEPTION 'unknown XINA action "%": expected run, conclude, cancel, clean, destroy, pause or resume',
        left(action_name, 64) USING ERRCODE = 'WA101';
  END CASE;
END
$$;

-- The worker's sweep of the API surfaces, now also concluding XINA tasks whose `conclude` delay
-- has passed. Same signature as in 1.1; adds the key "concluded".
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
      FROM due WHERE t.id = due.id
    RETURNING t.id, due.status AS old_status, due.exec_id)
  INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)
  SELECT f.id, now, 'status', f.exec_id, f.old_status, 'done', 'deadline exceeded' FROM failed f;
  GET DIAGNOSTICS expired = ROW_COUNT;

  -- Delayed concludes that are due (a task done meanwhile just loses its pending conclude).
  WITH due AS (
    SELECT x.num FROM awf.xina_task x
     WHERE x.conclude_at <= now ORDER BY x.conclude_at LIMIT batch FOR UPDATE SKIP LOCKED),
  cleared AS (
    UPDATE awf.xina_task x SET conclude_at = NULL FROM due WHERE x.num = due.num RETURNING x.task_id)
  SELECT array_agg(c.task_id) INTO conclude_ids FROM cleared c;
  concluded := CASE WHEN conclude_ids IS NULL THEN 0 ELSE awf.xina_conclude_now(conclude_ids, now) END;

  IF trace_cutoff IS NOT NULL THEN
    WITH old AS (
      SELECT n.task_id FROM awf.nlflow_task n WHERE n.created_at < trace_cutoff
       ORDER BY n.created_at LIMIT batch FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM awf.nlflow_task n USING old WHERE n.task_id = old.task_id RETURNING n.task_id),
    tasks AS (DELETE FROM awf.task t USING gone WHERE t.id = gone.task_id),
    logs AS (DELETE FROM awf.task_log l USING gone WHERE l.task_id = gone.task_id)
    SELECT count(*) INTO traces FROM gone;
  END IF;
  RETURN jsonb_build_object('deadlineExceeded', expired, 'tracesDeleted', traces, 'concluded', concluded);
END
$$;

-- A workflow's definition is a task definition name: at most 255 bytes, as the core counts it
-- (1.1 counted characters, so a long non-ASCII name was accepted and every task create failed).
CREATE OR REPLACE FUNCTION awf.nlflow_workflow_put(id text, name text, definition text,
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
  IF definition IS NULL OR length(definition) = 0 OR octet_length(definition) > 255 THEN
    RAISE EXCEPTION 'NL Flow workflow "%": definition must be 1 to 255 bytes long (a task definition name)', id
      USING ERRCODE = 'WA101';
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

-- NL Flow workflows for the admin RPC (awf.nlflow/workflow-list): each with its API key ids
-- (never their hashes).
CREATE FUNCTION awf.nlflow_workflow_list(workflow_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
  SELECT jsonb_build_object('resources', coalesce(jsonb_agg(jsonb_build_object(
           'id', w.id, 'name', w.name, 'definition', w.definition, 'timeout', w.timeout_ms,
           'published', w.published,
           'apiKeys', (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                                 'id', k.id, 'description', k.description)) ORDER BY k.id), '[]')
                         FROM awf.nlflow_api_key k WHERE k.workflow_id = w.id))
           ORDER BY w.id), '[]'))
    FROM awf.nlflow_workflow w
   WHERE nlflow_workflow_list.workflow_id IS NULL OR w.id = nlflow_workflow_list.workflow_id
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA awf FROM PUBLIC;
REVOKE ALL ON awf.task_sequence, awf.xina_task FROM PUBLIC;

-- XINA callers: users run, cancel, clean, destroy, pause and resume; executors (and users)
-- conclude. xina_action dispatches with the caller's rights.
GRANT EXECUTE ON FUNCTION awf.xina_action(jsonb) TO awf_executor, awf_user, awf_admin;
GRANT EXECUTE ON FUNCTION
  awf.xina_run(jsonb),
  awf.xina_cancel(jsonb, boolean),
  awf.xina_clean(jsonb, boolean),
  awf.xina_destroy(jsonb),
  awf.xina_pause(text[]),
  awf.xina_resume(text[], boolean)
  TO awf_user;
GRANT EXECUTE ON FUNCTION awf.xina_conclude(bigint, integer) TO awf_executor, awf_user;
-- The helpers xina_action calls directly: pure checks of its document, no data.
GRANT EXECUTE ON FUNCTION awf.xina_long(text, jsonb), awf.xina_bool(text, jsonb)
  TO awf_executor, awf_user, awf_admin;
GRANT EXECUTE ON FUNCTION awf.nlflow_workflow_list(text) TO awf_admin;
GRANT SELECT ON awf.task_sequence, awf.xina_task TO awf_user;
