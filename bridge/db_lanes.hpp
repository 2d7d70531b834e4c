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
//
// Lane 0 sends its groups through a GroupPipeline when it has one: the next group goes to the
// database while the previous one runs (see group_pipeline.hpp), but only behind a group that has
// run for less than kStall, so that calls do not pile up behind a lock wait; those are left for
// lane 1. A group that fails there is rerun the same way: its calls are queued again at the front,
// each to be sent alone.
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
#include "group_pipeline.hpp"
#include "rpc_call.hpp"

namespace awf::bridge {

class DbLanes {
 public:
  using Done = std::function<void(RpcOutcome)>;
  static constexpr std::chrono::milliseconds kStall{10};

  // With a pipeline, lane 0 sends its groups through it (its connection is not the pool's).
  DbLanes(DbPool &pool, size_t lanes, size_t group_limit, std::unique_ptr<GroupPipeline> pipeline = nullptr);
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
  // The pipeline's connection: whether there is one, whether it is open, and groups sent and not
  // yet answered.
  bool has_pipeline() const { return pipeline_ != nullptr; }
  bool pipeline_open() const { return pipeline_open_; }
  size_t pipelined() const { return pipelined_; }

 private:
  struct Work {
    std::string role;  // calls only
    RpcCall call;
    Done done;
    DbPool::Job job;  // set for other work
    bool alone = false;  // a call of a failed group, run again: never grouped
  };
  struct Sent {  // a group in the pipeline
    std::vector<Work> group;
    GroupResult result;
  };
  using Clock = std::chrono::steady_clock;

  void lane(size_t k);
  void pipelined_lane();  // lane 0 with a pipeline
  // Takes the next work (a job, or a group of calls), runs it on lane k with a pool connection.
  // With mutex_ held (released while it runs).
  void run_next(std::unique_lock<std::mutex> &lock, size_t k);
  // Marks lane k busy since `now`; returns the idle lane to wake to watch for a stall, or 0.
  // With mutex_ held.
  size_t mark_busy(size_t k, Clock::time_point now);
  // Sends the waiting calls, group by group, while the pipeline may take more. With mutex_ held
  // (released while sending).
  void send_waiting(std::unique_lock<std::mutex> &lock, std::deque<Sent> &sent);
  // Hands a group's outcomes from the pipeline to its calls (a failed group of several calls is
  // queued again instead, by pipelined_lane).
  void finish_pipelined(Sent &done);
  // When lane k may take work: once lanes 0..k-1 have each been busy for kStall; nullopt while
  // one of them is idle. With mutex_ held, as take().
  std::optional<Clock::time_point> eligible_at(size_t k) const;
  std::vector<Work> take();  // the next job alone, or the waiting calls of the first one's role
  void run_calls(std::vector<Work> &group);
  void answer(std::vector<Work> &group, std::vector<RpcOutcome> &outcomes);
  void enqueue(Work work);

  DbPool &pool_;
  const size_t group_limit_;
  std::unique_ptr<GroupPipeline> pipeline_;  // lane 0's alone
  std::atomic<bool> pipeline_open_{false};
  std::atomic<size_t> pipelined_{0};
  int wake_fd_ = -1;          // wakes lane 0 from waiting on the pipeline when calls arrive
  bool listening_ = false;    // lane 0 waits on the pipeline and on wake_fd_ (mutex_)
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
