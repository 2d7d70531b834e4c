// libFuzzer target: the bytes a client sends on one connection, as awf-bridge reads and routes
// them. Boost.Beast's request parser with the bridge's limits (header 16 KiB, body --body-limit)
// reads request after request (keep-alive, pipelined) until the input ends; each parse error is
// answered as Session::on_read answers it (413, 431, 400), an input that ends inside a request is
// what the header timeout closes. Each request is routed as Session::route does:
//   POST /rpc               Authorization (parse_authorization), then fuzz_pipeline's serve_rpc
//                           with the request's Content-Type and Accept
//   POST /xina/actions      serve_json_object
//   /api/v1/runtime/...     match_nlflow, X-API-KEY split as handle_nlflow does, the query read by
//                           read_nlflow_query, is_uuid on the task, serve_json_object for a create
// Corpus: test/reliability/fuzz_corpus/http/ (the seeds' requests as HTTP/1.1). Built and run by
// test/reliability/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "auth.hpp"
#include "fuzz_pipeline.hpp"
#include "nlflow.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using namespace awf::bridge;

namespace {

std::string_view field(const http::request<http::string_body> &request, http::field name) {
  const auto value = request[name];
  return {value.data(), value.size()};
}

std::string_view field(const http::request<http::string_body> &request, const char *name) {
  const auto value = request[name];
  return {value.data(), value.size()};
}

// The query as key/value pairs (server.cpp's parse_query without its percent-decoding, which is
// private to the server): what read_nlflow_query is given.
std::vector<std::pair<std::string, std::string>> split_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view item = query.substr(start, end - start);
    const size_t eq = item.find('=');
    if (!item.empty())
      out.emplace_back(std::string(item.substr(0, eq)),
                       eq == std::string_view::npos ? "" : std::string(item.substr(eq + 1)));
    start = end + 1;
  }
  return out;
}

void check_credential(const std::optional<Credential> &credential) {
  if (!credential) return;
  if (credential->client_id.empty()) fuzz::fail("parse_authorization: an empty client id");
  for (const std::string *part : {&credential->client_id, &credential->secret})
    for (unsigned char c : *part)
      if (c < 0x20 || c == 0x7f) fuzz::fail("parse_authorization: a control character in a credential");
}

void route(const http::request<http::string_body> &request, const fuzz::BridgeLimits &limits) {
  const std::string_view target(request.target().data(), request.target().size());
  const size_t q = target.find('?');
  const std::string path(target.substr(0, q));
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  const std::string method(request.method_string());
  if (path == "/rpc" && request.method() == http::verb::post) {
    check_credential(parse_authorization(field(request, http::field::authorization)));
    fuzz::check_response(fuzz::serve_rpc(field(request, http::field::content_type), field(request, http::field::accept),
                                         request.body(), limits),
                         limits);
    return;
  }
  if (path == "/xina/actions" && request.method() == http::verb::post) {
    check_credential(parse_authorization(field(request, http::field::authorization)));
    fuzz::check_response(fuzz::serve_json_object(field(request, http::field::content_type), request.body()), limits);
    return;
  }
  if (path.compare(0, kNlflowPrefix.size(), kNlflowPrefix) != 0) return;
  const NlflowMatch match = match_nlflow(method, path);
  if (!match.route) return;
  if (match.route->workflow.empty()) fuzz::fail("match_nlflow: a route without a workflow");
  (void)nlflow_call_name(match.route->call);
  const std::string key(field(request, "X-API-KEY"));
  const size_t dot = key.find('.');
  if (dot != std::string::npos && dot != 0 && dot + 1 != key.size()) {
    const Credential credential{key.substr(0, dot), key.substr(dot + 1)};
    (void)CredentialCache::key(credential);
  }
  try {
    const NlflowQuery nq = read_nlflow_query(match.route->call, split_query(query));
    if (nq.task_ids && nq.statuses) fuzz::fail("read_nlflow_query: both taskIds and taskStatuses");
    if (nq.task_ids)
      for (const auto &id : *nq.task_ids)
        if (!id.is_string() || !is_uuid(id.get<std::string>())) fuzz::fail("read_nlflow_query: a task id that is no UUID");
  } catch (const std::invalid_argument &) {
    return;  // 400
  }
  if (!match.route->task.empty()) (void)is_uuid(match.route->task);
  if (match.route->call == NlflowCall::Create)
    fuzz::check_response(fuzz::serve_json_object(field(request, http::field::content_type), request.body()), limits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const fuzz::BridgeLimits limits;
  net::const_buffer input(data, size);
  // At most a few pipelined requests per input: each is one request of a kept-alive connection.
  for (int n = 0; n < 8 && input.size() > 0; ++n) {
    // Session::read_request
    http::request_parser<http::string_body> parser;
    parser.body_limit(limits.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
    parser.eager(true);
    beast::error_code ec;
    while (!parser.is_done()) {
      if (input.size() == 0) {
        // Nothing more will come. A client that holds the connection open is closed by the header
        // timeout without an answer; one that closes it gets 400 (partial_message) or, before
        // its first byte, nothing (end_of_stream).
        if (parser.got_some()) parser.put_eof(ec);
        if (!ec && !parser.is_done()) fuzz::fail("put_eof neither finished nor refused the request");
        break;
      }
      const size_t used = parser.put(input, ec);
      input += used;
      if (ec == http::error::need_more) {
        // All the input was given, so needing more means the request is cut short: what the
        // server sees when the client closes here. Beast's read loop calls put() again only with
        // more bytes than before (the chunk parser asserts it), and none will come: end of input.
        ec = {};
        input = net::const_buffer();
        continue;
      }
      if (ec) break;
      if (used == 0 && !parser.is_done()) fuzz::fail("the parser took nothing and asked for nothing");
    }
    // Session::on_read: what is answered for each way a read ends.
    if (ec == http::error::body_limit || ec == http::error::header_limit) return 0;  // 413 / 431, closed
    if (ec) return 0;                                                                // 400, closed
    if (!parser.is_done()) return 0;
    http::request<http::string_body> request = parser.release();
    if (request.body().size() > limits.body_limit) fuzz::fail("a body past the body limit was accepted");
    route(request, limits);
    if (!request.keep_alive()) return 0;
  }
  return 0;
}
