#include "http_errors.hpp"

#include "core/errors.hpp"

namespace awf::bridge {

HttpError http_error_for_sqlstate(std::string_view sqlstate) {
  if (const ErrorInfo *ours = error_info_by_sqlstate(sqlstate)) {
    int status = 422;
    if (sqlstate == "WA101") status = 400;
    else if (sqlstate == "WA102") status = 404;
    else if (sqlstate.substr(0, 3) == "WA2" || sqlstate.substr(0, 3) == "WA9") status = 500;
    return {status, ours->type};
  }
  if (sqlstate == "42501") return {403, "awf.auth/forbidden"};
  if (sqlstate.substr(0, 2) == "08" || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03" || sqlstate.substr(0, 2) == "53")
    return {503, "awf.db/unavailable"};
  if (sqlstate == "57014") return {504, "awf.db/timeout"};
  if (sqlstate == "40001" || sqlstate == "40P01") return {503, "awf.db/conflict"};  // retry
  if (sqlstate == "42883" || sqlstate == "42P01" || sqlstate == "3F000")
    return {500, "awf.db/not-installed"};  // the extension is missing in this database
  if (sqlstate.substr(0, 2) == "22" || sqlstate.substr(0, 2) == "54")
    return {400, "awf.rpc/invalid-params"};
  return {500, "awf.db/error"};
}

int surface_status_for_sqlstate(std::string_view sqlstate, int rpc_status) {
  if (sqlstate == "WA001") return 404;
  if (sqlstate == "WA003") return 409;
  if (sqlstate == "WA101") return 400;
  return rpc_status;
}

nlohmann::json error_body(std::string_view type, std::string_view message, std::string_view detail,
                          std::string_view hint, std::string_view sqlstate) {
  nlohmann::json error = {{"type", type}, {"message", message}};
  if (!detail.empty()) error["detail"] = detail;
  if (!hint.empty()) error["hint"] = hint;
  if (!sqlstate.empty()) error["sqlstate"] = sqlstate;
  return {{"error", std::move(error)}};
}

}  // namespace awf::bridge
