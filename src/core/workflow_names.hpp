// Names the workflow engine and the bridge agree on. Decision tasks of a workflow are queued under
// "awf.workflow/decision-task@<workflow definition>", so polling `workflowDefinitions` is the
// same claim on the ready index, and the same wakeup slots, as polling `taskDefinitions`; the API
// shows their definition as plain "awf.workflow/decision-task". Pure C++.
#pragma once

#include <string>
#include <string_view>

namespace awf {

inline constexpr std::string_view kDecisionTaskDefinition = "awf.workflow/decision-task";
inline constexpr std::string_view kDecisionQueuePrefix = "awf.workflow/decision-task@";
// Definitions under this prefix are made by the workflow engine only.
inline constexpr std::string_view kWorkflowReservedPrefix = "awf.workflow/";

// Tasks the engine runs itself (awf.builtin_definitions() in SQL): executors may not poll them.
inline constexpr std::string_view kBuiltinDefinitions[] = {"awf.task/wait", "awf.task/clean-up-activities"};

// Why an executor may not poll taskDefinitions `name`, or empty when it may.
inline std::string_view unpollable_reason(std::string_view name) {
  for (std::string_view builtin : kBuiltinDefinitions)
    if (name == builtin) return "is a built-in task that the engine runs itself";
  if (name.substr(0, kDecisionQueuePrefix.size()) == kDecisionQueuePrefix)
    return "is a decision queue: poll workflowDefinitions with the workflow's definition";
  return {};
}

// The definition under which decision tasks of workflows of `workflow_definition` are queued.
inline std::string decision_queue(std::string_view workflow_definition) {
  std::string out(kDecisionQueuePrefix);
  out.append(workflow_definition);
  return out;
}

// The definition the API shows for a stored one.
inline std::string_view public_definition(std::string_view stored) {
  return stored.substr(0, kDecisionQueuePrefix.size()) == kDecisionQueuePrefix ? kDecisionTaskDefinition
                                                                                 : stored;
}

}  // namespace awf
