// Loading the awf module: GUCs first (so plain CREATE EXTENSION works without preload), then the
// parts that only exist when loaded through shared_preload_libraries.
#include "pg/postgres.hpp"
#include "task/settings.hpp"
#include "task/statements.hpp"
#include "wakeup/wakeup.hpp"
#include "worker/worker.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace awf {

void register_rpc_invalidation();

int Settings::requested_to_start_timeout_ms = 10000;
int Settings::in_progress_timeout_ms = 120000;
int Settings::allowed_retry_count = 2;
int Settings::retry_delay_ms = 10000;
int Settings::retention_s = 86400;
int Settings::nlflow_trace_retention_s = 86400;
int Settings::claim_rescan_interval_ms = 1000;

void define_settings() {
  // PGC_SUSET: a timeout default decides when an executor loses its task, so only a superuser
  // (postgresql.conf, ALTER SYSTEM/DATABASE/ROLE) may change it, not the executor's session.
  DefineCustomIntVariable(
      "awf.default_requested_to_start_timeout",
      "Milliseconds a claimed (requested) task may wait for awf.task/start before it is re-queued.",
      "Used when neither the task nor its row in awf.definition sets requestedToStartTimeout.",
      &Settings::requested_to_start_timeout_ms, 10000, 1, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr,
      nullptr, nullptr);
  DefineCustomIntVariable(
      "awf.default_in_progress_timeout",
      "Milliseconds an in-progress task may go without a notify before it times out.",
      "Used when neither the task nor its row in awf.definition sets inProgressTimeout.",
      &Settings::in_progress_timeout_ms, 120000, 1, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr,
      nullptr, nullptr);
  DefineCustomIntVariable(
      "awf.default_allowed_retry_count",
      "Retries after the first attempt (2 allows three attempts).",
      "Used when neither the task nor its row in awf.definition sets allowedRetryCount.",
      &Settings::allowed_retry_count, 2, 0, 1000, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "awf.default_retry_delay", "Milliseconds a failed task waits before it is ready again.",
      "Used when neither the task nor its row in awf.definition sets retryDelay.",
      &Settings::retry_delay_ms, 10000, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr,
      nullptr);
  DefineCustomIntVariable(
      "awf.retention", "How long done tasks and their logs are kept before they are deleted.",
      "Counted from the time the task finished. 0 keeps them forever.", &Settings::retention_s,
      86400, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "awf.nlflow_trace_retention",
      "How long the traces of an NL Flow task (the task, its log, input and outcome) are kept.",
      "Counted from the time the task was created, whatever its status. 0 keeps them forever.",
      &Settings::nlflow_trace_retention_s, 86400, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
      nullptr);
  DefineCustomIntVariable(
      "awf.claim_rescan_interval",
      "How long a backend's claims of a definition may start past the tasks it claimed last.",
      "A claim reads the definition's ready tasks from the head at least this often, and whenever "
      "its mark finds nothing; in between, a task that became ready behind the mark with the same "
      "priority (re-queued, or with an executeAt in the past) waits at most this long. 0 reads "
      "from the head always.",
      &Settings::claim_rescan_interval_ms, 1000, 0, 3600000, PGC_USERSET, GUC_UNIT_MS, nullptr,
      nullptr, nullptr);
}

}  // namespace awf

void _PG_init(void) {
  awf::define_settings();
  awf::worker::define_settings();
  MarkGUCPrefixReserved("awf");
  awf::register_rpc_invalidation();
  awf::task::register_statement_invalidation();
  awf::wakeup::register_hooks();
  if (!process_shared_preload_libraries_in_progress) return;
  // Only when preloaded: shared memory for wakeups, and the background worker.
  awf::wakeup::request_shared_memory();
  awf::worker::register_worker();
}
