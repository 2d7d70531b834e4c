// A fixed pool of database connections, each owned by one worker thread (a pqxx::connection is
// never shared between threads). Work is queued as jobs; a job gets its thread's connection, or
// nullptr when the database cannot be reached (the job answers 503). A broken connection is
// dropped and reopened by the next job, so the bridge recovers by itself when PostgreSQL is back.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

namespace awf::bridge {

class DbPool {
 public:
  // The job runs on a pool thread. `connection` is nullptr when connecting failed; `error` then
  // says why. A job must not throw (exceptions are caught and logged as bugs).
  using Job = std::function<void(pqxx::connection *connection, const std::string &error)>;

  DbPool(std::string conninfo, size_t size);
  ~DbPool();

  void submit(Job job);
  // Marks the current thread's connection broken (after pqxx::broken_connection).
  static void mark_broken();

  void stop();
  size_t size() const { return threads_.size(); }
  size_t busy() const { return busy_.load(); }
  size_t queued();
  size_t open_connections() const { return open_.load(); }

 private:
  void run();

  std::string conninfo_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<size_t> busy_{0};
  std::atomic<size_t> open_{0};
};

}  // namespace awf::bridge
