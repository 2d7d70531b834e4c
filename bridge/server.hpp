// The HTTP side of awf-bridge (Boost.Beast, asynchronous): a listener, one session per
// connection, and the routes
//   POST /rpc                 Aidbox Task Executor RPC, one call or a batch, JSON or YAML
//   GET  /AidboxTask          the count (and first tasks) of a status / definition filter
//   GET  /health              liveness and database reachability
//   GET  /metrics             Prometheus text
// Request handling does not block an HTTP thread on the database: database work runs on the lanes
// (db_lanes.hpp) and its result is posted back to the session's strand. /health and /metrics are
// the exception (see handle_health).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>

#include "auth.hpp"
#include "config.hpp"
#include "db_pool.hpp"
#include "long_poll.hpp"
#include "metrics.hpp"
#include "rpc_call.hpp"
#include "db_lanes.hpp"

namespace awf::bridge {

class Session;

class Server {
 public:
  explicit Server(Config config);
  // Serves until SIGTERM/SIGINT, then drains: stops accepting, answers waiting long-polls with
  // [], lets in-flight requests finish (at most 10 s), closes. Returns the exit code.
  int run();

  const Config &config() const { return config_; }
  DbPool &pool() { return pool_; }
  DbLanes &lanes() { return lanes_; }
  DbQueue &monitor() { return monitor_; }  // /health and /metrics
  LongPollHub &hub() { return hub_; }
  CredentialCache &credentials() { return credentials_; }
  CredentialCache &api_keys() { return api_keys_; }
  Metrics &metrics() { return metrics_; }
  bool shutting_down() const { return shutting_down_.load(); }
  size_t open_connections() const { return connections_.load(); }

  void session_started(const std::shared_ptr<Session> &session);
  void session_ended(Session *session);

  // Checks a credential with a pool connection (once at a time per credential) and calls `done`
  // with what it grants (a client's role; an NL Flow API key's workflow), nothing for a bad
  // credential, or a failure to answer with. Remembers a good one in credentials() / api_keys().
  using Verified = std::function<void(std::optional<std::string>, std::optional<RpcOutcome>)>;
  enum class CredentialKind { Client, NlflowKey };
  void verify(CredentialKind kind, const Credential &credential, Verified done);

 private:
  void accept();
  void begin_shutdown();

  Config config_;
  // Before the io_contexts: a session's destructor (a handler left in a stopped context) uses them.
  std::atomic<size_t> connections_{0};
  std::mutex sessions_mutex_;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions_;
  // HTTP threads: each runs one io_context of its own, and a session lives on one of them
  // (accept() deals them out in turn). Nothing then wakes one HTTP thread for another's handler:
  // two threads sharing one context cost 10-15% of the lifecycle rate on 2 cores, in futex and
  // epoll wake-ups. io_ (the first thread's) also has the acceptor, the signals and the timers.
  boost::asio::io_context io_;
  std::vector<std::unique_ptr<boost::asio::io_context>> more_io_;  // one per further thread
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> keep_running_;
  size_t next_io_ = 0;  // accept()'s turn (its handler runs on io_ alone)
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer accept_timer_;
  std::chrono::steady_clock::time_point last_accept_warning_{};
  DbPool pool_;
  DbLanes lanes_;
  DbQueue monitor_{pool_};
  LongPollHub hub_;
  CredentialCache credentials_;
  CredentialCache api_keys_;
  Metrics metrics_;
  std::atomic<bool> shutting_down_{false};
  std::mutex verify_mutex_;
  std::unordered_map<std::string, std::vector<Verified>> verifying_;
};

}  // namespace awf::bridge
