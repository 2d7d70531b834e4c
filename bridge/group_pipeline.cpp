#include "group_pipeline.hpp"

#include <cerrno>
#include <utility>

#include <libpq-fe.h>
#include <poll.h>

#include "rpc_call.hpp"

namespace awf::bridge {

namespace {

const char kStatementName[] = "awf_rpc_group";

std::string trimmed(const char *text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string field(const PGresult *result, int code) {
  const char *value = PQresultErrorField(result, code);
  return value ? value : "";
}

// Waits until the socket is ready for `events`; false when poll itself failed.
bool wait_socket(PGconn *conn, short events) {
  pollfd p{PQsocket(conn), events, 0};
  for (;;) {
    if (::poll(&p, 1, -1) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

}  // namespace

GroupPipeline::GroupPipeline(std::string conninfo) : conninfo_(std::move(conninfo)) {}

GroupPipeline::~GroupPipeline() {
  if (conn_) PQfinish(conn_);
}

bool GroupPipeline::connect(std::string &error) {
  PGconn *conn = PQconnectdb(conninfo_.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    error = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return false;
  }
  // Notices are dropped, as libpqxx drops them on the pool's connections (none are expected).
  PQsetNoticeProcessor(conn, [](void *, const char *) {}, nullptr);
  PGresult *prepared = PQprepare(conn, kStatementName, kRpcGroupSql, 0, nullptr);
  const bool ok = PQresultStatus(prepared) == PGRES_COMMAND_OK;
  if (!ok) error = trimmed(PQresultErrorMessage(prepared));
  PQclear(prepared);
  // Non-blocking, so that sending a large group never waits on a server that is itself waiting
  // for us to read the previous group's rows (send() reads while it writes).
  if (ok && (PQsetnonblocking(conn, 1) != 0 || PQenterPipelineMode(conn) != 1)) {
    error = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return false;
  }
  if (!ok) {
    PQfinish(conn);
    return false;
  }
  conn_ = conn;
  return true;
}

void GroupPipeline::drop() {
  lost_message_ = conn_ ? trimmed(PQerrorMessage(conn_)) : "";
  if (lost_message_.empty()) lost_message_ = "the database connection was lost";
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  lost_ = in_flight_;
}

bool GroupPipeline::send(const std::string &role, const std::string &calls, std::string &error) {
  if (conn_ && in_flight_ == 0) {
    // An idle connection has nothing to read. If its socket is readable, the server closed it
    // (or said goodbye, as on a restart; libpq may not know yet): reconnect rather than lose the
    // group on it.
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (PQstatus(conn_) == CONNECTION_BAD || p.fd < 0 || ::poll(&p, 1, 0) != 0) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
  }
  if (!conn_ && !connect(error)) return false;
  const char *values[2] = {calls.c_str(), role.c_str()};
  if (PQsendQueryPrepared(conn_, kStatementName, 2, values, nullptr, nullptr, 0) != 1 ||
      PQpipelineSync(conn_) != 1) {
    error = trimmed(PQerrorMessage(conn_));
    drop();
    return false;
  }
  ++in_flight_;
  // Flush all of it, reading whatever arrives meanwhile into libpq's buffer. If the connection
  // breaks now, part of the group may have reached the server: receive() reports it Lost.
  for (;;) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) return true;
    if (flushed < 0 || !wait_socket(conn_, POLLIN | POLLOUT) || !PQconsumeInput(conn_)) {
      drop();
      return true;
    }
  }
}

std::optional<GroupResult> GroupPipeline::receive(int wake_fd) {
  // Not over TLS: OpenSSL may hold bytes that the socket no longer shows, and the poll would wait
  // for them forever; PQgetResult (in receive()) knows.
  if (lost_ == 0 && in_flight_ > 0 && wake_fd >= 0 && !PQsslInUse(conn_)) {
    // Wait for the group's first result, or for the wake-up.
    while (PQisBusy(conn_)) {
      pollfd p[2] = {{PQsocket(conn_), POLLIN, 0}, {wake_fd, POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (p[0].revents != 0 && !PQconsumeInput(conn_)) break;  // receive() below reports it
      if (p[1].revents != 0 && PQisBusy(conn_)) return std::nullopt;
    }
  }
  return receive();
}

GroupResult GroupPipeline::receive() {
  GroupResult out;
  if (in_flight_ == 0) {
    out.message = "no group in flight";  // a bug of the caller; reported as a lost connection
    return out;
  }
  --in_flight_;
  if (lost_ > 0) {
    --lost_;
    out.message = lost_message_;
    return out;
  }
  // One group's results: its statement's (rows or an error), a null that ends them, then the
  // Sync's. An error in place of the Sync's result is a failed commit. PQgetResult waits inside
  // libpq for what has not arrived (on a non-blocking connection too).
  bool failed = false, rows = false;
  int nulls = 0;
  for (;;) {
    PGresult *result = PQgetResult(conn_);
    const ExecStatusType status = result ? PQresultStatus(result) : PGRES_EMPTY_QUERY;
    bool expected = status == PGRES_PIPELINE_SYNC || status == PGRES_TUPLES_OK ||
                    status == PGRES_FATAL_ERROR || status == PGRES_PIPELINE_ABORTED;
    if (!result) expected = ++nulls == 1;  // two in a row: libpq has nothing more for us (a bug)
    if (result) nulls = 0;
    if (PQstatus(conn_) == CONNECTION_BAD || !expected) {
      PQclear(result);
      // Its rows had arrived and only the commit was missing: it may have been committed.
      return broken(rows && !failed);
    }
    if (!result) continue;  // the end of the statement's results
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(result);
      break;
    }
    if (status == PGRES_TUPLES_OK && !failed) {
      rows = true;
      out.rows.reserve(PQntuples(result));
      for (int row = 0; row < PQntuples(result); ++row) {
        if (PQgetisnull(result, row, 0))
          out.rows.emplace_back(std::nullopt);
        else
          out.rows.emplace_back(std::string(PQgetvalue(result, row, 0), PQgetlength(result, row, 0)));
      }
    } else if (!failed && (status == PGRES_FATAL_ERROR || status == PGRES_PIPELINE_ABORTED)) {
      failed = true;
      out.sqlstate = field(result, PG_DIAG_SQLSTATE);
      out.message = field(result, PG_DIAG_MESSAGE_PRIMARY);
      out.detail = field(result, PG_DIAG_MESSAGE_DETAIL);
      out.hint = field(result, PG_DIAG_MESSAGE_HINT);
    }
    PQclear(result);
  }
  out.kind = failed ? GroupResult::Kind::Failed : GroupResult::Kind::Rows;
  if (failed) out.rows.clear();
  return out;
}

GroupResult GroupPipeline::broken(bool in_doubt) {
  drop();  // this group is off in_flight_ already; the ones behind it come back Lost
  GroupResult out;
  out.kind = in_doubt ? GroupResult::Kind::InDoubt : GroupResult::Kind::Lost;
  out.message = lost_message_;
  return out;
}

}  // namespace awf::bridge
