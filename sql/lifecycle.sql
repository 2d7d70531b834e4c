-- The Aidbox task lifecycle through awf.rpc, with the shapes of seed 002.
-- execIds are random and timestamps move: mask() replaces them after checking their format
-- (a timestamp that is not ISO-8601 UTC with microseconds and Z would stay visible here).
CREATE FUNCTION pg_temp.mask(doc jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT jsonb_pretty(regexp_replace(regexp_replace(doc::text,
    '"execId": "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"', '"execId": "<execId>"', 'g'),
    '"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"', '"<ts>"', 'g')::jsonb)
$$;
CREATE FUNCTION pg_temp.try(method text, params jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM awf.rpc(method, params);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, 'execId "[0-9a-f-]{36}"', 'execId "<execId>"');
END $$;

-- Long defaults, so that only the tasks that ask for short timeouts below ever expire, however
-- slowly this file runs.
SET awf.default_requested_to_start_timeout = '1h';
SET awf.default_retry_delay = '1h';

-- create (the seed's task), then poll, start, notify, success
SELECT pg_temp.mask(awf.rpc('awf.task/create', '{
  "id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b",
  "definition": "aidbox.bulk/import-resource-task",
  "params": {"type": "aidbox", "input": {"url": "https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz", "resourceType": "Organization"}}
}'));

SELECT awf.rpc('awf.task/poll', '{"taskDefinitions": ["aidbox.bulk/import-resource-task"]}') AS polled \gset
SELECT pg_temp.mask(:'polled');
SELECT :'polled'::jsonb #>> '{resources,0,execId}' AS exec_id \gset

-- a second poll finds nothing: the task is requested
SELECT awf.rpc('awf.task/poll', '{"taskDefinitions": ["aidbox.bulk/import-resource-task"]}');

SELECT pg_temp.mask(awf.rpc('awf.task/start', jsonb_build_object(
  'id', 'c578a224-c1fa-44c1-bc7a-9d2e624b872b', 'execId', :'exec_id')));

-- heartbeat, spelled as the seed spells it; returns the new inProgressTimeoutAt
SELECT pg_temp.mask(awf.rpc('awf.task/notify', jsonb_build_object(
  'id', 'c578a224-c1fa-44c1-bc7a-9d2e624b872b', 'execId', :'exec_id',
  'notification', 'awf.task/heartbeat', 'message', 'task is alive')));
-- progress, and the method aliases
SELECT pg_temp.mask(awf.rpc('awf.task/notify', jsonb_build_object(
  'id', 'c578a224-c1fa-44c1-bc7a-9d2e624b872b', 'execId', :'exec_id',
  'notification', 'progress', 'progress-current', 50, 'progress-total', 100, 'progress-unit', 'rows')));
SELECT pg_temp.mask(awf.rpc('awf.task/heartbeat', jsonb_build_object(
  'id', 'c578a224-c1fa-44c1-bc7a-9d2e624b872b', 'execId', :'exec_id')));
SELECT pg_temp.mask(awf.rpc('awf.task/progress', jsonb_build_object(
  'id', 'c578a224-c1fa-44c1-bc7a-9d2e624b872b', 'execId', :'exec_id', 'progress-current', 100)));
-- heartbeats move inProgressTimeoutAt forward
SELECT due_at > updated_at - interval '1 second' + interval '119 seconds' AS timeout_pushed
  FROM awf.task WHERE id = 'c578a224-c1fa-44c1-bc7a-9d2e624b872b';

-- start again: wrong status; a stranger's execId: refused; nothing changes
SELECT pg_temp.try('awf.task/start', jsonb_build_object(
  'id', 'c578a224-c1fa-44c1-bc7a-9d2e624b872b', 'execId', :'exec_id'));
SELECT pg_temp.try('awf.task/success', '{"id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b",
  "execId": "aac4c869-daa4-45fb-917a-46fe14359ed4"}');
SELECT pg_temp.try('awf.task/start', '{"id": "00000000-0000-0000-0000-00000000dead",
  "execId": "aac4c869-daa4-45fb-917a-46fe14359ed4"}');
SELECT status, version FROM awf.task WHERE id = 'c578a224-c1fa-44c1-bc7a-9d2e624b872b';

SELECT pg_temp.mask(awf.rpc('awf.task/success', jsonb_build_object(
  'id', 'c578a224-c1fa-44c1-bc7a-9d2e624b872b', 'execId', :'exec_id',
  'result', '{"imported": 1000}'::jsonb)));

-- once done, every executor call is refused
SELECT pg_temp.try('awf.task/fail', jsonb_build_object(
  'id', 'c578a224-c1fa-44c1-bc7a-9d2e624b872b', 'execId', :'exec_id'));
SELECT pg_temp.try('awf.task/notify', jsonb_build_object(
  'id', 'c578a224-c1fa-44c1-bc7a-9d2e624b872b', 'execId', :'exec_id', 'notification', 'heartbeat'));
SELECT pg_temp.try('awf.task/cancel', '{"id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b"}');

-- the log: one row per status change and per notify, in order
SELECT kind, status_from, status_to, message, progress_current, progress_total, progress_unit,
       exec_id IS NOT NULL AS has_exec_id
  FROM awf.task_log WHERE task_id = 'c578a224-c1fa-44c1-bc7a-9d2e624b872b' ORDER BY at, ctid;
SELECT pg_temp.mask(awf.rpc('awf.task/status', '{"id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b",
  "include-log": true, "include-settings": true}') - 'resource');

-- create is idempotent on id: same task, unchanged; another definition under that id conflicts
SELECT awf.rpc('awf.task/create', '{"id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b",
  "definition": "aidbox.bulk/import-resource-task"}') #>> '{resource,status}' AS same_task_status;
SELECT pg_temp.try('awf.task/create', '{"id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b",
  "definition": "other"}');
SELECT count(*) FROM awf.task WHERE id = 'c578a224-c1fa-44c1-bc7a-9d2e624b872b';

-- create-and-execute is the same method; priority then executeAt decide the claim order
SELECT awf.rpc('awf.task/create-and-execute', jsonb_build_object(
  'id', '00000000-0000-0000-0000-00000000000' || i, 'definition', 'batch', 'label', 'task ' || i,
  'priority', CASE WHEN i = 4 THEN 10 ELSE 0 END, 'params', jsonb_build_object('n', i))) #>> '{resource,label}'
  FROM generate_series(1, 5) i;
SELECT r ->> 'label' AS label, r ->> 'status' AS status, r ? 'execId' AS has_exec_id
  FROM jsonb_array_elements(awf.rpc('awf.task/poll',
         '{"taskDefinitions": ["batch"], "maxBatchSize": 3}') -> 'resources') r;
-- each claim has its own execId
SELECT count(DISTINCT exec_id) FROM awf.task WHERE definition = 'batch' AND status = 'requested';
-- several definitions in one poll, duplicates ignored
SELECT jsonb_array_length(awf.rpc('awf.task/poll',
  '{"taskDefinitions": ["batch", "batch", "nothing-here"], "maxBatchSize": 10}') -> 'resources') AS claimed;
SELECT awf.rpc('awf.task/poll', '{"taskDefinitions": ["batch"]}');

-- executeAt in the future: waiting, not claimable; in the past (no offset = UTC, as the seed): ready
SELECT awf.rpc('awf.task/create', '{"id": "00000000-0000-0000-0000-000000000010",
  "definition": "later", "executeAt": "2999-01-01T00:00:00Z"}') #>> '{resource,status}';
SELECT awf.rpc('awf.task/create', '{"id": "00000000-0000-0000-0000-000000000011",
  "definition": "later", "executeAt": "2023-05-04T15:30:43"}') -> 'resource' ->> 'executeAt';
SELECT r ->> 'id' AS id FROM jsonb_array_elements(awf.rpc('awf.task/poll',
  '{"taskDefinitions": ["later"], "maxBatchSize": 10}') -> 'resources') r;

-- cancel: any task not done
SELECT pg_temp.mask(awf.rpc('awf.task/cancel', '{"id": "00000000-0000-0000-0000-000000000010"}'));
SELECT pg_temp.try('awf.task/cancel', '{"id": "00000000-0000-0000-0000-000000000010"}');

-- the typed SQL functions are the same operations
SELECT awf.task_create('typed', '{"a": 1}', '00000000-0000-0000-0000-000000000020') #>> '{resource,status}';
SELECT awf.task_poll(ARRAY['typed']) #>> '{resources,0,id}' AS typed_claim;
SELECT exec_id AS typed_exec FROM awf.task WHERE id = '00000000-0000-0000-0000-000000000020' \gset
SELECT awf.task_start('00000000-0000-0000-0000-000000000020', :'typed_exec') #>> '{resource,status}';
SELECT awf.task_notify('00000000-0000-0000-0000-000000000020', :'typed_exec', 'progress', NULL, 3, 4, 'files') ? 'inProgressTimeoutAt';
SELECT awf.task_fail('00000000-0000-0000-0000-000000000020', :'typed_exec', '{"why": "disk full"}') -> 'resource' ->> 'status';

-- the worker's sweep (awf.tick): an unstarted claim goes back to ready and its execId is dead
SELECT awf.task_create('slow-start', NULL, '00000000-0000-0000-0000-000000000030',
                       requested_to_start_timeout => 1) #>> '{resource,requestedToStartTimeout}';
SELECT awf.task_poll(ARRAY['slow-start']) #>> '{resources,0,status}';
SELECT exec_id AS stale_exec FROM awf.task WHERE id = '00000000-0000-0000-0000-000000000030' \gset
SELECT pg_sleep(0.01);
SELECT awf.tick();
SELECT status, exec_id IS NULL AS exec_cleared FROM awf.task WHERE id = '00000000-0000-0000-0000-000000000030';
SELECT pg_temp.try('awf.task/start', jsonb_build_object(
  'id', '00000000-0000-0000-0000-000000000030', 'execId', :'stale_exec'));

-- an execution that stops sending heartbeats times out; with no retries left it fails
SELECT awf.task_create('silent', NULL, '00000000-0000-0000-0000-000000000031',
                       in_progress_timeout => 1, allowed_retry_count => 0) #>> '{resource,status}';
SELECT awf.task_poll(ARRAY['silent']) IS NOT NULL;
SELECT exec_id AS silent_exec FROM awf.task WHERE id = '00000000-0000-0000-0000-000000000031' \gset
SELECT awf.task_start('00000000-0000-0000-0000-000000000031', :'silent_exec') #>> '{resource,status}';
SELECT pg_sleep(0.01);
SELECT awf.tick();
SELECT pg_temp.mask(awf.task_status('00000000-0000-0000-0000-000000000031'));
SELECT pg_temp.try('awf.task/success', jsonb_build_object(
  'id', '00000000-0000-0000-0000-000000000031', 'execId', :'silent_exec'));
