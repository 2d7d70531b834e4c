// Claim marks: why a claim may start past the head of the ready index.
//
// A claim reads task_ready_idx (definition, priority DESC, execute_at) from the definition's head
// and takes the first rows it can lock. Each claimed task leaves its ready entry behind (the update
// is not HOT), and the entry goes only when no snapshot can see the old row any more. While one
// transaction holds an old snapshot, every claim walks the entries of all tasks claimed since it
// began, each with a heap visit: the known failure of SKIP LOCKED queues (issue 7, target 8).
//
// So each backend remembers, per definition, where its last full claim began: the priority and
// execute_at of the best task it took (minus kSlack). The next claim reads three ranges of the
// index, each started at its first key: higher priorities, the mark's priority from its time on,
// lower priorities (kClaimFromMarkSql). What it skips is what lies behind the mark at that
// priority: mostly dead entries, but also a task that became ready there after the mark was set (a
// re-queued claim keeps its executeAt; an executeAt given in the past; an enqueue that committed
// late). Such a task is not lost, only deferred:
//   - a claim that finds nothing from its marks reads from the head at once;
//   - a claim that finds fewer tasks than asked forgets its marks, so the next one reads from the
//     head;
//   - a definition is read from the head at least every awf.claim_rescan_interval (1 s).
// Marks are hints kept in backend memory: a rolled-back claim leaves its tasks ready at or past
// the mark, and a wrong mark costs order within one priority for at most the rescan interval.
#include "task/claim_marks.hpp"

#include <algorithm>
#include <unordered_map>

#include "task/settings.hpp"
#include "task/task_json.hpp"

namespace awf::task {

namespace {

// Enqueues commit a little after they stamp execute_at, so a mark trails the claimed task by this
// much; under a held snapshot a claim still walks the entries of that last moment only.
constexpr TimestampTz kSlack = 100 * 1000;  // 100 ms
// A backend that polls ever new definition names does not grow without bound.
constexpr size_t kMaxDefinitions = 1024;

struct Mark {
  bool valid = false;     // a position is known
  int32 priority = 0;
  TimestampTz at = 0;
  TimestampTz head_read_at = 0;  // the last claim that read this definition from the head
};

std::unordered_map<std::string, Mark> marks;

}  // namespace

bool ClaimStarts::any_mark() const {
  return std::find(unmarked.begin(), unmarked.end(), false) != unmarked.end();
}

ClaimStarts claim_starts(const std::vector<std::string> &definitions, TimestampTz now) {
  ClaimStarts starts;
  const size_t n = definitions.size();
  starts.priorities.assign(n, Int32GetDatum(0));
  starts.times.assign(n, TimestampTzGetDatum(0));
  starts.unmarked.assign(n, true);
  const TimestampTz interval = static_cast<TimestampTz>(Settings::claim_rescan_interval_ms) * 1000;
  for (size_t i = 0; i < n; ++i) {
    auto found = marks.find(definitions[i]);
    if (found == marks.end() || !found->second.valid) continue;
    if (now - found->second.head_read_at >= interval) continue;
    starts.priorities[i] = Int32GetDatum(found->second.priority);
    starts.times[i] = TimestampTzGetDatum(found->second.at);
    starts.unmarked[i] = false;
  }
  return starts;
}

void note_claim(const std::vector<std::string> &definitions, const ClaimStarts &starts,
                const pg::SpiRows &rows, int limit, TimestampTz now) {
  if (marks.size() > kMaxDefinitions) marks.clear();
  const bool full_batch = rows.count >= static_cast<uint64>(limit);
  for (size_t i = 0; i < definitions.size(); ++i) {
    Mark &mark = marks[definitions[i]];
    if (starts.unmarked[i]) mark.head_read_at = now;
    mark.valid = false;
    if (!full_batch) continue;
    // Rows come in claim order, so the first row of a definition is its best claimed task.
    for (uint64 r = 0; r < rows.count; ++r) {
      if (pg::column_text(rows, r, kDefinition) != definitions[i]) continue;
      mark.valid = true;
      mark.priority = static_cast<int32>(pg::column_int(rows, r, kPriority));
      mark.at = DatumGetTimestampTz(pg::column_datum(rows, r, kExecuteAt)) - kSlack;
      break;
    }
  }
}

}  // namespace awf::task
