#include "core/methods.hpp"

#include <array>

namespace awf {

namespace {
constexpr std::array<MethodInfo, 23> kMethods = {{
    {Method::Poll, "awf.task/poll", "task_poll", ""},
    {Method::LongPoll, "awf.task/long-poll", "task_long_poll", ""},
    {Method::Start, "awf.task/start", "task_start", ""},
    {Method::Notify, "awf.task/notify", "task_notify", ""},
    {Method::Notify, "awf.task/heartbeat", "task_notify", "heartbeat"},
    {Method::Notify, "awf.task/progress", "task_notify", "progress"},
    {Method::Success, "awf.task/success", "task_success", ""},
    {Method::Fail, "awf.task/fail", "task_fail", ""},
    {Method::Create, "awf.task/create", "task_create", ""},
    {Method::Create, "awf.task/create-and-execute", "task_create", ""},
    {Method::Status, "awf.task/status", "task_status", ""},
    {Method::Cancel, "awf.task/cancel", "task_cancel", ""},
    {Method::List, "awf.task/list", "task_list", ""},
    {Method::NlflowWorkflowPut, "awf.nlflow/workflow-put", "nlflow_workflow_put", ""},
    {Method::NlflowWorkflowList, "awf.nlflow/workflow-list", "nlflow_workflow_list", ""},
    {Method::WorkflowCreate, "awf.workflow/create-and-execute", "workflow_create", ""},
    {Method::WorkflowCreate, "awf.workflow/create", "workflow_create", ""},
    {Method::WorkflowStatus, "awf.workflow/status", "workflow_status", ""},
    {Method::WorkflowCancel, "awf.workflow/cancel", "workflow_cancel", ""},
    {Method::WorkflowList, "awf.workflow/list", "workflow_list", ""},
    {Method::SchedulerRulePut, "awf.scheduler/rule-put", "scheduler_rule_put", ""},
    {Method::SchedulerRuleDelete, "awf.scheduler/rule-delete", "scheduler_rule_delete", ""},
    {Method::SchedulerRuleList, "awf.scheduler/rule-list", "scheduler_rule_list", ""},
}};
}  // namespace

std::optional<MethodInfo> find_method(std::string_view name) {
  for (const auto &info : kMethods)
    if (info.name == name) return info;
  return std::nullopt;
}

std::string_view known_methods_list() {
  return "awf.task/poll, awf.task/long-poll, awf.task/start, awf.task/notify (also "
         "awf.task/heartbeat, awf.task/progress), awf.task/success, awf.task/fail, "
         "awf.task/create, awf.task/create-and-execute, awf.task/status, awf.task/cancel, "
         "awf.task/list, awf.nlflow/workflow-put, awf.nlflow/workflow-list, "
         "awf.workflow/create-and-execute (also awf.workflow/create), awf.workflow/status, "
         "awf.workflow/cancel, awf.workflow/list, awf.scheduler/rule-put, "
         "awf.scheduler/rule-delete, awf.scheduler/rule-list";
}

}  // namespace awf
