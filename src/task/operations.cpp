#include "task/operations.hpp"

#include "core/errors.hpp"
#include "core/format.hpp"
#include "core/wakeup_slots.hpp"
#include "pg/jsonb.hpp"
#include "pg/spi.hpp"
#include "task/claim_marks.hpp"
#include "task/settings.hpp"
#include "task/statements.hpp"
#include "task/task_json.hpp"
#include "wakeup/wakeup.hpp"

namespace awf::task {

namespace {

Datum uuid_datum(const pg_uuid_t &id) { return UUIDPGetDatum(const_cast<pg_uuid_t *>(&id)); }

std::string uuid_string(const pg_uuid_t &id) { return format_uuid(id.data); }

// `{resource: <task>}` from the first row, or `{resources: [<task>...]}` from all rows.
Jsonb *resource_document(const pg::SpiRows &rows, MemoryContext context) {
  pg::JsonbBuilder out;
  out.begin_object();
  out.key("resource");
  render_task(out, rows, 0);
  out.end_object();
  return out.finish(context);
}

Jsonb *resources_document(const pg::SpiRows &rows, MemoryContext context) {
  pg::JsonbBuilder out;
  out.begin_object();
  out.key("resources");
  out.begin_array();
  for (uint64 i = 0; i < rows.count; ++i) render_task(out, rows, i);
  out.end_array();
  out.end_object();
  return out.finish(context);
}

// After a guarded transition matched no row: say exactly why, naming the task. The transition
// changed nothing; this only reads. It reads with a fresh snapshot (read_only = false): the
// transition may have waited on a row lock, and the statement's own snapshot predates the change
// that made it fail (say, a sweep that re-queued the task and cleared its execId).
[[noreturn]] void explain_refused_transition(const char *method, const pg_uuid_t &id,
                                             const pg_uuid_t *exec_id, const char *required) {
  pg::SpiArgs args(1);
  args.set(0, uuid_datum(id));
  pg::SpiRows rows = task_state_statement().execute(args.values(), args.nulls(), false);
  const std::string task = uuid_string(id);
  if (rows.count == 0)
    throw Error(ErrorCode::TaskNotFound, "task \"" + task + "\" not found",
                std::string(method) + " was called for a task that does not exist or was deleted.");
  const std::string status(pg::column_text(rows, 0, 0));
  if (exec_id != nullptr) {
    const bool has_exec = !pg::column_is_null(rows, 0, 1);
    const std::string current = has_exec ? uuid_text(pg::column_datum(rows, 0, 1)) : "";
    const std::string given = uuid_string(*exec_id);
    if (current != given)
      throw Error(ErrorCode::WrongExecId,
                  "task \"" + task + "\": execId \"" + given +
                      "\" is not the task's current execution",
                  "The task is " + status +
                      (has_exec ? " under another execId" : " with no execution in flight") +
                      "; it was re-queued, canceled or claimed by another executor.",
                  "Stop working on this task and poll for new work.");
  }
  throw Error(ErrorCode::InvalidStatus,
              "task \"" + task + "\" is " + status + "; " + method + " needs " + required);
}

// Tasks that this statement made ready wake long-polls once the transaction commits.
void note_if_ready(const pg::SpiRows &rows) {
  for (uint64 i = 0; i < rows.count; ++i)
    if (pg::column_text(rows, i, kStatus) == "ready")
      wakeup::note_ready(pg::column_text(rows, i, kDefinition));
}

}  // namespace

namespace {
// A claim of definitions without concurrency limits, from this backend's claim marks; when the
// marks find nothing, again from the head (see claim_marks.cpp).
pg::SpiRows claim_from_marks(const PollRequest &request, pg::SpiArgs &args, TimestampTz now) {
  ClaimStarts starts = claim_starts(request.definitions, now);
  auto run = [&] {
    args.set(4, pg::nullable_array_datum(starts.priorities, starts.unmarked, INT4OID));
    args.set(5, pg::nullable_array_datum(starts.times, starts.unmarked, TIMESTAMPTZOID));
    return claim_from_mark_statement().execute(args.values(), args.nulls());
  };
  pg::SpiRows rows = run();
  if (rows.count == 0 && starts.any_mark()) {
    starts.drop_marks();
    rows = run();
  }
  note_claim(request.definitions, starts, rows, request.max_batch_size, now);
  return rows;
}
}  // namespace

Jsonb *poll(const PollRequest &request) {
  pg::SpiSession spi;
  const TimestampTz now = GetCurrentTimestamp();
  pg::SpiArgs args(6);
  args.set(0, pg::text_array_datum(request.definitions));
  args.set(1, Int32GetDatum(request.max_batch_size));
  args.set(2, TimestampTzGetDatum(now));
  args.set(3, Int32GetDatum(Settings::requested_to_start_timeout_ms));
  const bool from_marks = Settings::claim_rescan_interval_ms > 0 && !claims_limited(request.definitions);
  pg::SpiRows rows = from_marks ? claim_from_marks(request, args, now)
                                : claim_statement(request.definitions).execute(args.values(), args.nulls());
  Jsonb *out = resources_document(rows, spi.caller_context());
  spi.finish();
  return out;
}

namespace {
bool has_resources(Jsonb *result) {
  auto resources = pg::JsonbObject(result).get("resources");
  return resources && resources->array_size() > 0;
}

long remaining_ms(TimestampTz deadline) {
  return static_cast<long>((deadline - GetCurrentTimestamp() + 999) / 1000);
}

// One attempt of a long-poll. A claim of a concurrency-limited definition takes that definition's
// transaction-scoped lock (awf.claim_limited); an empty attempt must not keep it while this
// backend sleeps and tries again, or every other claimer of that definition would wait for the
// whole long-poll: such an attempt runs in a subtransaction, rolled back when it claims nothing.
// Any other claim takes no lock when empty and runs as it is.
Jsonb *poll_attempt(const PollRequest &request) {
  if (!claims_limited(request.definitions)) return poll(request);  // no lock to give back
  MemoryContext caller = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  pg::pg_call([] { BeginInternalSubTransaction(nullptr); });
  MemoryContextSwitchTo(caller);  // the result outlives the subtransaction
  Jsonb *result = nullptr;
  try {
    result = poll(request);
  } catch (...) {
    pg::pg_call([] { RollbackAndReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(caller);
    CurrentResourceOwner = owner;
    throw;
  }
  const bool claimed = has_resources(result);
  pg::pg_call([claimed] {
    if (claimed)
      ReleaseCurrentSubTransaction();
    else
      RollbackAndReleaseCurrentSubTransaction();
  });
  MemoryContextSwitchTo(caller);
  CurrentResourceOwner = owner;
  return result;
}
}  // namespace

Jsonb *long_poll(const PollRequest &request, int timeout_ms) {
  const TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
  if (!wakeup::available()) {
    // Without shared memory, poll again every interval. Said once per session in the log.
    static bool fallback_logged = false;
    if (!fallback_logged) {
      fallback_logged = true;
      pg::pg_call([] {
        ereport(LOG, (errmsg("pg_awf: awf.task/long-poll is polling every 100 ms because awf is "
                             "not in shared_preload_libraries"),
                      errhint("Add awf to shared_preload_libraries and restart for instant "
                              "wakeups.")));
      });
    }
    for (;;) {
      Jsonb *result = poll_attempt(request);
      const long left = remaining_ms(deadline);
      if (has_resources(result) || left <= 0) return result;
      const long wait_ms = std::min<long>(100, left);
      pg::pg_call([&] {
        int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms,
                           PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        return rc;
      });
    }
  }

  // With shared memory: read the wakeup generations of our definitions *before* polling. A task
  // committed after the poll's snapshot is published after that, so it changes a generation we
  // read and ends the wait; one committed before is seen by the poll.
  std::vector<uint32_t> slots;
  for (const auto &definition : request.definitions) slots.push_back(wakeup_slot(definition));
  std::vector<uint64_t> seen(slots.size());
  for (;;) {
    for (size_t i = 0; i < slots.size(); ++i) seen[i] = wakeup::slot_generation(slots[i]);
    Jsonb *result = poll_attempt(request);
    const long left = remaining_ms(deadline);
    if (has_resources(result) || left <= 0) return result;
    // Re-poll at least every second even without a wakeup: tasks made ready by a prepared
    // transaction or by hand publish nothing.
    const long wait_ms = std::min<long>(1000, left);
    pg::pg_call([&] {
      return wakeup::wait_until(
          [&] {
            for (size_t i = 0; i < slots.size(); ++i)
              if (wakeup::slot_generation(slots[i]) != seen[i]) return true;
            return false;
          },
          wait_ms);
    });
  }
}

Jsonb *start(const pg_uuid_t &id, const pg_uuid_t &exec_id) {
  pg::SpiSession spi;
  pg::SpiArgs args(4);
  args.set(0, uuid_datum(id));
  args.set(1, uuid_datum(exec_id));
  args.set(2, TimestampTzGetDatum(GetCurrentTimestamp()));
  args.set(3, Int32GetDatum(Settings::in_progress_timeout_ms));
  pg::SpiRows rows = start_statement().execute(args.values(), args.nulls());
  if (rows.count == 0) explain_refused_transition("awf.task/start", id, &exec_id, "status requested");
  Jsonb *out = resource_document(rows, spi.caller_context());
  spi.finish();
  return out;
}

Jsonb *notify(const pg_uuid_t &id, const pg_uuid_t &exec_id, const Notification &n) {
  pg::SpiSession spi;
  pg::SpiArgs args(9);
  args.set(0, uuid_datum(id));
  args.set(1, uuid_datum(exec_id));
  args.set(2, TimestampTzGetDatum(GetCurrentTimestamp()));
  args.set(3, Int32GetDatum(Settings::in_progress_timeout_ms));
  args.set(4, pg::text_datum(n.kind));
  if (n.message) args.set(5, pg::text_datum(*n.message));
  if (n.progress_current) args.set(6, Int64GetDatum(*n.progress_current));
  if (n.progress_total) args.set(7, Int64GetDatum(*n.progress_total));
  if (n.progress_unit) args.set(8, pg::text_datum(*n.progress_unit));
  pg::SpiRows rows = notify_statement().execute(args.values(), args.nulls());
  if (rows.count == 0) explain_refused_transition("awf.task/notify", id, &exec_id, "status in-progress");
  pg::JsonbBuilder out;
  out.begin_object();
  out.field("inProgressTimeoutAt", timestamp_text(pg::column_datum(rows, 0, 0)));
  out.end_object();
  Jsonb *doc = out.finish(spi.caller_context());
  spi.finish();
  return doc;
}

Jsonb *success(const pg_uuid_t &id, const pg_uuid_t &exec_id, Jsonb *result) {
  pg::SpiSession spi;
  pg::SpiArgs args(4);
  args.set(0, uuid_datum(id));
  args.set(1, uuid_datum(exec_id));
  args.set(2, TimestampTzGetDatum(GetCurrentTimestamp()));
  if (result) args.set(3, JsonbPGetDatum(result));
  pg::SpiRows rows = success_statement().execute(args.values(), args.nulls());
  if (rows.count == 0) explain_refused_transition("awf.task/success", id, &exec_id, "status in-progress");
  Jsonb *out = resource_document(rows, spi.caller_context());
  spi.finish();
  return out;
}

Jsonb *fail(const pg_uuid_t &id, const pg_uuid_t &exec_id, Jsonb *error) {
  pg::SpiSession spi;
  pg::SpiArgs args(6);
  args.set(0, uuid_datum(id));
  args.set(1, uuid_datum(exec_id));
  args.set(2, TimestampTzGetDatum(GetCurrentTimestamp()));
  if (error) args.set(3, JsonbPGetDatum(error));
  args.set(4, Int32GetDatum(Settings::allowed_retry_count));
  args.set(5, Int32GetDatum(Settings::retry_delay_ms));
  pg::SpiRows rows = fail_statement().execute(args.values(), args.nulls());
  if (rows.count == 0) explain_refused_transition("awf.task/fail", id, &exec_id, "status in-progress");
  note_if_ready(rows);
  Jsonb *out = resource_document(rows, spi.caller_context());
  spi.finish();
  return out;
}

Jsonb *create(const CreateRequest &r) {
  pg::SpiSession spi;
  pg::SpiArgs args(11);
  if (r.id) args.set(0, uuid_datum(*r.id));
  args.set(1, pg::text_datum(r.definition));
  args.set(2, JsonbPGetDatum(r.params));
  if (r.label) args.set(3, pg::text_datum(*r.label));
  if (r.execute_at) args.set(4, TimestampTzGetDatum(*r.execute_at));
  args.set(5, Int32GetDatum(r.priority));
  if (r.requested_to_start_timeout) args.set(6, Int32GetDatum(*r.requested_to_start_timeout));
  if (r.in_progress_timeout) args.set(7, Int32GetDatum(*r.in_progress_timeout));
  if (r.allowed_retry_count) args.set(8, Int32GetDatum(*r.allowed_retry_count));
  if (r.retry_delay) args.set(9, Int32GetDatum(*r.retry_delay));
  args.set(10, TimestampTzGetDatum(GetCurrentTimestamp()));
  pg::SpiRows rows = create_statement().execute(args.values(), args.nulls());
  note_if_ready(rows);
  if (rows.count == 0) {
    // The id exists already: creating is idempotent, so answer with that task, unless it is a
    // task of another definition, which is a conflict, not a repeat. A fresh snapshot: the row
    // may have been committed by a concurrent create that ON CONFLICT waited for.
    pg::SpiArgs get(1);
    get.set(0, uuid_datum(*r.id));
    rows = get_task_statement().execute(get.values(), get.nulls(), false);
    if (rows.count == 0)
      throw Error(ErrorCode::Internal, "task \"" + uuid_string(*r.id) + "\" vanished during create");
    const std::string_view existing = pg::column_text(rows, 0, kDefinition);
    if (existing != r.definition)
      throw Error(ErrorCode::TaskIdConflict,
                  "task \"" + uuid_string(*r.id) + "\" already exists with definition \"" +
                      std::string(existing) + "\", not \"" + r.definition + "\"",
                  "", "Use a new id, or omit id to let pg_awf assign one.");
  }
  Jsonb *out = resource_document(rows, spi.caller_context());
  spi.finish();
  return out;
}

Jsonb *status(const pg_uuid_t &id, bool include_log, bool include_settings) {
  pg::SpiSession spi;
  pg::SpiArgs args(1);
  args.set(0, uuid_datum(id));
  pg::SpiRows task_rows = get_task_statement().execute(args.values(), args.nulls(), true);
  if (task_rows.count == 0)
    throw Error(ErrorCode::TaskNotFound, "task \"" + uuid_string(id) + "\" not found");
  pg::JsonbBuilder out;
  out.begin_object();
  out.key("resource");
  render_task(out, task_rows, 0);
  if (include_log) {
    pg::SpiRows log = task_log_statement().execute(args.values(), args.nulls(), true);
    const std::string task_id = uuid_string(id);
    out.key("log");
    out.begin_array();
    for (uint64 i = 0; i < log.count; ++i) render_log_entry(out, log, i, task_id);
    out.end_array();
  }
  if (include_settings) {
    pg::SpiArgs sargs(5);
    sargs.set(0, uuid_datum(id));
    sargs.set(1, Int32GetDatum(Settings::requested_to_start_timeout_ms));
    sargs.set(2, Int32GetDatum(Settings::in_progress_timeout_ms));
    sargs.set(3, Int32GetDatum(Settings::allowed_retry_count));
    sargs.set(4, Int32GetDatum(Settings::retry_delay_ms));
    pg::SpiRows s = task_settings_statement().execute(sargs.values(), sargs.nulls(), true);
    if (s.count == 1) {
      out.key("settings");
      out.begin_object();
      const char *int_keys[] = {"requestedToStartTimeout", "inProgressTimeout",
                                "allowedRetryCount", "retryDelay"};
      for (int c = 0; c < 4; ++c) {
        out.key(int_keys[c]);
        out.number(pg::column_int(s, 0, c));
      }
      if (!pg::column_is_null(s, 0, 4)) out.field("pool", pg::column_text(s, 0, 4));
      if (!pg::column_is_null(s, 0, 5)) {
        out.key("concurrencyLimit");
        out.number(pg::column_int(s, 0, 5));
      }
      out.end_object();
    }
  }
  out.end_object();
  Jsonb *doc = out.finish(spi.caller_context());
  spi.finish();
  return doc;
}

Jsonb *cancel(const pg_uuid_t &id) {
  pg::SpiSession spi;
  pg::SpiArgs args(2);
  args.set(0, uuid_datum(id));
  args.set(1, TimestampTzGetDatum(GetCurrentTimestamp()));
  pg::SpiRows rows = cancel_statement().execute(args.values(), args.nulls());
  if (rows.count == 0) explain_refused_transition("awf.task/cancel", id, nullptr, "a task that is not done");
  Jsonb *out = resource_document(rows, spi.caller_context());
  spi.finish();
  return out;
}

Jsonb *list(const ListRequest &r) {
  pg::SpiSession spi;
  pg::SpiArgs args(7);
  if (r.include_definitions) args.set(0, pg::text_array_datum(*r.include_definitions));
  if (r.exclude_definitions) args.set(1, pg::text_array_datum(*r.exclude_definitions));
  if (r.statuses) args.set(2, pg::text_array_datum(*r.statuses));
  if (r.outcomes) args.set(3, pg::text_array_datum(*r.outcomes));
  if (r.ilike) {
    // A plain substring: escape LIKE's wildcards so user text matches literally.
    std::string pattern = "%";
    for (char c : *r.ilike) {
      if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
      pattern.push_back(c);
    }
    pattern.push_back('%');
    args.set(4, pg::text_datum(pattern));
  }
  args.set(5, Int32GetDatum(r.count));
  args.set(6, Int32GetDatum((r.page - 1) * r.count));
  pg::SpiRows rows = list_statement(r.sort).execute(args.values(), args.nulls(), true);
  Jsonb *out = resources_document(rows, spi.caller_context());
  spi.finish();
  return out;
}

}  // namespace awf::task
