#include "rpc_request.hpp"

#include <gtest/gtest.h>

namespace awf::bridge {
namespace {

using json = nlohmann::json;

TEST(RpcRequest, OneCallWithParams) {
  const RpcRequest r = read_rpc_request(json::parse(R"({"method": "awf.task/poll", "params": {"maxBatchSize": 2}})"));
  ASSERT_FALSE(r.error);
  EXPECT_FALSE(r.batch);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].method, "awf.task/poll");
  EXPECT_EQ(r.calls[0].params["maxBatchSize"], 2);
}

TEST(RpcRequest, MissingOrNullParamsAreAnEmptyObject) {
  for (const char *body : {R"({"method": "awf.task/list"})", R"({"method": "awf.task/list", "params": null})"}) {
    const RpcRequest r = read_rpc_request(json::parse(body));
    ASSERT_EQ(r.calls.size(), 1u) << body;
    EXPECT_EQ(r.calls[0].params, json::object()) << body;
  }
}

TEST(RpcRequest, ParamsOfAnotherTypeArePassedOnForTheExtensionToRefuse) {
  const RpcRequest r = read_rpc_request(json::parse(R"({"method": "awf.task/poll", "params": [1]})"));
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_TRUE(r.calls[0].params.is_array());
}

TEST(RpcRequest, BodiesThatAreNotCalls) {
  for (const char *body : {R"("text")", "42", "null", R"({"params": {}})", R"({"method": 7})", "{}"}) {
    const RpcRequest r = read_rpc_request(json::parse(body));
    EXPECT_TRUE(r.error) << body;
    EXPECT_TRUE(r.calls.empty()) << body;
  }
}

TEST(RpcRequest, BatchKeepsOrderAndAnswersInvalidItemsInPlace) {
  const RpcRequest r = read_rpc_request(json::parse(R"([
    {"method": "awf.task/create", "params": {"definition": "a"}},
    {"nomethod": 1},
    "not an object",
    {"method": "awf.task/status", "params": {"id": "x"}}
  ])"));
  ASSERT_FALSE(r.error);
  EXPECT_TRUE(r.batch);
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].method, "awf.task/create");
  EXPECT_EQ(r.calls[1].method, "awf.task/status");
  EXPECT_EQ(r.positions, (std::vector<size_t>{0, 3}));
  ASSERT_EQ(r.item_errors.size(), 4u);
  EXPECT_FALSE(r.item_errors[0]);
  ASSERT_TRUE(r.item_errors[1]);
  EXPECT_EQ((*r.item_errors[1])["error"]["type"], "awf.rpc/invalid-request");
  EXPECT_NE((*r.item_errors[1])["error"]["message"].get<std::string>().find("call 1"), std::string::npos);
  ASSERT_TRUE(r.item_errors[2]);
  EXPECT_FALSE(r.item_errors[3]);
}

TEST(RpcRequest, EmptyAndOversizedBatchesAreRefusedWhole) {
  EXPECT_TRUE(read_rpc_request(json::array()).error);
  json big = json::array();
  for (size_t i = 0; i <= kMaxBatch; ++i) big.push_back({{"method", "awf.task/poll"}});
  const RpcRequest r = read_rpc_request(big);
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("at most 1000"), std::string::npos);
  big.erase(big.begin());
  EXPECT_FALSE(read_rpc_request(big).error);
}

TEST(RpcRequest, LongPollInsideABatchDoesNotWait) {
  const RpcRequest r = read_rpc_request(json::parse(R"([
    {"method": "awf.task/long-poll", "params": {"taskDefinitions": ["d"], "timeout": 50000}},
    {"method": "awf.task/long-poll", "params": "weird"}
  ])"));
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].params["timeout"], 0);
  EXPECT_EQ(r.calls[1].params, "weird");  // left for the extension to refuse, not a crash here
}

}  // namespace
}  // namespace awf::bridge
