// The typed SQL functions of the task lifecycle (awf.task_poll, awf.task_start, ...). Each is a
// thin extern "C" shim that runs its C++ body through pg::invoke; the bodies validate arguments
// (naming them as the API documents them) and call the operations in task/.
#include <algorithm>

#include "core/cron.hpp"
#include "core/format.hpp"
#include "core/wakeup_slots.hpp"
#include "core/workflow_names.hpp"
#include "pg/jsonb.hpp"
#include "core/validate.hpp"
#include "pg/args.hpp"
#include "pg/guard.hpp"
#include "task/operations.hpp"
#include "task/timers.hpp"
#include "wakeup/wakeup.hpp"

extern "C" {
#include "utils/acl.h"
}

namespace awf {
namespace {

using pg::bool_arg;
using pg::int_arg;
using pg::jsonb_arg;
using pg::text_arg;
using pg::text_array_arg;
using pg::uuid_arg;

pg_uuid_t required_uuid(FunctionCallInfo fcinfo, int n, const char *method, const char *key) {
  auto id = uuid_arg(fcinfo, n);
  if (!id) throw_invalid_param(method, key, "is required");
  return *id;
}

// Objects only: result, error and params are documented as objects.
Jsonb *object_arg(FunctionCallInfo fcinfo, int n, const char *method, const char *key) {
  Jsonb *doc = jsonb_arg(fcinfo, n);
  if (doc != nullptr && (!JB_ROOT_IS_OBJECT(doc) || JB_ROOT_IS_SCALAR(doc)))
    throw_invalid_param(method, key, "must be an object");
  return doc;
}

void check_statuses(const char *method, const char *key, const std::vector<std::string> &values,
                    std::initializer_list<std::string_view> allowed) {
  for (const auto &v : values) {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list.append(list.empty() ? "" : ", ").append(a);
      throw_invalid_param(method, key, "has unknown value \"" + v + "\"; expected one of " + list);
    }
  }
}

task::PollRequest poll_request(FunctionCallInfo fcinfo, const char *method) {
  task::PollRequest request;
  auto task_definitions = text_array_arg(fcinfo, 0, method, "taskDefinitions");
  auto workflow_definitions = text_array_arg(fcinfo, 1, method, "workflowDefinitions");
  const bool none = (!task_definitions || task_definitions->empty()) &&
                    (!workflow_definitions || workflow_definitions->empty());
  if (none)
    throw Error(ErrorCode::InvalidParams,
                std::string(method) + ": give \"taskDefinitions\" or \"workflowDefinitions\"",
                "Both are missing or empty, so there is nothing to poll.");
  for (const auto *defs : {&task_definitions, &workflow_definitions}) {
    if (!*defs) continue;
    const char *key = defs == &task_definitions ? "taskDefinitions" : "workflowDefinitions";
    if (static_cast<int64_t>((*defs)->size()) > Limits::kMaxDefinitions)
      throw_invalid_param(method, key,
                          "names " + std::to_string((*defs)->size()) + " definitions; at most " +
                              std::to_string(Limits::kMaxDefinitions) + " are allowed");
    for (const auto &name : **defs) check_name(method, key, name);
  }
  if (task_definitions)
    for (const auto &name : *task_definitions)
      if (auto why = unpollable_reason(name); !why.empty())
        throw_invalid_param(method, "taskDefinitions", "\"" + name.substr(0, 64) + "\" " + std::string(why));
  if (task_definitions) request.definitions = *task_definitions;
  // Decision tasks of those workflows: queued under their own definition (core/workflow_names.hpp).
  if (workflow_definitions)
    for (const auto &name : *workflow_definitions) request.definitions.push_back(decision_queue(name));
  std::sort(request.definitions.begin(), request.definitions.end());
  request.definitions.erase(std::unique(request.definitions.begin(), request.definitions.end()),
                            request.definitions.end());
  request.max_batch_size = int_arg(fcinfo, 2).value_or(1);
  check_range(method, "maxBatchSize", request.max_batch_size, 1, Limits::kMaxBatchSize);
  return request;
}

Datum task_poll(FunctionCallInfo fcinfo) {
  return JsonbPGetDatum(task::poll(poll_request(fcinfo, "awf.task/poll")));
}

Datum task_long_poll(FunctionCallInfo fcinfo) {
  const char *method = "awf.task/long-poll";
  task::PollRequest request = poll_request(fcinfo, method);
  const int timeout = int_arg(fcinfo, 3).value_or(60000);
  check_range(method, "timeout", timeout, 0, Limits::kMaxLongPollTimeoutMs);
  return JsonbPGetDatum(task::long_poll(request, timeout));
}

Datum task_start(FunctionCallInfo fcinfo) {
  const char *method = "awf.task/start";
  // Read in order (not as call arguments, whose order C++ leaves open) so "id" is named first.
  const pg_uuid_t id = required_uuid(fcinfo, 0, method, "id");
  const pg_uuid_t exec_id = required_uuid(fcinfo, 1, method, "execId");
  return JsonbPGetDatum(task::start(id, exec_id));
}

Datum task_notify(FunctionCallInfo fcinfo) {
  const char *method = "awf.task/notify";
  const pg_uuid_t id = required_uuid(fcinfo, 0, method, "id");
  const pg_uuid_t exec_id = required_uuid(fcinfo, 1, method, "execId");
  task::Notification n;
  auto kind = text_arg(fcinfo, 2);
  if (!kind) throw_invalid_param(method, "notification", "is required (heartbeat or progress)");
  if (*kind == "heartbeat" || *kind == "awf.task/heartbeat")
    n.kind = "heartbeat";
  else if (*kind == "progress" || *kind == "awf.task/progress")
    n.kind = "progress";
  else
    throw_invalid_param(method, "notification",
                        "must be heartbeat or progress (also awf.task/heartbeat, "
                        "awf.task/progress), got \"" + kind->substr(0, 64) + "\"");
  n.message = text_arg(fcinfo, 3);
  if (n.message) check_length(method, "message", *n.message, Limits::kMaxMessageLength);
  n.progress_current = pg::bigint_arg(fcinfo, 4);
  n.progress_total = pg::bigint_arg(fcinfo, 5);
  n.progress_unit = text_arg(fcinfo, 6);
  if (n.progress_unit) check_length(method, "progress-unit", *n.progress_unit, Limits::kMaxNameLength);
  if (n.kind == "progress" && !n.progress_current)
    throw_invalid_param(method, "progress-current", "is required for a progress notification");
  return JsonbPGetDatum(task::notify(id, exec_id, n));
}

Datum task_success(FunctionCallInfo fcinfo) {
  const char *method = "awf.task/success";
  const pg_uuid_t id = required_uuid(fcinfo, 0, method, "id");
  const pg_uuid_t exec_id = required_uuid(fcinfo, 1, method, "execId");
  // An object, or an array: a decision task's result may be its bare list of actions.
  Jsonb *result = jsonb_arg(fcinfo, 2);
  if (result != nullptr && JB_ROOT_IS_SCALAR(result))
    throw_invalid_param(method, "result", "must be an object (or, for a decision task, an array of actions)");
  return JsonbPGetDatum(task::success(id, exec_id, result));
}

Datum task_fail(FunctionCallInfo fcinfo) {
  const char *method = "awf.task/fail";
  const pg_uuid_t id = required_uuid(fcinfo, 0, method, "id");
  const pg_uuid_t exec_id = required_uuid(fcinfo, 1, method, "execId");
  return JsonbPGetDatum(task::fail(id, exec_id, object_arg(fcinfo, 2, method, "error")));
}

Datum task_create(FunctionCallInfo fcinfo) {
  const char *method = "awf.task/create";
  task::CreateRequest r;
  auto definition = text_arg(fcinfo, 0);
  if (!definition) throw_invalid_param(method, "definition", "is required");
  check_name(method, "definition", *definition);
  if (definition->compare(0, kWorkflowReservedPrefix.size(), kWorkflowReservedPrefix) == 0)
    throw_invalid_param(method, "definition",
                        "\"" + definition->substr(0, 64) + "\" is reserved: the workflow engine makes its tasks");
  // A clean-up deletes history, as retention does: for awf_admin only. The caller is the outer
  // user (SET ROLE, the bridge's client role), not the owner this SECURITY DEFINER function runs as.
  if (*definition == "awf.task/clean-up-activities" && !pg::pg_call([] {
        const Oid admin = get_role_oid("awf_admin", true);
        return OidIsValid(admin) && has_privs_of_role(GetOuterUserId(), admin);
      }))
    throw pg::PgError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                      "permission denied for awf.task/create of awf.task/clean-up-activities", "",
                      "Only awf_admin may delete history; use a scheduler rule or an admin client.");
  r.definition = *definition;
  r.params = object_arg(fcinfo, 1, method, "params");
  if (r.params == nullptr)
    r.params = pg::empty_jsonb_object();
  r.id = uuid_arg(fcinfo, 2);
  r.label = text_arg(fcinfo, 3);
  if (r.label) check_length(method, "label", *r.label, Limits::kMaxLabelLength);
  r.execute_at = pg::timestamptz_arg(fcinfo, 4);
  if (r.execute_at && (TIMESTAMP_NOT_FINITE(*r.execute_at)))
    throw_invalid_param(method, "executeAt", "must be a finite timestamp");
  r.priority = int_arg(fcinfo, 5).value_or(0);
  r.requested_to_start_timeout = int_arg(fcinfo, 6);
  r.in_progress_timeout = int_arg(fcinfo, 7);
  r.allowed_retry_count = int_arg(fcinfo, 8);
  r.retry_delay = int_arg(fcinfo, 9);
  if (r.requested_to_start_timeout)
    check_range(method, "requestedToStartTimeout", *r.requested_to_start_timeout, 1, Limits::kMaxDurationMs);
  if (r.in_progress_timeout)
    check_range(method, "inProgressTimeout", *r.in_progress_timeout, 1, Limits::kMaxDurationMs);
  if (r.allowed_retry_count)
    check_range(method, "allowedRetryCount", *r.allowed_retry_count, 0, Limits::kMaxRetryCount);
  if (r.retry_delay) check_range(method, "retryDelay", *r.retry_delay, 0, Limits::kMaxDurationMs);
  return JsonbPGetDatum(task::create(r));
}

Datum task_status(FunctionCallInfo fcinfo) {
  const char *method = "awf.task/status";
  const pg_uuid_t id = required_uuid(fcinfo, 0, method, "id");
  const bool include_log = bool_arg(fcinfo, 1).value_or(false);
  const bool include_settings = bool_arg(fcinfo, 2).value_or(false);
  return JsonbPGetDatum(task::status(id, include_log, include_settings));
}

Datum task_cancel(FunctionCallInfo fcinfo) {
  return JsonbPGetDatum(task::cancel(required_uuid(fcinfo, 0, "awf.task/cancel", "id")));
}

Datum task_list(FunctionCallInfo fcinfo) {
  const char *method = "awf.task/list";
  task::ListRequest r;
  r.include_definitions = text_array_arg(fcinfo, 0, method, "includeDefinitions");
  r.exclude_definitions = text_array_arg(fcinfo, 1, method, "excludeDefinitions");
  r.statuses = text_array_arg(fcinfo, 2, method, "status");
  if (r.statuses)
    check_statuses(method, "status", *r.statuses,
                   {"created", "waiting", "ready", "requested", "in-progress", "done"});
  r.outcomes = text_array_arg(fcinfo, 3, method, "outcome");
  if (r.outcomes) check_statuses(method, "outcome", *r.outcomes, {"succeeded", "failed", "canceled"});
  // Each filter value is compared with every row it reads: bound them, as awf.rpc does.
  const std::pair<const char *, const std::optional<std::vector<std::string>> *> filters[] = {
      {"includeDefinitions", &r.include_definitions}, {"excludeDefinitions", &r.exclude_definitions},
      {"status", &r.statuses}, {"outcome", &r.outcomes}};
  for (const auto &[key, values] : filters)
    if (*values && static_cast<int64_t>((*values)->size()) > Limits::kMaxListFilter)
      throw_invalid_param(method, key,
                          "has " + std::to_string((*values)->size()) + " values; at most " +
                              std::to_string(Limits::kMaxListFilter) + " are allowed");
  r.ilike = text_arg(fcinfo, 4);
  if (r.ilike) check_length(method, "ilike", *r.ilike, Limits::kMaxNameLength);
  const std::string sort_by = text_arg(fcinfo, 5).value_or("createdAt");
  const std::string order = text_arg(fcinfo, 6).value_or("desc");
  if (sort_by != "createdAt" && sort_by != "lastUpdated")
    throw_invalid_param(method, "sort", "must sort by createdAt or lastUpdated, got \"" + sort_by.substr(0, 64) + "\"");
  if (order != "asc" && order != "desc")
    throw_invalid_param(method, "sort", "order must be asc or desc, got \"" + order.substr(0, 64) + "\"");
  r.sort = (sort_by == "lastUpdated" ? 2 : 0) + (order == "desc" ? 1 : 0);
  r.count = int_arg(fcinfo, 7).value_or(50);
  check_range(method, "count", r.count, 1, Limits::kMaxListCount);
  r.page = int_arg(fcinfo, 8).value_or(1);
  check_range(method, "page", r.page, 1, 1000000);
  return JsonbPGetDatum(task::list(r));
}

Datum tick(FunctionCallInfo fcinfo) {
  const int batch = int_arg(fcinfo, 0).value_or(1000);
  check_range("awf.tick", "batch_size", batch, 1, 100000);
  MemoryContext caller = CurrentMemoryContext;
  return JsonbPGetDatum(task::sweep_document(task::sweep(batch, /*from_marks=*/false), caller));
}

// awf.wait_ready(since, timeout): for the bridge. Waits (at most a second, so that it never holds
// a snapshot for long) until something was published after generation `since`, and returns
// {"epoch": E, "generation": G, "slots": [{"slot": s, "generation": g, "readied": n}, ...]} for the
// slots published after `since`. since NULL returns the current state at once. A new epoch means
// the counters restarted (PostgreSQL restarted): the caller must start over from this answer.
Datum wait_ready(FunctionCallInfo fcinfo) {
  const char *method = "awf.wait_ready";
  if (!wakeup::available())
    throw Error(ErrorCode::NotPreloaded,
                "awf.wait_ready needs awf in shared_preload_libraries",
                "Wakeups live in shared memory, which only a preloaded library can reserve.",
                "Add awf to shared_preload_libraries and restart PostgreSQL.");
  const std::optional<int64> since = pg::bigint_arg(fcinfo, 0);
  const int timeout = int_arg(fcinfo, 1).value_or(1000);
  check_range(method, "timeout", timeout, 0, 1000);
  if (since) {
    check_range(method, "since", *since, 0, INT64_MAX);
    const uint64_t after = static_cast<uint64_t>(*since);
    // A `since` ahead of the counter is from before a restart: answer at once, so the caller sees
    // the new epoch and starts over.
    pg::pg_call([&] {
      return wakeup::wait_until(
          [&] { return wakeup::generation() != after; }, after > wakeup::generation() ? 0 : timeout);
    });
  }
  std::vector<wakeup::SlotState> changed;
  const uint64_t generation = wakeup::snapshot(since ? static_cast<uint64_t>(*since) : 0, changed);
  pg::JsonbBuilder out;
  out.begin_object();
  out.field("epoch", std::to_string(wakeup::epoch()));
  out.key("generation");
  out.number(static_cast<int64>(generation));
  out.key("slots");
  out.begin_array();
  for (const auto &slot : changed) {
    out.begin_object();
    out.key("slot");
    out.number(slot.slot);
    out.key("generation");
    out.number(static_cast<int64>(slot.generation));
    out.key("readied");
    out.number(static_cast<int64>(slot.readied));
    out.end_object();
  }
  out.end_array();
  out.end_object();
  return JsonbPGetDatum(out.finish(CurrentMemoryContext));
}

// awf.wakeup_note(definition): for the SQL functions that make tasks ready (XINA run, sequences).
// awf.wakeup_note(definition, count): count tasks at once (bulk enqueue).
Datum wakeup_note(FunctionCallInfo fcinfo) {
  auto name = text_arg(fcinfo, 0);
  const int count = PG_NARGS() > 1 ? int_arg(fcinfo, 1).value_or(1) : 1;
  if (name && count > 0) wakeup::note_ready(*name, static_cast<uint32_t>(count));
  return (Datum)0;
}

// awf.cron_next(schedule, after): the scheduler's next fire time (core/cron.hpp); NULL if none.
Datum cron_next(FunctionCallInfo fcinfo) {
  const std::string schedule = *text_arg(fcinfo, 0);  // STRICT: never NULL
  const TimestampTz after = *pg::timestamptz_arg(fcinfo, 1);  // STRICT: never NULL
  std::string error;
  auto cron = CronSchedule::parse(schedule, &error);
  if (!cron)
    throw Error(ErrorCode::InvalidParams, "schedule \"" + schedule.substr(0, 64) + "\": " + error,
                "", "A cron expression: minute hour day-of-month month day-of-week, with an optional "
                    "leading second (e.g. \"*/5 * * * *\", \"* * * * * *\").");
  if (TIMESTAMP_NOT_FINITE(after)) throw_invalid_param("awf.cron_next", "after", "must be finite");
  // TimestampTz counts microseconds since 2000-01-01; cron counts whole seconds since 1970.
  constexpr int64 kEpochShift = (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
  const int64 after_s = after / USECS_PER_SEC - (after % USECS_PER_SEC < 0 ? 1 : 0) + kEpochShift;
  const int64_t next = cron->next_after(after_s);
  if (next == -1) {
    fcinfo->isnull = true;
    return (Datum)0;
  }
  return TimestampTzGetDatum((next - kEpochShift) * USECS_PER_SEC);
}

// awf.definitions_changed(): the statement trigger on awf.definition. Backends that cached which
// definitions have a concurrency limit read them again after this transaction commits.
Datum definitions_changed(FunctionCallInfo) {
  wakeup::note_definition_change();
  return PointerGetDatum(nullptr);
}

Datum definition_slot(FunctionCallInfo fcinfo) {
  auto name = text_arg(fcinfo, 0);
  if (!name) throw_invalid_param("awf.definition_slot", "definition", "is required");
  return Int32GetDatum(static_cast<int32>(wakeup_slot(*name)));
}

}  // namespace
}  // namespace awf

#define AWF_ENTRY_POINT(sql_name, body)                                              \
  extern "C" {                                                                       \
  PG_FUNCTION_INFO_V1(sql_name);                                                     \
  Datum sql_name(PG_FUNCTION_ARGS) { return awf::pg::invoke(fcinfo, body); }         \
  }

AWF_ENTRY_POINT(awf_task_poll, awf::task_poll)
AWF_ENTRY_POINT(awf_task_long_poll, awf::task_long_poll)
AWF_ENTRY_POINT(awf_task_start, awf::task_start)
AWF_ENTRY_POINT(awf_task_notify, awf::task_notify)
AWF_ENTRY_POINT(awf_task_success, awf::task_success)
AWF_ENTRY_POINT(awf_task_fail, awf::task_fail)
AWF_ENTRY_POINT(awf_task_create, awf::task_create)
AWF_ENTRY_POINT(awf_task_status, awf::task_status)
AWF_ENTRY_POINT(awf_task_cancel, awf::task_cancel)
AWF_ENTRY_POINT(awf_task_list, awf::task_list)
AWF_ENTRY_POINT(awf_tick, awf::tick)
AWF_ENTRY_POINT(awf_wait_ready, awf::wait_ready)
AWF_ENTRY_POINT(awf_definition_slot, awf::definition_slot)
AWF_ENTRY_POINT(awf_wakeup_note, awf::wakeup_note)
AWF_ENTRY_POINT(awf_cron_next, awf::cron_next)
AWF_ENTRY_POINT(awf_definitions_changed, awf::definitions_changed)
