// Groups of calls sent to the database in libpq's pipeline mode, on one connection of lane 0.
//
// Without a pipeline the backend waits while the bridge reads a group's answer, hands its results
// to their requests and gathers the next group: on 2 cores it sat idle a third of the time. In
// pipeline mode the next group is sent while the previous one runs, and the backend finds it
// waiting when it finishes. Each group is still its own statement and its own transaction (a
// Sync after each), so a failing group rolls back only itself and the next one runs as usual.
//
// libpqxx 6 has no pipeline mode, so this speaks libpq directly; it uses one connection, opened
// in place of one of the pool's (the bridge never holds more than --pool-size connections; the
// server gives lane 0 a pipeline when the pool keeps at least two).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

struct pg_conn;

namespace awf::bridge {

struct GroupResult {
  enum class Kind {
    Rows,     // committed: one text per call, in call order (nullopt for an SQL NULL)
    Failed,   // an SQL error rolled the group back: nothing of it was committed
    Lost,     // the connection broke before the group's rows arrived
    InDoubt,  // the connection broke after its rows, before its commit was confirmed
  };
  Kind kind = Kind::Lost;
  std::vector<std::optional<std::string>> rows;
  std::string sqlstate;  // Failed: the error's SQLSTATE, detail and hint
  std::string message;   // Failed, Lost: the database's or libpq's message
  std::string detail, hint;
};

class GroupPipeline {
 public:
  explicit GroupPipeline(std::string conninfo);
  ~GroupPipeline();
  GroupPipeline(const GroupPipeline &) = delete;
  GroupPipeline &operator=(const GroupPipeline &) = delete;

  // Sends a group (the JSON array of [method, params] that kRpcGroupSql takes) to run as `role`;
  // receive() gives its result, in the order sent. Connects first if needed. False when nothing
  // of the group was sent (the connection cannot be made or is broken): `error` says why, and the
  // groups already sent come back Lost.
  bool send(const std::string &role, const std::string &calls, std::string &error);
  // The result of the oldest group sent and not yet received; waits for it.
  GroupResult receive();
  // The same, unless `wake_fd` becomes readable first: nullopt then (nothing was read).
  std::optional<GroupResult> receive(int wake_fd);
  size_t in_flight() const { return in_flight_; }
  bool connected() const { return conn_ != nullptr; }

 private:
  bool connect(std::string &error);
  void drop();  // closes a broken connection; the groups in flight are lost
  GroupResult broken(bool in_doubt);  // the group being received, on a connection that broke

  std::string conninfo_;
  pg_conn *conn_ = nullptr;
  size_t in_flight_ = 0;
  size_t lost_ = 0;  // groups sent on a connection that broke: each receive() reports one Lost
  std::string lost_message_;
};

}  // namespace awf::bridge
