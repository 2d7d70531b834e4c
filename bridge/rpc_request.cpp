#include "rpc_request.hpp"

#include "http_errors.hpp"

namespace awf::bridge {

namespace {
std::optional<RpcCall> read_call(const nlohmann::json &doc, std::string &problem) {
  if (!doc.is_object()) {
    problem = "the body must be an object {method, params} or an array of them";
    return std::nullopt;
  }
  auto method = doc.find("method");
  if (method == doc.end() || !method->is_string()) {
    problem = "the body needs \"method\", a string such as \"awf.task/poll\"";
    return std::nullopt;
  }
  RpcCall call{method->get<std::string>(), nlohmann::json::object()};
  if (auto params = doc.find("params"); params != doc.end() && !params->is_null()) call.params = *params;
  return call;
}
}  // namespace

RpcRequest read_rpc_request(const nlohmann::json &doc) {
  RpcRequest request;
  if (!doc.is_array()) {
    std::string problem;
    auto call = read_call(doc, problem);
    if (!call) {
      request.error = problem;
    } else {
      request.calls.push_back(std::move(*call));
      request.positions.push_back(0);
    }
    return request;
  }
  request.batch = true;
  if (doc.empty()) {
    request.error = "the batch is empty";
    return request;
  }
  if (doc.size() > kMaxBatch) {
    request.error = "the batch has " + std::to_string(doc.size()) + " calls; at most " +
                    std::to_string(kMaxBatch) + " are allowed";
    return request;
  }
  request.item_errors.resize(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    std::string problem;
    auto call = read_call(doc[i], problem);
    if (!call) {
      request.item_errors[i] = error_body("awf.rpc/invalid-request", "call " + std::to_string(i) + ": " + problem);
      continue;
    }
    if (call->method == "awf.task/long-poll" && call->params.is_object()) call->params["timeout"] = 0;
    request.calls.push_back(std::move(*call));
    request.positions.push_back(i);
  }
  return request;
}

}  // namespace awf::bridge
