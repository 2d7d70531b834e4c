// The SQLSTATE -> HTTP status and error type table, and the error body.
#include <gtest/gtest.h>

#include <string>

#include "core/errors.hpp"
#include "http_errors.hpp"

namespace awf::bridge::test {
namespace {

void expect_error(const char *sqlstate, int status, const std::string &type) {
  const HttpError e = http_error_for_sqlstate(sqlstate);
  EXPECT_EQ(e.status, status) << sqlstate;
  EXPECT_EQ(e.type, type) << sqlstate;
}

TEST(HttpErrors, TaskDomainErrorsAre422) {
  expect_error("WA001", 422, "awf.task/not-found");
  expect_error("WA002", 422, "awf.task/wrong-exec-id");
  expect_error("WA003", 422, "awf.task/invalid-status");
  expect_error("WA004", 422, "awf.task/id-conflict");
  expect_error("WA005", 422, "workflow-has-been-done");
  expect_error("WA006", 422, "awf.workflow/not-found");
  expect_error("WA007", 422, "awf.workflow/id-conflict");
  expect_error("WA008", 422, "awf.scheduler/rule-not-found");
}

TEST(HttpErrors, RequestErrors) {
  expect_error("WA101", 400, "awf.rpc/invalid-params");
  expect_error("WA102", 404, "awf.rpc/unknown-method");
}

TEST(HttpErrors, ServerSetupErrorsAre500) {
  expect_error("WA201", 500, "awf/not-preloaded");
  expect_error("WA900", 500, "awf/internal-error");
}

TEST(HttpErrors, EveryCatalogueErrorKeepsItsType) {
  for (ErrorCode code : {ErrorCode::TaskNotFound, ErrorCode::WrongExecId, ErrorCode::InvalidStatus,
                         ErrorCode::TaskIdConflict, ErrorCode::InvalidParams, ErrorCode::UnknownMethod,
                         ErrorCode::NotPreloaded, ErrorCode::Internal}) {
    const ErrorInfo &info = error_info(code);
    const HttpError e = http_error_for_sqlstate(info.sqlstate);
    EXPECT_EQ(e.type, info.type) << info.sqlstate;
    EXPECT_GE(e.status, 400) << info.sqlstate;
    EXPECT_LT(e.status, 600) << info.sqlstate;
  }
}

TEST(HttpErrors, InsufficientPrivilegeIs403) { expect_error("42501", 403, "awf.auth/forbidden"); }

TEST(HttpErrors, UnavailableIs503) {
  for (const char *s : {"08006", "08000", "08001", "08003", "08P01", "57P01", "57P02", "57P03", "53300", "53100",
                        "53200"})
    expect_error(s, 503, "awf.db/unavailable");
}

TEST(HttpErrors, RetryableConflictsAre503) {
  expect_error("40001", 503, "awf.db/conflict");
  expect_error("40P01", 503, "awf.db/conflict");
}

TEST(HttpErrors, DataExceptionsAndLimitsAre400) {
  for (const char *s : {"22P02", "22001", "22003", "22007", "22023", "54001", "54000"})
    expect_error(s, 400, "awf.rpc/invalid-params");
}

TEST(HttpErrors, StatementTimeoutIs504) { expect_error("57014", 504, "awf.db/timeout"); }

TEST(HttpErrors, MissingExtensionIs500) {
  for (const char *s : {"42883", "42P01", "3F000"}) expect_error(s, 500, "awf.db/not-installed");
}

TEST(HttpErrors, AnythingElseIs500) {
  for (const char *s : {"XX000", "XX001", "P0001", "23505", "42601", "WA999", "WA099", "", "W", "5", "ZZZZZ"})
    expect_error(s, 500, "awf.db/error");
  // Near misses of the special cases.
  expect_error("42502", 500, "awf.db/error");
  expect_error("57P04", 500, "awf.db/error");
  expect_error("57015", 500, "awf.db/error");
}

TEST(ErrorBody, MinimalShape) {
  const nlohmann::json body = error_body("awf.task/not-found", "no such task");
  EXPECT_EQ(body, nlohmann::json::parse(R"({"error":{"type":"awf.task/not-found","message":"no such task"}})"));
}

TEST(ErrorBody, OptionalFieldsOnlyWhenGiven) {
  const nlohmann::json full = error_body("t", "m", "d", "h", "WA001");
  EXPECT_EQ(full, nlohmann::json::parse(
                      R"({"error":{"type":"t","message":"m","detail":"d","hint":"h","sqlstate":"WA001"}})"));
  const nlohmann::json some = error_body("t", "m", "", "h");
  EXPECT_FALSE(some.at("error").contains("detail"));
  EXPECT_FALSE(some.at("error").contains("sqlstate"));
  EXPECT_EQ(some.at("error").at("hint"), "h");
  ASSERT_EQ(some.size(), 1u);
}

TEST(ErrorBody, MessagesAreStringsEvenWhenTheyLookLikeOtherThings) {
  const nlohmann::json body = error_body("t", "42", "true", "null", "22P02");
  EXPECT_TRUE(body.at("error").at("message").is_string());
  EXPECT_TRUE(body.at("error").at("detail").is_string());
  EXPECT_TRUE(body.at("error").at("hint").is_string());
}

}  // namespace
}  // namespace awf::bridge::test
