// Long-polls wait in the bridge, not in the database: a waiting request holds no connection and
// no snapshot. One call at a time of awf.wait_ready (at most 1 s, on a pool connection, only while
// someone waits) reports which wakeup slots got ready tasks; the hub then wakes that many waiters
// of each slot, FIFO, and they poll. Without awf preloaded (no shared memory) it falls back to
// waking every waiter twice a second.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/wakeup_slots.hpp"
#include "db_pool.hpp"

namespace awf::bridge {

class LongPollHub {
 public:
  // Called once when the waiter should poll again (or, with shutting_down, answer at once).
  using Wake = std::function<void(bool shutting_down)>;

  LongPollHub(DbPool &pool, boost::asio::io_context &io);

  // The generations the hub last saw for these slots; read them before polling, pass them to add().
  std::vector<uint64_t> generations(const std::vector<uint32_t> &slots);

  // Waits for any of `slots` to move past `seen`. Wakes at once if one already has.
  uint64_t add(std::vector<uint32_t> slots, std::vector<uint64_t> seen, Wake wake);
  // Stops waiting (timeout, closed connection). False if it was already woken.
  bool remove(uint64_t id);

  void shutdown();  // wakes every waiter with shutting_down = true; no new waits
  size_t waiting();
  bool preloaded() const { return !fallback_; }

 private:
  struct Waiter {
    std::vector<uint32_t> slots;
    Wake wake;
  };
  void listen_locked();  // starts the next awf.wait_ready if someone waits and none runs
  void on_published(const std::string &json);
  void on_failed(int status, const std::string &type, const std::string &message);
  void wake_all_locked(std::vector<Wake> &out);
  std::vector<Wake> take_locked(uint64_t id);

  DbPool &pool_;
  boost::asio::io_context &io_;
  boost::asio::steady_timer retry_timer_;
  std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Waiter> waiters_;
  std::vector<std::deque<uint64_t>> queues_;  // per slot: waiter ids, oldest first
  std::vector<uint64_t> slot_generation_;
  std::vector<uint64_t> slot_readied_;
  uint64_t generation_ = 0;
  std::string epoch_;       // of the counters the generations above belong to
  bool baseline_ = false;   // the first wait_ready (since = NULL) has been answered
  bool listening_ = false;  // a wait_ready job or a retry timer is pending
  bool fallback_ = false;   // awf is not preloaded: wake everyone periodically
  bool stopping_ = false;
};

}  // namespace awf::bridge
