// The time-driven transitions: waiting -> ready at executeAt, requested -> ready after
// requestedToStartTimeout, in-progress -> waiting/done after inProgressTimeoutAt, and retention of
// done tasks; then the API surfaces' work (awf.sweep_surfaces: deadlines, NL Flow traces). Each step takes at most `batch` rows with SKIP LOCKED, so a sweep never waits for
// (or deadlocks with) an executor holding a task; a locked task is handled on a later sweep.
#pragma once

#include <initializer_list>

#include "pg/postgres.hpp"

namespace awf::task {

struct SweepResult {
  int64 promoted = 0;   // waiting -> ready
  int64 requeued = 0;   // requested -> ready (start deadline passed)
  int64 timed_out = 0;  // in-progress -> waiting/ready/done (inProgressTimeoutAt passed)
  int64 deleted = 0;    // done tasks past retention, with their logs
  int64 deadline_exceeded = 0;  // unfinished tasks past their deadline -> done/failed
  int64 traces_deleted = 0;     // NL Flow tasks past awf.nlflow_trace_retention
  int64 concluded = 0;          // XINA tasks whose delayed conclude came due
  int64 builtins_run = 0;       // built-in tasks (awf.task/wait, clean-up-activities) finished
  int64 scheduled = 0;          // tasks and workflows made by scheduler rules
  int64 workflows_deleted = 0;  // done workflows past retention

  int64 total() const {
    return promoted + requeued + timed_out + deleted + deadline_exceeded + traces_deleted +
           concluded + builtins_run + scheduled + workflows_deleted;
  }
  // Some step filled its batch: more may be due, so the worker sweeps again at once.
  bool any_full(int64 batch) const {
    for (int64 n : {promoted, requeued, timed_out, deleted, deadline_exceeded, traces_deleted,
                    concluded, builtins_run, scheduled, workflows_deleted})
      if (n >= batch) return true;
    return false;
  }
};

// Runs one sweep inside the caller's transaction. The worker sweeps its timers from where its last
// sweeps ended (from_marks, see timers.cpp); awf.tick() reads every timer from the start.
SweepResult sweep(int batch, bool from_marks);

// The sweep as a jsonb summary, for awf.tick().
Jsonb *sweep_document(const SweepResult &result, MemoryContext context);

}  // namespace awf::task
