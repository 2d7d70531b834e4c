#include "task/statements.hpp"

#include <algorithm>

#include "wakeup/wakeup.hpp"

extern "C" {
#include "utils/inval.h"
#include "utils/syscache.h"
}

namespace awf::task {

namespace {
// The effective value of a per-task setting: the task's own, else its definition's, else the
// GUC default passed as a parameter.
#define SETTING(column, default_param)                                                   \
  "coalesce(t." column ", (SELECT d." column " FROM awf.definition d WHERE d.name = t.definition), " \
  default_param ")"

#define LOG_STATUS_CHANGE(cte, from, to)                                                   \
  "logged AS (INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to) " \
  "SELECT c.id, $3, 'status', c.exec_id, " from ", " to " FROM " cte " c) "

// The claim: the ids of up to $2 ready tasks per definition, then the best $2 of those. Its guard
// is AWF_STATUS_IS: with "status = 'ready'" the generic plan ANDed a scan of the whole ready index
// (every definition's entries, dead ones and all) with the id lookup. Two forms
// of the per-definition step, by schema: 1.3 adds concurrency limits, where a definition with a
// concurrency_limit is claimed through awf.claim_limited and every other exactly as before (the
// LEFT JOIN finds no limit row; the gating qual skips the function without calling it).
#define CLAIM_SQL(per_definition)                                                              \
  "WITH claimed AS ("                                                                          \
  " UPDATE awf.task t"                                                                         \
  "    SET status = 'requested', exec_id = pg_catalog.gen_random_uuid(),"                      \
  "        due_at = $3 + " SETTING("requested_to_start_timeout", "$4") " * interval '1 millisecond'," \
  "        updated_at = $3, version = t.version + 1"                                           \
  "  WHERE t.id = ANY (ARRAY(" per_definition " ORDER BY c.priority DESC, c.execute_at"          \
  "          LIMIT $2))"                                                                       \
  "    AND " AWF_STATUS_IS("t", "ready")                                                         \
  "  RETURNING t.*), " LOG_STATUS_CHANGE("claimed", "'ready'", "'requested'")                    \
  "SELECT " AWF_TASK_COLUMNS " FROM claimed t ORDER BY t.priority DESC, t.execute_at"

#define READY_OF_DEFINITION(gate)                                                              \
  "SELECT r.id, r.priority, r.execute_at FROM awf.task r"                                       \
  " WHERE " gate "r.status = 'ready' AND r.definition = q.definition"                          \
  " ORDER BY r.priority DESC, r.execute_at"                                                    \
  " LIMIT $2 FOR UPDATE SKIP LOCKED"

const char kClaimSqlV12[] = CLAIM_SQL(
    "SELECT c.id FROM pg_catalog.unnest($1::text[]) AS q(definition)"
    " CROSS JOIN LATERAL (" READY_OF_DEFINITION("") ") c");

// The claim of kClaimSqlV12, per definition from a claim mark (q.mark_at not NULL): the ready
// tasks of higher priority than the mark, then those of its priority from its time on, then those
// of lower priority. Each branch is a range of task_ready_idx started at its first key, so the
// entries behind the mark are never read; the branches come in claim order, and the LIMIT stops
// the Append (and its row locks) as soon as it has enough. Without a mark, the first branch reads
// from the head as kClaimSqlV12 does. See claim_marks.cpp.
#define READY_BRANCH(cond) "SELECT b.* FROM (" READY_OF_DEFINITION(cond " AND ") ") b"

const char kClaimFromMarkSql[] = CLAIM_SQL(
    "SELECT c.id FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($5::int4[]),"
    "                            pg_catalog.unnest($6::timestamptz[])) AS q(definition, mark_priority, mark_at)"
    " CROSS JOIN LATERAL (SELECT m.* FROM ("
    READY_BRANCH("q.mark_at IS NULL")
    " UNION ALL " READY_BRANCH("q.mark_at IS NOT NULL AND r.priority > q.mark_priority")
    " UNION ALL " READY_BRANCH("q.mark_at IS NOT NULL AND r.priority = q.mark_priority"
                               " AND r.execute_at >= q.mark_at")
    " UNION ALL " READY_BRANCH("q.mark_at IS NOT NULL AND r.priority < q.mark_priority")
    ") m LIMIT $2) c");

const char kClaimSql[] = CLAIM_SQL(
    "SELECT c.id FROM pg_catalog.unnest($1::text[]) AS q(definition)"
    " LEFT JOIN awf.definition l ON l.name = q.definition AND l.concurrency_limit IS NOT NULL"
    " CROSS JOIN LATERAL ("
    "   SELECT u.* FROM (" READY_OF_DEFINITION("l.name IS NULL AND ") ") u"
    "   UNION ALL"
    "   SELECT k.id, k.priority, k.execute_at"
    "     FROM awf.claim_limited(q.definition, l.concurrency_limit, l.concurrency_path, $2) k"
    "    WHERE l.name IS NOT NULL) c");

const char kStartSql[] =
    "WITH started AS ("
    " UPDATE awf.task t"
    "    SET status = 'in-progress', retry_count = t.retry_count + 1,"
    "        due_at = $3 + " SETTING("in_progress_timeout", "$4") " * interval '1 millisecond',"
    "        updated_at = $3, version = t.version + 1"
    "  WHERE t.id = $1 AND t.exec_id = $2 AND " AWF_STATUS_IS("t", "requested")
    "  RETURNING t.*), " LOG_STATUS_CHANGE("started", "'requested'", "'in-progress'")
    "SELECT " AWF_TASK_COLUMNS " FROM started t";

const char kNotifySql[] =
    "WITH touched AS ("
    " UPDATE awf.task t"
    "    SET due_at = $3 + " SETTING("in_progress_timeout", "$4") " * interval '1 millisecond',"
    "        updated_at = $3, version = t.version + 1"
    "  WHERE t.id = $1 AND t.exec_id = $2 AND " AWF_STATUS_IS("t", "in-progress")
    "  RETURNING t.id, t.exec_id, t.due_at), "
    "logged AS (INSERT INTO awf.task_log (task_id, at, kind, exec_id, message, progress_current,"
    "                                     progress_total, progress_unit)"
    "  SELECT c.id, $3, $5, c.exec_id, $6, $7, $8, $9 FROM touched c) "
    "SELECT due_at FROM touched";

const char kSuccessSql[] =
    "WITH finished AS ("
    " UPDATE awf.task t"
    "    SET status = 'done', outcome = 'succeeded', result = $4, due_at = NULL,"
    "        updated_at = $3, version = t.version + 1"
    "  WHERE t.id = $1 AND t.exec_id = $2 AND " AWF_STATUS_IS("t", "in-progress")
    "  RETURNING t.*), " LOG_STATUS_CHANGE("finished", "'in-progress'", "'done'")
    "SELECT " AWF_TASK_COLUMNS " FROM finished t";

// Retries remain while retry_count (the number of starts) <= the allowed retry count.
const char kFailSql[] =
    "WITH policy AS ("
    " SELECT r.id,"
    "        r.retry_count <= coalesce(r.allowed_retry_count, d.allowed_retry_count, $5) AS retry,"
    "        coalesce(r.retry_delay, d.retry_delay, $6) AS delay_ms"
    "   FROM awf.task r LEFT JOIN awf.definition d ON d.name = r.definition"
    "  WHERE r.id = $1), "
    "failed AS ("
    " UPDATE awf.task t"
    "    SET status = CASE WHEN p.retry THEN CASE WHEN p.delay_ms > 0 THEN 'waiting' ELSE 'ready' END"
    "                      ELSE 'done' END,"
    "        outcome = CASE WHEN p.retry THEN NULL ELSE 'failed' END,"
    "        outcome_reason = CASE WHEN p.retry THEN NULL ELSE"
    "          '{\"type\": \"awf.task/failed-by-executor\", \"message\": \"Failed by executor\"}'::jsonb END,"
    "        error = $4,"
    "        exec_id = CASE WHEN p.retry THEN NULL ELSE t.exec_id END,"
    "        execute_at = CASE WHEN p.retry THEN $3 + p.delay_ms * interval '1 millisecond'"
    "                          ELSE t.execute_at END,"
    "        due_at = CASE WHEN p.retry AND p.delay_ms > 0"
    "                      THEN $3 + p.delay_ms * interval '1 millisecond' END,"
    "        updated_at = $3, version = t.version + 1"
    "   FROM policy p"
    "  WHERE t.id = p.id AND t.id = $1 AND t.exec_id = $2 AND " AWF_STATUS_IS("t", "in-progress")
    "  RETURNING t.*), "
    "logged AS (INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to)"
    "  SELECT c.id, $3, 'status', $2, 'in-progress', c.status FROM failed c) "
    "SELECT " AWF_TASK_COLUMNS " FROM failed t";

const char kCancelSql[] =
    "WITH target AS ("
    " SELECT r.id, r.status FROM awf.task r WHERE r.id = $1 AND r.status <> 'done' FOR UPDATE), "
    "canceled AS ("
    " UPDATE awf.task t"
    "    SET status = 'done', outcome = 'canceled',"
    "        outcome_reason = '{\"type\": \"awf.task/canceled\", \"message\": \"Canceled by user\"}',"
    "        due_at = NULL, updated_at = $2, version = t.version + 1"
    "   FROM target g WHERE t.id = g.id"
    "  RETURNING t.*, g.status AS status_from), "
    "logged AS (INSERT INTO awf.task_log (task_id, at, kind, exec_id, status_from, status_to)"
    "  SELECT c.id, $2, 'status', c.exec_id, c.status_from, 'done' FROM canceled c) "
    "SELECT " AWF_TASK_COLUMNS " FROM canceled t";

// A task whose executeAt is in the future waits; otherwise it is ready at once.
const char kCreateSql[] =
    "WITH inserted AS ("
    " INSERT INTO awf.task AS t (id, definition, params, status, execute_at, due_at, label,"
    "        priority, requested_to_start_timeout, in_progress_timeout, allowed_retry_count,"
    "        retry_delay, pool, created_at, updated_at)"
    " SELECT coalesce($1, pg_catalog.gen_random_uuid()), $2, $3,"
    "        CASE WHEN $5 > $11 THEN 'waiting' ELSE 'ready' END,"
    "        coalesce($5, $11), CASE WHEN $5 > $11 THEN $5 END, $4, $6, $7, $8, $9, $10,"
    "        (SELECT d.pool FROM awf.definition d WHERE d.name = $2), $11, $11"
    " ON CONFLICT (id) DO NOTHING"
    " RETURNING t.*), "
    "logged AS (INSERT INTO awf.task_log (task_id, at, kind, status_to)"
    "  SELECT c.id, $11, 'status', c.status FROM inserted c) "
    "SELECT " AWF_TASK_COLUMNS " FROM inserted t";

const char kGetTaskSql[] = "SELECT " AWF_TASK_COLUMNS " FROM awf.task t WHERE t.id = $1";

const char kTaskStateSql[] = "SELECT t.status, t.exec_id, t.definition FROM awf.task t WHERE t.id = $1";

const char kTaskLogSql[] =
    "SELECT l.at, l.kind, l.exec_id, l.status_from, l.status_to, l.message, l.progress_current,"
    "       l.progress_total, l.progress_unit"
    "  FROM awf.task_log l WHERE l.task_id = $1 ORDER BY l.at, l.ctid";

const char kTaskSettingsSql[] =
    "SELECT coalesce(t.requested_to_start_timeout, d.requested_to_start_timeout, $2),"
    "       coalesce(t.in_progress_timeout, d.in_progress_timeout, $3),"
    "       coalesce(t.allowed_retry_count, d.allowed_retry_count, $4),"
    "       coalesce(t.retry_delay, d.retry_delay, $5),"
    "       coalesce(t.pool, d.pool), d.concurrency_limit"
    "  FROM awf.task t LEFT JOIN awf.definition d ON d.name = t.definition WHERE t.id = $1";

#define LIST_SQL(order)                                                                        \
  "SELECT " AWF_TASK_COLUMNS " FROM awf.task t"                                                \
  " WHERE ($1::text[] IS NULL OR t.definition = ANY ($1))"                                     \
  "   AND ($2::text[] IS NULL OR NOT (t.definition = ANY ($2)))"                               \
  "   AND ($3::text[] IS NULL OR t.status = ANY ($3))"                                         \
  "   AND ($4::text[] IS NULL OR t.outcome = ANY ($4))"                                        \
  "   AND ($5::text IS NULL OR (t.id::text || ' ' || t.definition || ' ' ||"                   \
  "        coalesce(t.label, '') || ' ' || t.params::text) ILIKE $5)"                          \
  " ORDER BY " order " LIMIT $6 OFFSET $7"

}  // namespace

namespace {
// The installed schema's version as 10..13, by a function each version added. A library newer than
// the schema (before ALTER EXTENSION awf UPDATE) runs what that schema has instead of failing.
const char kSchemaLevelSql[] =
    "SELECT CASE WHEN to_regprocedure('awf.sweep_engine(timestamptz,integer)') IS NOT NULL THEN 13"
    "            WHEN to_regprocedure('awf.xina_action(jsonb)') IS NOT NULL THEN 12"
    "            WHEN to_regprocedure('awf.sweep_surfaces(timestamptz,integer,timestamptz)')"
    "                 IS NOT NULL THEN 11"
    "            ELSE 10 END";
// Read once per backend, again after any change to pg_proc (ALTER EXTENSION awf UPDATE,
// DROP/CREATE EXTENSION); 0 until then.
int cached_schema_level = 0;

const char kLimitedDefinitionsSql[] =
    "SELECT d.name FROM awf.definition d WHERE d.concurrency_limit IS NOT NULL";

// The definitions that have a concurrency limit, as this backend last read them, and the count of
// committed awf.definition changes (published in shared memory by a trigger) it read them at.
// With it, a poll of definitions without a limit runs the claim of 1.2, which has fewer plan nodes
// to start (a few percent of the lifecycle rate, measured).
struct LimitedDefinitions {
  bool loaded = false;
  uint64_t changes = 0;
  std::vector<std::string> names;
};
LimitedDefinitions limited;

bool any_limited(const std::vector<std::string> &definitions) {
  if (!wakeup::available()) return true;  // no change counter: take the claim that checks
  const uint64_t changes = wakeup::definition_changes();
  if (!limited.loaded || limited.changes != changes) {
    static pg::PreparedStatement query(kLimitedDefinitionsSql, {});
    // The counter is read before the query: a change committing in between is read now and
    // reloaded again at the next poll, never missed. A session of its own: callers may or may not
    // be connected to SPI already (a long-poll asks before it polls).
    pg::SpiSession spi;
    pg::SpiRows rows = query.execute(nullptr, nullptr, true);
    limited.names.clear();
    for (uint64 i = 0; i < rows.count; ++i) limited.names.emplace_back(pg::column_text(rows, i, 0));
    spi.finish();
    limited.changes = changes;
    limited.loaded = true;
  }
  for (const auto &name : limited.names)
    if (std::find(definitions.begin(), definitions.end(), name) != definitions.end()) return true;
  return false;
}

void forget_schema_level(Datum, int, uint32) {
  cached_schema_level = 0;
  limited.loaded = false;
}
}  // namespace

int schema_level() {
  if (cached_schema_level == 0) {
    static pg::PreparedStatement query(kSchemaLevelSql, {});
    pg::SpiSession spi;  // of its own, as in any_limited
    pg::SpiRows rows = query.execute(nullptr, nullptr, true);
    const int level = static_cast<int>(pg::column_int(rows, 0, 0));
    spi.finish();
    cached_schema_level = level;
  }
  return cached_schema_level;
}

bool claims_limited(const std::vector<std::string> &definitions) {
  return schema_level() >= 13 && any_limited(definitions);
}

void register_statement_invalidation() {
  CacheRegisterSyscacheCallback(PROCOID, forget_schema_level, (Datum)0);
}

pg::PreparedStatement &claim_statement(const std::vector<std::string> &definitions) {
  static const std::vector<Oid> args = {TEXTARRAYOID, INT4OID, TIMESTAMPTZOID, INT4OID};
  static pg::PreparedStatement with_limits(kClaimSql, args);
  static pg::PreparedStatement without_limits(kClaimSqlV12, args);
  return claims_limited(definitions) ? with_limits : without_limits;
}
pg::PreparedStatement &claim_from_mark_statement() {
  static pg::PreparedStatement s(kClaimFromMarkSql, {TEXTARRAYOID, INT4OID, TIMESTAMPTZOID, INT4OID,
                                                     INT4ARRAYOID, TIMESTAMPTZARRAYOID});
  return s;
}
pg::PreparedStatement &start_statement() {
  static pg::PreparedStatement s(kStartSql, {UUIDOID, UUIDOID, TIMESTAMPTZOID, INT4OID});
  return s;
}
pg::PreparedStatement &notify_statement() {
  static pg::PreparedStatement s(kNotifySql, {UUIDOID, UUIDOID, TIMESTAMPTZOID, INT4OID, TEXTOID,
                                              TEXTOID, INT8OID, INT8OID, TEXTOID});
  return s;
}
pg::PreparedStatement &success_statement() {
  static pg::PreparedStatement s(kSuccessSql, {UUIDOID, UUIDOID, TIMESTAMPTZOID, JSONBOID});
  return s;
}
pg::PreparedStatement &fail_statement() {
  static pg::PreparedStatement s(kFailSql,
                                 {UUIDOID, UUIDOID, TIMESTAMPTZOID, JSONBOID, INT4OID, INT4OID});
  return s;
}
pg::PreparedStatement &cancel_statement() {
  static pg::PreparedStatement s(kCancelSql, {UUIDOID, TIMESTAMPTZOID});
  return s;
}
pg::PreparedStatement &create_statement() {
  static pg::PreparedStatement s(kCreateSql,
                                 {UUIDOID, TEXTOID, JSONBOID, TEXTOID, TIMESTAMPTZOID, INT4OID,
                                  INT4OID, INT4OID, INT4OID, INT4OID, TIMESTAMPTZOID});
  return s;
}
pg::PreparedStatement &get_task_statement() {
  static pg::PreparedStatement s(kGetTaskSql, {UUIDOID});
  return s;
}
pg::PreparedStatement &task_state_statement() {
  static pg::PreparedStatement s(kTaskStateSql, {UUIDOID});
  return s;
}
pg::PreparedStatement &task_log_statement() {
  static pg::PreparedStatement s(kTaskLogSql, {UUIDOID});
  return s;
}
pg::PreparedStatement &task_settings_statement() {
  static pg::PreparedStatement s(kTaskSettingsSql, {UUIDOID, INT4OID, INT4OID, INT4OID, INT4OID});
  return s;
}
pg::PreparedStatement &list_statement(int sort) {
  static const std::vector<Oid> args = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                                        TEXTOID,      INT4OID,      INT4OID};
  static pg::PreparedStatement statements[4] = {
      {LIST_SQL("t.created_at, t.id"), args},
      {LIST_SQL("t.created_at DESC, t.id"), args},
      {LIST_SQL("t.updated_at, t.id"), args},
      {LIST_SQL("t.updated_at DESC, t.id"), args},
  };
  return statements[(sort >= 0 && sort < 4) ? sort : 1];
}

}  // namespace awf::task
