#include "nlflow.hpp"

#include <cctype>
#include <stdexcept>

namespace awf::bridge {

namespace {

std::vector<std::string_view> split_path(std::string_view rest) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    parts.push_back(rest.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::vector<std::string> split_list(const std::string &value, const std::string &name) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    std::string item = value.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty())
      throw std::invalid_argument(name + " has an empty item: give a comma-separated list, e.g. " + name +
                                  (name == "taskIds" ? "=ID1,ID2" : "=RUNNING,ERROR"));
    out.push_back(std::move(item));
    start = end + 1;
  }
  return out;
}

}  // namespace

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

NlflowMatch match_nlflow(std::string_view method, std::string_view path) {
  NlflowMatch m;
  if (path.substr(0, kNlflowPrefix.size()) != kNlflowPrefix) return m;
  const auto parts = split_path(path.substr(kNlflowPrefix.size()));
  // {workflowId}/task[/...]
  if (parts.size() < 2 || parts[0].empty() || parts[1] != "task") return m;
  const std::string workflow(parts[0]);
  auto pick = [&](std::initializer_list<std::pair<const char *, NlflowCall>> allowed, std::string task) {
    for (const auto &[verb, call] : allowed)
      if (method == verb) {
        m.route = NlflowRoute{call, workflow, std::move(task)};
        return;
      }
    for (const auto &[verb, call] : allowed) {
      (void)call;
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += verb;
    }
  };
  if (parts.size() == 2) {
    pick({{"POST", NlflowCall::Create}, {"DELETE", NlflowCall::DeleteMany}}, "");
  } else if (parts.size() == 3 && parts[2] == "status") {
    pick({{"GET", NlflowCall::StatusMap}}, "");
  } else if (parts.size() == 3 && !parts[2].empty()) {
    pick({{"DELETE", NlflowCall::DeleteOne}}, std::string(parts[2]));
  } else if (parts.size() == 4 && !parts[2].empty()) {
    if (parts[3] == "status") pick({{"GET", NlflowCall::TaskStatus}}, std::string(parts[2]));
    else if (parts[3] == "response") pick({{"GET", NlflowCall::Response}}, std::string(parts[2]));
    else if (parts[3] == "request") pick({{"GET", NlflowCall::Request}}, std::string(parts[2]));
  }
  return m;
}

std::string_view nlflow_call_name(NlflowCall call) {
  switch (call) {
    case NlflowCall::Create: return "nlflow create";
    case NlflowCall::TaskStatus: return "nlflow status";
    case NlflowCall::StatusMap: return "nlflow status map";
    case NlflowCall::Response: return "nlflow response";
    case NlflowCall::Request: return "nlflow request";
    case NlflowCall::DeleteOne: return "nlflow delete";
    case NlflowCall::DeleteMany: return "nlflow delete many";
  }
  return "nlflow";
}

NlflowQuery read_nlflow_query(NlflowCall call, const std::vector<std::pair<std::string, std::string>> &query) {
  NlflowQuery q;
  for (const auto &[key, value] : query) {
    if (key == "verboseErrorOutput" && call == NlflowCall::Create) {
      if (value == "true") q.verbose_errors = true;
      else if (value == "false") q.verbose_errors = false;
      else throw std::invalid_argument("verboseErrorOutput must be true or false, got \"" + value + "\"");
    } else if (key == "taskIds" && call == NlflowCall::StatusMap) {
      if (q.task_ids) throw std::invalid_argument("taskIds is given twice: list the IDs in one taskIds, comma-separated");
      q.task_ids = nlohmann::json::array();
      for (auto &id : split_list(value, "taskIds")) {
        if (!is_uuid(id)) throw std::invalid_argument("taskIds: \"" + id + "\" is not a task ID (a UUID)");
        q.task_ids->push_back(id);
      }
    } else if (key == "taskStatuses" && (call == NlflowCall::StatusMap || call == NlflowCall::DeleteMany)) {
      if (q.statuses) throw std::invalid_argument("taskStatuses is given twice: list the statuses in one taskStatuses");
      q.statuses = nlohmann::json::array();
      for (auto &s : split_list(value, "taskStatuses")) q.statuses->push_back(s);
    }
    // Other parameters are ignored, as clients add their own (cache busters, tracing).
  }
  if (q.task_ids && q.statuses)
    throw std::invalid_argument("give taskIds or taskStatuses, not both");
  return q;
}

}  // namespace awf::bridge
