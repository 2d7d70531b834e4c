// The database work of HTTP requests, run on lanes: threads of their own, each using a pool
// connection, so that HTTP threads never block on the database.
//
// Lane 0 serves every request while it keeps up. Lane k joins only while lanes 0..k-1 have all
// been busy with one piece of work for kStall (a slow call, a lock wait), so one slow call never
// holds up the others, and under normal load the database sees one busy backend instead of many
// contending ones (on 2 cores, 2 lanes cost 30% more CPU per call than 1).
//
// Single /rpc calls are grouped: a lane that is free takes every waiting call of one role (up to
// `group_limit`) and runs them together as one statement in one transaction (run_rpc_group). On
// a machine with few cores a call's cost through the bridge is dominated by its database round
// trip (wake-ups of the bridge and of a backend, a transaction, a commit), not by the task work;
// a group shares that. When the lane is idle a call runs at once and alone, so grouping adds no
// wait. A group in which one call fails is rolled back whole and its calls run again one by one,
// each in its own transaction, so a call's outcome never depends on the calls it was grouped
// with.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "db_pool.hpp"
#include "rpc_call.hpp"

namespace awf::bridge {

class DbLanes {
 public:
  using Done = std::function<void(RpcOutcome)>;
  static constexpr std::chrono::milliseconds kStall{10};

  DbLanes(DbPool &pool, size_t lanes, size_t group_limit);
  ~DbLanes();

  // A single /rpc call, run as `role` (possibly grouped); `done` gets its outcome on a lane's
  // thread and must not block.
  void call(const std::string &role, RpcCall call, Done done);
  // Other database work, run alone on a lane with a pool connection (see DbPool::Job).
  void run(DbPool::Job job);
  // Runs the work still queued, then stops the lanes.
  void stop();

  size_t waiting();
  size_t lanes() const { return busy_since_.size(); }
  // Since start: groups of two or more calls committed together, the calls in them, and groups
  // rolled back because a call failed (their calls then ran one by one).
  size_t groups() const { return groups_; }
  size_t grouped_calls() const { return grouped_calls_; }
  size_t groups_rerun() const { return groups_rerun_; }

 private:
  struct Work {
    std::string role;  // calls only
    RpcCall call;
    Done done;
    DbPool::Job job;  // set for other work
  };
  using Clock = std::chrono::steady_clock;

  void lane(size_t k);
  // When lane k may take work: once lanes 0..k-1 have each been busy for kStall; nullopt while
  // one of them is idle. With mutex_ held, as take().
  std::optional<Clock::time_point> eligible_at(size_t k) const;
  std::vector<Work> take();  // the next job alone, or the waiting calls of the first one's role
  void run_calls(std::vector<Work> &group);
  void enqueue(Work work);

  DbPool &pool_;
  const size_t group_limit_;
  std::mutex mutex_;
  std::deque<Work> waiting_;
  std::vector<std::optional<Clock::time_point>> busy_since_;  // per lane, while it runs work
  std::vector<bool> parked_;  // lanes > 0 waiting for a wake-up, not for a deadline
  std::unique_ptr<std::condition_variable[]> wake_;  // one per lane
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<size_t> groups_{0};
  std::atomic<size_t> grouped_calls_{0};
  std::atomic<size_t> groups_rerun_{0};
};

}  // namespace awf::bridge
