-- Retries: retryCount counts starts; retries remain while retryCount <= allowedRetryCount.
-- Settings come from the task, else its awf.definition row, else the GUC defaults.
SET awf.default_requested_to_start_timeout = '1h';
CREATE FUNCTION pg_temp.run_once(task_id uuid, outcome text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  exec uuid;
  doc jsonb;
BEGIN
  PERFORM awf.task_poll(ARRAY[(SELECT definition FROM awf.task WHERE id = task_id)], NULL, 1);
  SELECT exec_id INTO exec FROM awf.task WHERE id = task_id;
  PERFORM awf.task_start(task_id, exec);
  IF outcome = 'fail' THEN
    doc := awf.task_fail(task_id, exec, '{"message": "boom"}');
  ELSE
    doc := awf.task_success(task_id, exec, '{"ok": true}');
  END IF;
  RETURN concat_ws(' ', doc #>> '{resource,status}', doc #>> '{resource,outcome}',
                   'retryCount=' || (doc #>> '{resource,retryCount}'),
                   doc #>> '{resource,outcomeReason,type}');
END $$;

-- allowedRetryCount 2 allows three attempts; retryDelay 0 makes a retry ready at once
SELECT awf.task_create('flaky', NULL, '00000000-0000-0000-0000-0000000000a1',
                       allowed_retry_count => 2, retry_delay => 0) #>> '{resource,status}';
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000a1', 'fail');
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000a1', 'fail');
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000a1', 'fail');
-- the failure keeps the executor's error and the seed's outcomeReason
SELECT awf.task_status('00000000-0000-0000-0000-0000000000a1') #> '{resource}' -> 'error' AS error,
       awf.task_status('00000000-0000-0000-0000-0000000000a1') #> '{resource,outcomeReason}' AS reason;

-- allowedRetryCount 0 allows one attempt
SELECT awf.task_create('flaky', NULL, '00000000-0000-0000-0000-0000000000a2',
                       allowed_retry_count => 0) IS NOT NULL;
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000a2', 'fail');

-- a retry after the first failure, then success
SELECT awf.task_create('flaky', NULL, '00000000-0000-0000-0000-0000000000a3', retry_delay => 0) IS NOT NULL;
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000a3', 'fail');
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000a3', 'success');

-- a retry with a delay waits: not claimable until executeAt, which the sweep then promotes
SELECT awf.task_create('delayed', NULL, '00000000-0000-0000-0000-0000000000a4', retry_delay => 3600000) IS NOT NULL;
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000a4', 'fail');
SELECT status, exec_id IS NULL AS exec_cleared, execute_at > clock_timestamp() AS in_future
  FROM awf.task WHERE id = '00000000-0000-0000-0000-0000000000a4';
SELECT jsonb_array_length(awf.task_poll(ARRAY['delayed']) -> 'resources') AS claimable_now;
SELECT awf.tick() ->> 'promoted' AS promoted_early;
-- an hour passes
UPDATE awf.task SET due_at = due_at - interval '1 hour', execute_at = execute_at - interval '1 hour'
 WHERE id = '00000000-0000-0000-0000-0000000000a4';
SELECT awf.tick() ->> 'promoted' AS promoted_when_due;
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000a4', 'success');

-- definition rows set defaults per definition; a task's own value wins over its definition
INSERT INTO awf.definition (name, allowed_retry_count, retry_delay, pool)
  VALUES ('strict', 0, 0, 'awf.executor/strict-pool');
SELECT awf.task_create('strict', NULL, '00000000-0000-0000-0000-0000000000b1') #>> '{resource,pool}';
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000b1', 'fail');
SELECT awf.task_create('strict', NULL, '00000000-0000-0000-0000-0000000000b2',
                       allowed_retry_count => 1) IS NOT NULL;
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000b2', 'fail');
SELECT awf.task_status('00000000-0000-0000-0000-0000000000b2', include_settings => true) -> 'settings';

-- the GUC defaults apply where neither task nor definition says
SET awf.default_allowed_retry_count = 0;
SET awf.default_retry_delay = 0;
SELECT awf.task_create('gucs', NULL, '00000000-0000-0000-0000-0000000000c1') IS NOT NULL;
SELECT awf.task_status('00000000-0000-0000-0000-0000000000c1', include_settings => true) -> 'settings';
SELECT pg_temp.run_once('00000000-0000-0000-0000-0000000000c1', 'fail');
RESET awf.default_allowed_retry_count;
RESET awf.default_retry_delay;

-- in-progress timeout with retries left: back to the queue (retryDelay 0: ready at once), not failed
SELECT awf.task_create('stuck', NULL, '00000000-0000-0000-0000-0000000000d1',
                       in_progress_timeout => 1, retry_delay => 0) IS NOT NULL;
SELECT awf.task_poll(ARRAY['stuck']) IS NOT NULL;
SELECT awf.task_start('00000000-0000-0000-0000-0000000000d1',
                      (SELECT exec_id FROM awf.task WHERE id = '00000000-0000-0000-0000-0000000000d1')) IS NOT NULL;
SELECT pg_sleep(0.01);
SELECT awf.tick() ->> 'timedOut' AS timed_out;
SELECT status, outcome, retry_count, exec_id IS NULL AS exec_cleared
  FROM awf.task WHERE id = '00000000-0000-0000-0000-0000000000d1';
SELECT message FROM awf.task_log WHERE task_id = '00000000-0000-0000-0000-0000000000d1'
   AND message IS NOT NULL ORDER BY at;

-- retention: done tasks older than awf.retention go, with their log; others stay
UPDATE awf.task SET updated_at = updated_at - interval '2 days'
 WHERE id = '00000000-0000-0000-0000-0000000000a1';
SELECT awf.tick() ->> 'deleted' AS deleted;
SELECT count(*) AS task_left FROM awf.task WHERE id = '00000000-0000-0000-0000-0000000000a1';
SELECT count(*) AS log_left FROM awf.task_log WHERE task_id = '00000000-0000-0000-0000-0000000000a1';
SELECT count(*) > 0 AS others_kept FROM awf.task WHERE status = 'done';
