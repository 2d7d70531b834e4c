// NL Flow routes and query strings (seed 003): which call a method and path are, and how
// taskIds / taskStatuses / verboseErrorOutput are read.
#include <gtest/gtest.h>

#include "http_errors.hpp"
#include "nlflow.hpp"
#include "xina.hpp"

namespace awf::bridge::test {
namespace {

const std::string kBase = "/api/v1/runtime/workflow/wf-1/task";
const std::string kId = "6c3bb18c-acdc-4407-b4f4-5a0f4701bd38";

NlflowRoute route(const std::string &method, const std::string &path) {
  const NlflowMatch m = match_nlflow(method, path);
  EXPECT_TRUE(m.route.has_value()) << method << " " << path;
  return m.route.value_or(NlflowRoute{NlflowCall::Create, "", ""});
}

TEST(NlflowRoutes, EveryCallOfTheSeed) {
  struct Case {
    std::string method, path;
    NlflowCall call;
    std::string task;
  };
  const std::vector<Case> cases = {
      {"POST", kBase, NlflowCall::Create, ""},
      {"GET", kBase + "/" + kId + "/status", NlflowCall::TaskStatus, kId},
      {"GET", kBase + "/status", NlflowCall::StatusMap, ""},
      {"GET", kBase + "/" + kId + "/response", NlflowCall::Response, kId},
      {"GET", kBase + "/" + kId + "/request", NlflowCall::Request, kId},
      {"DELETE", kBase + "/" + kId, NlflowCall::DeleteOne, kId},
      {"DELETE", kBase, NlflowCall::DeleteMany, ""},
  };
  for (const auto &c : cases) {
    const NlflowRoute r = route(c.method, c.path);
    EXPECT_EQ(r.call, c.call) << c.method << " " << c.path;
    EXPECT_EQ(r.workflow, "wf-1");
    EXPECT_EQ(r.task, c.task);
  }
}

TEST(NlflowRoutes, WrongMethodNamesTheAllowedOnes) {
  const NlflowMatch m = match_nlflow("PUT", kBase);
  EXPECT_FALSE(m.route);
  EXPECT_EQ(m.allow, "POST, DELETE");
  EXPECT_EQ(match_nlflow("POST", kBase + "/status").allow, "GET");
  EXPECT_EQ(match_nlflow("GET", kBase + "/" + kId).allow, "DELETE");
}

TEST(NlflowRoutes, UnknownPathsMatchNothing) {
  for (const std::string &path : std::vector<std::string>{
           "/api/v1/runtime/workflow/", "/api/v1/runtime/workflow/wf-1", "/api/v1/runtime/workflow/wf-1/tasks",
        "/api/v1/runtime/workflow//task", kBase + "/" + kId + "/result", kBase + "/" + kId + "/status/x",
        kBase + "//status", "/api/v1/runtime/workflows/wf-1/task"}) {
    const NlflowMatch m = match_nlflow("GET", path);
    EXPECT_FALSE(m.route) << path;
    EXPECT_TRUE(m.allow.empty()) << path;
  }
}

TEST(NlflowQuery, VerboseErrorOutput) {
  EXPECT_TRUE(read_nlflow_query(NlflowCall::Create, {{"verboseErrorOutput", "true"}}).verbose_errors);
  EXPECT_FALSE(read_nlflow_query(NlflowCall::Create, {{"verboseErrorOutput", "false"}}).verbose_errors);
  EXPECT_FALSE(read_nlflow_query(NlflowCall::Create, {}).verbose_errors);
  EXPECT_THROW(read_nlflow_query(NlflowCall::Create, {{"verboseErrorOutput", "yes"}}), std::invalid_argument);
}

TEST(NlflowQuery, TaskIdsAreUuids) {
  const std::string other = "5941302d-c109-4b20-aa1a-3370e1d91ce6";
  const NlflowQuery q = read_nlflow_query(NlflowCall::StatusMap, {{"taskIds", kId + "," + other}});
  ASSERT_TRUE(q.task_ids);
  EXPECT_EQ(*q.task_ids, nlohmann::json::array({kId, other}));
  EXPECT_FALSE(q.statuses);
  for (const std::string &bad : std::vector<std::string>{"", ",", kId + ",", "x", kId + ",nope", "6c3bb18c-acdc-4407-b4f4-5a0f4701bd3"})
    EXPECT_THROW(read_nlflow_query(NlflowCall::StatusMap, {{"taskIds", bad}}), std::invalid_argument) << bad;
}

TEST(NlflowQuery, TaskStatusesArePassedOnAndChecksAreTheDatabases) {
  const NlflowQuery q = read_nlflow_query(NlflowCall::DeleteMany, {{"taskStatuses", "ERROR, DROPPED"}});
  ASSERT_TRUE(q.statuses);
  EXPECT_EQ(*q.statuses, nlohmann::json::array({"ERROR", "DROPPED"}));
  EXPECT_THROW(read_nlflow_query(NlflowCall::StatusMap, {{"taskStatuses", "ERROR,,RUNNING"}}), std::invalid_argument);
  EXPECT_THROW(read_nlflow_query(NlflowCall::StatusMap, {{"taskStatuses", "ERROR"}, {"taskStatuses", "RUNNING"}}),
               std::invalid_argument);
  EXPECT_THROW(read_nlflow_query(NlflowCall::StatusMap, {{"taskStatuses", "ERROR"}, {"taskIds", kId}}),
               std::invalid_argument);
}

TEST(NlflowQuery, ParametersOfOtherCallsAndUnknownOnesAreIgnored) {
  const NlflowQuery q = read_nlflow_query(NlflowCall::TaskStatus, {{"taskIds", "junk"}, {"_", "123"}});
  EXPECT_FALSE(q.task_ids);
  EXPECT_FALSE(q.verbose_errors);
}

TEST(NlflowErrors, StatusBySqlstate) {
  EXPECT_EQ(surface_status_for_sqlstate("WA001", 422), 404);
  EXPECT_EQ(surface_status_for_sqlstate("WA003", 422), 409);
  EXPECT_EQ(surface_status_for_sqlstate("WA101", 400), 400);
  EXPECT_EQ(surface_status_for_sqlstate("42501", 403), 403);
  EXPECT_EQ(surface_status_for_sqlstate("08006", 503), 503);
}

TEST(NlflowIds, IsUuid) {
  EXPECT_TRUE(is_uuid(kId));
  EXPECT_TRUE(is_uuid("6C3BB18C-ACDC-4407-B4F4-5A0F4701BD38"));
  EXPECT_FALSE(is_uuid("6c3bb18cacdc4407b4f45a0f4701bd38"));
  EXPECT_FALSE(is_uuid("6c3bb18c-acdc-4407-b4f4-5a0f4701bd3g"));
  EXPECT_FALSE(is_uuid(""));
}

}  // namespace
}  // namespace awf::bridge::test

TEST(XinaLabel, KnownActionsOnly) {
  EXPECT_EQ(awf::bridge::xina_action_label(nlohmann::json{{"action", "run"}}), "xina run");
  EXPECT_EQ(awf::bridge::xina_action_label(nlohmann::json{{"action", "resume"}}), "xina resume");
  EXPECT_EQ(awf::bridge::xina_action_label(nlohmann::json{{"action", "made-up"}}), "xina");
  EXPECT_EQ(awf::bridge::xina_action_label(nlohmann::json{{"action", 7}}), "xina");
  EXPECT_EQ(awf::bridge::xina_action_label(nlohmann::json::object()), "xina");
}
