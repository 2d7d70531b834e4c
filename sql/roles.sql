-- Roles: awf_executor runs tasks, awf_user creates and reads them, awf_admin does both and
-- manages definitions; anyone else gets nothing. awf.rpc enforces the same grants as SQL.
CREATE ROLE regress_awf_worker LOGIN IN ROLE awf_executor;
CREATE ROLE regress_awf_app LOGIN IN ROLE awf_user;
CREATE ROLE regress_awf_boss LOGIN IN ROLE awf_admin;
CREATE ROLE regress_awf_stranger LOGIN;

CREATE FUNCTION pg_temp.try(method text, params jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM awf.rpc(method, params);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.try(text, jsonb) TO PUBLIC;

SELECT awf.task_create('roles', NULL, '00000000-0000-0000-0000-0000000000f1') IS NOT NULL;

SET ROLE regress_awf_worker;
SELECT pg_temp.try('awf.task/create', '{"definition": "roles"}') AS worker_create;
SELECT pg_temp.try('awf.task/cancel', '{"id": "00000000-0000-0000-0000-0000000000f1"}') AS worker_cancel;
SELECT pg_temp.try('awf.task/list', '{}') AS worker_list;
SELECT pg_temp.try('awf.task/poll', '{"taskDefinitions": ["roles"]}') AS worker_poll;
SELECT pg_temp.try('awf.task/start', '{"id": "00000000-0000-0000-0000-0000000000f1", "execId": "00000000-0000-0000-0000-000000000000"}') AS worker_start;
SELECT count(*) FROM awf.task;
UPDATE awf.task SET status = 'done';
RESET ROLE;

SET ROLE regress_awf_app;
SELECT pg_temp.try('awf.task/create', '{"definition": "roles", "id": "00000000-0000-0000-0000-0000000000f2"}') AS app_create;
SELECT pg_temp.try('awf.task/status', '{"id": "00000000-0000-0000-0000-0000000000f2"}') AS app_status;
SELECT pg_temp.try('awf.task/poll', '{"taskDefinitions": ["roles"]}') AS app_poll;
SELECT pg_temp.try('awf.task/success', '{"id": "00000000-0000-0000-0000-0000000000f1", "execId": "00000000-0000-0000-0000-000000000000"}') AS app_success;
SELECT pg_temp.try('awf.task/cancel', '{"id": "00000000-0000-0000-0000-0000000000f2"}') AS app_cancel;
SELECT count(*) > 0 AS app_reads_tasks FROM awf.task;
INSERT INTO awf.definition (name) VALUES ('app-made');
UPDATE awf.task SET status = 'ready' WHERE id = '00000000-0000-0000-0000-0000000000f2';
SELECT awf.tick();
RESET ROLE;

SET ROLE regress_awf_boss;
SELECT pg_temp.try('awf.task/create', '{"definition": "roles", "id": "00000000-0000-0000-0000-0000000000f3"}') AS admin_create;
SELECT pg_temp.try('awf.task/poll', '{"taskDefinitions": ["nothing"]}') AS admin_poll;
INSERT INTO awf.definition (name, allowed_retry_count) VALUES ('admin-made', 5);
SELECT awf.tick() IS NOT NULL AS admin_tick;
RESET ROLE;

SET ROLE regress_awf_stranger;
SELECT pg_temp.try('awf.task/poll', '{"taskDefinitions": ["roles"]}') AS stranger_rpc;
SELECT awf.task_poll(ARRAY['roles']);
SELECT count(*) FROM awf.task;
RESET ROLE;

-- the refused calls changed nothing
SELECT id, status FROM awf.task WHERE definition = 'roles' ORDER BY id;

DELETE FROM awf.definition WHERE name IN ('app-made', 'admin-made');
DROP ROLE regress_awf_worker, regress_awf_app, regress_awf_boss, regress_awf_stranger;
