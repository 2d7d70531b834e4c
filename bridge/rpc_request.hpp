// Reading a decoded /rpc body: one call {method, params} or a batch (an array of them). Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rpc_call.hpp"

namespace awf::bridge {

constexpr size_t kMaxBatch = 1000;

struct RpcRequest {
  bool batch = false;
  std::optional<std::string> error;  // the whole body is unusable (400), with this message
  std::vector<RpcCall> calls;        // the valid calls, in order
  std::vector<size_t> positions;     // calls[k] answers item positions[k] of the batch
  // Per batch item that is not a valid call: its error body, in its position.
  std::vector<std::optional<nlohmann::json>> item_errors;
};

// {method: string, params?: any (null or absent: {})}; a batch is a non-empty array of at most
// kMaxBatch such objects. Inside a batch a long-poll does not wait: its timeout is set to 0.
RpcRequest read_rpc_request(const nlohmann::json &doc);

}  // namespace awf::bridge
