-- pg_awf 1.0: tasks, their log, definitions, the lifecycle functions, roles and grants.
\echo Use "CREATE EXTENSION awf" to load this file. \quit

-- Roles are cluster-wide: a second database that installs awf reuses them. A role of that name
-- that can log in or is a superuser was not made by us; refuse to hand it our privileges.
DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['awf_executor', 'awf_user', 'awf_admin'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
    ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r
                   AND (rolcanlogin OR rolsuper OR rolcreaterole OR rolbypassrls)) THEN
      RAISE EXCEPTION 'role "%" exists and can log in or holds superuser, createrole or bypassrls', r
        USING HINT = 'pg_awf grants its privileges to this role; drop or rename it first.';
    END IF;
  END LOOP;
END
$roles$;

-- Settings per task definition. NULL means: use the GUC default (awf.default_*).
CREATE TABLE awf.definition (
  name text PRIMARY KEY,
  requested_to_start_timeout integer CHECK (requested_to_start_timeout > 0),
  in_progress_timeout integer CHECK (in_progress_timeout > 0),
  allowed_retry_count integer CHECK (allowed_retry_count >= 0),
  retry_delay integer CHECK (retry_delay >= 0),
  concurrency_limit integer CHECK (concurrency_limit > 0),
  concurrency_path text[],
  pool text,
  description text
);

-- One row per AidboxTask. Every status change rewrites the row (non-HOT: status is in the partial
-- index predicates), so fillfactor leaves room for the new version on the same page.
-- No CHECK constraints here or on task_log: PostgreSQL parses and compiles a table's CHECK
-- constraints again for every statement that writes it (13% of a transition's backend time with
-- eight of them). Only the extension's functions can write these tables (no role has write
-- grants), and they validate every value; the comments give the invariants they keep.
CREATE TABLE awf.task (
  id uuid PRIMARY KEY,
  num bigint GENERATED ALWAYS AS IDENTITY,   -- the numeric task id (XINA addresses tasks by a long)
  definition text NOT NULL,
  params jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL,      -- created | waiting | ready | requested | in-progress | done
  outcome text,              -- succeeded | failed | canceled; set exactly when status is done
  outcome_reason jsonb,
  result jsonb,
  error jsonb,
  exec_id uuid,
  execute_at timestamptz NOT NULL,
  -- When the time-driven work acts next: executeAt for waiting, the start deadline for
  -- requested, inProgressTimeoutAt for in-progress; NULL for ready and done.
  due_at timestamptz,
  retry_count integer NOT NULL DEFAULT 0,
  -- Per-task overrides; NULL falls back to awf.definition, then to the GUC default.
  allowed_retry_count integer,         -- >= 0
  retry_delay integer,                 -- >= 0, ms
  requested_to_start_timeout integer,  -- > 0, ms
  in_progress_timeout integer,         -- > 0, ms
  label text,
  priority integer NOT NULL DEFAULT 0,
  pool text,
  requester jsonb,
  parent_id uuid,
  seq text,                -- XINA sequence (thread) name
  ref_id bigint,           -- XINA ref_id
  description text,
  deadline_at timestamptz, -- overall deadline (XINA timeout, NL Flow workflow timeout)
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  version bigint NOT NULL DEFAULT 1
) WITH (fillfactor = 80);

-- The claim path: ready tasks of one definition, by priority then executeAt. Partial, so its
-- size and cost depend on ready tasks only, never on waiting or finished ones.
CREATE INDEX task_ready_idx ON awf.task (definition, priority DESC, execute_at)
  WHERE status = 'ready';
-- The timers of the background worker: waiting, requested and in-progress tasks by due time.
CREATE INDEX task_due_idx ON awf.task (due_at)
  WHERE status IN ('waiting', 'requested', 'in-progress');
-- Retention: finished tasks by the time they finished.
CREATE INDEX task_done_idx ON awf.task (updated_at) WHERE status = 'done';

-- AidboxTaskLog: one row per status change and per notify.
CREATE TABLE awf.task_log (
  task_id uuid NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,  -- status | heartbeat | progress
  exec_id uuid,
  status_from text,
  status_to text,
  message text,
  progress_current bigint,
  progress_total bigint,
  progress_unit text
);
CREATE INDEX task_log_task_idx ON awf.task_log (task_id, at);

-- API clients of awf-bridge: HTTP Basic / Bearer credentials, each mapped to the database role the
-- bridge assumes (SET LOCAL ROLE) for that client's requests. Secrets are stored only as password
-- hashes (crypt(3) yescrypt, "$y$..."), made by the bridge; never in clear.
CREATE TABLE awf.client (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
  secret_hash text NOT NULL CHECK (secret_hash ~ '^\$'),
  role name NOT NULL CHECK (role IN ('awf_executor', 'awf_user', 'awf_admin')),
  description text,
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  disabled boolean NOT NULL DEFAULT false
);

-- pg_dump keeps the rows of these tables (they are user data, not extension objects).
SELECT pg_catalog.pg_extension_config_dump('awf.definition', '');
SELECT pg_catalog.pg_extension_config_dump('awf.task', '');
SELECT pg_catalog.pg_extension_config_dump('awf.task_log', '');
SELECT pg_catalog.pg_extension_config_dump('awf.task_num_seq', '');
SELECT pg_catalog.pg_extension_config_dump('awf.client', '');

-- The lifecycle, one typed function per method. SECURITY DEFINER: callers get no table
-- privileges, only these guarded transitions. search_path is pinned against hijacking.
CREATE FUNCTION awf.task_poll(task_definitions text[] DEFAULT NULL,
                              workflow_definitions text[] DEFAULT NULL,
                              max_batch_size integer DEFAULT 1)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_poll';

CREATE FUNCTION awf.task_long_poll(task_definitions text[] DEFAULT NULL,
                                   workflow_definitions text[] DEFAULT NULL,
                                   max_batch_size integer DEFAULT 1,
                                   timeout integer DEFAULT 60000)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_long_poll';

CREATE FUNCTION awf.task_start(id uuid, exec_id uuid)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_start';

CREATE FUNCTION awf.task_notify(id uuid, exec_id uuid,
                                notification text DEFAULT 'heartbeat',
                                message text DEFAULT NULL,
                                progress_current bigint DEFAULT NULL,
                                progress_total bigint DEFAULT NULL,
                                progress_unit text DEFAULT NULL)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_notify';

CREATE FUNCTION awf.task_success(id uuid, exec_id uuid, result jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_success';

CREATE FUNCTION awf.task_fail(id uuid, exec_id uuid, error jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_fail';

CREATE FUNCTION awf.task_create(definition text,
                                params jsonb DEFAULT NULL,
                                id uuid DEFAULT NULL,
                                label text DEFAULT NULL,
                                execute_at timestamptz DEFAULT NULL,
                                priority integer DEFAULT NULL,
                                requested_to_start_timeout integer DEFAULT NULL,
                                in_progress_timeout integer DEFAULT NULL,
                                allowed_retry_count integer DEFAULT NULL,
                                retry_delay integer DEFAULT NULL)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_create';

CREATE FUNCTION awf.task_status(id uuid, include_log boolean DEFAULT false,
                                include_settings boolean DEFAULT false)
RETURNS jsonb LANGUAGE c STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_status';

CREATE FUNCTION awf.task_cancel(id uuid)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_cancel';

CREATE FUNCTION awf.task_list(include_definitions text[] DEFAULT NULL,
                              exclude_definitions text[] DEFAULT NULL,
                              status text[] DEFAULT NULL,
                              outcome text[] DEFAULT NULL,
                              ilike text DEFAULT NULL,
                              sort_by text DEFAULT 'createdAt',
                              sort_order text DEFAULT 'desc',
                              count integer DEFAULT 50,
                              page integer DEFAULT 1)
RETURNS jsonb LANGUAGE c STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_task_list';

-- One sweep of the time-driven work (the background worker runs it every awf.tick_interval):
-- promotes due waiting tasks, re-queues expired claims, times out silent executions, deletes done
-- tasks past awf.retention. Returns what it did, e.g. {"promoted": 3, "requeued": 0, ...}.
CREATE FUNCTION awf.tick(batch_size integer DEFAULT 1000)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_tick';

-- For the bridge: wait (at most 1000 ms, so no snapshot is held for long) until tasks became
-- ready after wakeup generation `since`; returns the generation and the wakeup slots published
-- since. Needs awf in shared_preload_libraries. awf.definition_slot names a definition's slot.
CREATE FUNCTION awf.wait_ready(since bigint DEFAULT NULL, timeout integer DEFAULT 1000)
RETURNS jsonb LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS 'MODULE_PATHNAME', 'awf_wait_ready';

CREATE FUNCTION awf.definition_slot(definition text)
RETURNS integer LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'awf_definition_slot';

-- Clients of awf-bridge. The bridge reads a client's hash and role to check a credential; admins
-- add, change and remove clients (the bridge's `awf-bridge client add` makes the hash).
CREATE FUNCTION awf.client_lookup(client_id text, OUT secret_hash text, OUT role name)
RETURNS record LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$ SELECT c.secret_hash, c.role FROM awf.client c WHERE c.id = client_id AND NOT c.disabled $$;

CREATE FUNCTION awf.client_put(client_id text, secret_hash text, role name, description text DEFAULT NULL)
RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
  INSERT INTO awf.client AS c (id, secret_hash, role, description)
  VALUES (client_id, secret_hash, role, description)
  ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash, role = excluded.role,
                                 description = excluded.description, disabled = false
$$;

-- The count executors and dashboards ask for (GET /AidboxTask?_count=0&.status=ready&definition=…).
CREATE FUNCTION awf.task_count(statuses text[] DEFAULT NULL, definitions text[] DEFAULT NULL,
                               not_definitions text[] DEFAULT NULL)
RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, awf, pg_temp
AS $$
  SELECT count(*) FROM awf.task t
   WHERE (statuses IS NULL OR t.status = ANY (statuses))
     AND (definitions IS NULL OR t.definition = ANY (definitions))
     AND (not_definitions IS NULL OR NOT (t.definition = ANY (not_definitions)))
$$;

-- awf.rpc runs with the caller's rights: it checks EXECUTE on the typed function of the method and
-- calls it, so what a role may do over RPC is exactly what it may do in SQL.
CREATE FUNCTION awf.rpc(method text, params jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'awf_rpc';

-- Privileges: nothing for PUBLIC; each role gets its methods.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA awf FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA awf FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA awf FROM PUBLIC;

GRANT USAGE ON SCHEMA awf TO awf_executor, awf_user, awf_admin;
GRANT EXECUTE ON FUNCTION awf.rpc(text, jsonb) TO awf_executor, awf_user, awf_admin;
GRANT EXECUTE ON FUNCTION
  awf.task_poll(text[], text[], integer),
  awf.task_long_poll(text[], text[], integer, integer),
  awf.task_start(uuid, uuid),
  awf.task_notify(uuid, uuid, text, text, bigint, bigint, text),
  awf.task_success(uuid, uuid, jsonb),
  awf.task_fail(uuid, uuid, jsonb)
  TO awf_executor;
GRANT EXECUTE ON FUNCTION
  awf.task_create(text, jsonb, uuid, text, timestamptz, integer, integer, integer, integer, integer),
  awf.task_status(uuid, boolean, boolean),
  awf.task_cancel(uuid),
  awf.task_list(text[], text[], text[], text[], text, text, text, integer, integer)
  TO awf_user;
-- Dashboards read the queue; only admins edit definitions.
GRANT SELECT ON awf.task, awf.task_log, awf.definition TO awf_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON awf.definition TO awf_admin;
GRANT EXECUTE ON FUNCTION awf.tick(integer) TO awf_admin;
GRANT EXECUTE ON FUNCTION awf.wait_ready(bigint, integer), awf.definition_slot(text)
  TO awf_executor, awf_admin;
GRANT EXECUTE ON FUNCTION awf.task_count(text[], text[], text[]) TO awf_executor, awf_user;
GRANT EXECUTE ON FUNCTION awf.client_lookup(text), awf.client_put(text, text, name, text) TO awf_admin;
GRANT awf_executor, awf_user TO awf_admin;
