// The error catalogue of pg_awf: every error a user can see has a stable `type` (what the bridge
// sends as error.type) and a SQLSTATE of the extension's own class "WA" (what SQL callers see).
// Pure C++: no PostgreSQL headers, so unit tests and the bridge can share it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace awf {

enum class ErrorCode {
  TaskNotFound,     // unknown task id
  WrongExecId,      // stale or foreign execId: the execution was re-queued or claimed by another
  InvalidStatus,    // the task is not in the status the transition needs
  TaskIdConflict,   // create with an existing id but another definition
  WorkflowDone,     // cancel of a workflow that is done already
  WorkflowNotFound,     // unknown workflow id
  WorkflowIdConflict,   // create with an existing workflow id but another definition
  SchedulerRuleNotFound,  // unknown scheduler rule id
  InvalidParams,    // a key is missing, of the wrong type or out of range
  UnknownMethod,    // awf.rpc was given a method it does not know
  NotPreloaded,     // needs awf in shared_preload_libraries (shared memory, background worker)
  Internal,         // a bug: an invariant of the extension did not hold
};

struct ErrorInfo {
  ErrorCode code;
  const char *sqlstate;  // five characters, class WA
  const char *type;      // stable identifier for clients, e.g. "awf.task/wrong-exec-id"
};

// The one table of codes, SQLSTATEs and types.
const ErrorInfo &error_info(ErrorCode code);
// Reverse lookup for the bridge: the type for a SQLSTATE of ours, or nullptr.
const ErrorInfo *error_info_by_sqlstate(std::string_view sqlstate);

// Thrown by the queue logic; turned into ereport(ERROR) at the SQL entry point.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::string detail = {}, std::string hint = {})
      : std::runtime_error(std::move(message)),
        code_(code),
        detail_(std::move(detail)),
        hint_(std::move(hint)) {}

  ErrorCode code() const { return code_; }
  const std::string &detail() const { return detail_; }
  const std::string &hint() const { return hint_; }

 private:
  ErrorCode code_;
  std::string detail_;
  std::string hint_;
};

}  // namespace awf
