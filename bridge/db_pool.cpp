#include "db_pool.hpp"

#include <poll.h>

#include "log.hpp"

namespace awf::bridge {

namespace {
thread_local bool connection_broken = false;

// An idle connection has nothing to read. If its socket is readable, the server closed it (or
// said goodbye, as on a restart): libpq does not know yet, and the next query would fail.
bool closed_while_idle(pqxx::connection &connection) {
  const int fd = connection.sock();
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}
}  // namespace

DbPool::DbPool(std::string conninfo, size_t size) : conninfo_(std::move(conninfo)) {
  for (size_t i = 0; i < size; ++i) threads_.emplace_back([this] { run(); });
}

DbPool::~DbPool() { stop(); }

void DbPool::submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
}

void DbPool::mark_broken() { connection_broken = true; }

size_t DbPool::queued() {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.size();
}

void DbPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto &t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void DbPool::run() {
  std::unique_ptr<pqxx::connection> connection;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) break;  // stopping, and every queued job has run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    busy_++;
    std::string error;
    if (connection && (connection_broken || !connection->is_open() || closed_while_idle(*connection))) {
      connection.reset();
      open_--;
    }
    connection_broken = false;
    if (!connection) {
      try {
        connection = std::make_unique<pqxx::connection>(conninfo_);
        open_++;
      } catch (const std::exception &e) {
        error = e.what();
        while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
      }
    }
    try {
      job(connection.get(), error);
    } catch (const std::exception &e) {
      log_event("error", "bridge bug: a database job threw", {{"error", e.what()}});
    } catch (...) {
      log_event("error", "bridge bug: a database job threw");
    }
    busy_--;
  }
  if (connection) open_--;
}

}  // namespace awf::bridge
