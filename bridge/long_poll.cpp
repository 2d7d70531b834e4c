#include "long_poll.hpp"

#include <nlohmann/json.hpp>

#include "log.hpp"
#include "rpc_call.hpp"

namespace awf::bridge {

LongPollHub::LongPollHub(DbPool &pool, boost::asio::io_context &io)
    : pool_(pool),
      io_(io),
      retry_timer_(io),
      queues_(kWakeupSlots),
      slot_generation_(kWakeupSlots, 0),
      slot_readied_(kWakeupSlots, 0) {}

std::vector<uint64_t> LongPollHub::generations(const std::vector<uint32_t> &slots) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<uint64_t> out;
  out.reserve(slots.size());
  for (uint32_t slot : slots) out.push_back(slot_generation_[slot % kWakeupSlots]);
  return out;
}

uint64_t LongPollHub::add(std::vector<uint32_t> slots, std::vector<uint64_t> seen, Wake wake) {
  bool wake_now = false;
  bool shutting_down = false;
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down = stopping_;
    if (stopping_) {
      wake_now = true;
    } else {
      for (size_t i = 0; i < slots.size(); ++i)
        if (slot_generation_[slots[i] % kWakeupSlots] != seen[i]) wake_now = true;
    }
    if (!wake_now) {
      id = next_id_++;
      for (uint32_t slot : slots) queues_[slot % kWakeupSlots].push_back(id);
      waiters_.emplace(id, Waiter{std::move(slots), wake});
      listen_locked();
    }
  }
  if (wake_now) wake(shutting_down);
  return id;
}

std::vector<LongPollHub::Wake> LongPollHub::take_locked(uint64_t id) {
  std::vector<Wake> out;
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return out;
  for (uint32_t slot : it->second.slots) {
    auto &q = queues_[slot % kWakeupSlots];
    for (auto qi = q.begin(); qi != q.end(); ++qi)
      if (*qi == id) {
        q.erase(qi);
        break;
      }
  }
  out.push_back(std::move(it->second.wake));
  waiters_.erase(it);
  return out;
}

bool LongPollHub::remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return !take_locked(id).empty();
}

size_t LongPollHub::waiting() {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiters_.size();
}

void LongPollHub::wake_all_locked(std::vector<Wake> &out) {
  for (auto &[id, waiter] : waiters_) out.push_back(std::move(waiter.wake));
  waiters_.clear();
  for (auto &q : queues_) q.clear();
}

void LongPollHub::shutdown() {
  std::vector<Wake> wakes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_all_locked(wakes);
    retry_timer_.cancel();
  }
  for (auto &w : wakes) w(true);
}

void LongPollHub::listen_locked() {
  if (listening_ || stopping_ || waiters_.empty()) return;
  listening_ = true;
  if (fallback_) {
    retry_timer_.expires_after(std::chrono::milliseconds(500));
    retry_timer_.async_wait([this](const boost::system::error_code &ec) {
      std::vector<Wake> wakes;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        listening_ = false;
        if (ec || stopping_) return;
        wake_all_locked(wakes);
      }
      for (auto &w : wakes) w(false);
    });
    return;
  }
  const bool first = !baseline_;
  const uint64_t since = generation_;
  pool_.submit([this, first, since](pqxx::connection *connection, const std::string &error) {
    if (connection == nullptr) {
      on_failed(503, "awf.db/unavailable", error);
      return;
    }
    try {
      pqxx::nontransaction tx(*connection);
      const pqxx::result r =
          first ? tx.exec("SELECT awf.wait_ready(NULL, 0)")
                : tx.exec_params("SELECT awf.wait_ready($1, 1000)", static_cast<long long>(since));
      on_published(r[0][0].c_str());
    } catch (const std::exception &e) {
      const RpcOutcome outcome = outcome_for_exception(e);
      on_failed(outcome.status, outcome.body["error"].value("sqlstate", ""),
                outcome.body["error"].value("message", ""));
    }
  });
}

void LongPollHub::on_published(const std::string &json) {
  std::vector<Wake> wakes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    listening_ = false;
    const nlohmann::json doc = nlohmann::json::parse(json);
    const std::string epoch = doc.value("epoch", "");
    if (baseline_ && epoch != epoch_) {
      // PostgreSQL restarted: its counters began again from 0. Forget ours, take this answer as
      // the new baseline, and let every waiter poll (a task may have become ready meanwhile).
      log_event("info", "wakeup counters restarted (PostgreSQL restarted); long-polls re-poll");
      std::fill(slot_generation_.begin(), slot_generation_.end(), 0);
      std::fill(slot_readied_.begin(), slot_readied_.end(), 0);
      baseline_ = false;
      wake_all_locked(wakes);
    }
    epoch_ = epoch;
    generation_ = doc.value("generation", generation_);
    const bool waking = baseline_;  // the first answer only sets the baseline
    for (const auto &entry : doc["slots"]) {
      const uint32_t slot = entry["slot"].get<uint32_t>() % kWakeupSlots;
      const uint64_t readied = entry["readied"].get<uint64_t>();
      const uint64_t delta = baseline_ && readied > slot_readied_[slot] ? readied - slot_readied_[slot] : 0;
      slot_readied_[slot] = readied;
      slot_generation_[slot] = entry["generation"].get<uint64_t>();
      // Wake as many waiters as tasks became ready (at least one), oldest first.
      auto &queue = queues_[slot];
      if (!waking) continue;
      for (uint64_t n = 0; n < std::max<uint64_t>(delta, 1) && !queue.empty(); ++n) {
        auto taken = take_locked(queue.front());
        for (auto &w : taken) wakes.push_back(std::move(w));
      }
    }
    baseline_ = true;
    listen_locked();
  }
  for (auto &w : wakes) w(false);
}

void LongPollHub::on_failed(int status, const std::string &type, const std::string &message) {
  std::vector<Wake> wakes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    listening_ = false;
    if (type == "WA201") {
      if (!fallback_)
        log_event("warning",
                  "awf is not in shared_preload_libraries: long-polls re-poll every 500 ms instead "
                  "of being woken",
                  {{"hint", "add awf to shared_preload_libraries and restart PostgreSQL"}});
      fallback_ = true;
      listen_locked();
      return;
    }
    log_event("warning", "waiting for ready tasks failed; retrying in 1 s",
              {{"status", status}, {"error", message}});
    // Retry after a pause; waiters still time out on their own.
    listening_ = true;
    retry_timer_.expires_after(std::chrono::seconds(1));
    retry_timer_.async_wait([this](const boost::system::error_code &ec) {
      std::lock_guard<std::mutex> lock(mutex_);
      listening_ = false;
      if (!ec) listen_locked();
    });
  }
  for (auto &w : wakes) w(false);
}

}  // namespace awf::bridge
