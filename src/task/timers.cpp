#include "task/timers.hpp"

#include "pg/jsonb.hpp"
#include "pg/spi.hpp"
#include "task/settings.hpp"
#include "task/statements.hpp"
#include "wakeup/wakeup.hpp"

namespace awf::task {

namespace {

const char kPromoteSql[] =
    "WITH due AS ("
    " SELECT r.id FROM awf.task r WHERE r.status = 'waiting' AND r.due_at <= $1 AND r.due_at > $3"
    "  ORDER BY r.due_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "promoted AS ("
    " UPDATE awf.task t SET status = 'ready', due_at = NULL, updated_at = $1, version = t.version + 1"
    "   FROM due WHERE t.id = ANY (ARRAY(SELECT id FROM due)) AND t.id = due.id"
    "     AND " AWF_STATUS_IS("t", "waiting")
    "  RETURNING t.id, t.definition), "
    "logged AS (INSERT INTO awf.task_log (task_id, at, kind, status_from, status_to)"
    "  SELECT p.id, $1, 'status', 'waiting', 'ready' FROM promoted p) "
    "SELECT p.definition FROM promoted p";

// The execId of a requeued claim is cleared: from now on it is refused as stale.
const char kRequeueSql[] =
    "WITH due AS ("
    " SELECT r.id, r.exec_id FROM awf.task r WHERE r.status = 'requested' AND r.due_at <= $1"
    "   AND r.due_at > $3"
    "  ORDER BY r.due_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "requeued AS ("
    " UPDATE awf.task t SET status = 'ready', exec_id = NULL, due_at = NULL, updated_at = $1,"
    "        version = t.version + 1"
    "   FROM due WHERE t.id = ANY (ARRAY(SELECT id FROM due)) AND t.id = due.id"
    "     AND " AWF_STATUS_IS("t", "requested")
    "  RETURNING t.id, t.definition, due.exec_id AS old_exec_id), "
    "logged AS (INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)"
    "  SELECT q.id, $1, 'status', q.old_exec_id, 'requested', 'ready',"
    "         'requestedToStartTimeout expired' FROM requeued q) "
    "SELECT q.definition FROM requeued q";

const char kTimeoutSql[] =
    "WITH due AS ("
    " SELECT r.id, r.exec_id,"
    "        r.retry_count <= coalesce(r.allowed_retry_count, d.allowed_retry_count, $3) AS retry,"
    "        coalesce(r.retry_delay, d.retry_delay, $4) AS delay_ms"
    "   FROM awf.task r LEFT JOIN awf.definition d ON d.name = r.definition"
    "  WHERE r.status = 'in-progress' AND r.due_at <= $1 AND r.due_at > $5"
    "  ORDER BY r.due_at LIMIT $2 FOR UPDATE OF r SKIP LOCKED), "
    "timed_out AS ("
    " UPDATE awf.task t"
    "    SET status = CASE WHEN due.retry THEN CASE WHEN due.delay_ms > 0 THEN 'waiting' ELSE 'ready' END"
    "                      ELSE 'done' END,"
    "        outcome = CASE WHEN due.retry THEN NULL ELSE 'failed' END,"
    "        outcome_reason = CASE WHEN due.retry THEN NULL ELSE"
    "          '{\"type\": \"awf.task/failed-due-to-in-progress-timeout\","
    "            \"message\": \"Failed due to in-progress timeout\"}'::jsonb END,"
    "        exec_id = CASE WHEN due.retry THEN NULL ELSE t.exec_id END,"
    "        execute_at = CASE WHEN due.retry THEN $1 + due.delay_ms * interval '1 millisecond'"
    "                          ELSE t.execute_at END,"
    "        due_at = CASE WHEN due.retry AND due.delay_ms > 0"
    "                      THEN $1 + due.delay_ms * interval '1 millisecond' END,"
    "        updated_at = $1, version = t.version + 1"
    "   FROM due WHERE t.id = ANY (ARRAY(SELECT id FROM due)) AND t.id = due.id"
    "     AND " AWF_STATUS_IS("t", "in-progress")
    "  RETURNING t.id, t.definition, t.status, due.exec_id AS old_exec_id), "
    "logged AS (INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to, message)"
    "  SELECT x.id, $1, 'status', x.old_exec_id, 'in-progress', x.status,"
    "         'inProgressTimeout expired' FROM timed_out x) "
    "SELECT x.definition, x.status FROM timed_out x";

// Schema 1.0 and 1.1.
const char kRetentionSqlV10[] =
    "WITH old AS ("
    " SELECT r.id FROM awf.task r WHERE r.status = 'done' AND r.updated_at < $1"
    "  ORDER BY r.updated_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "gone AS (DELETE FROM awf.task t WHERE t.id = ANY (ARRAY(SELECT id FROM old)) RETURNING t.id), "
    "logs AS (DELETE FROM awf.task_log l WHERE l.task_id = ANY (ARRAY(SELECT id FROM gone))) "
    "SELECT count(*) FROM gone";

// Schema 1.2: archived tasks stay; the XINA and NL Flow rows of a deleted task go with it.
const char kRetentionSql[] =
    "WITH old AS ("
    " SELECT r.id FROM awf.task r WHERE r.status = 'done' AND NOT r.archived AND r.updated_at < $1"
    "  ORDER BY r.updated_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "gone AS (DELETE FROM awf.task t WHERE t.id = ANY (ARRAY(SELECT id FROM old)) RETURNING t.id), "
    "logs AS (DELETE FROM awf.task_log l WHERE l.task_id = ANY (ARRAY(SELECT id FROM gone))), "
    "xina AS (DELETE FROM awf.xina_task x WHERE x.task_id = ANY (ARRAY(SELECT id FROM gone))), "
    "nlflow AS (DELETE FROM awf.nlflow_task n WHERE n.task_id = ANY (ARRAY(SELECT id FROM gone))) "
    "SELECT count(*) FROM gone";

const char kSurfacesSql[] =
    "SELECT (s ->> 'deadlineExceeded')::bigint, (s ->> 'tracesDeleted')::bigint,"
    "       coalesce((s ->> 'concluded')::bigint, 0)"
    "  FROM awf.sweep_surfaces($1, $2, $3) s";

// Schema 1.3: built-in tasks, scheduler rules, wakeups of concurrency-limited definitions.
const char kEngineSql[] =
    "SELECT (s ->> 'builtinsRun')::bigint, (s ->> 'scheduled')::bigint FROM awf.sweep_engine($1, $2) s";
// Done workflows go after the retention period, as done tasks do (each task by its own time).
const char kWorkflowRetentionSql[] =
    "WITH old AS ("
    " SELECT w.id FROM awf.workflow w WHERE w.status = 'done' AND w.updated_at < $1"
    "  ORDER BY w.updated_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
    "gone AS (DELETE FROM awf.workflow w WHERE w.id = ANY (ARRAY(SELECT id FROM old)) RETURNING w.id), "
    "links AS (DELETE FROM awf.workflow_task m WHERE m.workflow_id = ANY (ARRAY(SELECT id FROM gone))) "
    "SELECT count(*) FROM gone";

pg::PreparedStatement &promote_statement() {
  static pg::PreparedStatement s(kPromoteSql, {TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID});
  return s;
}
pg::PreparedStatement &requeue_statement() {
  static pg::PreparedStatement s(kRequeueSql, {TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID});
  return s;
}
pg::PreparedStatement &timeout_statement() {
  static pg::PreparedStatement s(kTimeoutSql, {TIMESTAMPTZOID, INT4OID, INT4OID, INT4OID, TIMESTAMPTZOID});
  return s;
}
pg::PreparedStatement &retention_statement(int schema_level) {
  static pg::PreparedStatement v10(kRetentionSqlV10, {TIMESTAMPTZOID, INT4OID});
  static pg::PreparedStatement v12(kRetentionSql, {TIMESTAMPTZOID, INT4OID});
  return schema_level >= 12 ? v12 : v10;
}
pg::PreparedStatement &engine_statement() {
  static pg::PreparedStatement s(kEngineSql, {TIMESTAMPTZOID, INT4OID});
  return s;
}
pg::PreparedStatement &workflow_retention_statement() {
  static pg::PreparedStatement s(kWorkflowRetentionSql, {TIMESTAMPTZOID, INT4OID});
  return s;
}
pg::PreparedStatement &surfaces_statement() {
  static pg::PreparedStatement s(kSurfacesSql, {TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID});
  return s;
}

}  // namespace

namespace {
// Notes the definitions (column 0) of rows that became ready; where column `status_column` is
// given, only rows whose status is 'ready'.
int64 note_ready_rows(const pg::SpiRows &rows, int status_column = -1) {
  for (uint64 i = 0; i < rows.count; ++i) {
    if (status_column >= 0 && pg::column_text(rows, i, status_column) != "ready") continue;
    wakeup::note_ready(pg::column_text(rows, i, 0));
  }
  return static_cast<int64>(rows.count);
}
}  // namespace

namespace {
// Where each timer sweep may start in task_due_idx. The sweep takes the tasks of one status whose
// due_at has passed, oldest first. Every claim and start leaves a dead entry there, which a
// long-held snapshot keeps; a sweep that always read from the oldest due time walked all of them,
// several times per tick (0.1 s each after a minute, most of a core). Once a sweep has found
// fewer than a batch, every task due up to its time was taken, so the next one starts there
// (less kSlack, for a transition that commits late). Missed are only tasks that another
// transaction had locked when they fell due: every kFullSweepInterval a sweep reads from the start.
struct TimerMark {
  TimestampTz after = DT_NOBEGIN;  // the sweep reads due_at > after
  TimestampTz last_full = 0;       // the last sweep that read from the start and finished
};
constexpr TimestampTz kSlack = 1000 * 1000;                // 1 s
constexpr TimestampTz kFullSweepInterval = 5000 * 1000;   // 5 s

// Runs one timer statement from its mark; `args` has the bound at `bound_arg`.
pg::SpiRows sweep_timer(pg::PreparedStatement &statement, pg::SpiArgs &args, size_t bound_arg,
                        TimerMark &mark, TimestampTz now, int batch, bool from_marks) {
  const bool full = !from_marks || now - mark.last_full >= kFullSweepInterval;
  args.set(bound_arg, TimestampTzGetDatum(full ? DT_NOBEGIN : mark.after));
  pg::SpiRows rows = statement.execute(args.values(), args.nulls());
  if (rows.count < static_cast<uint64>(batch)) {
    mark.after = now - kSlack;
    if (full) mark.last_full = now;
  }
  return rows;
}

TimerMark promote_mark, requeue_mark, timeout_mark;
}  // namespace

SweepResult sweep(int batch, bool from_marks) {
  pg::SpiSession spi;
  SweepResult result;
  const TimestampTz now = GetCurrentTimestamp();
  {
    pg::SpiArgs args(3);
    args.set(0, TimestampTzGetDatum(now));
    args.set(1, Int32GetDatum(batch));
    result.promoted = note_ready_rows(sweep_timer(promote_statement(), args, 2, promote_mark, now, batch, from_marks));
    result.requeued = note_ready_rows(sweep_timer(requeue_statement(), args, 2, requeue_mark, now, batch, from_marks));
  }
  {
    pg::SpiArgs args(5);
    args.set(0, TimestampTzGetDatum(now));
    args.set(1, Int32GetDatum(batch));
    args.set(2, Int32GetDatum(Settings::allowed_retry_count));
    args.set(3, Int32GetDatum(Settings::retry_delay_ms));
    result.timed_out = note_ready_rows(sweep_timer(timeout_statement(), args, 4, timeout_mark, now, batch, from_marks), 1);
  }
  const int schema_level = task::schema_level();
  if (Settings::retention_s > 0) {
    pg::SpiArgs args(2);
    args.set(0, TimestampTzGetDatum(now - static_cast<TimestampTz>(Settings::retention_s) * USECS_PER_SEC));
    args.set(1, Int32GetDatum(batch));
    pg::SpiRows rows = retention_statement(schema_level).execute(args.values(), args.nulls());
    result.deleted = pg::column_int(rows, 0, 0);
    if (schema_level >= 13) {
      pg::SpiRows gone = workflow_retention_statement().execute(args.values(), args.nulls());
      result.workflows_deleted = pg::column_int(gone, 0, 0);
    }
  }
  if (schema_level >= 11) {
    pg::SpiArgs args(3);
    args.set(0, TimestampTzGetDatum(now));
    args.set(1, Int32GetDatum(batch));
    if (Settings::nlflow_trace_retention_s > 0)
      args.set(2, TimestampTzGetDatum(now - static_cast<TimestampTz>(Settings::nlflow_trace_retention_s) *
                                                USECS_PER_SEC));
    pg::SpiRows rows = surfaces_statement().execute(args.values(), args.nulls());
    result.deadline_exceeded = pg::column_int(rows, 0, 0);
    result.traces_deleted = pg::column_int(rows, 0, 1);
    result.concluded = pg::column_int(rows, 0, 2);
  }
  if (schema_level >= 13) {
    pg::SpiArgs args(2);
    args.set(0, TimestampTzGetDatum(now));
    args.set(1, Int32GetDatum(batch));
    pg::SpiRows rows = engine_statement().execute(args.values(), args.nulls());
    result.builtins_run = pg::column_int(rows, 0, 0);
    result.scheduled = pg::column_int(rows, 0, 1);
  }
  spi.finish();
  return result;
}

Jsonb *sweep_document(const SweepResult &r, MemoryContext context) {
  pg::JsonbBuilder out;
  out.begin_object();
  out.key("promoted");
  out.number(r.promoted);
  out.key("requeued");
  out.number(r.requeued);
  out.key("timedOut");
  out.number(r.timed_out);
  out.key("deleted");
  out.number(r.deleted);
  out.key("deadlineExceeded");
  out.number(r.deadline_exceeded);
  out.key("tracesDeleted");
  out.number(r.traces_deleted);
  out.key("concluded");
  out.number(r.concluded);
  out.key("builtinsRun");
  out.number(r.builtins_run);
  out.key("scheduled");
  out.number(r.scheduled);
  out.key("workflowsDeleted");
  out.number(r.workflows_deleted);
  out.end_object();
  return out.finish(context);
}

}  // namespace awf::task
