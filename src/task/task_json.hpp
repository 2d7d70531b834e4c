// Renders rows of awf.task and awf.task_log as the AidboxTask / AidboxTaskLog documents of seed 002:
// camelCase keys, absent keys rather than nulls, ISO-8601 UTC timestamps with microseconds.
#pragma once

#include "pg/jsonb.hpp"
#include "pg/spi.hpp"

namespace awf::task {

// Column positions of AWF_TASK_COLUMNS.
enum TaskColumn {
  kId,
  kDefinition,
  kParams,
  kStatus,
  kOutcome,
  kOutcomeReason,
  kResult,
  kError,
  kExecId,
  kExecuteAt,
  kDueAt,
  kRetryCount,
  kAllowedRetryCount,
  kRetryDelay,
  kRequestedToStartTimeout,
  kInProgressTimeout,
  kLabel,
  kPriority,
  kPool,
  kRequester,
  kCreatedAt,
  kUpdatedAt,
  kVersion,
};

void render_task(pg::JsonbBuilder &out, const pg::SpiRows &rows, uint64 row);
// Columns of the task_log statement.
void render_log_entry(pg::JsonbBuilder &out, const pg::SpiRows &rows, uint64 row,
                      std::string_view task_id);

std::string uuid_text(Datum d);
std::string timestamp_text(Datum d);

}  // namespace awf::task
