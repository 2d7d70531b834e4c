#include "core/errors.hpp"

#include <array>

namespace awf {

namespace {
// Class "WA": SQLSTATE classes starting with I-Z are reserved for implementations, and no other
// PostgreSQL component uses WA. WA0xx are domain errors (HTTP 422), WA1xx are request errors, WA2xx are
// server configuration errors.
constexpr std::array<ErrorInfo, 12> kErrors = {{
    {ErrorCode::TaskNotFound, "WA001", "awf.task/not-found"},
    {ErrorCode::WrongExecId, "WA002", "awf.task/wrong-exec-id"},
    {ErrorCode::InvalidStatus, "WA003", "awf.task/invalid-status"},
    {ErrorCode::TaskIdConflict, "WA004", "awf.task/id-conflict"},
    {ErrorCode::WorkflowDone, "WA005", "workflow-has-been-done"},
    {ErrorCode::WorkflowNotFound, "WA006", "awf.workflow/not-found"},
    {ErrorCode::WorkflowIdConflict, "WA007", "awf.workflow/id-conflict"},
    {ErrorCode::SchedulerRuleNotFound, "WA008", "awf.scheduler/rule-not-found"},
    {ErrorCode::InvalidParams, "WA101", "awf.rpc/invalid-params"},
    {ErrorCode::UnknownMethod, "WA102", "awf.rpc/unknown-method"},
    {ErrorCode::NotPreloaded, "WA201", "awf/not-preloaded"},
    {ErrorCode::Internal, "WA900", "awf/internal-error"},
}};
}  // namespace

const ErrorInfo &error_info(ErrorCode code) {
  for (const auto &info : kErrors)
    if (info.code == code) return info;
  return kErrors.back();
}

const ErrorInfo *error_info_by_sqlstate(std::string_view sqlstate) {
  for (const auto &info : kErrors)
    if (sqlstate == info.sqlstate) return &info;
  return nullptr;
}

}  // namespace awf
