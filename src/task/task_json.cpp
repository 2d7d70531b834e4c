#include "task/task_json.hpp"

#include "core/format.hpp"
#include "core/workflow_names.hpp"

namespace awf::task {

std::string uuid_text(Datum d) { return format_uuid(DatumGetUUIDP(d)->data); }

std::string timestamp_text(Datum d) { return format_timestamp(DatumGetTimestampTz(d)); }

namespace {
using pg::column_datum;
using pg::column_is_null;

void text_field(pg::JsonbBuilder &out, const char *key, const pg::SpiRows &rows, uint64 r, int col) {
  if (!column_is_null(rows, r, col)) out.field(key, pg::column_text(rows, r, col));
}
void jsonb_field(pg::JsonbBuilder &out, const char *key, const pg::SpiRows &rows, uint64 r, int col) {
  if (column_is_null(rows, r, col)) return;
  out.key(key);
  out.jsonb(pg::jsonb_from_datum(column_datum(rows, r, col)));
}
void time_field(pg::JsonbBuilder &out, const char *key, const pg::SpiRows &rows, uint64 r, int col) {
  if (!column_is_null(rows, r, col)) out.field(key, timestamp_text(column_datum(rows, r, col)));
}
void uuid_field(pg::JsonbBuilder &out, const char *key, const pg::SpiRows &rows, uint64 r, int col) {
  if (!column_is_null(rows, r, col)) out.field(key, uuid_text(column_datum(rows, r, col)));
}
void int_field(pg::JsonbBuilder &out, const char *key, const pg::SpiRows &rows, uint64 r, int col) {
  if (column_is_null(rows, r, col)) return;
  out.key(key);
  out.number(pg::column_int(rows, r, col));
}
}  // namespace

void render_task(pg::JsonbBuilder &out, const pg::SpiRows &rows, uint64 r) {
  out.begin_object();
  out.field("resourceType", "AidboxTask");
  uuid_field(out, "id", rows, r, kId);
  out.field("definition", public_definition(pg::column_text(rows, r, kDefinition)));
  jsonb_field(out, "params", rows, r, kParams);
  const std::string_view status = pg::column_text(rows, r, kStatus);
  out.field("status", status);
  text_field(out, "outcome", rows, r, kOutcome);
  jsonb_field(out, "outcomeReason", rows, r, kOutcomeReason);
  jsonb_field(out, "result", rows, r, kResult);
  jsonb_field(out, "error", rows, r, kError);
  uuid_field(out, "execId", rows, r, kExecId);
  time_field(out, "executeAt", rows, r, kExecuteAt);
  if (status == "in-progress") time_field(out, "inProgressTimeoutAt", rows, r, kDueAt);
  // retryCount counts starts; seed 002 leaves it out until the first start.
  if (pg::column_int(rows, r, kRetryCount) > 0) int_field(out, "retryCount", rows, r, kRetryCount);
  int_field(out, "allowedRetryCount", rows, r, kAllowedRetryCount);
  int_field(out, "retryDelay", rows, r, kRetryDelay);
  int_field(out, "requestedToStartTimeout", rows, r, kRequestedToStartTimeout);
  int_field(out, "inProgressTimeout", rows, r, kInProgressTimeout);
  text_field(out, "label", rows, r, kLabel);
  if (pg::column_int(rows, r, kPriority) != 0) int_field(out, "priority", rows, r, kPriority);
  text_field(out, "pool", rows, r, kPool);
  jsonb_field(out, "requester", rows, r, kRequester);
  out.key("meta");
  out.begin_object();
  time_field(out, "createdAt", rows, r, kCreatedAt);
  time_field(out, "lastUpdated", rows, r, kUpdatedAt);
  out.field("versionId", std::to_string(pg::column_int(rows, r, kVersion)));
  out.end_object();
  out.end_object();
}

void render_log_entry(pg::JsonbBuilder &out, const pg::SpiRows &rows, uint64 r,
                      std::string_view task_id) {
  enum { kAt, kKind, kLogExecId, kFrom, kTo, kMessage, kCurrent, kTotal, kUnit };
  out.begin_object();
  out.field("resourceType", "AidboxTaskLog");
  out.key("task");
  out.begin_object();
  out.field("id", task_id);
  out.field("resourceType", "AidboxTask");
  out.end_object();
  const std::string_view kind = pg::column_text(rows, r, kKind);
  out.field("type", kind == "status" ? std::string_view("awf.task/status-changed")
                    : kind == "progress" ? std::string_view("awf.task/progress")
                                         : std::string_view("awf.task/heartbeat"));
  uuid_field(out, "execId", rows, r, kLogExecId);
  text_field(out, "statusFrom", rows, r, kFrom);
  text_field(out, "statusTo", rows, r, kTo);
  text_field(out, "message", rows, r, kMessage);
  int_field(out, "progress-current", rows, r, kCurrent);
  int_field(out, "progress-total", rows, r, kTotal);
  text_field(out, "progress-unit", rows, r, kUnit);
  out.key("meta");
  out.begin_object();
  time_field(out, "createdAt", rows, r, kAt);
  out.end_object();
  out.end_object();
}

}  // namespace awf::task
