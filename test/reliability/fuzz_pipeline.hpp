// What awf-bridge does with a request once its bytes are in, without the network or the database,
// for the fuzz targets (fuzz_codec.cpp, fuzz_http.cpp; built by test/reliability/fuzz.sh):
//   Content-Type -> request format, Accept -> response format, decode (JSON or YAML, the bridge's
//   DecodeLimits) -> read_rpc_request (one call or a batch) -> the response document, encoded in
//   the response format.
// The steps mirror bridge/server.cpp (Session::handle_rpc, read_json_object, start_long_poll,
// handle_batch, send_error) and call the bridge's own functions for every decision; only the
// database's answer is stood in for (a result that echoes the call, so that every decoded document
// is encoded again). Every response is checked: it must decode in its own format, JSON and YAML
// encodings of one document must decode to the same document, and a document decoded from a
// request must survive encode -> decode unchanged. A failed check aborts (the fuzzer's crash).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "codec.hpp"
#include "config.hpp"

namespace awf::bridge::fuzz {

// The limits the bridge applies, from its defaults (bridge/config.hpp, server.cpp).
struct BridgeLimits {
  size_t body_limit = Config{}.body_limit;  // --body-limit
  size_t header_limit = 16 * 1024;          // Session::read_request: parser_->header_limit
  DecodeLimits decode{};                    // decode()'s defaults, as handle_rpc uses them
};

struct Response {
  int status = 0;
  Format format = Format::Json;
  std::string body;
};

// POST /rpc after authentication: Session::handle_rpc, and what follows for one call (long-poll
// parameters, the method's metrics label) or a batch (item errors in place).
Response serve_rpc(std::string_view content_type, std::string_view accept, std::string_view body,
                   const BridgeLimits &limits = {});

// POST /xina/actions and the NL Flow create: Session::read_json_object, then the action's label.
Response serve_json_object(std::string_view content_type, std::string_view body);

// Checks a response (see above); aborts on a failed check.
void check_response(const Response &response, const BridgeLimits &limits = {});

// encode -> decode in both formats: they must agree, and equal `doc` when it is valid UTF-8.
void check_round_trip(const nlohmann::json &doc, const BridgeLimits &limits = {});

// Prints what failed (and the document, shortened) and aborts.
[[noreturn]] void fail(const std::string &what, std::string_view data = {});

}  // namespace awf::bridge::fuzz
