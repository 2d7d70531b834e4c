-- XINA task actions (seed 004, awf 1.2) through awf.xina_action: run (every task field,
-- references, parents), sequences ("threads") with pause and resume, cancel / clean / destroy with
-- and without "ignore", conclude with and without a delay, timeouts, archive and retention, bad
-- input, roles; and the NL Flow workflow calls of the admin RPC.
-- No background worker runs here: awf.tick() does the time-driven work, and time passing is
-- simulated by moving conclude_at / deadline_at / updated_at into the past.
-- XINA task ids are awf.task.num. Each section sets the sequence behind them first (section 1 uses
-- ids from 1001, section 2 from 2001, ...), so the ids printed below are the same whichever tests
-- ran before this one, and a section's ids do not depend on how many tasks the one before made.
-- Task uuids and execIds are random: they never print (xa() and try_sql() replace them with
-- <uuid>), nor do timestamps (<ts>).

-- xa(action): the answer of one XINA action document, or SQLSTATE: message (DETAIL)
CREATE FUNCTION pg_temp.xa(action jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  detail text;
BEGIN
  RETURN regexp_replace(awf.xina_action(action)::text,
    '"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"', '"<ts>"', 'g');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM || CASE WHEN detail <> '' THEN ' (' || detail || ')' ELSE '' END,
    '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}', '<uuid>', 'g');
END $$;
CREATE FUNCTION pg_temp.try_sql(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM,
    '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}', '<uuid>', 'g');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.xa(jsonb), pg_temp.try_sql(text) TO PUBLIC;
-- The XINA tasks, by id, with what the actions change; a sequence with the id of its held task.
CREATE TEMP VIEW xt AS
  SELECT x.num, t.definition AS name, t.seq, t.status, t.outcome, t.outcome_reason ->> 'type' AS reason,
         t.retry_count AS tries, x.parent_num AS parent
    FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id;
CREATE TEMP VIEW seqs AS
  SELECT s.name, s.paused, (SELECT x.num FROM awf.xina_task x WHERE x.task_id = s.held_task) AS held
    FROM awf.task_sequence s;
-- An executor: poll(definition) claims what it can (up to 100) and answers the ids claimed;
-- exec(id, step) starts, succeeds or fails the task with the execId of its claim.
CREATE FUNCTION pg_temp.poll(definition text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(coalesce(x.num::text, 'a task that is not XINA'), ', ' ORDER BY x.num), 'nothing')
    FROM jsonb_array_elements(awf.task_poll(ARRAY[definition], NULL, 100) -> 'resources') r
    LEFT JOIN awf.xina_task x ON x.task_id = (r ->> 'id')::uuid
$$;
CREATE FUNCTION pg_temp.exec(task_num bigint, step text, doc jsonb DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  tid uuid;
  eid uuid;
  r jsonb;
BEGIN
  SELECT t.id, t.exec_id INTO tid, eid FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id
   WHERE x.num = task_num;
  IF step = 'start' THEN
    r := awf.task_start(tid, eid);
  ELSIF step = 'success' THEN
    r := awf.task_success(tid, eid, doc);
  ELSE
    r := awf.task_fail(tid, eid, doc);
  END IF;
  RETURN concat_ws(' ', r #>> '{resource,status}', r #>> '{resource,outcome}');
END $$;

-- Long defaults: no claim or execution of this file expires while it runs, however slowly.
SET awf.default_requested_to_start_timeout = '1h';
SET awf.default_in_progress_timeout = '1h';

--
-- 1. RUN: every field of a task definition lands in awf.task / awf.xina_task
--
SELECT setval('awf.task_num_seq', 1000) AS ids_from;
SELECT pg_temp.xa('{"action": "run", "tasks": [
  {"name": "xina.build", "conf": {"target": "all", "n": [1, 2.5, null]}, "desc": "build everything",
   "priority": 7, "timeout": 600000, "ref_id": 77, "auto": true, "archive": true, "open": true},
  {"name": "xina.build"}]}');
-- ... and a second run: children of 1001, in sequence "lane" (so the second waits, created)
SELECT pg_temp.xa('{"action": "run", "tasks": [
  {"name": "xina.test", "parent": 1001, "seq": "lane", "ref_id": 77, "priority": -3},
  {"name": "xina.test", "parent": 1001, "seq": "lane", "conf": null, "desc": null}]}');
CREATE TEMP VIEW xfull AS
  SELECT x.num, t.definition AS name, t.params AS conf, x.parent_num AS parent,
         t.parent_id IS NOT DISTINCT FROM p.task_id AS parent_id_ok, t.seq, t.status, t.priority,
         t.ref_id, x.ref_id = t.ref_id AS same_ref, t.description AS desc, t.archived, x.auto, x.open,
         x.timeout_ms, t.deadline_at - t.created_at AS deadline_after, x.created_at = t.created_at AS same_created
    FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id LEFT JOIN awf.xina_task p ON p.num = x.parent_num;
SELECT * FROM xfull WHERE num BETWEEN 1001 AND 1004 ORDER BY num;
-- the log: a task that waits for its turn says so
SELECT x.num, l.kind, l.status_from, l.status_to, l.message
  FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id
 WHERE x.num BETWEEN 1001 AND 1004 ORDER BY x.num, l.at;
-- references in run copy tasks, as new tasks, answered in the order given: 1002 is copied, then
-- ref_id 77 names 1001 and 1003 (a copy of 1003 joins "lane" and waits there)
SELECT pg_temp.xa('{"action": "run", "tasks": [1002, {"type": "ref", "ref": [77]}]}');
SELECT * FROM xfull WHERE num BETWEEN 1005 AND 1007 ORDER BY num;
-- each copy has every field of its original (but its own uuid and creation time)
SELECT c.num AS copy, c.o_num AS original,
       (ct.definition, ct.params, ct.priority, ct.seq, ct.ref_id, ct.description, ct.archived, cx.parent_num,
        cx.auto, cx.open, cx.timeout_ms)
       IS NOT DISTINCT FROM
       (ot.definition, ot.params, ot.priority, ot.seq, ot.ref_id, ot.description, ot.archived, ox.parent_num,
        ox.auto, ox.open, ox.timeout_ms) AS same_fields,
       ct.id <> ot.id AS new_task
  FROM (VALUES (1005, 1002), (1006, 1001), (1007, 1003)) AS c(num, o_num)
  JOIN awf.xina_task cx ON cx.num = c.num JOIN awf.task ct ON ct.id = cx.task_id
  JOIN awf.xina_task ox ON ox.num = c.o_num JOIN awf.task ot ON ot.id = ox.task_id
 ORDER BY c.num;
-- the limits are accepted: priority at both ends of int32, a 1 ms timeout, 255-character name and
-- seq, a 10000-character desc, the largest ref_id
SELECT pg_temp.xa(format('{"action": "run", "tasks": [
  {"name": "%s", "seq": "%s", "desc": "%s", "priority": 2147483647, "ref_id": 9223372036854775807},
  {"name": "xina.limits", "priority": -2147483648, "timeout": 1}]}',
  repeat('n', 255), repeat('s', 255), repeat('d', 10000))::jsonb);
SELECT num, length(name) AS name_length, length(seq) AS seq_length, length("desc") AS desc_length,
       priority, ref_id, timeout_ms, deadline_after
  FROM xfull WHERE num IN (1008, 1009) ORDER BY num;
-- destroy takes every task of section 1 (ready or created), with its log: by reference (ref_id 77
-- names 1001, 1003, 1006 and 1007) and by id
CREATE TEMP TABLE section1 AS SELECT task_id FROM awf.xina_task WHERE num BETWEEN 1001 AND 1009;
SELECT pg_temp.xa('{"action": "destroy", "tasks": [{"type": "ref", "ref": [77, 9223372036854775807]}, 1002, 1004, 1005, 1009]}');
SELECT (SELECT count(*) FROM awf.xina_task WHERE num BETWEEN 1001 AND 1009) AS xina_tasks,
       (SELECT count(*) FROM awf.task WHERE id IN (SELECT task_id FROM section1)) AS tasks,
       (SELECT count(*) FROM awf.task_log WHERE task_id IN (SELECT task_id FROM section1)) AS logs;

--
-- 2. Sequences: one task at a time, in creation order; a failed task holds the sequence
--
SELECT setval('awf.task_num_seq', 2000) AS ids_from;
-- One attempt per task of xina.seq (its failure is final); xina.retry gets two retries at once,
-- xina.later one retry in an hour.
INSERT INTO awf.definition (name, allowed_retry_count, retry_delay)
VALUES ('xina.seq', 0, 0), ('xina.retry', 2, 0), ('xina.later', 1, 3600000);
SELECT pg_temp.xa('{"action": "run", "tasks": [
  {"name": "xina.seq", "seq": "alpha", "conf": {"step": 1}},
  {"name": "xina.seq", "seq": "alpha", "conf": {"step": 2}, "priority": 100},
  {"name": "xina.seq", "seq": "alpha", "conf": {"step": 3}},
  {"name": "xina.seq", "seq": "alpha", "conf": {"step": 4}},
  {"name": "xina.seq", "conf": {"free": true}, "priority": -1}]}');
-- only the head (2001) is ready; 2005 has no sequence
SELECT * FROM xt WHERE num BETWEEN 2001 AND 2005 ORDER BY num;
SELECT * FROM seqs WHERE name = 'alpha';
-- poll never returns a task behind the head, even one of higher priority (2002)
SELECT pg_temp.poll('xina.seq') AS claimed;
SELECT pg_temp.poll('xina.seq') AS claimed_again;
SELECT pg_temp.exec(2005, 'start'), pg_temp.exec(2005, 'success');
SELECT pg_temp.exec(2001, 'start');
SELECT status FROM xt WHERE num = 2002;
-- the head succeeds: the trigger makes the next one ready
SELECT pg_temp.exec(2001, 'success', '{"ok": true}');
SELECT num, status, outcome FROM xt WHERE num BETWEEN 2001 AND 2004 ORDER BY num;
SELECT l.status_from, l.status_to, l.message FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id
 WHERE x.num = 2002 ORDER BY l.at, l.ctid;
-- the next head fails with no retry left: it holds the sequence (paused, held_task) and the rest waits
SELECT pg_temp.poll('xina.seq') AS claimed;
SELECT pg_temp.exec(2002, 'start'), pg_temp.exec(2002, 'fail', '{"message": "disk full"}');
SELECT num, status, outcome, reason FROM xt WHERE num BETWEEN 2002 AND 2004 ORDER BY num;
SELECT * FROM seqs WHERE name = 'alpha';
SELECT pg_temp.poll('xina.seq') AS claimed_while_held;
-- a task run into a held sequence waits too
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.seq", "seq": "alpha", "conf": {"step": 5}}]}');
SELECT status FROM xt WHERE num = 2006;
-- resume with continue: the held task runs again first, as a fresh start (retry count 0, no
-- outcome, error or execId)
SELECT pg_temp.xa('{"action": "resume", "threads": ["alpha"], "continue": true}');
SELECT * FROM seqs WHERE name = 'alpha';
SELECT x.num, t.status, t.outcome, t.outcome_reason, t.error, t.exec_id IS NULL AS no_exec, t.retry_count
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num = 2002;
SELECT l.status_from, l.status_to, l.message FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id
 WHERE x.num = 2002 ORDER BY l.at, l.ctid;
SELECT num, status FROM xt WHERE num IN (2003, 2004, 2006) ORDER BY num;
-- it fails again: held again; resume without continue leaves it failed and runs the next one
SELECT pg_temp.poll('xina.seq') AS claimed;
SELECT pg_temp.exec(2002, 'start'), pg_temp.exec(2002, 'fail', '{"message": "still full"}');
SELECT * FROM seqs WHERE name = 'alpha';
SELECT pg_temp.xa('{"action": "resume", "threads": ["alpha", "alpha"]}');
SELECT * FROM seqs WHERE name = 'alpha';
SELECT num, status, outcome, tries FROM xt WHERE num IN (2002, 2003, 2004, 2006) ORDER BY num;
-- pause with a ready head: it goes back to created, nothing can be claimed; resume promotes it
SELECT pg_temp.xa('{"action": "pause", "threads": ["alpha"]}');
SELECT num, status FROM xt WHERE num IN (2003, 2004, 2006) ORDER BY num;
SELECT * FROM seqs WHERE name = 'alpha';
SELECT pg_temp.poll('xina.seq') AS claimed_while_paused;
SELECT l.status_from, l.status_to, l.message FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id
 WHERE x.num = 2003 ORDER BY l.at, l.ctid;
SELECT pg_temp.xa('{"action": "resume", "threads": ["alpha"]}');
SELECT num, status FROM xt WHERE num IN (2003, 2004, 2006) ORDER BY num;
-- pause with a claimed (requested) head: it stays and finishes; the next one waits for resume
SELECT pg_temp.poll('xina.seq') AS claimed;
SELECT pg_temp.xa('{"action": "pause", "threads": ["alpha"]}');
SELECT num, status FROM xt WHERE num = 2003;
SELECT pg_temp.exec(2003, 'start'), pg_temp.exec(2003, 'success');
SELECT num, status, outcome FROM xt WHERE num IN (2003, 2004, 2006) ORDER BY num;
SELECT pg_temp.xa('{"action": "resume", "threads": ["alpha"], "continue": true}');
SELECT num, status FROM xt WHERE num IN (2004, 2006) ORDER BY num;
SELECT pg_temp.poll('xina.seq') AS claimed;
SELECT pg_temp.exec(2004, 'start'), pg_temp.exec(2004, 'success');
SELECT num, status FROM xt WHERE num = 2006;
-- resume of a sequence that is not paused changes nothing
SELECT pg_temp.xa('{"action": "resume", "threads": ["alpha"], "continue": false}');
SELECT num, status FROM xt WHERE num = 2006;

-- a failure with a retry left does not hold the sequence: the head is ready again, still the head
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.retry", "seq": "beta"}, {"name": "xina.retry", "seq": "beta"}]}');
SELECT pg_temp.poll('xina.retry') AS claimed;
SELECT pg_temp.exec(2007, 'start'), pg_temp.exec(2007, 'fail');
SELECT * FROM seqs WHERE name = 'beta';
SELECT num, status, tries FROM xt WHERE num IN (2007, 2008) ORDER BY num;
-- paused, a head whose claim expires is not queued again: it goes back to created
SELECT pg_temp.poll('xina.retry') AS claimed;
SELECT pg_temp.xa('{"action": "pause", "threads": ["beta"]}');
SELECT num, status FROM xt WHERE num = 2007;
UPDATE awf.task SET due_at = now() - interval '1 second'
 WHERE id = (SELECT task_id FROM awf.xina_task WHERE num = 2007);
SELECT awf.tick() IS NOT NULL AS ticked;
SELECT num, status FROM xt WHERE num IN (2007, 2008) ORDER BY num;
SELECT l.status_from, l.status_to, l.message FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id
 WHERE x.num = 2007 AND l.status_from IN ('requested', 'ready') ORDER BY l.at, l.ctid;
SELECT pg_temp.poll('xina.retry') AS claimed_while_paused;
-- paused, a head whose attempt fails with a retry left goes back to created too
SELECT pg_temp.xa('{"action": "resume", "threads": ["beta"]}');
SELECT pg_temp.poll('xina.retry') AS claimed;
SELECT pg_temp.xa('{"action": "pause", "threads": ["beta"]}');
SELECT pg_temp.exec(2007, 'start'), pg_temp.exec(2007, 'fail') IS NOT NULL AS fail_accepted;
SELECT num, status, tries FROM xt WHERE num IN (2007, 2008) ORDER BY num;
SELECT status_from, status_to, message FROM (
  SELECT l.at, l.ctid, l.status_from, l.status_to, l.message FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id
   WHERE x.num = 2007 ORDER BY l.at DESC, l.ctid DESC LIMIT 2) last_two ORDER BY at, ctid;
SELECT pg_temp.poll('xina.retry') AS claimed_while_paused;
SELECT pg_temp.xa('{"action": "resume", "threads": ["beta"]}');
SELECT pg_temp.poll('xina.retry') AS claimed;
SELECT pg_temp.exec(2007, 'start'), pg_temp.exec(2007, 'success');
SELECT num, status, outcome, tries FROM xt WHERE num IN (2007, 2008) ORDER BY num;

-- a head waiting for its retry (in an hour) goes back to created on pause, and waits again on
-- resume, until the same time
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.later", "seq": "gamma"}, {"name": "xina.later", "seq": "gamma"}]}');
SELECT pg_temp.poll('xina.later') AS claimed;
SELECT pg_temp.exec(2009, 'start'), pg_temp.exec(2009, 'fail');
SELECT execute_at AS retry_at FROM awf.task t JOIN awf.xina_task x ON x.task_id = t.id WHERE x.num = 2009 \gset
SELECT num, status FROM xt WHERE num IN (2009, 2010) ORDER BY num;
SELECT pg_temp.xa('{"action": "pause", "threads": ["gamma"]}');
SELECT x.num, t.status, t.due_at IS NULL AS no_timer
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num IN (2009, 2010) ORDER BY x.num;
SELECT pg_temp.xa('{"action": "resume", "threads": ["gamma"]}');
SELECT x.num, t.status, t.due_at = :'retry_at' AS due_at_retry, t.execute_at > clock_timestamp() AS in_future
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num IN (2009, 2010) ORDER BY x.num;
SELECT pg_temp.poll('xina.later') AS claimed;

-- a sequence paused before it has tasks: they wait; names are answered sorted and distinct
SELECT pg_temp.xa('{"action": "pause", "threads": ["delta", "beta", "delta"]}');
SELECT * FROM seqs WHERE name IN ('beta', 'delta') ORDER BY name;
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.seq", "seq": "delta"}]}');
SELECT num, status FROM xt WHERE num IN (2008, 2011) ORDER BY num;
SELECT pg_temp.xa('{"action": "resume", "threads": ["delta", "beta"]}');
SELECT num, status FROM xt WHERE num IN (2008, 2011) ORDER BY num;

-- canceling the head and the next task in one action: the one after them is ready; the core
-- API's cancel of a head moves the sequence on too
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.seq", "seq": "eps", "ref_id": 500},
  {"name": "xina.seq", "seq": "eps", "ref_id": 500}, {"name": "xina.seq", "seq": "eps"}, {"name": "xina.seq", "seq": "eps"}]}');
SELECT pg_temp.xa('{"action": "cancel", "tasks": [{"type": "ref", "ref": [500]}]}');
SELECT num, status, outcome FROM xt WHERE num BETWEEN 2012 AND 2015 ORDER BY num;
SELECT awf.task_cancel(task_id) #>> '{resource,outcome}' AS outcome FROM awf.xina_task WHERE num = 2014;
SELECT num, status, outcome FROM xt WHERE num BETWEEN 2012 AND 2015 ORDER BY num;

--
-- 3. CANCEL, CLEAN, DESTROY
--
SELECT setval('awf.task_num_seq', 3000) AS ids_from;
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.job", "ref_id": 300},
  {"name": "xina.job", "ref_id": 300}, {"name": "xina.job"}]}');
SELECT pg_temp.xa('{"action": "conclude", "task": 3002}');
-- cancel with ignore false (the default): one concluded task (3002) refuses the whole action
SELECT num, status, outcome FROM xt WHERE num BETWEEN 3001 AND 3003 ORDER BY num;
SELECT pg_temp.xa('{"action": "cancel", "tasks": [3001, 3002]}');
SELECT pg_temp.xa('{"action": "cancel", "tasks": [{"type": "ref", "ref": [300]}, 3003], "ignore": false}');
SELECT num, status, outcome FROM xt WHERE num BETWEEN 3001 AND 3003 ORDER BY num;
-- with ignore true the others are canceled and the concluded ones listed
SELECT pg_temp.xa('{"action": "cancel", "tasks": [3003, {"type": "ref", "ref": [300]}, 3001], "ignore": true}');
SELECT x.num, t.status, t.outcome, t.outcome_reason, t.due_at IS NULL AS no_timer
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num BETWEEN 3001 AND 3003 ORDER BY x.num;
SELECT x.num, l.status_from, l.status_to, l.message FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id
 WHERE x.num IN (3001, 3003) AND l.status_to = 'done' ORDER BY x.num;
-- a canceled task has concluded
SELECT pg_temp.xa('{"action": "cancel", "tasks": [3001]}');
SELECT pg_temp.xa('{"action": "cancel", "tasks": [3001], "ignore": true}');

-- cancel cascades to unfinished children and grandchildren, not to finished ones:
-- 3004 <- 3005 <- 3007, 3008 (concluded); 3004 <- 3006 (concluded) <- 3009
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.tree"}]}');
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.tree", "parent": 3004}, {"name": "xina.tree", "parent": 3004}]}');
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.tree", "parent": 3005}, {"name": "xina.tree", "parent": 3005},
                                                {"name": "xina.tree", "parent": 3006}]}');
SELECT pg_temp.xa('{"action": "conclude", "task": 3006}'), pg_temp.xa('{"action": "conclude", "task": 3008}');
SELECT pg_temp.xa('{"action": "cancel", "tasks": [3004]}');
SELECT num, parent, status, outcome FROM xt WHERE num BETWEEN 3004 AND 3009 ORDER BY num;
-- canceling a child leaves its parent alone
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.tree"}]}');
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.tree", "parent": 3010}]}');
SELECT pg_temp.xa('{"action": "cancel", "tasks": [3011]}');
SELECT num, parent, status, outcome FROM xt WHERE num IN (3010, 3011) ORDER BY num;

-- clean with ignore false: one task that has not concluded (3010) refuses the whole action
CREATE TEMP VIEW traces AS
  SELECT x.num, (SELECT count(*) FROM awf.task t WHERE t.id = x.task_id) AS task,
         (SELECT count(*) FROM awf.task_log l WHERE l.task_id = x.task_id) AS log
    FROM awf.xina_task x;
SELECT * FROM traces WHERE num IN (3001, 3002, 3010) ORDER BY num;
SELECT pg_temp.xa('{"action": "clean", "tasks": [3001, 3010]}');
SELECT * FROM traces WHERE num IN (3001, 3002, 3010) ORDER BY num;
-- with ignore true: the concluded task goes, with its task row and log
SELECT task_id AS t3001 FROM awf.xina_task WHERE num = 3001 \gset
SELECT pg_temp.xa('{"action": "clean", "tasks": [3010, 3001], "ignore": true}');
SELECT * FROM traces WHERE num IN (3001, 3002, 3010) ORDER BY num;
SELECT (SELECT count(*) FROM awf.task WHERE id = :'t3001') AS task,
       (SELECT count(*) FROM awf.task_log WHERE task_id = :'t3001') AS log;
-- by reference (ref_id 300 now names only 3002); a cleaned task is gone for every action
SELECT pg_temp.xa('{"action": "clean", "tasks": [{"type": "ref", "ref": [300]}]}');
SELECT pg_temp.xa('{"action": "clean", "tasks": [3002]}');
SELECT pg_temp.xa('{"action": "cancel", "tasks": [3001], "ignore": true}');
SELECT pg_temp.xa('{"action": "clean", "tasks": [3010], "ignore": true}');

-- destroy, whatever the state: ready (3010, whose child 3012 is canceled but kept), in progress
-- (3013: its executor is then told the task is gone), done (3003)
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.tree", "parent": 3010}, {"name": "xina.busy"}]}');
SELECT pg_temp.poll('xina.busy') AS claimed;
SELECT pg_temp.exec(3013, 'start');
SELECT t.id AS t3013, t.exec_id AS e3013 FROM awf.task t JOIN awf.xina_task x ON x.task_id = t.id WHERE x.num = 3013 \gset
SELECT num, status FROM xt WHERE num IN (3003, 3010, 3012, 3013) ORDER BY num;
SELECT pg_temp.xa('{"action": "destroy", "tasks": [3013, 3010, 3003]}');
SELECT x.num, t.status, t.outcome, t.outcome_reason ->> 'message' AS message
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num IN (3003, 3010, 3012, 3013) ORDER BY x.num;
SELECT (SELECT count(*) FROM awf.task WHERE id = :'t3013') AS task,
       (SELECT count(*) FROM awf.task_log WHERE task_id = :'t3013') AS log;
SELECT pg_temp.try_sql(format('SELECT awf.task_success(%L, %L)', :'t3013', :'e3013')) AS late_success;
SELECT pg_temp.xa('{"action": "destroy", "tasks": [3013]}');
-- a copy of a task whose parent is gone has no parent
SELECT pg_temp.xa('{"action": "run", "tasks": [3012]}');
SELECT num, name, parent, status FROM xt WHERE num IN (3012, 3014) ORDER BY num;

--
-- 4. CONCLUDE
--
SELECT setval('awf.task_num_seq', 4000) AS ids_from;
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.lambda"}, {"name": "xina.lambda"},
  {"name": "xina.lambda"}, {"name": "xina.lambda.late"}, {"name": "xina.check"}, {"name": "xina.idle"}]}');
-- delay 0 (the default): done / succeeded now, in the middle of its execution
SELECT pg_temp.poll('xina.lambda') AS claimed;
SELECT pg_temp.exec(4001, 'start');
SELECT pg_temp.xa('{"action": "conclude", "task": 4001, "delay": 0}');
SELECT x.num, t.status, t.outcome, t.outcome_reason, t.result, t.due_at IS NULL AS no_timer, x.conclude_at
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num = 4001;
SELECT l.status_from, l.status_to, l.message, l.exec_id IS NOT NULL AS has_exec_id
  FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id WHERE x.num = 4001 AND l.status_to = 'done';
-- its executor's late success (and failure) are refused: the task is done
SELECT pg_temp.try_sql('SELECT pg_temp.exec(4001, ''success'')') AS late_success;
SELECT pg_temp.try_sql('SELECT pg_temp.exec(4001, ''fail'')') AS late_fail;
SELECT num, status, outcome FROM xt WHERE num = 4001;
-- the answer's concludedAt (ISO 8601 UTC) is the task's new updated_at
SELECT awf.xina_conclude(4005) ->> 'concludedAt' AS concluded_at \gset
SELECT :'concluded_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' AS iso_utc,
       :'concluded_at' = awf.xina_time(t.updated_at) AS is_updated_at, t.status, t.outcome
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num = 4005;
-- delay 300: conclude_at is set; the task is done once the sweep finds it due
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.xa('{"action": "conclude", "task": 4002, "delay": 300}');
SELECT x.num, t.status, x.conclude_at >= :'t0'::timestamptz + interval '300 ms' AS after_delay,
       x.conclude_at <= clock_timestamp() + interval '300 ms' AS not_later
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num = 4002;
-- delay 5000 on 4003: not due before five seconds
SELECT pg_temp.xa('{"action": "conclude", "task": 4003, "delay": 5000}');
UPDATE awf.xina_task SET conclude_at = now() - interval '1 second' WHERE num = 4002;
SELECT awf.tick() ->> 'concluded' AS concluded;
SELECT x.num, t.status, t.outcome, x.conclude_at IS NULL AS no_pending
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num IN (4002, 4003) ORDER BY x.num;
SELECT l.status_from, l.status_to, l.message FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id
 WHERE x.num = 4002 AND l.status_to = 'done';
SELECT awf.tick() ->> 'concluded' AS concluded_again;
-- a second conclude without delay replaces the pending one
SELECT pg_temp.xa('{"action": "conclude", "task": 4003}');
SELECT x.num, t.status, t.outcome, x.conclude_at IS NULL AS no_pending
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num = 4003;
-- a task its executor finishes first just loses its pending conclude
SELECT pg_temp.poll('xina.lambda.late') AS claimed;
SELECT pg_temp.exec(4004, 'start');
SELECT pg_temp.xa('{"action": "conclude", "task": 4004, "delay": 1000}');
SELECT pg_temp.exec(4004, 'success', '{"by": "executor"}');
UPDATE awf.xina_task SET conclude_at = now() - interval '1 second' WHERE num = 4004;
SELECT awf.tick() ->> 'concluded' AS concluded;
SELECT x.num, t.status, t.outcome, t.result, x.conclude_at IS NULL AS no_pending
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num = 4004;
-- refused: delay out of 0-5000 or not a number, task missing or not a number (WA101), a task
-- that has concluded (WA003), a task that does not exist (WA001)
SELECT n, pg_temp.xa(a) AS result FROM (VALUES
  (1, '{"action": "conclude", "task": 4006, "delay": 6000}'::jsonb),
  (2, '{"action": "conclude", "task": 4006, "delay": 5001}'),
  (3, '{"action": "conclude", "task": 4006, "delay": -1}'),
  (4, '{"action": "conclude", "task": 4006, "delay": "100"}'),
  (5, '{"action": "conclude", "task": 4006, "delay": 1.5}'),
  (6, '{"action": "conclude"}'),
  (7, '{"action": "conclude", "task": "4006"}'),
  (8, '{"action": "conclude", "task": null}'),
  (9, '{"action": "conclude", "task": 4006.5}'),
  (10, '{"action": "conclude", "task": 4001}'),
  (11, '{"action": "conclude", "task": 4002, "delay": 100}'),
  (12, '{"action": "conclude", "task": 999999}'),
  (13, '{"action": "conclude", "task": 3001}')
) AS cases(n, a) ORDER BY n;
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, 'SELECT awf.xina_conclude(NULL)'),
  (2, 'SELECT awf.xina_conclude(4006, 6000)'),
  (3, 'SELECT awf.xina_conclude(4006, -1)'),
  (4, 'SELECT awf.xina_conclude(999999)')
) AS cases(n, s) ORDER BY n;
SELECT x.num, t.status, x.conclude_at IS NULL AS no_pending
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num = 4006;
-- a concluded sequence head lets the next task run, now or when the delayed conclude is due
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.seq", "seq": "conc"}, {"name": "xina.seq", "seq": "conc"},
  {"name": "xina.seq", "seq": "conc"}]}');
SELECT pg_temp.xa('{"action": "conclude", "task": 4007}');
SELECT num, status, outcome FROM xt WHERE num BETWEEN 4007 AND 4009 ORDER BY num;
SELECT pg_temp.xa('{"action": "conclude", "task": 4008, "delay": 200}');
UPDATE awf.xina_task SET conclude_at = now() - interval '1 second' WHERE num = 4008;
SELECT awf.tick() ->> 'concluded' AS concluded;
SELECT num, status, outcome FROM xt WHERE num BETWEEN 4007 AND 4009 ORDER BY num;

--
-- 5. Timeouts: deadline_at = creation + timeout; past it, the sweep fails the task
--
SELECT setval('awf.task_num_seq', 5000) AS ids_from;
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.slow", "seq": "tseq", "timeout": 60000},
  {"name": "xina.slow", "seq": "tseq"}, {"name": "xina.quick", "timeout": 1}]}');
SELECT num, timeout_ms, deadline_after FROM xfull WHERE num BETWEEN 5001 AND 5003 ORDER BY num;
SELECT pg_temp.poll('xina.slow') AS claimed;
SELECT pg_temp.exec(5001, 'start');
-- 5003 (1 ms) has expired by now, without help; 5001 has a minute left
SELECT pg_sleep(0.01);
SELECT awf.tick() ->> 'deadlineExceeded' AS deadline_exceeded;
SELECT num, status, outcome, reason FROM xt WHERE num BETWEEN 5001 AND 5003 ORDER BY num;
-- a minute passes for 5001, the head of tseq, in progress: it fails and holds the sequence
UPDATE awf.task SET deadline_at = now() - interval '1 second'
 WHERE id = (SELECT task_id FROM awf.xina_task WHERE num = 5001);
SELECT awf.tick() ->> 'deadlineExceeded' AS deadline_exceeded;
SELECT x.num, t.status, t.outcome, t.outcome_reason, t.due_at IS NULL AS no_timer
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num IN (5001, 5002) ORDER BY x.num;
SELECT * FROM seqs WHERE name = 'tseq';
SELECT l.status_from, l.status_to, l.message FROM awf.task_log l JOIN awf.xina_task x ON x.task_id = l.task_id
 WHERE x.num = 5001 AND l.status_to = 'done';
SELECT pg_temp.try_sql('SELECT pg_temp.exec(5001, ''success'')') AS late_success;
SELECT awf.tick() ->> 'deadlineExceeded' AS deadline_exceeded_again;
-- continued, it gets its whole timeout again, from the resume
SELECT pg_temp.xa('{"action": "resume", "threads": ["tseq"], "continue": true}');
SELECT x.num, t.status, t.deadline_at - l.at AS deadline_after_resume
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id
  JOIN awf.task_log l ON l.task_id = t.id AND l.message = 'continued by resume of sequence "tseq"'
 WHERE x.num = 5001;
-- a task that fails its deadline while waiting for its turn holds the sequence where it was to
-- run: like pause, the hold parks the queued head before it (back to created, not claimable);
-- resume with continue puts the held task back in line, and the sequence goes on in order:
-- the head first, then the held task, then the rest
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.slow2", "seq": "tseq2"},
  {"name": "xina.slow2", "seq": "tseq2", "timeout": 60000}, {"name": "xina.slow2", "seq": "tseq2"}]}');
UPDATE awf.task SET deadline_at = now() - interval '1 second'
 WHERE id = (SELECT task_id FROM awf.xina_task WHERE num = 5005);
SELECT awf.tick() ->> 'deadlineExceeded' AS deadline_exceeded;
SELECT num, status, outcome, reason FROM xt WHERE num BETWEEN 5004 AND 5006 ORDER BY num;
SELECT * FROM seqs WHERE name = 'tseq2';
SELECT pg_temp.poll('xina.slow2') AS claimed;
SELECT pg_temp.xa('{"action": "resume", "threads": ["tseq2"], "continue": true}');
SELECT num, status, outcome FROM xt WHERE num BETWEEN 5004 AND 5006 ORDER BY num;
SELECT pg_temp.poll('xina.slow2') AS claimed;
SELECT pg_temp.exec(5004, 'start'), pg_temp.exec(5004, 'success');
SELECT num, status, outcome FROM xt WHERE num BETWEEN 5004 AND 5006 ORDER BY num;

-- a task that fails its deadline while the sequence is already held by an earlier task does not
-- take the hold over: the sequence stays stopped at the earlier one, which resume with continue
-- runs again
INSERT INTO awf.definition (name, allowed_retry_count) VALUES ('xina.hold', 0);
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.hold", "seq": "tseq3"},
  {"name": "xina.hold", "seq": "tseq3", "timeout": 60000}, {"name": "xina.hold", "seq": "tseq3"}]}');
SELECT pg_temp.poll('xina.hold') AS claimed;
SELECT pg_temp.exec(5007, 'start'), pg_temp.exec(5007, 'fail');
SELECT * FROM seqs WHERE name = 'tseq3';
UPDATE awf.task SET deadline_at = now() - interval '1 second'
 WHERE id = (SELECT task_id FROM awf.xina_task WHERE num = 5008);
SELECT awf.tick() ->> 'deadlineExceeded' AS deadline_exceeded;
SELECT num, status, outcome, reason FROM xt WHERE num BETWEEN 5007 AND 5009 ORDER BY num;
SELECT * FROM seqs WHERE name = 'tseq3';
SELECT pg_temp.xa('{"action": "resume", "threads": ["tseq3"], "continue": true}');
SELECT num, status, outcome FROM xt WHERE num BETWEEN 5007 AND 5009 ORDER BY num;

--
-- 6. Archive and retention: done tasks older than awf.retention go (with their log and XINA row),
-- unless archived. awf.retention is PGC_SIGHUP: the test moves updated_at instead.
--
SELECT setval('awf.task_num_seq', 6000) AS ids_from;
SHOW awf.retention;
SELECT pg_temp.try_sql('SET awf.retention = ''1s''') AS set_retention;
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.keep", "archive": true}, {"name": "xina.keep"},
  {"name": "xina.keep", "archive": false}, {"name": "xina.keep"}]}');
SELECT pg_temp.xa('{"action": "conclude", "task": 6001}'), pg_temp.xa('{"action": "conclude", "task": 6002}'),
       pg_temp.xa('{"action": "conclude", "task": 6003}');
SELECT task_id AS t6002 FROM awf.xina_task WHERE num = 6002 \gset
SELECT x.num, t.archived, t.status FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id
 WHERE x.num BETWEEN 6001 AND 6004 ORDER BY x.num;
-- two days pass (6004 is not done: it stays whatever its age)
UPDATE awf.task SET updated_at = updated_at - interval '2 days'
 WHERE id IN (SELECT task_id FROM awf.xina_task WHERE num BETWEEN 6001 AND 6004);
SELECT awf.tick() ->> 'deleted' AS deleted;
SELECT * FROM traces WHERE num BETWEEN 6001 AND 6004 ORDER BY num;
SELECT (SELECT count(*) FROM awf.task WHERE id = :'t6002') AS task,
       (SELECT count(*) FROM awf.task_log WHERE task_id = :'t6002') AS log,
       (SELECT count(*) FROM awf.xina_task WHERE task_id = :'t6002') AS xina_task;
SELECT pg_temp.xa('{"action": "cancel", "tasks": [6002]}');
SELECT awf.tick() ->> 'deleted' AS deleted_again;

--
-- 7. Bad input: each refused with its SQLSTATE, and nothing is created or changed
--
CREATE TEMP TABLE before AS
  SELECT (SELECT count(*) FROM awf.task) AS tasks, (SELECT count(*) FROM awf.xina_task) AS xina_tasks,
         (SELECT count(*) FROM awf.task_log) AS logs,
         (SELECT string_agg(name || ':' || paused || ':' || coalesce(held_task::text, '-'), ',' ORDER BY name)
            FROM awf.task_sequence) AS sequences,
         (SELECT sum(version) FROM awf.task) AS versions;
SELECT n, pg_temp.xa(a) AS result FROM (VALUES
  -- the document and its action
  (1, NULL::jsonb),
  (2, '"run"'),
  (3, '[{"action": "run"}]'),
  (4, 'null'),
  (5, '{}'),
  (6, '{"action": null}'),
  (7, '{"action": 5}'),
  (8, '{"action": "explode", "tasks": [4006]}'),
  (9, '{"action": "RUN", "tasks": [{"name": "xina.bad"}]}'),
  -- run: tasks
  (10, '{"action": "run"}'),
  (11, '{"action": "run", "tasks": null}'),
  (12, '{"action": "run", "tasks": []}'),
  (13, '{"action": "run", "tasks": {"name": "xina.bad"}}'),
  (14, '{"action": "run", "tasks": ["xina.bad"]}'),
  (15, '{"action": "run", "tasks": [true]}'),
  -- run: references
  (16, '{"action": "run", "tasks": [4006.5]}'),
  (17, '{"action": "run", "tasks": [{"name": "xina.bad"}, 999999]}'),
  (18, '{"action": "run", "tasks": [{"type": "ref", "ref": []}]}'),
  (19, '{"action": "run", "tasks": [{"type": "ref"}]}'),
  (20, '{"action": "run", "tasks": [{"type": "ref", "ref": 77}]}'),
  (21, '{"action": "run", "tasks": [{"type": "task", "ref": [77]}]}'),
  (22, '{"action": "run", "tasks": [{"type": "ref", "ref": ["77"]}]}'),
  (23, '{"action": "run", "tasks": [{"type": "ref", "ref": [null]}]}'),
  (24, '{"action": "run", "tasks": [{"type": "ref", "ref": [1.5]}]}'),
  (25, '{"action": "run", "tasks": [{"type": "ref", "ref": [123456789]}]}'),
  -- run: task definitions
  (26, '{"action": "run", "tasks": [{"conf": {}}]}'),
  (27, '{"action": "run", "tasks": [{"name": null}]}'),
  (28, '{"action": "run", "tasks": [{"name": ""}]}'),
  (29, jsonb_build_object('action', 'run', 'tasks', jsonb_build_array(jsonb_build_object('name', repeat('n', 256))))),
  (30, '{"action": "run", "tasks": [{"name": 5}]}'),
  (31, '{"action": "run", "tasks": [{"name": ["xina.bad"]}]}'),
  (32, '{"action": "run", "tasks": [{"name": "xina.bad", "conf": [1, 2]}]}'),
  (33, '{"action": "run", "tasks": [{"name": "xina.bad", "conf": "text"}]}'),
  (34, '{"action": "run", "tasks": [{"name": "xina.bad", "parent": 999999}]}'),
  (35, '{"action": "run", "tasks": [{"name": "xina.bad", "parent": "4006"}]}'),
  (36, '{"action": "run", "tasks": [{"name": "xina.bad", "parent": 4006.5}]}'),
  (37, '{"action": "run", "tasks": [{"name": "xina.bad", "seq": ""}]}'),
  (38, '{"action": "run", "tasks": [{"name": "xina.bad", "seq": 7}]}'),
  (39, jsonb_build_object('action', 'run', 'tasks', jsonb_build_array(jsonb_build_object('name', 'xina.bad', 'seq', repeat('s', 256))))),
  (40, '{"action": "run", "tasks": [{"name": "xina.bad", "auto": "yes"}]}'),
  (41, '{"action": "run", "tasks": [{"name": "xina.bad", "archive": 1}]}'),
  (42, '{"action": "run", "tasks": [{"name": "xina.bad", "open": "true"}]}'),
  (43, '{"action": "run", "tasks": [{"name": "xina.bad", "desc": 5}]}'),
  (44, jsonb_build_object('action', 'run', 'tasks', jsonb_build_array(jsonb_build_object('name', 'xina.bad', 'desc', repeat('d', 10001))))),
  (45, '{"action": "run", "tasks": [{"name": "xina.bad", "priority": 2147483648}]}'),
  (46, '{"action": "run", "tasks": [{"name": "xina.bad", "priority": -2147483649}]}'),
  (47, '{"action": "run", "tasks": [{"name": "xina.bad", "priority": 1e30}]}'),
  (48, '{"action": "run", "tasks": [{"name": "xina.bad", "priority": "high"}]}'),
  (49, '{"action": "run", "tasks": [{"name": "xina.bad", "priority": 1.5}]}'),
  (50, '{"action": "run", "tasks": [{"name": "xina.bad", "timeout": 0}]}'),
  (51, '{"action": "run", "tasks": [{"name": "xina.bad", "timeout": -1000}]}'),
  (52, '{"action": "run", "tasks": [{"name": "xina.bad", "timeout": "60000"}]}'),
  (53, '{"action": "run", "tasks": [{"name": "xina.bad", "timeout": 2147483648}]}'),
  (54, '{"action": "run", "tasks": [{"name": "xina.bad", "ref_id": "7"}]}'),
  (55, '{"action": "run", "tasks": [{"name": "xina.bad", "ref_id": 9223372036854775808}]}'),
  -- run is all or nothing: a bad second entry, or a parent missing after the first task was made
  (56, '{"action": "run", "tasks": [{"name": "xina.bad", "seq": "badseq"}, {"name": ""}]}'),
  (57, '{"action": "run", "tasks": [{"name": "xina.bad", "seq": "badseq"}, {"name": "xina.bad", "parent": 999999}]}'),
  -- an error names the entry it is about, also after a reference that names several tasks
  (58, '{"action": "run", "tasks": [{"type": "ref", "ref": [500]}, {"name": "xina.bad", "parent": 999999}]}'),
  (59, '{"action": "run", "tasks": [{"type": "ref", "ref": [500]}, {"name": ""}]}'),
  (60, jsonb_build_object('action', 'run', 'tasks', (SELECT jsonb_agg(jsonb_build_object('name', 'xina.bad'))
                                                       FROM generate_series(1, 1001)))),
  -- cancel, clean, destroy: task references and ignore
  (61, '{"action": "cancel"}'),
  (62, '{"action": "cancel", "tasks": []}'),
  (63, '{"action": "cancel", "tasks": 4006}'),
  (64, '{"action": "cancel", "tasks": [true]}'),
  (65, '{"action": "cancel", "tasks": [4006, "4006"]}'),
  (66, '{"action": "cancel", "tasks": [4006, 999999]}'),
  (67, '{"action": "cancel", "tasks": [4006, {"type": "ref", "ref": [500, 999999]}]}'),
  (68, '{"action": "cancel", "tasks": [{"type": "ref", "ref": []}]}'),
  (69, '{"action": "cancel", "tasks": [4006], "ignore": "yes"}'),
  (70, jsonb_build_object('action', 'cancel', 'tasks', (SELECT jsonb_agg(4006) FROM generate_series(1, 10001)))),
  (71, '{"action": "clean"}'),
  (72, '{"action": "clean", "tasks": [999999], "ignore": true}'),
  (73, '{"action": "clean", "tasks": [4001], "ignore": 1}'),
  (74, '{"action": "destroy"}'),
  (75, '{"action": "destroy", "tasks": [4006, 999999]}'),
  (76, '{"action": "destroy", "tasks": [{"type": "ref", "ref": [123456789]}]}'),
  -- pause and resume: threads
  (77, '{"action": "pause"}'),
  (78, '{"action": "pause", "threads": "alpha"}'),
  (79, '{"action": "pause", "threads": []}'),
  (80, '{"action": "pause", "threads": ["alpha", 1]}'),
  (81, '{"action": "pause", "threads": ["alpha", null]}'),
  (82, '{"action": "pause", "threads": ["alpha", ""]}'),
  (83, jsonb_build_object('action', 'pause', 'threads', jsonb_build_array('alpha', repeat('t', 256)))),
  (84, '{"action": "resume"}'),
  (85, '{"action": "resume", "threads": [["alpha"]]}'),
  (86, '{"action": "resume", "threads": ["tseq"], "continue": "yes"}')
) AS cases(n, a) ORDER BY n;
-- the typed functions refuse the same way
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, 'SELECT awf.xina_run(NULL)'),
  (2, 'SELECT awf.xina_cancel(NULL)'),
  (3, 'SELECT awf.xina_clean(''[999999]'')'),
  (4, 'SELECT awf.xina_destroy(''{}'')'),
  (5, 'SELECT awf.xina_pause(NULL)'),
  (6, 'SELECT awf.xina_pause(''{}'')'),
  (7, 'SELECT awf.xina_resume(ARRAY[NULL])'),
  (8, 'SELECT awf.xina_pause(ARRAY[''''])')
) AS cases(n, s) ORDER BY n;
SELECT (SELECT count(*) FROM awf.task) = b.tasks AS same_tasks,
       (SELECT count(*) FROM awf.xina_task) = b.xina_tasks AS same_xina_tasks,
       (SELECT count(*) FROM awf.task_log) = b.logs AS same_logs,
       (SELECT string_agg(name || ':' || paused || ':' || coalesce(held_task::text, '-'), ',' ORDER BY name)
          FROM awf.task_sequence) = b.sequences AS same_sequences,
       (SELECT sum(version) FROM awf.task) = b.versions AS same_versions,
       (SELECT count(*) FROM awf.task WHERE definition = 'xina.bad') AS bad_tasks
  FROM before b;

--
-- 8. Roles: executors may only conclude; users (and admins) may do every action
--
SELECT setval('awf.task_num_seq', 8000) AS ids_from;
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.role", "seq": "rseq"}, {"name": "xina.role", "seq": "rseq"}]}');
SET ROLE awf_executor;
SELECT n, pg_temp.xa(a) AS result FROM (VALUES
  (1, '{"action": "run", "tasks": [{"name": "xina.role"}]}'::jsonb),
  (2, '{"action": "cancel", "tasks": [8001]}'),
  (3, '{"action": "clean", "tasks": [4001]}'),
  (4, '{"action": "destroy", "tasks": [8001]}'),
  (5, '{"action": "pause", "threads": ["rseq"]}'),
  (6, '{"action": "resume", "threads": ["rseq"]}'),
  (7, '{"action": "conclude", "task": 8001}'),
  (8, '{"action": "explode"}')
) AS cases(n, a) ORDER BY n;
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, 'SELECT awf.xina_run(''[{"name": "xina.role"}]'')'),
  (2, 'SELECT awf.xina_conclude(8002, 100)'),
  (3, 'SELECT count(*) FROM awf.xina_task'),
  (4, 'SELECT count(*) FROM awf.task_sequence'),
  (5, 'SELECT awf.sequence_promote(''rseq'')')
) AS cases(n, s) ORDER BY n;
RESET ROLE;
SELECT x.num, t.status, t.outcome, x.conclude_at IS NOT NULL AS conclude_pending
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE x.num IN (8001, 8002) ORDER BY x.num;
SET ROLE awf_user;
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.role", "seq": "rseq"}, 8001]}') AS user_run;
SELECT pg_temp.xa('{"action": "pause", "threads": ["rseq"]}') AS user_pause;
SELECT pg_temp.xa('{"action": "resume", "threads": ["rseq"]}') AS user_resume;
SELECT pg_temp.xa('{"action": "cancel", "tasks": [8003]}') AS user_cancel;
SELECT pg_temp.xa('{"action": "conclude", "task": 8002}') AS user_conclude;
SELECT pg_temp.xa('{"action": "clean", "tasks": [8001, 8002]}') AS user_clean;
SELECT pg_temp.xa('{"action": "destroy", "tasks": [8003]}') AS user_destroy;
-- users read the XINA tables, but write them only through the actions
SELECT x.num, x.parent_num, x.ref_id FROM awf.xina_task x WHERE x.num >= 8001 ORDER BY x.num;
SELECT name, paused, held_task FROM awf.task_sequence WHERE name = 'rseq';
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, 'UPDATE awf.xina_task SET conclude_at = now()'),
  (2, 'DELETE FROM awf.task_sequence'),
  (3, 'SELECT awf.tick()'),
  (4, 'SELECT awf.xina_conclude_now(''{}'', now())'),
  (5, 'SELECT awf.xina_delete(''{8004}'')')
) AS cases(n, s) ORDER BY n;
RESET ROLE;
SET ROLE awf_admin;
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.role"}]}') AS admin_run;
SELECT pg_temp.xa('{"action": "conclude", "task": 8005}') AS admin_conclude;
SELECT pg_temp.xa('{"action": "destroy", "tasks": [8005]}') AS admin_destroy;
RESET ROLE;
SELECT num, status, outcome FROM xt WHERE num >= 8001 ORDER BY num;

--
-- 9. The NL Flow workflow calls of the admin RPC
--
SET ROLE awf_admin;
SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina", "name": "XINA flow", "definition": "xina.flow", "timeout": 90000}');
SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina", "name": "XINA flow v2", "definition": "xina.flow2", "timeout": 120000}');
-- timeout defaults to an hour; published to true
SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina.off", "name": "Off", "definition": "xina.off", "published": false}');
SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina.on", "name": "On", "definition": "xina.on", "timeout": null}');
RESET ROLE;
SELECT awf.nlflow_key_put('xinakey', 'wf.xina', '$y$j9T$salt$hash', 'XINA key');
SET ROLE awf_admin;
-- one workflow by id, with its API key ids (never their hashes); all of them; an unknown id
SELECT jsonb_pretty(awf.rpc('awf.nlflow/workflow-list', '{"id": "wf.xina"}'));
SELECT r ->> 'id' AS id, r ->> 'name' AS name, r ->> 'definition' AS definition, r -> 'timeout' AS timeout,
       r -> 'published' AS published, r -> 'apiKeys' AS api_keys
  FROM jsonb_array_elements(awf.rpc('awf.nlflow/workflow-list', '{}') -> 'resources') r
 WHERE r ->> 'id' LIKE 'wf.xina%' ORDER BY r ->> 'id';
SELECT awf.rpc('awf.nlflow/workflow-list', '{"id": "wf.none"}');
SELECT awf.rpc('awf.nlflow/workflow-list', NULL) -> 'resources' @> '[{"id": "wf.xina"}]' AS null_params_lists_all;
SELECT n, pg_temp.try_sql(s) AS result FROM (VALUES
  (1, $$SELECT awf.rpc('awf.nlflow/workflow-put', '{"name": "x", "definition": "d"}')$$),
  (2, $$SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina", "definition": "d"}')$$),
  (3, $$SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina", "name": "x"}')$$),
  (4, $$SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina", "name": "x", "definition": "d", "timeout": 0}')$$),
  (5, $$SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina", "name": "x", "definition": "d", "timeout": "1h"}')$$),
  (6, $$SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "bad id", "name": "x", "definition": "d"}')$$),
  (7, $$SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": 5, "name": "x", "definition": "d"}')$$),
  (8, $$SELECT awf.rpc('awf.nlflow/workflow-list', '{"id": 5}')$$),
  (9, $$SELECT awf.rpc('awf.nlflow/workflow-list', '[]')$$)
) AS cases(n, s) ORDER BY n;
RESET ROLE;
-- admin only: users and executors are refused, and change nothing
SET ROLE awf_user;
SELECT pg_temp.try_sql($$SELECT awf.rpc('awf.nlflow/workflow-list', '{}')$$) AS user_list;
SELECT pg_temp.try_sql($$SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina", "name": "Mine", "definition": "d"}')$$) AS user_put;
RESET ROLE;
SET ROLE awf_executor;
SELECT pg_temp.try_sql($$SELECT awf.rpc('awf.nlflow/workflow-list', '{}')$$) AS executor_list;
SELECT pg_temp.try_sql($$SELECT awf.rpc('awf.nlflow/workflow-put', '{"id": "wf.xina", "name": "Mine", "definition": "d"}')$$) AS executor_put;
RESET ROLE;
SELECT id, name, definition, timeout_ms, published FROM awf.nlflow_workflow WHERE id LIKE 'wf.xina%' ORDER BY id;
DELETE FROM awf.nlflow_workflow WHERE id LIKE 'wf.xina%';
SELECT count(*) AS keys_left FROM awf.nlflow_api_key WHERE id = 'xinakey';

--
-- 10. Integers written with a fraction: xina_long takes 5.0 as the integer 5, so run stores it
--
SELECT setval('awf.task_num_seq', 10000) AS ids_from;
-- conclude and task references already take them
SELECT pg_temp.xa('{"action": "conclude", "task": 4006.0, "delay": 100.0}');
SELECT pg_temp.xa('{"action": "cancel", "tasks": [4006.0, {"type": "ref", "ref": [500.0]}], "ignore": true}');
-- run takes each task field so written as the integer it is
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.fraction", "priority": 5.0}]}');
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.fraction", "timeout": 60000.0}]}');
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.fraction", "ref_id": 7.0}]}');
SELECT pg_temp.xa('{"action": "run", "tasks": [{"name": "xina.fraction", "parent": 4006.0}]}');
SELECT x.num, t.priority, x.timeout_ms, t.deadline_at - t.created_at AS deadline_after, x.ref_id,
       t.ref_id AS task_ref_id, x.parent_num
  FROM awf.xina_task x JOIN awf.task t ON t.id = x.task_id WHERE t.definition = 'xina.fraction' ORDER BY x.num;

--
-- Clean up: destroy every XINA task (one action for all), then the sequences and definitions
--
SELECT jsonb_array_length(r -> 'destroyed') = n AS all_destroyed, r -> 'canceled' AS canceled_children
  FROM (SELECT awf.xina_destroy(jsonb_agg(num ORDER BY num)) AS r, count(*) AS n FROM awf.xina_task) d;
SELECT (SELECT count(*) FROM awf.xina_task) AS xina_tasks,
       (SELECT count(*) FROM awf.task WHERE definition LIKE 'xina.%') AS tasks;
DELETE FROM awf.task_sequence;
DELETE FROM awf.definition WHERE name LIKE 'xina.%';
