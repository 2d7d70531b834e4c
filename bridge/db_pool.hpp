// A fixed pool of database connections. run() takes a free connection on the calling thread, uses
// it, and gives it back: requests' database work runs so on the lanes (db_lanes.hpp). Work that
// must not hold up any of those runs on a DbQueue of its own: the long-poll hub's awf.wait_ready,
// which may wait long (the pool's own queue, submit), and /health and /metrics (the server's).
//
// A job gets a connection, or nullptr when the database cannot be reached (the job answers 503).
// A broken connection is dropped and reopened by the next job that takes it, so the bridge
// recovers by itself when PostgreSQL is back. A pqxx::connection is used by one thread at a time.
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

class DbPool;

// Runs jobs one at a time, in order, on a thread of its own, each with a connection of the pool.
class DbQueue {
 public:
  using Job = std::function<void(pqxx::connection *connection, const std::string &error)>;
  explicit DbQueue(DbPool &pool);
  ~DbQueue();
  void submit(Job job);
  void stop();  // runs the jobs still queued, then stops the thread
  size_t queued();

 private:
  void serve();
  DbPool &pool_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

class DbPool {
 public:
  // `connection` is nullptr when connecting failed; `error` then says why. A job must not throw
  // (exceptions are caught and logged as bugs).
  using Job = std::function<void(pqxx::connection *connection, const std::string &error)>;

  DbPool(std::string conninfo, size_t size);
  ~DbPool();

  // Runs the job on this thread with a connection of the pool; waits while all are in use.
  void run(const Job &job);
  // Runs the job on the pool's own DbQueue (FIFO), with a connection of the pool.
  void submit(Job job) { background_.submit(std::move(job)); }
  // Marks the connection of the job running on this thread broken (after pqxx::broken_connection).
  static void mark_broken();

  void stop();  // runs the submitted jobs still queued, then stops the pool's queue
  size_t size() const { return slots_.size(); }
  size_t busy() const { return busy_.load(); }
  size_t queued();  // jobs waiting for a connection or for the background thread
  size_t open_connections() const { return open_.load(); }

 private:
  struct Slot {
    std::unique_ptr<pqxx::connection> connection;
  };
  Slot *acquire();
  void release(Slot *slot);

  std::string conninfo_;
  std::vector<Slot> slots_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<Slot *> free_;
  size_t waiting_ = 0;  // threads waiting in acquire()
  std::atomic<size_t> busy_{0};
  std::atomic<size_t> open_{0};
  DbQueue background_;  // last: its thread uses the members above
};

}  // namespace awf::bridge
