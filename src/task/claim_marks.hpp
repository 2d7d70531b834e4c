// Where this backend's next claim of a definition may start in task_ready_idx: past the entries of
// the tasks it has already claimed, which a long-held snapshot keeps in the index (see the .cpp).
#pragma once

#include <string>
#include <vector>

#include "pg/spi.hpp"

namespace awf::task {

// The start of one claim, per definition of the poll: a mark (the index position a claim starts
// from), or none (the claim reads the definition's ready tasks from the head).
struct ClaimStarts {
  std::vector<Datum> priorities, times;  // the mark of definition i, unless unmarked[i]
  std::vector<bool> unmarked;            // the NULLs of the statement's mark arrays
  bool any_mark() const;
  void drop_marks() { unmarked.assign(unmarked.size(), true); }
};

// Marks for these definitions as of `now`: none for a definition without one, or whose last claim
// from the head is a rescan interval old.
ClaimStarts claim_starts(const std::vector<std::string> &definitions, TimestampTz now);
// After a claim made with `starts` returned `rows` (AWF_TASK_COLUMNS) of at most `limit`: a
// definition claimed from the head notes the time; a full batch moves each definition's mark to
// its best claimed task; a short one forgets the marks (what lies behind them is read next time).
void note_claim(const std::vector<std::string> &definitions, const ClaimStarts &starts,
                const pg::SpiRows &rows, int limit, TimestampTz now);

}  // namespace awf::task
