// Running awf.rpc calls on a pool connection as a client's role.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace awf::bridge {

struct RpcCall {
  std::string method;
  nlohmann::json params;  // passed to awf.rpc as given; the extension validates it
};

struct RpcOutcome {
  int status = 200;
  nlohmann::json body;     // {"result": ...} or {"error": {...}}; null while `result_text` holds it
  std::string result_text;  // a successful result as the database's JSON text, not yet parsed

  // The body as a document (parses result_text once, if needed).
  const nlohmann::json &document();
};

// A group: the calls as one JSON array of [method, params] ($1), run in that order in one
// statement as the role $2; one row per call, its awf.rpc result.
extern const char kRpcGroupSql[];

// A successful call's result stays text until someone needs the document: a JSON response wraps
// the text as it is, so the bridge neither parses nor re-serializes the task.

// One call: a single statement in its own transaction, with the role set for that transaction
// only (set_config('role', …, true)), so the extension's grants decide what the client may do.
// The outcome keeps a successful result as text (see RpcOutcome).
RpcOutcome run_rpc(pqxx::connection &connection, const std::string &role, const RpcCall &call);

// A group of calls from different requests of one role: one statement, one transaction, the
// calls in order. Their outcomes in call order; nullopt when a call failed, which rolled back the
// whole group (the caller runs each call alone then). A lost connection is every call's outcome.
std::optional<std::vector<RpcOutcome>> run_rpc_group(pqxx::connection &connection, const std::string &role,
                                                     const std::vector<const RpcCall *> &calls);

// A batch: one transaction, one commit; each call behind a savepoint, so a refused call undoes only
// itself and the others still commit. Outcomes in call order.
std::vector<RpcOutcome> run_rpc_batch(pqxx::connection &connection, const std::string &role,
                                      const std::vector<RpcCall> &calls);

// A statement returning one jsonb (or scalar) value, run as `role` in its own transaction.
// Errors are turned into outcomes the same way as for RPC calls.
RpcOutcome run_query(pqxx::connection &connection, const std::string &role, const std::string &sql,
                     const std::vector<std::string> &params);

// 503 for work that got no connection: `error` says why connecting failed.
RpcOutcome unreachable_outcome(const std::string &error);

// The outcome of an SQL error: its SQLSTATE's status (http_errors), the database's message,
// detail and hint.
RpcOutcome sql_error_outcome(const std::string &sqlstate, const std::string &message, const std::string &detail,
                             const std::string &hint);
// 503 for a call whose connection broke while it ran: its outcome is unknown.
RpcOutcome lost_connection_outcome(const std::string &error);
// A committed call's outcome from its row: the result as text (see RpcOutcome), or 500 when the
// row has no result.
RpcOutcome committed_outcome(const char *text);
// 503 for a call whose connection broke while it was being committed.
RpcOutcome in_doubt_outcome();
// A group's calls as kRpcGroupSql's $1.
std::string group_json(const std::vector<const RpcCall *> &calls);

// The outcome for an exception thrown by libpqxx (sql_error with its SQLSTATE, broken connection,
// anything else), with the database's message, detail and hint.
RpcOutcome outcome_for_exception(const std::exception &error);

}  // namespace awf::bridge
