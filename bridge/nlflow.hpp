// The NL Flow REST API of asynchronous workflows (seed 003), on the extension's awf.nlflow_*
// functions:
//   POST   /api/v1/runtime/workflow/{workflowId}/task[?verboseErrorOutput=true]  -> 202 {taskId}
//   GET    …/task/{taskId}/status                                                -> 200 {status}
//   GET    …/task/status[?taskIds=a,b | ?taskStatuses=S1,S2]                     -> 200 {taskStatusMap}
//   GET    …/task/{taskId}/response                                              -> 200 the outcome
//   GET    …/task/{taskId}/request                                               -> 200 the input
//   DELETE …/task/{taskId}                                                       -> 204
//   DELETE …/task[?taskStatuses=S1,S2]                                           -> 204
// Every call needs an X-API-KEY of that workflow. Route matching and query reading are pure
// (unit-tested); run_nlflow does the database call.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace awf::bridge {

constexpr std::string_view kNlflowPrefix = "/api/v1/runtime/workflow/";

enum class NlflowCall { Create, TaskStatus, StatusMap, Response, Request, DeleteOne, DeleteMany };

struct NlflowRoute {
  NlflowCall call;
  std::string workflow;
  std::string task;  // empty for the calls about many tasks
};

struct NlflowMatch {
  std::optional<NlflowRoute> route;  // nullopt: no such path (404), or wrong method (405)
  std::string allow;                 // set when the path exists but not for this method
};

// Matches a path under kNlflowPrefix (no query string) and an HTTP method.
NlflowMatch match_nlflow(std::string_view method, std::string_view path);

// The name of a call, for logs and metrics ("nlflow create", …).
std::string_view nlflow_call_name(NlflowCall call);

bool is_uuid(std::string_view s);

// What a call sends to the database, read from its query string. Throws std::invalid_argument
// with a message naming the parameter (the bridge answers 400).
struct NlflowQuery {
  bool verbose_errors = false;              // verboseErrorOutput=true
  std::optional<nlohmann::json> task_ids;   // taskIds=a,b: UUIDs
  std::optional<nlohmann::json> statuses;   // taskStatuses=S1,S2: checked by the database
};
NlflowQuery read_nlflow_query(NlflowCall call, const std::vector<std::pair<std::string, std::string>> &query);

}  // namespace awf::bridge
