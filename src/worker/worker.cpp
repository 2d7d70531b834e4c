#include "worker/worker.hpp"

#include "pg/guard.hpp"
#include "task/timers.hpp"

extern "C" {
#include "access/relation.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/bufmgr.h"
#include "tcop/tcopprot.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
}

namespace awf::worker {

char *database = nullptr;
int tick_interval_ms = 200;
int batch_size = 1000;

void define_settings() {
  // A PGC_POSTMASTER setting may only be defined while preloading (defining it later is FATAL),
  // and only the preloaded library runs the worker that reads it.
  if (process_shared_preload_libraries_in_progress)
    DefineCustomStringVariable(
        "awf.database",
        "Database in which the pg_awf background worker runs the time-driven work.",
        "The extension must be installed there. Takes effect at server start.", &database,
        "postgres", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "awf.tick_interval",
      "Milliseconds between two sweeps of the background worker (timeouts, retries, retention).",
      "Each timer fires at most this late.", &tick_interval_ms, 200, 10, 60000, PGC_SIGHUP,
      GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "awf.batch_size", "Most tasks one sweep step moves or deletes in one transaction.",
      "A full batch makes the worker sweep again at once instead of sleeping.", &batch_size, 1000,
      1, 100000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
}

void register_worker() {
  BackgroundWorker worker;
  memset(&worker, 0, sizeof worker);
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
  worker.bgw_restart_time = 1;  // seconds; after a crash or pg_terminate_backend
  snprintf(worker.bgw_library_name, BGW_MAXLEN, "awf");
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "awf_worker_main");
  snprintf(worker.bgw_name, BGW_MAXLEN, "pg_awf worker");
  snprintf(worker.bgw_type, BGW_MAXLEN, "pg_awf worker");
  RegisterBackgroundWorker(&worker);
}

namespace {

// One sweep, C++ inside, errors re-raised as ERROR once the C++ frames are gone.
task::SweepResult guarded_sweep(int batch) {
  pg::SavedError error;
  bool failed = false;
  task::SweepResult result;
  try {
    result = task::sweep(batch, /*from_marks=*/true);
  } catch (...) {
    failed = true;
    pg::save_error(error, std::current_exception());
  }
  if (failed) pg::raise_saved_error(error);
  return result;
}

// Every statement of awf is planned once per backend (a generic plan), on the size its tables had
// then. A plan made while awf.task was a few pages reads it whole (a sequential scan is the cheapest
// way through 10 pages), and PostgreSQL replans only when autovacuum next updates the table's
// statistics, a minute or more later: a queue that started empty ran its first minute several
// times slower (the claim scanned every task). So when awf.task or awf.task_log has grown 4-fold
// since the worker last looked, it invalidates the table's relcache entry at commit, and every
// backend replans on the next use, on the size the table has now. Called inside the tick's
// transaction, with the same no-destructor rule as run_tick.
struct GrowthWatch {
  const char *table;
  BlockNumber replanned_at;  // blocks when plans were last invalidated (or the table shrank)
};
GrowthWatch growth_watch[] = {{"task", 0}, {"task_log", 0}};

void replan_grown_tables() {
  const Oid schema = get_namespace_oid("awf", true);
  if (!OidIsValid(schema)) return;
  for (GrowthWatch &watch : growth_watch) {
    const Oid table = get_relname_relid(watch.table, schema);
    if (!OidIsValid(table)) continue;
    Relation rel = relation_open(table, AccessShareLock);
    const BlockNumber blocks = RelationGetNumberOfBlocks(rel);
    relation_close(rel, AccessShareLock);
    if (blocks < watch.replanned_at) watch.replanned_at = blocks;  // truncated: plans start small
    if (blocks >= 8 && blocks >= 4 * watch.replanned_at) {
      CacheInvalidateRelcacheByRelid(table);
      watch.replanned_at = blocks;
    }
  }
}

// One transaction: returns true when a step filled its batch (more work is likely waiting).
// It runs under the PG_TRY of awf_worker_main and keeps no object with a destructor on its frame,
// so its PostgreSQL calls may ereport straight to that handler; the C++ sweep itself goes through
// guarded_sweep, which turns exceptions into ERRORs only after its C++ frames are gone.
bool run_tick(MemoryContext tick_context, bool *missing_extension_logged) {
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  PushActiveSnapshot(GetTransactionSnapshot());
  pgstat_report_activity(STATE_RUNNING, "pg_awf: sweep");
  const int batch = batch_size;
  task::SweepResult result;
  bool installed = OidIsValid(get_extension_oid("awf", true));
  if (installed) {
    MemoryContext old = MemoryContextSwitchTo(tick_context);
    result = guarded_sweep(batch);
    MemoryContextSwitchTo(old);
    replan_grown_tables();
    *missing_extension_logged = false;
  } else if (!*missing_extension_logged) {
    elog(LOG, "pg_awf worker: extension \"awf\" is not installed in database \"%s\"; "
              "waiting for CREATE EXTENSION awf",
         database);
    *missing_extension_logged = true;
  }
  PopActiveSnapshot();
  CommitTransactionCommand();
  pgstat_report_activity(STATE_IDLE, nullptr);
  pgstat_report_stat(false);
  MemoryContextReset(tick_context);
  if (result.total() > 0)
    elog(DEBUG1,
         "pg_awf worker: promoted %lld, requeued %lld, timed out %lld, deleted %lld, "
         "past deadline %lld, NL Flow traces deleted %lld, XINA concluded %lld, built-ins run %lld, "
         "scheduled %lld, workflows deleted %lld",
         static_cast<long long>(result.promoted), static_cast<long long>(result.requeued),
         static_cast<long long>(result.timed_out), static_cast<long long>(result.deleted),
         static_cast<long long>(result.deadline_exceeded), static_cast<long long>(result.traces_deleted),
         static_cast<long long>(result.concluded), static_cast<long long>(result.builtins_run),
         static_cast<long long>(result.scheduled), static_cast<long long>(result.workflows_deleted));
  return result.any_full(batch);
}

}  // namespace
}  // namespace awf::worker

void awf_worker_main(Datum) {
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnection(awf::worker::database, nullptr, 0);
  pgstat_report_appname("pg_awf worker");
  // Statements are schema-qualified; pin the path anyway, as the SQL functions do.
  SetConfigOption("search_path", "pg_catalog, awf, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
  // Its statements are prepared once with parameter LIMITs, which the planner overestimates; in a
  // table of millions of tasks that passes jit_above_cost, and JIT would cost more than each sweep.
  SetConfigOption("jit", "off", PGC_SUSET, PGC_S_OVERRIDE);
  elog(LOG, "pg_awf worker started in database \"%s\", sweeping every %d ms",
       awf::worker::database, awf::worker::tick_interval_ms);

  MemoryContext tick_context =
      AllocSetContextCreate(TopMemoryContext, "pg_awf worker tick", ALLOCSET_DEFAULT_SIZES);
  bool missing_extension_logged = false;
  for (;;) {
    volatile bool more = false;
    // An ERROR in a sweep (say, the extension was dropped under us) is reported and the sweep
    // retried after a pause, instead of exiting and being restarted by the postmaster.
    PG_TRY();
    {
      more = awf::worker::run_tick(tick_context, &missing_extension_logged);
    }
    PG_CATCH();
    {
      HOLD_INTERRUPTS();
      MemoryContextSwitchTo(TopMemoryContext);
      EmitErrorReport();
      AbortOutOfAnyTransaction();
      FlushErrorState();
      MemoryContextReset(tick_context);
      pgstat_report_activity(STATE_IDLE, nullptr);
      RESUME_INTERRUPTS();
      more = false;
      pg_usleep(1000000L);
    }
    PG_END_TRY();
    if (!more) {
      (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                      awf::worker::tick_interval_ms, PG_WAIT_EXTENSION);
      ResetLatch(MyLatch);
    }
    CHECK_FOR_INTERRUPTS();
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
    }
  }
}
