// See fuzz_pipeline.hpp. Each step names the part of bridge/server.cpp it mirrors.
#include "fuzz_pipeline.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "core/methods.hpp"
#include "core/wakeup_slots.hpp"
#include "core/workflow_names.hpp"
#include "http_errors.hpp"
#include "rpc_request.hpp"
#include "xina.hpp"

namespace awf::bridge::fuzz {

using json = nlohmann::json;

namespace {

// Documents with more values than this are encoded but not decoded again (an 8 KB input can
// expand, through YAML aliases, to a million values: each re-decode would take seconds).
constexpr size_t kMaxRoundTripValues = 50000;

std::string printable(std::string_view data, size_t max = 600) {
  std::string out;
  for (size_t i = 0; i < data.size() && out.size() < max; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (data.size() > max) out += "...";
  return out;
}

struct Shape {
  size_t depth = 0;   // containers nested: a scalar 0, [1] 1, [[1]] 2
  size_t values = 0;  // every value, containers included
};

Shape shape_of(const json &doc) {
  Shape s;
  s.values = 1;
  if (doc.is_structured()) {
    size_t deepest = 0;
    for (const auto &item : doc) {
      const Shape inner = shape_of(item);
      deepest = std::max(deepest, inner.depth);
      s.values += inner.values;
    }
    s.depth = deepest + 1;
  }
  return s;
}

bool valid_utf8(const json &doc) {
  try {
    (void)doc.dump();  // throws type_error 316 on invalid UTF-8 in any string
    return true;
  } catch (const json::type_error &) {
    return false;
  }
}

DecodeLimits generous(const BridgeLimits &limits) {
  // A response wraps the request's document a few levels deeper ([{result: {params: ...}}]).
  return DecodeLimits{limits.decode.max_depth + 16, limits.decode.max_values * 2 + 64};
}

Response respond(int status, const json &doc, Format format, const BridgeLimits &limits) {
  check_round_trip(doc, limits);
  return Response{status, format, encode(doc, format)};
}

// Session::send_error
Response error_response(int status, std::string_view type, const std::string &message, Format format,
                        const BridgeLimits &limits) {
  return respond(status, error_body(type, message), format, limits);
}

// Session::metrics_label for an /rpc call: only known methods name a series.
std::string metrics_label(const std::string &method) {
  return find_method(method) ? method : "unknown-method";
}

// Session::start_long_poll, up to the first database poll: the timeout check, the wakeup slots of
// the definitions, the timeout forced to 0 for the database's poll.
std::optional<Response> long_poll(RpcCall &call, Format format, const BridgeLimits &limits) {
  const json &params = call.params;
  int timeout_ms = 60000;
  std::vector<uint32_t> slots;
  if (params.is_object()) {
    auto t = params.find("timeout");
    if (t != params.end() && !t->is_null()) {
      if (!t->is_number_integer() || t->get<long long>() < 0 || t->get<long long>() > 600000)
        return error_response(400, "awf.rpc/invalid-params",
                              "awf.task/long-poll: parameter \"timeout\" must be an integer from 0 to 600000, got " +
                                  t->dump(),
                              format, limits);
      timeout_ms = static_cast<int>(t->get<long long>());
    }
    if (auto defs = params.find("taskDefinitions"); defs != params.end() && defs->is_array())
      for (const auto &d : *defs)
        if (d.is_string()) slots.push_back(wakeup_slot(d.get<std::string>()));
    if (auto defs = params.find("workflowDefinitions"); defs != params.end() && defs->is_array())
      for (const auto &d : *defs)
        if (d.is_string()) slots.push_back(wakeup_slot(decision_queue(d.get<std::string>())));
  }
  for (uint32_t slot : slots)
    if (slot >= kWakeupSlots) fail("wakeup_slot out of range: " + std::to_string(slot));
  timeout_ms = std::min(timeout_ms, Config{}.long_poll_max_ms);
  if (timeout_ms < 0 || timeout_ms > 600000) fail("long-poll timeout out of range: " + std::to_string(timeout_ms));
  if (call.params.is_object()) call.params["timeout"] = 0;
  return std::nullopt;
}

// What the database is given for a call (run_rpc: call.params.dump(), no error handler), and a
// stand-in for its answer that carries the call back, so that the response encodes the document.
json stand_in_result(const RpcCall &call) {
  std::string params_text;
  try {
    params_text = call.params.dump();
  } catch (const json::exception &e) {
    fail(std::string("run_rpc's params.dump() throws: ") + e.what());
  }
  if (json::parse(params_text) != call.params) fail("params.dump() does not parse back to the params", params_text);
  return json{{"result", {{"method", call.method}, {"label", metrics_label(call.method)}, {"params", call.params}}}};
}

void check_rpc_request(const json &doc, const RpcRequest &request) {
  if (request.calls.size() != request.positions.size()) fail("read_rpc_request: calls and positions differ in size");
  if (request.error) {
    if (!request.calls.empty()) fail("read_rpc_request: an error and calls");
    return;
  }
  if (!request.batch) {
    if (doc.is_array() || request.calls.size() != 1 || request.positions[0] != 0)
      fail("read_rpc_request: a single call that is not one call");
    return;
  }
  if (!doc.is_array() || doc.empty() || doc.size() > kMaxBatch) fail("read_rpc_request: a batch that is not one");
  if (request.item_errors.size() != doc.size()) fail("read_rpc_request: item_errors does not cover the batch");
  size_t previous = 0;
  for (size_t k = 0; k < request.positions.size(); ++k) {
    const size_t p = request.positions[k];
    if (p >= doc.size() || (k > 0 && p <= previous)) fail("read_rpc_request: positions out of order or range");
    if (request.item_errors[p]) fail("read_rpc_request: a call and an item error in one position");
    previous = p;
  }
  size_t errors = 0;
  for (const auto &e : request.item_errors) errors += e ? 1 : 0;
  if (errors + request.calls.size() != doc.size()) fail("read_rpc_request: an item is neither a call nor an error");
}

}  // namespace

void fail(const std::string &what, std::string_view data) {
  std::fprintf(stderr, "\n*** fuzz check failed: %s\n", what.c_str());
  if (!data.empty()) std::fprintf(stderr, "*** data: %s\n", printable(data).c_str());
  std::fflush(stderr);
  std::abort();
}

void check_round_trip(const json &doc, const BridgeLimits &limits) {
  const Shape shape = shape_of(doc);
  const std::string as_json = encode(doc, Format::Json);
  const std::string as_yaml = encode(doc, Format::Yaml);
  if (shape.values > kMaxRoundTripValues) return;
  const DecodeLimits wide = generous(limits);
  json from_json, from_yaml;
  try {
    from_json = decode(as_json, Format::Json, wide);
  } catch (const DecodeError &e) {
    fail(std::string("the bridge's own JSON does not decode: ") + e.what(), as_json);
  }
  try {
    from_yaml = decode(as_yaml, Format::Yaml, wide);
  } catch (const DecodeError &e) {
    fail(std::string("the bridge's own YAML does not decode: ") + e.what(), as_yaml);
  }
  if (from_json != from_yaml)
    fail("JSON and YAML encodings of one document decode differently: JSON " +
             printable(from_json.dump(-1, ' ', false, json::error_handler_t::replace)) + " YAML " +
             printable(from_yaml.dump(-1, ' ', false, json::error_handler_t::replace)),
         as_yaml);
  if (valid_utf8(doc) && from_json != doc)
    fail("encode -> decode changed the document: " + printable(doc.dump()) + " became " +
             printable(from_json.dump(-1, ' ', false, json::error_handler_t::replace)),
         as_yaml);
}

void check_response(const Response &response, const BridgeLimits &limits) {
  if (response.status < 200 || response.status > 599) fail("a response status out of range");
  try {
    const json doc = decode(response.body, response.format, generous(limits));
    if (!valid_utf8(doc)) fail("a response carries invalid UTF-8", response.body);
    if (response.status >= 400) {
      if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_object() ||
          !doc["error"].value("type", json()).is_string() || !doc["error"].value("message", json()).is_string())
        fail("an error response is not {error: {type, message}}", response.body);
    }
  } catch (const DecodeError &e) {
    // Only a response too big to decode again may be skipped (see kMaxRoundTripValues).
    if (response.body.size() < 4 * kMaxRoundTripValues)
      fail(std::string("a response does not decode in its own format: ") + e.what(), response.body);
  }
}

Response serve_rpc(std::string_view content_type, std::string_view accept, std::string_view body,
                   const BridgeLimits &limits) {
  // The HTTP parser refuses a larger body before the handler runs (Session::on_read).
  if (body.size() > limits.body_limit)
    return error_response(413, "awf.http/body-too-large",
                          "the request body is larger than " + std::to_string(limits.body_limit) + " bytes",
                          Format::Json, limits);
  // Session::handle_rpc
  const auto in = format_of_content_type(content_type);
  if (!in)
    return error_response(415, "awf.http/unsupported-media-type",
                          "Content-Type " + std::string(content_type) +
                              " is not supported; send application/json or text/yaml "
                              "(also application/yaml, application/x-yaml)",
                          Format::Json, limits);
  const auto out = format_for_accept(accept, *in);
  if (!out)
    return error_response(406, "awf.http/not-acceptable",
                          "cannot answer in any type of Accept: " + std::string(accept) +
                              "; accepted are application/json and text/yaml",
                          *in, limits);
  const Format format = *out;
  json doc;
  try {
    doc = decode(body, *in, limits.decode);
  } catch (const DecodeError &e) {
    return error_response(400, "awf.http/malformed-body", e.what(), format, limits);
  }
  // What decode promises: within the limits, and UTF-8 (the database is given doc.dump()).
  const Shape shape = shape_of(doc);
  if (shape.depth > limits.decode.max_depth)
    fail("decode returned a document " + std::to_string(shape.depth) + " levels deep", body);
  if (shape.values > 2 * limits.decode.max_values + 1)
    fail("decode returned " + std::to_string(shape.values) + " values", body);
  if (!valid_utf8(doc)) fail("decode returned invalid UTF-8", body);
  check_round_trip(doc, limits);

  RpcRequest request = read_rpc_request(doc);
  check_rpc_request(doc, request);
  if (request.error) return error_response(400, "awf.rpc/invalid-request", *request.error, format, limits);
  if (!request.batch) {
    RpcCall call = std::move(request.calls.front());
    if (call.method == "awf.task/long-poll")
      if (auto refused = long_poll(call, format, limits)) return *refused;
    return respond(200, stand_in_result(call), format, limits);
  }
  // Session::handle_batch: each valid call's answer in its position, item errors in theirs.
  std::vector<std::optional<json>> answers = std::move(request.item_errors);
  for (size_t k = 0; k < request.calls.size(); ++k) answers[request.positions[k]] = stand_in_result(request.calls[k]);
  json all = json::array();
  for (auto &a : answers) {
    if (!a) fail("a batch item without an answer");
    all.push_back(std::move(*a));
  }
  return respond(200, all, format, limits);
}

Response serve_json_object(std::string_view content_type, std::string_view body) {
  const BridgeLimits limits;
  // Session::read_json_object
  if (content_type.empty() || format_of_content_type(content_type) != Format::Json || !is_utf8_charset(content_type))
    return error_response(415, "awf.http/unsupported-media-type",
                          "a XINA action is JSON: Content-Type: application/json, got \"" + std::string(content_type) +
                              "\"",
                          Format::Json, limits);
  json doc;
  try {
    doc = decode(body, Format::Json);
  } catch (const DecodeError &e) {
    return error_response(400, "awf.http/malformed-body", std::string("the body is not UTF-8 JSON: ") + e.what(),
                          Format::Json, limits);
  }
  if (!doc.is_object())
    return error_response(400, "awf.xina/invalid-action",
                          std::string("a XINA action is a JSON object, got ") + doc.type_name(), Format::Json, limits);
  if (!valid_utf8(doc)) fail("decode returned invalid UTF-8", body);
  const std::string label = xina_action_label(doc);
  if (label != "xina" && label.rfind("xina ", 0) != 0) fail("xina_action_label outside its set: " + label);
  return respond(200, json{{"label", label}, {"action", doc}}, Format::Json, limits);
}

}  // namespace awf::bridge::fuzz
