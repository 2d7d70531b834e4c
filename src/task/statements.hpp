// Every SQL statement of the task lifecycle, prepared once per backend. Each transition is a single
// guarded statement (id AND exec_id AND status) that also writes its task_log row.
#pragma once

#include <string>
#include <vector>

#include "pg/spi.hpp"

namespace awf::task {

// The columns every task-returning statement selects, in this order (see task_json.hpp).
#define AWF_TASK_COLUMNS                                                                          \
  "t.id, t.definition, t.params, t.status, t.outcome, t.outcome_reason, t.result, t.error, "      \
  "t.exec_id, t.execute_at, t.due_at, t.retry_count, t.allowed_retry_count, t.retry_delay, "      \
  "t.requested_to_start_timeout, t.in_progress_timeout, t.label, t.priority, t.pool, "             \
  "t.requester, t.created_at, t.updated_at, t.version"

// The status guard of an update that finds its rows by id. Written "t.status = 'requested'", a
// generic plan may read the whole partial index whose predicate that implies (task_due_idx,
// task_ready_idx) instead of the primary key, when the index looked small at prepare time; under
// a backlog, or a long-held snapshot that keeps dead entries, each start or success then read
// every entry (0.36 s each, measured). No index can serve this form, so the id lookup remains.
#define AWF_STATUS_IS(alias, status) alias ".status IS NOT DISTINCT FROM '" status "'"

// Called from _PG_init: the claim and the sweep follow the installed schema (see statements.cpp).
void register_statement_invalidation();
// The installed schema: 10, 11, 12 or 13 for awf 1.0 .. 1.3 (cached; re-read after ALTER EXTENSION).
int schema_level();
// Whether claiming these definitions goes through concurrency limits (schema 1.3, and one of them
// has a limit); claim_statement picks by it.
bool claims_limited(const std::vector<std::string> &definitions);
// The claim for these definitions: with concurrency limits only when one of them has a limit.
pg::PreparedStatement &claim_statement(const std::vector<std::string> &definitions);
// The claim without concurrency limits, started per definition at a claim mark ($5 priorities,
// $6 times; a NULL time reads from the head): see claim_marks.cpp.
pg::PreparedStatement &claim_from_mark_statement();
pg::PreparedStatement &start_statement();
pg::PreparedStatement &notify_statement();
pg::PreparedStatement &success_statement();
pg::PreparedStatement &fail_statement();
pg::PreparedStatement &cancel_statement();
pg::PreparedStatement &create_statement();
pg::PreparedStatement &get_task_statement();
pg::PreparedStatement &task_state_statement();
pg::PreparedStatement &task_log_statement();
pg::PreparedStatement &task_settings_statement();
// sort: 0 createdAt asc, 1 createdAt desc, 2 lastUpdated asc, 3 lastUpdated desc
pg::PreparedStatement &list_statement(int sort);

}  // namespace awf::task
