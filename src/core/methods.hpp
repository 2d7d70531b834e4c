// The RPC methods of the Aidbox Task Executor API that pg_awf serves, and their spellings.
#pragma once

#include <optional>
#include <string_view>

namespace awf {

enum class Method {
  Poll,
  LongPoll,
  Start,
  Notify,
  Success,
  Fail,
  Create,
  Status,
  Cancel,
  List,
  NlflowWorkflowPut,   // admin: register or change an NL Flow workflow
  NlflowWorkflowList,  // admin: NL Flow workflows and their API key ids
  WorkflowCreate,      // Aidbox workflows, driven by decision tasks
  WorkflowStatus,
  WorkflowCancel,
  WorkflowList,
  SchedulerRulePut,    // admin: scheduler rules
  SchedulerRuleDelete,
  SchedulerRuleList,
};

struct MethodInfo {
  Method method;
  std::string_view name;        // the canonical name, e.g. "awf.task/poll"
  std::string_view sql_function;  // the typed SQL function it runs, e.g. "task_poll"
  // For the notify aliases ("awf.task/heartbeat", "awf.task/progress"): the notification they
  // imply; empty otherwise.
  std::string_view implied_notification;
};

// Resolves a method name as clients send it; nullopt for an unknown method.
std::optional<MethodInfo> find_method(std::string_view name);

// Every spelling find_method accepts, for error messages and docs.
std::string_view known_methods_list();

}  // namespace awf
