#include "db_lanes.hpp"

#include <algorithm>

#include <sys/eventfd.h>
#include <unistd.h>

#include "http_errors.hpp"
#include "log.hpp"

namespace awf::bridge {

namespace {
// Groups in the database at once through the pipeline: the one running and the next.
constexpr size_t kPipelineDepth = 2;
}  // namespace

DbLanes::DbLanes(DbPool &pool, size_t lanes, size_t group_limit, std::unique_ptr<GroupPipeline> pipeline)
    : pool_(pool), group_limit_(std::max<size_t>(group_limit, 1)), pipeline_(std::move(pipeline)),
      busy_since_(std::max<size_t>(lanes, 1)),
      parked_(busy_since_.size(), false), wake_(new std::condition_variable[busy_since_.size()]) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  for (size_t k = 0; k < busy_since_.size(); ++k)
    threads_.emplace_back([this, k] {
      if (k == 0 && pipeline_)
        pipelined_lane();
      else
        lane(k);
    });
}

DbLanes::~DbLanes() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

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
    if (listening_) {
      listening_ = false;
      const uint64_t one = 1;
      (void)!::write(wake_fd_, &one, sizeof one);
    }
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
  if (waiting_.front().job || waiting_.front().alone) {
    taken.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    return taken;
  }
  const std::string role = waiting_.front().role;
  for (auto it = waiting_.begin(); it != waiting_.end() && taken.size() < group_limit_;) {
    if (!it->job && !it->alone && it->role == role) {
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
      run_next(lock, k);
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

void DbLanes::run_next(std::unique_lock<std::mutex> &lock, size_t k) {
  std::vector<Work> taken = take();
  const size_t wake_next = mark_busy(k, Clock::now());
  lock.unlock();
  if (wake_next) wake_[wake_next].notify_one();
  if (taken.front().job)
    pool_.run(taken.front().job);
  else
    run_calls(taken);
  taken.clear();  // the callbacks' captures go here, outside the lock
  lock.lock();
  busy_since_[k].reset();
}

size_t DbLanes::mark_busy(size_t k, Clock::time_point now) {
  busy_since_[k] = now;
  // The first idle lane after this one watches for a stall once every lane before it is busy.
  size_t next = k + 1;
  while (next < busy_since_.size() && busy_since_[next]) ++next;
  return next < busy_since_.size() && parked_[next] && eligible_at(next) ? next : 0;
}

void DbLanes::pipelined_lane() {
  std::deque<Sent> sent;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    send_waiting(lock, sent);
    if (!sent.empty()) {
      const bool may_send = sent.size() < kPipelineDepth && Clock::now() - *busy_since_[0] < kStall;
      listening_ = may_send;
      lock.unlock();
      std::optional<GroupResult> result = pipeline_->receive(may_send ? wake_fd_ : -1);
      pipeline_open_ = pipeline_->connected();
      lock.lock();
      listening_ = false;
      if (!result) {  // calls arrived: send them (the loop's first step), then wait again
        uint64_t count;
        while (::read(wake_fd_, &count, sizeof count) > 0) {}
        continue;
      }
      sent.front().result = std::move(*result);
      Sent done = std::move(sent.front());
      sent.pop_front();
      --pipelined_;
      // The next group in the pipeline runs from now.
      if (sent.empty())
        busy_since_[0].reset();
      else
        busy_since_[0] = Clock::now();
      if (done.result.kind == GroupResult::Kind::Failed && done.group.size() > 1) {
        // Rolled back: its calls run again, each alone, before anything else.
        ++groups_rerun_;
        for (auto it = done.group.rbegin(); it != done.group.rend(); ++it) {
          it->alone = true;
          waiting_.push_front(std::move(*it));
        }
        continue;
      }
      send_waiting(lock, sent);  // before answering: the database runs the next group meanwhile
      lock.unlock();
      finish_pipelined(done);
      done.group.clear();  // the callbacks' captures go here, outside the lock
      lock.lock();
      continue;
    }
    if (!waiting_.empty()) {  // a job: send_waiting sent every call before it
      run_next(lock, 0);
      continue;
    }
    if (stopping_) return;
    wake_[0].wait(lock);
  }
}

void DbLanes::send_waiting(std::unique_lock<std::mutex> &lock, std::deque<Sent> &sent) {
  while (!waiting_.empty() && !waiting_.front().job && sent.size() < kPipelineDepth &&
         (sent.empty() || Clock::now() - *busy_since_[0] < kStall)) {
    std::vector<Work> group = take();
    const size_t wake_next = sent.empty() ? mark_busy(0, Clock::now()) : 0;
    ++pipelined_;
    lock.unlock();
    if (wake_next) wake_[wake_next].notify_one();
    std::vector<const RpcCall *> calls;
    calls.reserve(group.size());
    for (const Work &w : group) calls.push_back(&w.call);
    std::string error, list;
    try {
      list = group_json(calls);
    } catch (const std::exception &e) {  // cannot happen: the codecs check UTF-8 (a bug if it does)
      error = e.what();
    }
    const bool handed = list.empty() ? false : pipeline_->send(group.front().role, list, error);
    pipeline_open_ = pipeline_->connected();
    if (!handed) {  // nothing of it reached the database
      std::vector<RpcOutcome> outcomes(
          group.size(), list.empty() ? RpcOutcome{500, error_body("awf.bridge/internal-error", "the call failed in the bridge", error), {}}
                                     : unreachable_outcome(error));
      answer(group, outcomes);
      group.clear();
    }
    lock.lock();
    if (handed) {
      sent.push_back(Sent{std::move(group), {}});
    } else {
      --pipelined_;
      if (sent.empty()) busy_since_[0].reset();
    }
  }
}

void DbLanes::finish_pipelined(Sent &done) {
  const GroupResult &result = done.result;
  std::vector<RpcOutcome> outcomes;
  outcomes.reserve(done.group.size());
  switch (result.kind) {
    case GroupResult::Kind::Rows:
      for (size_t k = 0; k < done.group.size(); ++k)
        outcomes.push_back(committed_outcome(k < result.rows.size() && result.rows[k] ? result.rows[k]->c_str() : nullptr));
      if (done.group.size() > 1) {
        ++groups_;
        grouped_calls_ += done.group.size();
      }
      break;
    case GroupResult::Kind::Failed:  // a call alone (a failed group of several is rerun)
      outcomes.push_back(sql_error_outcome(result.sqlstate, result.message, result.detail, result.hint));
      break;
    case GroupResult::Kind::Lost:
      outcomes.assign(done.group.size(), lost_connection_outcome(result.message));
      break;
    case GroupResult::Kind::InDoubt:
      outcomes.assign(done.group.size(), in_doubt_outcome());
      break;
  }
  answer(done.group, outcomes);
}

void DbLanes::answer(std::vector<Work> &group, std::vector<RpcOutcome> &outcomes) {
  for (size_t k = 0; k < group.size(); ++k) group[k].done(std::move(outcomes[k]));
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
  answer(group, outcomes);
}

}  // namespace awf::bridge
