// The one table that maps errors to HTTP statuses and error types (PostgREST's mapSQLtoHTTP
// idea). Every error the bridge sends has the shape {error: {type, message, ...}}.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace awf::bridge {

struct HttpError {
  int status;
  std::string type;
};

// The status and type of a PostgreSQL error by its SQLSTATE:
//   WA0xx (task domain: not found, wrong execId, wrong status, id conflict) -> 422
//   WA101 invalid params -> 400, WA102 unknown method -> 404, WA2xx server setup -> 500
//   42501 insufficient privilege -> 403
//   08xxx connection exceptions, 57P01-57P03 shutdown / cannot connect now, 53xxx resources -> 503
//   22xxx data exceptions (a value PostgreSQL refused), 54xxx limits exceeded -> 400
//   57014 statement timeout / canceled -> 504
//   40001 serialization failure, 40P01 deadlock -> 503 (safe to retry)
//   42883 / 42P01 / 3F000 (function, table or schema missing: awf not installed) -> 500
//   anything else -> 500
HttpError http_error_for_sqlstate(std::string_view sqlstate);

// The REST surfaces (NL Flow, XINA) answer domain errors with the usual REST statuses instead of
// /rpc's 422: WA001 no such workflow or task -> 404, WA003 a task in the wrong state (outcome
// asked while running, cancel of a concluded task, ...) -> 409, WA101 invalid input -> 400;
// anything else keeps `rpc_status`.
int surface_status_for_sqlstate(std::string_view sqlstate, int rpc_status);

// The body of an error response.
nlohmann::json error_body(std::string_view type, std::string_view message,
                          std::string_view detail = {}, std::string_view hint = {},
                          std::string_view sqlstate = {});

}  // namespace awf::bridge
