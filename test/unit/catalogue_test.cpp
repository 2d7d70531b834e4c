#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/errors.hpp"
#include "core/methods.hpp"
#include "core/validate.hpp"

namespace awf {
namespace {

TEST(Errors, EverySqlstateIsOursAndUnique) {
  std::set<std::string> seen;
  for (ErrorCode code : {ErrorCode::TaskNotFound, ErrorCode::WrongExecId, ErrorCode::InvalidStatus,
                         ErrorCode::TaskIdConflict, ErrorCode::InvalidParams,
                         ErrorCode::UnknownMethod, ErrorCode::NotPreloaded, ErrorCode::Internal}) {
    const ErrorInfo &info = error_info(code);
    EXPECT_EQ(std::string(info.sqlstate).substr(0, 2), "WA");
    EXPECT_EQ(std::string(info.sqlstate).size(), 5u);
    EXPECT_TRUE(seen.insert(info.sqlstate).second) << info.sqlstate;
    EXPECT_EQ(error_info_by_sqlstate(info.sqlstate), &info);
  }
  EXPECT_EQ(error_info_by_sqlstate("XX000"), nullptr);
}

TEST(Errors, StableTypes) {
  EXPECT_STREQ(error_info(ErrorCode::WrongExecId).type, "awf.task/wrong-exec-id");
  EXPECT_STREQ(error_info(ErrorCode::TaskNotFound).type, "awf.task/not-found");
  EXPECT_STREQ(error_info(ErrorCode::InvalidStatus).type, "awf.task/invalid-status");
  EXPECT_STREQ(error_info(ErrorCode::InvalidParams).type, "awf.rpc/invalid-params");
  EXPECT_STREQ(error_info(ErrorCode::UnknownMethod).type, "awf.rpc/unknown-method");
}

TEST(Methods, NotifyAliasesImplyTheirNotification) {
  auto heartbeat = find_method("awf.task/heartbeat");
  ASSERT_TRUE(heartbeat);
  EXPECT_EQ(heartbeat->method, Method::Notify);
  EXPECT_EQ(heartbeat->implied_notification, "heartbeat");
  EXPECT_EQ(find_method("awf.task/progress")->implied_notification, "progress");
  EXPECT_EQ(find_method("awf.task/notify")->implied_notification, "");
}

TEST(Methods, CreateAndExecuteIsCreate) {
  EXPECT_EQ(find_method("awf.task/create-and-execute")->method, Method::Create);
  EXPECT_EQ(find_method("awf.task/create-and-execute")->sql_function, "task_create");
}

TEST(Methods, UnknownAndNearMissesAreRejected) {
  EXPECT_FALSE(find_method(""));
  EXPECT_FALSE(find_method("awf.task/Poll"));
  EXPECT_FALSE(find_method("awf.task/poll "));
  EXPECT_FALSE(find_method("poll"));
}

TEST(Validate, RangeMessageNamesMethodKeyAndValue) {
  try {
    check_range("awf.task/poll", "maxBatchSize", 5000, 1, 1000);
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidParams);
    EXPECT_STREQ(e.what(),
                 "awf.task/poll: parameter \"maxBatchSize\" must be an integer from 1 to 1000, got 5000");
  }
  EXPECT_NO_THROW(check_range("m", "k", 1, 1, 1));
}

TEST(Validate, Names) {
  EXPECT_THROW(check_name("m", "definition", ""), Error);
  EXPECT_THROW(check_name("m", "definition", std::string(256, 'x')), Error);
  EXPECT_NO_THROW(check_name("m", "definition", std::string(255, 'x')));
}

}  // namespace
}  // namespace awf
