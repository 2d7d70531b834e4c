#include "rpc_call.hpp"

#include "db_pool.hpp"
#include "http_errors.hpp"

namespace awf::bridge {

namespace {

// The role is set inside the statement, before awf.rpc runs: the MATERIALIZED CTE is evaluated
// first, and set_config(..., true) lasts until the end of the statement's transaction.
const char kRpcSql[] =
    "WITH r AS MATERIALIZED (SELECT pg_catalog.set_config('role', $3, true))"
    " SELECT awf.rpc($1, $2::jsonb) FROM r";
const char kRpcInTransactionSql[] = "SELECT awf.rpc($1, $2::jsonb)";
}  // namespace

const char kRpcGroupSql[] =
    "WITH r AS MATERIALIZED (SELECT pg_catalog.set_config('role', $2, true))"
    " SELECT awf.rpc(c.call->>0, c.call->1)"
    " FROM r, pg_catalog.jsonb_array_elements($1::jsonb) WITH ORDINALITY AS c(call, n) ORDER BY c.n";

namespace {

// The connection is gone (class 08) or the server is shutting down or restarting (57P).
bool connection_lost(const std::string &sqlstate) {
  return sqlstate.compare(0, 2, "08") == 0 || sqlstate.compare(0, 3, "57P") == 0;
}

// libpq messages look like "ERROR:  text\nDETAIL:  more\nHINT:  advice\n".
struct PgMessage {
  std::string message, detail, hint;
};

PgMessage split_message(const std::string &text) {
  PgMessage out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    auto strip = [&](const char *prefix) {
      const size_t n = std::char_traits<char>::length(prefix);
      if (line.compare(0, n, prefix) != 0) return false;
      line = line.substr(n);
      while (!line.empty() && line.front() == ' ') line.erase(0, 1);
      return true;
    };
    if (strip("ERROR:") || strip("FATAL:")) out.message = line;
    else if (strip("DETAIL:")) out.detail = line;
    else if (strip("HINT:")) out.hint = line;
    else if (out.message.empty() && !line.empty()) out.message = line;
  }
  return out;
}

RpcOutcome result_outcome(const pqxx::result &result, bool keep_text) {
  const char *text = result.empty() || result[0][0].is_null() ? nullptr : result[0][0].c_str();
  if (!text || keep_text) return committed_outcome(text);
  return RpcOutcome{200, {{"result", nlohmann::json::parse(text)}}, {}};
}

}  // namespace

const nlohmann::json &RpcOutcome::document() {
  if (!result_text.empty()) {
    body = {{"result", nlohmann::json::parse(result_text)}};
    result_text.clear();
  }
  return body;
}

RpcOutcome unreachable_outcome(const std::string &error) {
  return RpcOutcome{503, error_body("awf.db/unavailable", "the database is unreachable", error,
                                    "The bridge reconnects by itself; retry the request."),
                    {}};
}

RpcOutcome sql_error_outcome(const std::string &sqlstate, const std::string &message, const std::string &detail,
                             const std::string &hint) {
  const HttpError mapped = http_error_for_sqlstate(sqlstate);
  return RpcOutcome{mapped.status, error_body(mapped.type, message, detail, hint, sqlstate), {}};
}

RpcOutcome committed_outcome(const char *text) {
  if (text) return RpcOutcome{200, nullptr, text};
  // Cannot happen (awf.rpc never returns NULL); the call was committed, so it must not run again.
  return RpcOutcome{500, error_body("awf.db/error", "the database returned no result"), {}};
}

RpcOutcome in_doubt_outcome() {
  return RpcOutcome{503, error_body("awf.db/in-doubt", "the connection was lost while committing; the outcome is unknown",
                                    "", "Check the task's status before retrying."), {}};
}

RpcOutcome lost_connection_outcome(const std::string &error) {
  return RpcOutcome{503, error_body("awf.db/unavailable", "the database connection was lost", error,
                                    "The bridge reconnects by itself; retry the request."), {}};
}

std::string group_json(const std::vector<const RpcCall *> &calls) {
  std::string list = "[";
  for (const RpcCall *call : calls) {
    if (list.size() > 1) list += ',';
    // [method, params], written out rather than built as an array (which would copy params)
    list += '[';
    list += nlohmann::json(call->method).dump();
    list += ',';
    list += call->params.dump();
    list += ']';
  }
  list += ']';
  return list;
}

RpcOutcome outcome_for_exception(const std::exception &error) {
  RpcOutcome outcome;
  if (const auto *sql = dynamic_cast<const pqxx::sql_error *>(&error)) {
    std::string sqlstate = sql->sqlstate();
    // libpqxx 6 throws some classes without their SQLSTATE; recover it from the class.
    if (sqlstate.empty()) {
      if (dynamic_cast<const pqxx::insufficient_privilege *>(&error)) sqlstate = "42501";
      else if (dynamic_cast<const pqxx::statement_completion_unknown *>(&error)) sqlstate = "40003";
      else if (dynamic_cast<const pqxx::deadlock_detected *>(&error)) sqlstate = "40P01";
      else if (dynamic_cast<const pqxx::serialization_failure *>(&error)) sqlstate = "40001";
      else if (dynamic_cast<const pqxx::data_exception *>(&error)) sqlstate = "22000";
      else if (dynamic_cast<const pqxx::undefined_function *>(&error)) sqlstate = "42883";
      else if (dynamic_cast<const pqxx::undefined_table *>(&error)) sqlstate = "42P01";
      else if (dynamic_cast<const pqxx::plpgsql_error *>(&error)) sqlstate = "P0000";
    }
    const PgMessage m = split_message(sql->what());
    if (connection_lost(sqlstate)) DbPool::mark_broken();
    return sql_error_outcome(sqlstate, m.message, m.detail, m.hint);
  }
  if (dynamic_cast<const pqxx::broken_connection *>(&error) != nullptr) {
    DbPool::mark_broken();
    return lost_connection_outcome(split_message(error.what()).message);
  }
  if (dynamic_cast<const pqxx::in_doubt_error *>(&error) != nullptr) {
    DbPool::mark_broken();
    return in_doubt_outcome();
  }
  outcome.status = 500;
  outcome.body = error_body("awf.bridge/internal-error", error.what());
  return outcome;
}

RpcOutcome run_rpc(pqxx::connection &connection, const std::string &role, const RpcCall &call) {
  try {
    connection.prepare("awf_rpc", kRpcSql);
    pqxx::nontransaction tx(connection);
    return result_outcome(tx.exec_prepared("awf_rpc", call.method, call.params.dump(), role), true);
  } catch (const std::exception &e) {
    return outcome_for_exception(e);
  }
}

std::optional<std::vector<RpcOutcome>> run_rpc_group(pqxx::connection &connection, const std::string &role,
                                                     const std::vector<const RpcCall *> &calls) {
  const std::string list = group_json(calls);
  try {
    connection.prepare("awf_rpc_group", kRpcGroupSql);
    pqxx::nontransaction tx(connection);
    const pqxx::result result = tx.exec_prepared("awf_rpc_group", list, role);
    // Committed: whatever the rows say, the calls must not run again.
    std::vector<RpcOutcome> outcomes;
    outcomes.reserve(calls.size());
    for (size_t k = 0; k < calls.size(); ++k)
      outcomes.push_back(committed_outcome(k < result.size() && !result[k][0].is_null() ? result[k][0].c_str() : nullptr));
    return outcomes;
  } catch (const pqxx::sql_error &e) {
    if (connection_lost(e.sqlstate()))
      return std::vector<RpcOutcome>(calls.size(), outcome_for_exception(e));
    return std::nullopt;  // one call failed and took the group with it: nothing was committed
  } catch (const std::exception &e) {
    return std::vector<RpcOutcome>(calls.size(), outcome_for_exception(e));
  }
}

std::vector<RpcOutcome> run_rpc_batch(pqxx::connection &connection, const std::string &role,
                                      const std::vector<RpcCall> &calls) {
  std::vector<RpcOutcome> outcomes;
  outcomes.reserve(calls.size());
  try {
    connection.prepare("awf_rpc_tx", kRpcInTransactionSql);
    pqxx::work tx(connection);
    tx.exec("SELECT pg_catalog.set_config('role', " + tx.quote(role) + ", true)");
    for (const RpcCall &call : calls) {
      tx.exec("SAVEPOINT awf_batch_item");
      try {
        outcomes.push_back(result_outcome(tx.exec_prepared("awf_rpc_tx", call.method, call.params.dump()), false));
        tx.exec("RELEASE SAVEPOINT awf_batch_item");
      } catch (const pqxx::broken_connection &) {
        throw;
      } catch (const pqxx::sql_error &e) {
        outcomes.push_back(outcome_for_exception(e));
        tx.exec("ROLLBACK TO SAVEPOINT awf_batch_item");  // undo this call only
      }
    }
    tx.commit();
  } catch (const std::exception &e) {
    // The transaction itself failed: nothing of the batch was committed.
    const RpcOutcome failure = outcome_for_exception(e);
    outcomes.assign(calls.size(), failure);
  }
  return outcomes;
}

RpcOutcome run_query(pqxx::connection &connection, const std::string &role, const std::string &sql,
                     const std::vector<std::string> &params) {
  try {
    pqxx::work tx(connection);
    tx.exec("SELECT pg_catalog.set_config('role', " + tx.quote(role) + ", true)");
    pqxx::result result;
    switch (params.size()) {
      case 0: result = tx.exec_params(sql); break;
      case 1: result = tx.exec_params(sql, params[0]); break;
      case 2: result = tx.exec_params(sql, params[0], params[1]); break;
      case 3: result = tx.exec_params(sql, params[0], params[1], params[2]); break;
      case 4: result = tx.exec_params(sql, params[0], params[1], params[2], params[3]); break;
      default: throw std::invalid_argument("run_query: too many parameters");
    }
    tx.commit();
    RpcOutcome outcome;
    if (result.empty() || result[0][0].is_null()) {
      outcome.body = nullptr;
    } else {
      outcome.body = nlohmann::json::parse(result[0][0].c_str());
    }
    return outcome;
  } catch (const std::exception &e) {
    return outcome_for_exception(e);
  }
}

}  // namespace awf::bridge
