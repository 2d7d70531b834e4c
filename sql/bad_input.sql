-- Bad input: every case is refused with the extension's SQLSTATE and a message that names the
-- method and key, and nothing changes (the task count and versions are compared at the end).
CREATE FUNCTION pg_temp.try(method text, params jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM awf.rpc(method, params);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.try_sql(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT awf.task_create('victim', '{"keep": true}', '00000000-0000-0000-0000-0000000000e1') IS NOT NULL;
CREATE TEMP TABLE before AS SELECT id, status, version FROM awf.task;

SELECT n, pg_temp.try(m, p) AS result FROM (VALUES
  -- methods
  (1, NULL::text, '{}'::jsonb),
  (2, 'awf.task/nope', '{}'),
  (3, 'AWF.TASK/POLL', '{}'),
  (4, '', '{}'),
  -- params that are not an object
  (5, 'awf.task/poll', '[]'),
  (6, 'awf.task/poll', '"text"'),
  (7, 'awf.task/poll', '42'),
  (8, 'awf.task/poll', 'null'),
  -- poll
  (9, 'awf.task/poll', '{}'),
  (10, 'awf.task/poll', '{"taskDefinitions": []}'),
  (11, 'awf.task/poll', '{"taskDefinitions": "victim"}'),
  (12, 'awf.task/poll', '{"taskDefinitions": ["victim", 7]}'),
  (13, 'awf.task/poll', '{"taskDefinitions": [""]}'),
  (14, 'awf.task/poll', '{"taskDefinitions": ["victim"], "maxBatchSize": 0}'),
  (15, 'awf.task/poll', '{"taskDefinitions": ["victim"], "maxBatchSize": -5}'),
  (16, 'awf.task/poll', '{"taskDefinitions": ["victim"], "maxBatchSize": 1001}'),
  (17, 'awf.task/poll', '{"taskDefinitions": ["victim"], "maxBatchSize": 1.5}'),
  (18, 'awf.task/poll', '{"taskDefinitions": ["victim"], "maxBatchSize": "10"}'),
  (19, 'awf.task/poll', '{"taskDefinitions": ["victim"], "maxBatchSize": 1e30}'),
  (20, 'awf.task/poll', '{"taskDefinitions": ["victim"], "maxBatchSize": 99999999999}'),
  (21, 'awf.task/long-poll', '{"taskDefinitions": ["victim"], "timeout": -1}'),
  (22, 'awf.task/long-poll', '{"taskDefinitions": ["victim"], "timeout": 600001}'),
  -- start / success / fail / notify: ids
  (23, 'awf.task/start', '{}'),
  (24, 'awf.task/start', '{"id": "00000000-0000-0000-0000-0000000000e1"}'),
  (25, 'awf.task/start', '{"id": "not-a-uuid", "execId": "00000000-0000-0000-0000-000000000000"}'),
  (26, 'awf.task/start', '{"id": 12345, "execId": "00000000-0000-0000-0000-000000000000"}'),
  (27, 'awf.task/start', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "1; DROP TABLE awf.task; --"}'),
  (28, 'awf.task/start', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "00000000-0000-0000-0000-000000000000"}'),
  (29, 'awf.task/start', '{"id": "00000000-0000-0000-0000-00000000ffff", "execId": "00000000-0000-0000-0000-000000000000"}'),
  (30, 'awf.task/success', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "00000000-0000-0000-0000-000000000000", "result": "done"}'),
  (31, 'awf.task/success', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "00000000-0000-0000-0000-000000000000", "result": [1, 2]}'),
  (32, 'awf.task/fail', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "00000000-0000-0000-0000-000000000000", "error": 42}'),
  (33, 'awf.task/notify', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "00000000-0000-0000-0000-000000000000"}'),
  (34, 'awf.task/notify', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "00000000-0000-0000-0000-000000000000", "notification": "ping"}'),
  (35, 'awf.task/notify', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "00000000-0000-0000-0000-000000000000", "notification": "progress"}'),
  (36, 'awf.task/notify', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "00000000-0000-0000-0000-000000000000", "notification": "progress", "progress-current": "half"}'),
  (37, 'awf.task/notify', '{"id": "00000000-0000-0000-0000-0000000000e1", "execId": "00000000-0000-0000-0000-000000000000", "notification": "heartbeat", "message": {"text": "hi"}}'),
  -- create
  (38, 'awf.task/create', '{}'),
  (39, 'awf.task/create', '{"definition": ""}'),
  (40, 'awf.task/create', '{"definition": 5}'),
  (41, 'awf.task/create', '{"definition": "x", "params": "text"}'),
  (42, 'awf.task/create', '{"definition": "x", "params": [1]}'),
  (43, 'awf.task/create', '{"definition": "x", "executeAt": "tomorrow"}'),
  (44, 'awf.task/create', '{"definition": "x", "executeAt": "2023-02-30T00:00:00Z"}'),
  (45, 'awf.task/create', '{"definition": "x", "id": "abc"}'),
  (46, 'awf.task/create', '{"definition": "x", "requestedToStartTimeout": 0}'),
  (47, 'awf.task/create', '{"definition": "x", "inProgressTimeout": -1}'),
  (48, 'awf.task/create', '{"definition": "x", "allowedRetryCount": 1001}'),
  (49, 'awf.task/create', '{"definition": "x", "retryDelay": -10}'),
  (50, 'awf.task/create', '{"definition": "x", "priority": 2147483648}'),
  (51, 'awf.task/create', '{"definition": "x", "label": true}'),
  (52, 'awf.task/create', '{"definition": "00000000-0000-0000-0000-0000000000e1", "id": "00000000-0000-0000-0000-0000000000e1"}'),
  -- status / cancel / list
  (53, 'awf.task/status', '{"id": "00000000-0000-0000-0000-00000000ffff"}'),
  (54, 'awf.task/status', '{"id": "00000000-0000-0000-0000-0000000000e1", "include-log": "yes"}'),
  (55, 'awf.task/cancel', '{"id": null}'),
  (56, 'awf.task/list', '{"filter": "ready"}'),
  (57, 'awf.task/list', '{"filter": {"status": ["ready", "sleeping"]}}'),
  (58, 'awf.task/list', '{"filter": {"outcome": "won"}}'),
  (59, 'awf.task/list', '{"sort": {"priority": "asc"}}'),
  (60, 'awf.task/list', '{"sort": {"createdAt": "up"}}'),
  (61, 'awf.task/list', '{"paging": {"count": 0}}'),
  (62, 'awf.task/list', '{"paging": {"page": -1}}')
) AS cases(n, m, p) ORDER BY n;

-- size limits: a definition name, a label, a huge list of definitions
SELECT pg_temp.try('awf.task/create', jsonb_build_object('definition', repeat('d', 256)));
SELECT pg_temp.try('awf.task/create', jsonb_build_object('definition', 'x', 'label', repeat('l', 1025)));
SELECT pg_temp.try('awf.task/poll', jsonb_build_object('taskDefinitions',
  (SELECT jsonb_agg('d' || i) FROM generate_series(1, 101) i)));
SELECT pg_temp.try('awf.task/poll', jsonb_build_object('taskDefinitions',
  (SELECT jsonb_agg('d' || i) FROM generate_series(1, 20000) i)));
-- deeply nested and multi-megabyte params are data, stored as given (or refused by jsonb itself)
SELECT pg_temp.try('awf.task/create', jsonb_build_object('definition', 'big',
  'params', jsonb_build_object('blob', repeat('x', 4 * 1024 * 1024))));
SELECT pg_temp.try_sql($$SELECT awf.rpc('awf.task/create', ('{"definition": "deep", "params": ' ||
  repeat('[', 100000) || repeat(']', 100000) || '}')::jsonb)$$);
SELECT pg_temp.try('awf.task/create', jsonb_build_object('definition', 'deep',
  'params', (repeat('{"a":', 500) || '1' || repeat('}', 500))::jsonb));
SELECT count(*) AS stored_big_params FROM awf.task WHERE definition IN ('big', 'deep');
DELETE FROM awf.task_log WHERE task_id IN (SELECT id FROM awf.task WHERE definition IN ('big', 'deep'));
DELETE FROM awf.task WHERE definition IN ('big', 'deep');

-- typed functions refuse the same things with the same messages
SELECT pg_temp.try_sql($$SELECT awf.task_poll(NULL)$$);
SELECT pg_temp.try_sql($$SELECT awf.task_poll(ARRAY['victim'], NULL, 0)$$);
SELECT pg_temp.try_sql($$SELECT awf.task_poll(ARRAY['victim', NULL])$$);
SELECT pg_temp.try_sql($$SELECT awf.task_start(NULL, NULL)$$);
SELECT pg_temp.try_sql($$SELECT awf.task_start('00000000-0000-0000-0000-0000000000e1', NULL)$$);
SELECT pg_temp.try_sql($$SELECT awf.task_create(NULL)$$);
SELECT pg_temp.try_sql($$SELECT awf.task_create('x', '[]')$$);
SELECT pg_temp.try_sql($$SELECT awf.task_create('x', execute_at => 'infinity')$$);
SELECT pg_temp.try_sql($$SELECT awf.task_notify('00000000-0000-0000-0000-0000000000e1', '00000000-0000-0000-0000-000000000000', NULL)$$);
SELECT pg_temp.try_sql($$SELECT awf.task_list(sort_by => 'id')$$);
SELECT pg_temp.try_sql($$SELECT awf.task_list(count => 100000)$$);
SELECT pg_temp.try_sql($$SELECT awf.tick(0)$$);

-- nothing changed: no task appeared or moved
SELECT (SELECT count(*) FROM awf.task) = (SELECT count(*) FROM before) AS same_count,
       NOT EXISTS (SELECT 1 FROM awf.task t JOIN before b USING (id)
                    WHERE t.status <> b.status OR t.version <> b.version) AS unchanged;

-- without shared_preload_libraries there is no shared memory to wait on; the error says so
SELECT pg_temp.try_sql($$SELECT awf.wait_ready(0, 10)$$);
