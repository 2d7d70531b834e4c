// The pg_awf background worker: one per cluster, connected to the database named by awf.database.
// Every awf.tick_interval it runs the timer sweep (task/timers.hpp) in a transaction of its own,
// at once again while a sweep step came back with a full batch.
#pragma once

#include "pg/postgres.hpp"

namespace awf::worker {

extern char *database;    // awf.database
extern int tick_interval_ms;  // awf.tick_interval
extern int batch_size;    // awf.batch_size

void define_settings();
// Registers the worker; only while shared_preload_libraries is being processed.
void register_worker();

}  // namespace awf::worker

extern "C" {
PGDLLEXPORT void awf_worker_main(Datum argument);
}
