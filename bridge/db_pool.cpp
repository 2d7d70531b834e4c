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

DbQueue::DbQueue(DbPool &pool) : pool_(pool), thread_([this] { serve(); }) {}

DbQueue::~DbQueue() { stop(); }

void DbQueue::submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  queued_.notify_one();
}

size_t DbQueue::queued() {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.size();
}

void DbQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DbQueue::serve() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      queued_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and every queued job has run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    pool_.run(job);
  }
}

DbPool::DbPool(std::string conninfo, size_t size) : conninfo_(std::move(conninfo)), slots_(size), background_(*this) {
  for (auto &slot : slots_) free_.push_back(&slot);
}

DbPool::~DbPool() { stop(); }

DbPool::Slot *DbPool::acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  ++waiting_;
  freed_.wait(lock, [this] { return !free_.empty(); });
  --waiting_;
  Slot *slot = free_.back();  // the most recently used: its connection is the likeliest warm
  free_.pop_back();
  busy_++;
  return slot;
}

void DbPool::release(Slot *slot) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(slot);
    busy_--;
  }
  freed_.notify_one();
}

void DbPool::run(const Job &job) {
  Slot *slot = acquire();
  auto &connection = slot->connection;
  std::string error;
  if (connection && (!connection->is_open() || closed_while_idle(*connection))) {
    connection.reset();
    open_--;
  }
  if (!connection) {
    try {
      connection = std::make_unique<pqxx::connection>(conninfo_);
      open_++;
    } catch (const std::exception &e) {
      error = e.what();
      while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    }
  }
  connection_broken = false;
  try {
    job(connection.get(), error);
  } catch (const std::exception &e) {
    log_event("error", "bridge bug: a database job threw", {{"error", e.what()}});
  } catch (...) {
    log_event("error", "bridge bug: a database job threw");
  }
  if (connection && connection_broken) {
    connection.reset();
    open_--;
  }
  connection_broken = false;
  release(slot);
}

void DbPool::mark_broken() { connection_broken = true; }

size_t DbPool::queued() {
  const size_t jobs = background_.queued();
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs + waiting_;
}

void DbPool::stop() {
  background_.stop();
  for (auto &slot : slots_) {
    if (slot.connection) open_--;
    slot.connection.reset();
  }
}

}  // namespace awf::bridge
