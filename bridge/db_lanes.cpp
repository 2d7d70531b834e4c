#include "db_lanes.hpp"

#include <algorithm>

#include "http_errors.hpp"
#include "log.hpp"

namespace awf::bridge {

DbLanes::DbLanes(DbPool &pool, size_t lanes, size_t group_limit)
    : pool_(pool), group_limit_(std::max<size_t>(group_limit, 1)), busy_since_(std::max<size_t>(lanes, 1)),
      parked_(busy_since_.size(), false), wake_(new std::condition_variable[busy_since_.size()]) {
  for (size_t k = 0; k < busy_since_.size(); ++k) threads_.emplace_back([this, k] { lane(k); });
}

DbLanes::~DbLanes() { stop(); }

void DbLanes::call(const std::string &role, RpcCall call, Done done) {
  enqueue(Work{role, std::move(call), std::move(done), nullptr});
}

void DbLanes::run(DbPool::Job job) { enqueue(Work{{}, {}, nullptr, std::move(job)}); }

void DbLanes::enqueue(Work work) {
  bool wake_first;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    waiting_.push_back(std::move(work));
    wake_first = !busy_since_[0].has_value();
  }
  // A busy lane 0 takes the work when it finishes: no wake-up per call under load.
  if (wake_first) wake_[0].notify_one();
}

void DbLanes::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  for (size_t k = 0; k < busy_since_.size(); ++k) wake_[k].notify_all();
  for (auto &t : threads_)
    if (t.joinable()) t.join();
}

size_t DbLanes::waiting() {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_.size();
}

std::optional<DbLanes::Clock::time_point> DbLanes::eligible_at(size_t k) const {
  Clock::time_point at{};
  for (size_t j = 0; j < k; ++j) {
    if (!busy_since_[j]) return std::nullopt;
    at = std::max(at, *busy_since_[j] + kStall);
  }
  return at;
}

std::vector<DbLanes::Work> DbLanes::take() {
  std::vector<Work> taken;
  if (waiting_.front().job) {
    taken.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    return taken;
  }
  const std::string role = waiting_.front().role;
  for (auto it = waiting_.begin(); it != waiting_.end() && taken.size() < group_limit_;) {
    if (!it->job && it->role == role) {
      taken.push_back(std::move(*it));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

void DbLanes::lane(size_t k) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    const auto at = eligible_at(k);
    const auto now = Clock::now();
    if (!waiting_.empty() && at && *at <= now) {
      std::vector<Work> taken = take();
      busy_since_[k] = now;
      // The first idle lane after this one watches for a stall once every lane before it is busy.
      size_t next = k + 1;
      while (next < busy_since_.size() && busy_since_[next]) ++next;
      const bool wake_next = next < busy_since_.size() && parked_[next] && eligible_at(next);
      lock.unlock();
      if (wake_next) wake_[next].notify_one();
      if (taken.front().job)
        pool_.run(taken.front().job);
      else
        run_calls(taken);
      taken.clear();  // the callbacks' captures go here, outside the lock
      lock.lock();
      busy_since_[k].reset();
      continue;
    }
    if (stopping_ && waiting_.empty()) return;
    if (k == 0) {
      wake_[0].wait(lock);
    } else if (!at && !stopping_) {
      parked_[k] = true;  // a lane before this one is idle: nothing to watch
      wake_[k].wait(lock);
      parked_[k] = false;
    } else {
      // Every lane before this one is busy: look again when they would count as stalled.
      wake_[k].wait_until(lock, std::max(at.value_or(now), now + kStall / 2));
    }
  }
}

void DbLanes::run_calls(std::vector<Work> &group) {
  std::vector<RpcOutcome> outcomes;
  pool_.run([&](pqxx::connection *connection, const std::string &error) {
    if (!connection) {
      outcomes.assign(group.size(), unreachable_outcome(error));
      return;
    }
    if (group.size() > 1) {
      std::vector<const RpcCall *> calls;
      calls.reserve(group.size());
      for (const Work &w : group) calls.push_back(&w.call);
      if (auto together = run_rpc_group(*connection, group.front().role, calls)) {
        outcomes = std::move(*together);
        ++groups_;
        grouped_calls_ += group.size();
        return;
      }
      ++groups_rerun_;
    }
    for (const Work &w : group) outcomes.push_back(run_rpc(*connection, w.role, w.call));
  });
  if (outcomes.size() != group.size()) {  // the job threw (a bug, logged by the pool)
    outcomes.assign(group.size(), RpcOutcome{500, error_body("awf.bridge/internal-error", "the call failed in the bridge"), {}});
  }
  for (size_t k = 0; k < group.size(); ++k) group[k].done(std::move(outcomes[k]));
}

}  // namespace awf::bridge
