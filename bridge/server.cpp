#include "server.hpp"

#include <malloc.h>

#include <chrono>
#include <optional>
#include <random>
#include <sstream>

#include <sys/socket.h>
#include <sys/types.h>
#include <cerrno>
#include <string>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "codec.hpp"
#include "core/methods.hpp"
#include "core/wakeup_slots.hpp"
#include "core/workflow_names.hpp"
#include "http_errors.hpp"
#include "log.hpp"
#include "nlflow.hpp"
#include "xina.hpp"
#include "rpc_call.hpp"
#include "rpc_request.hpp"

namespace awf::bridge {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

// Re-poll even without a wakeup, every 8 to 12 s: spread, so a thousand idle long-polls do not
// all hit the database in the same second.
std::chrono::milliseconds long_poll_recheck() {
  static thread_local std::mt19937 rng(std::random_device{}());
  return std::chrono::milliseconds(std::uniform_int_distribution<int>(8000, 12000)(rng));
}
constexpr std::chrono::seconds kWriteTimeout{30};

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view item = query.substr(start, end - start);
    const size_t eq = item.find('=');
    if (!item.empty())
      out.emplace_back(percent_decode(item.substr(0, eq)),
                       eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1)));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> split_commas(const std::string &s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

// One HTTP connection. Handlers run on the session's strand, and so do their database calls
// (DbPool::run, with a pool connection): a session has one request in flight at a time.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server &server) : stream_(std::move(socket)), server_(server) {}

  ~Session() { server_.session_ended(this); }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
  }

  // Server shutdown: close a connection that is only waiting for its next request.
  void close_if_idle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

 private:
  // --- reading and writing ---------------------------------------------------------------

  void read_request() {
    parser_.emplace();
    parser_->body_limit(server_.config().body_limit);
    parser_->header_limit(16 * 1024);
    reading_ = true;
    const int timeout = requests_ == 0 ? server_.config().header_timeout_ms : server_.config().idle_timeout_ms;
    stream_.expires_after(std::chrono::milliseconds(timeout));
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_header(ec);
    });
  }

  // The header is in: note what the request is (for the log), answer "Expect: 100-continue",
  // then read the body.
  void on_header(beast::error_code ec) {
    started_ = Clock::now();
    rpc_label_.clear();
    client_.clear();
    correlation_.clear();
    // The start line is known as soon as it is parsed, also when the header then announces a body
    // over the limit (Beast reports that before the header counts as done).
    if (!parser_->get().method_string().empty()) {
      const auto &header = parser_->get();
      method_ = std::string(header.method_string());
      const std::string_view target(header.target().data(), header.target().size());
      path_ = std::string(target.substr(0, target.find('?')));
    } else {
      method_.clear();
      path_.clear();
    }
    if (ec) return on_read(ec);
    const auto expect = parser_->get()[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      return http::async_write(stream_, *interim, [self = shared_from_this(), interim](beast::error_code ec, size_t) {
        if (ec) return self->close();
        self->read_body();
      });
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    reading_ = false;
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::connection_reset || ec == net::error::eof) {
      return close();
    }
    keep_alive_ = false;  // until the request says otherwise
    if (ec == http::error::body_limit)
      return send_error(413, "awf.http/body-too-large",
                        "the request body is larger than " + std::to_string(server_.config().body_limit) + " bytes",
                        Format::Json);
    if (ec == http::error::header_limit)
      return send_error(431, "awf.http/headers-too-large", "the request headers are too large", Format::Json);
    if (ec)
      return send_error(400, "awf.http/bad-request", "malformed HTTP request: " + ec.message(), Format::Json);
    ++requests_;
    request_ = parser_->release();
    keep_alive_ = request_.keep_alive();
    stream_.expires_never();
    route();
  }

  void send(int status, std::string body, std::string_view content_type,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    response_.emplace();
    response_->version(11);
    response_->result(static_cast<http::status>(status));
    response_->set(http::field::server, "awf-bridge");
    response_->set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
    for (auto &[name, value] : headers) response_->set(name, value);
    response_->body() = std::move(body);
    const bool keep = keep_alive_ && !server_.shutting_down();
    response_->keep_alive(keep);
    response_->prepare_payload();
    finish_log(status);
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), keep](beast::error_code ec, size_t) {
                        if (ec || !keep) return self->close();
                        self->read_request();
                      });
  }

  void send_json(int status, const json &doc, Format format,
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    send(status, encode(doc, format), media_type(format), std::move(headers));
  }

  // A successful answer is written from the database's text: wrapped as it is in JSON, read
  // straight into YAML; neither builds the document.
  void send_outcome(RpcOutcome &outcome) {
    if (outcome.result_text.empty()) return send_json(outcome.status, outcome.body, format_);
    std::string body;
    try {
      body = encode_result(outcome.result_text, format_);
    } catch (const std::invalid_argument &) {
      // YAML of a result nlohmann cannot read (a number beyond a double, which jsonb holds). The
      // call is committed, so it is answered all the same: as JSON text, which YAML 1.2 reads.
      body = encode_result(outcome.result_text, Format::Json);
    }
    send(outcome.status, std::move(body), media_type(format_));
  }

  void send_error(int status, const std::string &type, const std::string &message, Format format,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    send_json(status, error_body(type, message), format, std::move(headers));
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  // A metrics label from a fixed set: only known methods and paths, so no client can make the
  // bridge grow a series per made-up name.
  std::string metrics_label() const {
    if (!rpc_label_.empty()) {
      if (rpc_label_ == "batch" || rpc_label_ == "GET /AidboxTask" || find_method(rpc_label_) ||
          rpc_label_.compare(0, 7, "nlflow ") == 0 ||  // set from nlflow_call_name only
          rpc_label_.compare(0, 4, "xina") == 0)       // set from xina_action_label only
        return rpc_label_;
      return "unknown-method";
    }
    for (const char *known : {"/rpc", "/AidboxTask", "/health", "/metrics", "/xina/actions"})
      if (path_ == known) return path_;
    return "other";
  }

  void finish_log(int status) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    server_.metrics().observe(metrics_label(), status, seconds);
    if (!server_.config().log_requests) return;
    json line = {{"level", "info"},    {"http_method", method_},
                 {"path", path_},      {"status", status},
                 {"ms", std::round(seconds * 100000.0) / 100.0}};
    if (!rpc_label_.empty()) line["rpc"] = rpc_label_;
    if (!client_.empty()) line["client"] = client_;
    if (!correlation_.empty()) line["correlation_id"] = correlation_;
    log_line(std::move(line));
  }

  // --- routing -----------------------------------------------------------------------------

  void route() {
    const std::string_view target(request_.target().data(), request_.target().size());
    const size_t q = target.find('?');
    query_ = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
    const auto method = request_.method();
    auto only = [&](http::verb allowed, const char *allow, auto handler) {
      if (method != allowed)
        return send_error(405, "awf.http/method-not-allowed",
                          std::string(request_.method_string()) + " is not allowed on " + path_ + "; use " + allow,
                          Format::Json, {{"Allow", allow}});
      handler();
    };
    if (path_ == "/rpc")
      return only(http::verb::post, "POST", [this] { authenticate([this] { handle_rpc(); }); });
    if (path_ == "/AidboxTask")
      return only(http::verb::get, "GET", [this] { authenticate([this] { handle_task_count(); }); });
    if (path_ == "/health") return only(http::verb::get, "GET", [this] { handle_health(); });
    if (path_ == "/metrics") return only(http::verb::get, "GET", [this] { handle_metrics(); });
    if (path_ == "/xina/actions")
      return only(http::verb::post, "POST", [this] { authenticate([this] { handle_xina(); }); });
    if (path_.compare(0, kNlflowPrefix.size(), kNlflowPrefix) == 0) return handle_nlflow();
    send_error(404, "awf.http/not-found",
               "no such path: " + path_ +
                   " (the API is POST /rpc, GET /AidboxTask, GET /health, GET /metrics, "
                   "POST /xina/actions, /api/v1/runtime/workflow/{workflowId}/task…)",
               Format::Json);
  }

  // Runs `next` with role_ set, or answers 401/503.
  template <typename Next>
  void authenticate(Next next) {
    const Config &config = server_.config();
    if (!config.require_auth) {
      role_ = config.anonymous_role;
      return next();
    }
    const auto header = request_[http::field::authorization];
    auto credential = parse_authorization(std::string_view(header.data(), header.size()));
    const std::vector<std::pair<std::string, std::string>> challenge = {
        {"WWW-Authenticate", "Basic realm=\"awf\", Bearer realm=\"awf\""}};
    if (!credential) {
      return send_error(401, "awf.auth/unauthorized",
                        header.empty() ? "credentials are required: HTTP Basic (client id and secret) "
                                         "or Bearer ID.SECRET"
                                       : "the Authorization header is malformed",
                        Format::Json, challenge);
    }
    client_ = credential->client_id;
    if (auto role = server_.credentials().role_of(*credential)) {
      role_ = *role;
      return next();
    }
    server_.verify(Server::CredentialKind::Client, *credential, [self = shared_from_this(), next,
                                 challenge](std::optional<std::string> role, std::optional<RpcOutcome> failure) {
      net::dispatch(self->stream_.get_executor(), [self, role, failure, next, challenge] {
        if (failure) return self->send_json(failure->status, failure->body, Format::Json);
        if (!role)
          return self->send_error(401, "awf.auth/unauthorized", "unknown client or wrong secret",
                                  Format::Json, challenge);
        self->role_ = *role;
        next();
      });
    });
  }

  // --- POST /rpc -------------------------------------------------------------------------

  // The request read from a large body (nlohmann's values) leaves MBs free in this thread's
  // malloc arena, which glibc would keep: give them back, so that one large YAML request does not
  // raise the bridge's resident memory for good. Small bodies (the usual executor call) skip it:
  // it walks the arenas.
  void trim_after_large_yaml(Format in) {
    if (in == Format::Yaml && request_.body().size() > (64u << 10)) malloc_trim(0);
  }

  void handle_rpc() {
    const auto content_type = request_[http::field::content_type];
    const auto in = format_of_content_type(std::string_view(content_type.data(), content_type.size()));
    if (!in)
      return send_error(415, "awf.http/unsupported-media-type",
                        "Content-Type " + std::string(content_type) +
                            " is not supported; send application/json or text/yaml "
                            "(also application/yaml, application/x-yaml)",
                        Format::Json);
    const auto accept = request_[http::field::accept];
    const auto out = format_for_accept(std::string_view(accept.data(), accept.size()), *in);
    if (!out)
      return send_error(406, "awf.http/not-acceptable",
                        "cannot answer in any type of Accept: " + std::string(accept) +
                            "; accepted are application/json and text/yaml",
                        *in);
    format_ = *out;
    const size_t yaml_limit = server_.config().yaml_body_limit;
    if (*in == Format::Yaml && request_.body().size() > yaml_limit)
      return send_error(413, "awf.http/body-too-large",
                        "the YAML request body has " + std::to_string(request_.body().size()) +
                            " bytes; YAML bodies are limited to " + std::to_string(yaml_limit) +
                            " (--yaml-body-limit): send larger ones as application/json",
                        format_);
    json doc;
    std::optional<std::string> malformed;
    try {
      doc = decode(request_.body(), *in);
    } catch (const DecodeError &e) {
      malformed = e.what();
    }
    trim_after_large_yaml(*in);
    if (malformed) return send_error(400, "awf.http/malformed-body", *malformed, format_);
    RpcRequest request = read_rpc_request(doc);
    if (request.error) return send_error(400, "awf.rpc/invalid-request", *request.error, format_);
    if (request.batch) return handle_batch(std::move(request));
    RpcCall call = std::move(request.calls.front());
    rpc_label_ = call.method;
    if (call.method == "awf.task/long-poll") return start_long_poll(std::move(call));
    server_.lanes().call(role_, std::move(call), [self = shared_from_this()](RpcOutcome outcome) {
      net::dispatch(self->stream_.get_executor(), [self, outcome = std::move(outcome)]() mutable {
        self->send_outcome(outcome);
      });
    });
  }

  // Valid calls run in one transaction; an invalid item answers in its place.
  void handle_batch(RpcRequest request) {
    rpc_label_ = "batch";
    auto finish = [self = shared_from_this(), answers = std::move(request.item_errors),
                   positions = request.positions](std::vector<RpcOutcome> outcomes) mutable {
      int status = 200;
      for (size_t k = 0; k < outcomes.size(); ++k) {
        answers[positions[k]] = std::move(outcomes[k].body);
        if (outcomes[k].status == 503) status = 503;  // the whole batch failed for want of a database
      }
      json out = json::array();
      for (auto &a : answers) out.push_back(std::move(*a));
      self->send_json(status, out, self->format_);
    };
    if (request.calls.empty()) return finish({});
    server_.lanes().run([self = shared_from_this(), calls = std::move(request.calls), finish](
                              pqxx::connection *connection, const std::string &error) mutable {
      std::vector<RpcOutcome> outcomes = connection ? run_rpc_batch(*connection, self->role_, calls)
                                                    : std::vector<RpcOutcome>(calls.size(), unreachable_outcome(error));
      net::dispatch(self->stream_.get_executor(),
                [finish = std::move(finish), outcomes = std::move(outcomes)]() mutable { finish(std::move(outcomes)); });
    });
  }

  // --- long-poll: wait in the bridge, poll in the database only when woken ------------------

  void start_long_poll(RpcCall call) {
    const json &params = call.params;
    int timeout_ms = 60000;
    if (params.is_object()) {
      auto t = params.find("timeout");
      if (t != params.end() && !t->is_null()) {
        if (!t->is_number_integer() || t->get<long long>() < 0 || t->get<long long>() > 600000)
          return send_error(400, "awf.rpc/invalid-params",
                            "awf.task/long-poll: parameter \"timeout\" must be an integer from 0 to 600000, got " +
                                t->dump(),
                            format_);
        timeout_ms = static_cast<int>(t->get<long long>());
      }
      if (auto defs = params.find("taskDefinitions"); defs != params.end() && defs->is_array())
        for (const auto &d : *defs)
          if (d.is_string()) poll_slots_.push_back(wakeup_slot(d.get<std::string>()));
      // Decision tasks of workflows wake the slot of their queue (core/workflow_names.hpp).
      if (auto defs = params.find("workflowDefinitions"); defs != params.end() && defs->is_array())
        for (const auto &d : *defs)
          if (d.is_string()) poll_slots_.push_back(wakeup_slot(decision_queue(d.get<std::string>())));
    }
    timeout_ms = std::min(timeout_ms, server_.config().long_poll_max_ms);
    poll_deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
    // Each poll asks the extension for a long-poll with timeout 0: its validation, its grants.
    poll_call_ = std::move(call);
    if (poll_call_.params.is_object()) poll_call_.params["timeout"] = 0;
    poll_once();
  }

  void poll_once() {
    seen_ = server_.hub().generations(poll_slots_);
    server_.lanes().call(role_, poll_call_, [self = shared_from_this()](RpcOutcome outcome) {
      net::dispatch(self->stream_.get_executor(),
                [self, outcome = std::move(outcome)]() mutable { self->on_polled(std::move(outcome)); });
    });
  }

  void on_polled(RpcOutcome outcome) {
    bool claimed = false;
    if (outcome.status == 200) {
      try {
        const json &result = outcome.document().at("result");
        claimed = result.contains("resources") && !result.at("resources").empty();
      } catch (const json::exception &) {
        claimed = true;  // a result nlohmann cannot read (a number beyond a double) holds tasks
      }
    }
    if (outcome.status != 200 || claimed || Clock::now() >= poll_deadline_ || server_.shutting_down())
      return send_outcome(outcome);
    // Nothing yet: wait for a wakeup of one of our slots, the recheck, or the deadline.
    waiter_ = server_.hub().add(poll_slots_, seen_, [weak = weak_from_this()](bool shutting_down) {
      if (auto self = weak.lock())
        net::post(self->stream_.get_executor(), [self, shutting_down] { self->on_woken(shutting_down); });
    });
    if (waiter_ == 0) return;  // woken at once; on_woken runs next
    watch_for_disconnect();
    timer_.emplace(stream_.get_executor());
    timer_->expires_at(std::min(poll_deadline_, Clock::now() + long_poll_recheck()));
    timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      if (!self->server_.hub().remove(self->waiter_)) return;  // a wakeup is on its way
      self->waiter_ = 0;
      self->stop_watching();
      if (Clock::now() >= self->poll_deadline_)
        return self->send_json(200, json{{"result", {{"resources", json::array()}}}}, self->format_);
      self->poll_once();
    });
  }

  // While a long-poll waits nothing reads the socket. Watch it: if the client goes away, stop
  // waiting, or a task would be claimed for nobody and sit requested until its start deadline.
  void watch_for_disconnect() {
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (ec || self->waiter_ == 0) return;
      char byte;
      const ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return;  // a pipelined request: it waits in the kernel for the next read
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return self->watch_for_disconnect();
      if (!self->server_.hub().remove(self->waiter_)) return;  // being woken: the write will fail
      self->waiter_ = 0;
      if (self->timer_) self->timer_->cancel();
      self->finish_log(499);  // nginx's "client closed request"
      self->close();
    });
  }

  void stop_watching() {
    beast::error_code ec;
    stream_.socket().cancel(ec);  // only the wait is outstanding here
  }

  void on_woken(bool shutting_down) {
    waiter_ = 0;
    stop_watching();
    if (timer_) timer_->cancel();
    if (shutting_down)
      return send_json(200, json{{"result", {{"resources", json::array()}}}}, format_);
    poll_once();
  }

  // --- GET /AidboxTask?_count=0&.status=ready&definition=… ---------------------------------

  void handle_task_count() {
    rpc_label_ = "GET /AidboxTask";
    json statuses = nullptr, definitions = nullptr, not_definitions = nullptr;
    long count = 100;
    auto add_all = [](json &target, const std::string &value) {
      if (target.is_null()) target = json::array();
      for (auto &v : split_commas(value)) target.push_back(v);
    };
    for (auto &[key, value] : parse_query(query_)) {
      if (key == ".status" || key == "status") add_all(statuses, value);
      else if (key == "definition") add_all(definitions, value);
      else if (key == "definition-not" || key == "definition:not") add_all(not_definitions, value);
      else if (key == "_count") {
        try {
          size_t used = 0;
          count = std::stol(value, &used);
          if (used != value.size() || count < 0 || count > 1000) throw std::out_of_range("");
        } catch (const std::exception &) {
          return send_error(400, "awf.http/bad-query", "_count must be an integer from 0 to 1000, got \"" + value + "\"",
                            Format::Json);
        }
      }
    }
    const json filter = {{"statuses", statuses}, {"definitions", definitions}, {"not", not_definitions}};
    static const std::string sql =
        "WITH p AS (SELECT $1::jsonb AS j),"
        " f AS (SELECT (SELECT array_agg(x) FROM jsonb_array_elements_text("
        "                 CASE jsonb_typeof(p.j->'statuses') WHEN 'array' THEN p.j->'statuses' ELSE '[]' END) x) s,"
        "              (SELECT array_agg(x) FROM jsonb_array_elements_text("
        "                 CASE jsonb_typeof(p.j->'definitions') WHEN 'array' THEN p.j->'definitions' ELSE '[]' END) x) d,"
        "              (SELECT array_agg(x) FROM jsonb_array_elements_text("
        "                 CASE jsonb_typeof(p.j->'not') WHEN 'array' THEN p.j->'not' ELSE '[]' END) x) n"
        "         FROM p)"
        " SELECT jsonb_build_object('resourceType', 'Bundle', 'type', 'searchset',"
        "   'total', awf.task_count(f.s, f.d, f.n),"
        "   'entry', CASE WHEN $2::int = 0 THEN '[]'::jsonb ELSE"
        "     (SELECT coalesce(jsonb_agg(jsonb_build_object('resource', r)), '[]')"
        "        FROM jsonb_array_elements(awf.task_list(f.d, f.n, f.s, NULL, NULL, 'createdAt', 'desc',"
        "                                                $2::int, 1) -> 'resources') r) END)"
        " FROM f";
    server_.lanes().run([self = shared_from_this(), filter, count](pqxx::connection *connection,
                                                                      const std::string &error) {
      RpcOutcome outcome = connection ? run_query(*connection, self->role_, sql, {filter.dump(), std::to_string(count)})
                                      : unreachable_outcome(error);
      net::dispatch(self->stream_.get_executor(),
                [self, outcome = std::move(outcome)] { self->send_json(outcome.status, outcome.body, Format::Json); });
    });
  }

  // The JSON object in the body of a REST surface's request (NL Flow create, XINA actions), or
  // nullopt after answering 415 (not JSON, or not UTF-8) or 400 (malformed, or not an object).
  std::optional<json> read_json_object(const char *type_rule, const char *not_object_type,
                                       const char *not_object_rule) {
    const auto content_type = request_[http::field::content_type];
    const std::string_view type(content_type.data(), content_type.size());
    if (type.empty() || format_of_content_type(type) != Format::Json || !is_utf8_charset(type)) {
      send_error(415, "awf.http/unsupported-media-type", std::string(type_rule) + ", got \"" + std::string(type) + "\"",
                 Format::Json);
      return std::nullopt;
    }
    json body;
    try {
      body = decode(request_.body(), Format::Json);
    } catch (const DecodeError &e) {
      send_error(400, "awf.http/malformed-body", std::string("the body is not UTF-8 JSON: ") + e.what(), Format::Json);
      return std::nullopt;
    }
    if (!body.is_object()) {
      send_error(400, not_object_type, std::string(not_object_rule) + ", got " + body.type_name(), Format::Json);
      return std::nullopt;
    }
    return body;
  }

  // --- NL Flow REST API (seed 003): X-API-KEY of the workflow, then awf.nlflow_* as awf_user ---

  void handle_nlflow() {
    const NlflowMatch match = match_nlflow(method_, path_);
    if (!match.route) {
      if (!match.allow.empty())
        return send_error(405, "awf.http/method-not-allowed",
                          method_ + " is not allowed on " + path_ + "; use " + match.allow, Format::Json,
                          {{"Allow", match.allow}});
      return send_error(404, "awf.http/not-found",
                        "no such NL Flow path: " + path_ +
                            " (the calls are under /api/v1/runtime/workflow/{workflowId}/task)",
                        Format::Json);
    }
    nlflow_ = *match.route;
    rpc_label_ = std::string(nlflow_call_name(nlflow_.call));
    const auto correlation = request_["X-Correlation-Id"];
    correlation_ = std::string(correlation.data(), correlation.size());
    const auto header = request_["X-API-KEY"];
    const std::string key(header.data(), header.size());
    if (key.empty())
      return send_error(401, "awf.auth/unauthorized",
                        "X-API-KEY is required: an API key of workflow \"" + nlflow_.workflow + "\"", Format::Json);
    const size_t dot = key.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == key.size())
      return send_error(401, "awf.auth/unauthorized", "X-API-KEY is malformed: an API key reads KEYID.SECRET",
                        Format::Json);
    const Credential credential{key.substr(0, dot), key.substr(dot + 1)};
    client_ = "nlflow-key:" + credential.client_id;
    if (auto workflow = server_.api_keys().role_of(credential)) return nlflow_authorized(*workflow);
    server_.verify(Server::CredentialKind::NlflowKey, credential,
                   [self = shared_from_this()](std::optional<std::string> workflow, std::optional<RpcOutcome> failure) {
                     net::dispatch(self->stream_.get_executor(), [self, workflow, failure] {
                       if (failure) return self->send_json(failure->status, failure->body, Format::Json);
                       if (!workflow)
                         return self->send_error(401, "awf.auth/unauthorized", "unknown API key or wrong secret",
                                                 Format::Json);
                       self->nlflow_authorized(*workflow);
                     });
                   });
  }

  void nlflow_authorized(const std::string &key_workflow) {
    const std::string &workflow = nlflow_.workflow;
    if (key_workflow != workflow)
      return send_error(403, "awf.auth/forbidden", "this API key is not a key of workflow \"" + workflow + "\"",
                        Format::Json);
    NlflowQuery query;
    try {
      query = read_nlflow_query(nlflow_.call, parse_query(query_));
    } catch (const std::invalid_argument &e) {
      return send_error(400, "awf.http/bad-query", e.what(), Format::Json);
    }
    if (!nlflow_.task.empty() && !is_uuid(nlflow_.task))
      return send_error(404, "awf.nlflow/task-not-found",
                        "NL Flow workflow \"" + workflow + "\" has no task " + nlflow_.task + " (task IDs are UUIDs)",
                        Format::Json);
    std::string sql;
    std::vector<std::string> params = {workflow};
    int success = 200;
    switch (nlflow_.call) {
      case NlflowCall::Create: {
        if (!read_json_object("the body of a task must be JSON: Content-Type: application/json; charset=utf-8",
                              "awf.http/malformed-body", "the body must be a JSON object (the workflow's input)"))
          return;
        sql = "SELECT pg_catalog.jsonb_build_object('taskId',"
              " awf.nlflow_task_create($1, $2::jsonb, NULLIF($3, ''), $4::boolean))";
        params.push_back(request_.body());
        params.push_back(correlation_);
        params.push_back(query.verbose_errors ? "true" : "false");
        success = 202;
        break;
      }
      case NlflowCall::TaskStatus:
        sql = "SELECT pg_catalog.jsonb_build_object('status', awf.nlflow_task_status($1, $2::uuid))";
        params.push_back(nlflow_.task);
        break;
      case NlflowCall::StatusMap:
        sql = "SELECT awf.nlflow_status_map($1,"
              " CASE jsonb_typeof($2::jsonb) WHEN 'array' THEN"
              "  (SELECT array_agg(x::uuid) FROM jsonb_array_elements_text($2::jsonb) x) END,"
              " CASE jsonb_typeof($3::jsonb) WHEN 'array' THEN"
              "  (SELECT array_agg(x) FROM jsonb_array_elements_text($3::jsonb) x) END)";
        params.push_back(query.task_ids ? query.task_ids->dump() : "null");
        params.push_back(query.statuses ? query.statuses->dump() : "null");
        break;
      case NlflowCall::Response:
        sql = "SELECT awf.nlflow_task_response($1, $2::uuid)";
        params.push_back(nlflow_.task);
        break;
      case NlflowCall::Request:
        sql = "SELECT awf.nlflow_task_request($1, $2::uuid)";
        params.push_back(nlflow_.task);
        break;
      case NlflowCall::DeleteOne:
        sql = "SELECT pg_catalog.to_jsonb(awf.nlflow_task_delete($1, $2::uuid, NULL))";
        params.push_back(nlflow_.task);
        success = 204;
        break;
      case NlflowCall::DeleteMany:
        sql = "SELECT pg_catalog.to_jsonb(awf.nlflow_task_delete($1, NULL,"
              " CASE jsonb_typeof($2::jsonb) WHEN 'array' THEN"
              "  (SELECT array_agg(x) FROM jsonb_array_elements_text($2::jsonb) x) END))";
        params.push_back(query.statuses ? query.statuses->dump() : "null");
        success = 204;
        break;
    }
    server_.lanes().run([self = shared_from_this(), sql, params, success](pqxx::connection *connection,
                                                                        const std::string &error) {
      RpcOutcome outcome = connection ? run_query(*connection, "awf_user", sql, params) : unreachable_outcome(error);
      net::dispatch(self->stream_.get_executor(), [self, outcome = std::move(outcome), success] {
        if (outcome.status != 200) {
          const std::string sqlstate = outcome.body["error"].value("sqlstate", "");
          return self->send_json(surface_status_for_sqlstate(sqlstate, outcome.status), outcome.body, Format::Json);
        }
        if (success == 204) return self->send(204, "", media_type(Format::Json));
        self->send_json(success, outcome.body, Format::Json);
      });
    });
  }

  // --- XINA task actions (seed 004): one JSON action document, awf.xina_action as the client ---

  void handle_xina() {
    rpc_label_ = "xina";
    auto action = read_json_object("a XINA action is JSON: Content-Type: application/json", "awf.xina/invalid-action",
                                   "a XINA action is a JSON object like {\"action\": \"run\", \"tasks\": [...]}");
    if (!action) return;
    rpc_label_ = xina_action_label(*action);
    static const std::string sql = "SELECT awf.xina_action($1::jsonb)";
    server_.lanes().run([self = shared_from_this()](pqxx::connection *connection, const std::string &error) {
      RpcOutcome outcome = connection ? run_query(*connection, self->role_, sql, {self->request_.body()})
                                      : unreachable_outcome(error);
      net::dispatch(self->stream_.get_executor(), [self, outcome = std::move(outcome)] {
        int status = outcome.status;
        if (status != 200) status = surface_status_for_sqlstate(outcome.body["error"].value("sqlstate", ""), status);
        self->send_json(status, outcome.body, Format::Json);
      });
    });
  }

  // --- GET /health, GET /metrics -------------------------------------------------------------
  // Both run on the server's monitor queue instead of the lanes: they must answer while every lane
  // is busy (a call waiting on a lock), since that is when they are read; and not on this HTTP
  // thread, whose other sessions would wait for a free connection and the query.

  void handle_health() {
    server_.monitor().submit([self = shared_from_this()](pqxx::connection *connection, const std::string &error) {
      std::string problem = error;
      if (connection != nullptr) {
        try {
          pqxx::nontransaction tx(*connection);
          tx.exec("SELECT 1");
        } catch (const std::exception &e) {
          problem = outcome_for_exception(e).body["error"].value("message", e.what());
        }
      }
      net::dispatch(self->stream_.get_executor(), [self, problem, ok = connection != nullptr && problem.empty()] {
        json body = {{"status", ok ? "ok" : "degraded"}, {"database", ok ? "ok" : "unavailable"},
                     {"longPollWakeups", self->server_.hub().preloaded() ? "shared-memory" : "polling"}};
        if (!ok) body["error"] = problem;
        self->send_json(ok ? 200 : 503, body, Format::Json);
      });
    });
  }

  void handle_metrics() {
    server_.monitor().submit([self = shared_from_this()](pqxx::connection *connection, const std::string &) {
      std::ostringstream out;
      bool up = false;
      if (connection != nullptr) {
        try {
          pqxx::nontransaction tx(*connection);
          const pqxx::result r = tx.exec(
              "SELECT definition, status, count(*) FROM awf.task GROUP BY 1, 2 ORDER BY 1, 2");
          out << "# HELP awf_tasks Tasks in the queue by definition and status.\n# TYPE awf_tasks gauge\n";
          for (const auto &row : r)
            out << "awf_tasks{definition=\"" << prometheus_label(row[0].c_str()) << "\",status=\""
                << prometheus_label(row[1].c_str()) << "\"} " << row[2].c_str() << "\n";
          up = true;
        } catch (const std::exception &e) {
          outcome_for_exception(e);
        }
      }
      net::dispatch(self->stream_.get_executor(), [self, tasks = out.str(), up] {
        Server &s = self->server_;
        std::ostringstream text;
        text << s.metrics().render() << tasks
             << "# HELP awf_bridge_database_up Whether the last database query succeeded.\n"
             << "# TYPE awf_bridge_database_up gauge\nawf_bridge_database_up " << (up ? 1 : 0) << "\n"
             << "# HELP awf_bridge_long_polls_waiting Long-polls waiting in the bridge.\n"
             << "# TYPE awf_bridge_long_polls_waiting gauge\nawf_bridge_long_polls_waiting "
             << s.hub().waiting() << "\n"
             << "# HELP awf_bridge_pool_connections Database connections open, busy, and the pool size.\n"
             << "# TYPE awf_bridge_pool_connections gauge\n"
             << "awf_bridge_pool_connections{state=\"open\"} "
             << s.pool().open_connections() + (s.lanes().pipeline_open() ? 1 : 0) << "\n"
             << "awf_bridge_pool_connections{state=\"busy\"} "
             << s.pool().busy() + (s.lanes().pipelined() > 0 ? 1 : 0) << "\n"
             << "awf_bridge_pool_connections{state=\"size\"} " << s.pool().size() + (s.lanes().has_pipeline() ? 1 : 0)
             << "\n"
             << "# HELP awf_bridge_pool_queued Database jobs waiting for a connection.\n"
             << "# TYPE awf_bridge_pool_queued gauge\nawf_bridge_pool_queued " << s.pool().queued() << "\n"
             << "# HELP awf_bridge_rpc_calls_waiting Single /rpc calls waiting to run in a group.\n"
             << "# TYPE awf_bridge_rpc_calls_waiting gauge\nawf_bridge_rpc_calls_waiting "
             << s.lanes().waiting() << "\n"
             << "# HELP awf_bridge_rpc_groups_total Groups of single /rpc calls run as one transaction: committed, "
                "or rolled back because a call failed (its calls then ran one by one).\n"
             << "# TYPE awf_bridge_rpc_groups_total counter\n"
             << "awf_bridge_rpc_groups_total{outcome=\"committed\"} " << s.lanes().groups() << "\n"
             << "awf_bridge_rpc_groups_total{outcome=\"rerun\"} " << s.lanes().groups_rerun() << "\n"
             << "# HELP awf_bridge_rpc_grouped_calls_total Calls committed as part of a group.\n"
             << "# TYPE awf_bridge_rpc_grouped_calls_total counter\nawf_bridge_rpc_grouped_calls_total "
             << s.lanes().grouped_calls() << "\n"
             << "# HELP awf_bridge_http_connections Open HTTP connections.\n"
             << "# TYPE awf_bridge_http_connections gauge\nawf_bridge_http_connections "
             << s.open_connections() << "\n";
        self->send(200, text.str(), "text/plain; version=0.0.4");
      });
    });
  }

  beast::tcp_stream stream_;
  Server &server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  std::optional<http::response<http::string_body>> response_;
  bool reading_ = false;
  bool keep_alive_ = false;
  size_t requests_ = 0;
  Clock::time_point started_ = Clock::now();
  std::string method_, path_, query_, rpc_label_, client_, role_, correlation_;
  NlflowRoute nlflow_{NlflowCall::Create, {}, {}};
  Format format_ = Format::Json;
  // long-poll state
  RpcCall poll_call_;
  std::vector<uint32_t> poll_slots_;
  std::vector<uint64_t> seen_;
  Clock::time_point poll_deadline_;
  uint64_t waiter_ = 0;
  std::optional<net::steady_timer> timer_;
};

namespace {
// Lane 0's pipeline takes one of the --pool-size connections for itself when the pool keeps two:
// one for the long-poll hub's wait (up to 1 s at a time), one for the other work.
bool has_pipeline(const Config &config) { return config.pool_size >= 3; }
}  // namespace

Server::Server(Config config)
    : config_(std::move(config)),
      io_(1),
      acceptor_(io_),
      signals_(io_, SIGTERM, SIGINT),
      accept_timer_(io_),
      pool_(config_.db, config_.pool_size - (has_pipeline(config_) ? 1 : 0)),
      lanes_(pool_, config_.lanes == 0 ? config_.pool_size : std::min(config_.lanes, config_.pool_size),
             config_.group_limit, has_pipeline(config_) ? std::make_unique<GroupPipeline>(config_.db) : nullptr),
      hub_(pool_, io_),
      credentials_(std::chrono::milliseconds(config_.auth_cache_ms)),
      api_keys_(std::chrono::milliseconds(config_.auth_cache_ms)) {
  for (size_t i = 1; i < config_.io_threads; ++i) {
    more_io_.push_back(std::make_unique<net::io_context>(1));
    keep_running_.push_back(net::make_work_guard(*more_io_.back()));
  }
}

void Server::session_started(const std::shared_ptr<Session> &session) {
  std::lock_guard<std::mutex> lock(sessions_mutex_);
  sessions_.insert(session);
}

void Server::session_ended(Session *) {
  connections_--;
  std::lock_guard<std::mutex> lock(sessions_mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->expired() ? sessions_.erase(it) : std::next(it);
}

void Server::verify(CredentialKind kind, const Credential &credential, Verified done) {
  const std::string key = (kind == CredentialKind::Client ? "c" : "k") + CredentialCache::key(credential);
  {
    // One check per credential at a time: a thousand executors reconnecting with the same
    // secret cost one hash, not a thousand (each takes milliseconds and megabytes).
    std::lock_guard<std::mutex> lock(verify_mutex_);
    auto [it, first] = verifying_.try_emplace(key);
    it->second.push_back(std::move(done));
    if (!first) return;
  }
  lanes_.run([this, kind, key, credential](pqxx::connection *connection, const std::string &error) {
    std::optional<std::string> granted;
    std::optional<RpcOutcome> failure;
    if (connection == nullptr) {
      failure = RpcOutcome{503, error_body("awf.db/unavailable", "the database is unreachable", error,
                                           "The bridge reconnects by itself; retry the request."), {}};
    } else {
      try {
        if (kind == CredentialKind::Client) {
          granted = verify_credential(*connection, credential);
          if (granted && !is_client_role(*granted)) {
            // A row naming another role (only a superuser can write one): refused, never cached.
            failure = RpcOutcome{403, error_body("awf.auth/forbidden",
                                                 "client \"" + credential.client_id + "\" is mapped to role \"" +
                                                     *granted + "\", which the bridge does not assume (only " +
                                                     kClientRoles + "); fix it with awf-bridge client add"),
                                 {}};
            granted.reset();
          } else if (granted) {
            credentials_.remember(credential, *granted);
          }
        } else {
          granted = verify_api_key(*connection, credential);
          if (granted) api_keys_.remember(credential, *granted);
        }
      } catch (const std::exception &e) {
        failure = outcome_for_exception(e);
      }
    }
    std::vector<Verified> waiting;
    {
      std::lock_guard<std::mutex> lock(verify_mutex_);
      waiting = std::move(verifying_[key]);
      verifying_.erase(key);
    }
    for (auto &callback : waiting) callback(granted, failure);
  });
}

void Server::accept() {
  const size_t turn = next_io_++ % (more_io_.size() + 1);
  net::io_context &home = turn == 0 ? io_ : *more_io_[turn - 1];
  acceptor_.async_accept(home.get_executor(), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || shutting_down_) return;
      // Out of file descriptors (or another resource): retry after a pause instead of spinning.
      const auto now = Clock::now();
      if (now - last_accept_warning_ > std::chrono::seconds(1)) {
        last_accept_warning_ = now;
        log_event("warning", "accept failed; retrying in 100 ms", {{"error", ec.message()}});
      }
      accept_timer_.expires_after(std::chrono::milliseconds(100));
      accept_timer_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !shutting_down_) accept();
      });
      return;
    }
    if (connections_.load() >= config_.max_connections) {
      // Over the cap: refuse at once, rather than queue work we cannot serve.
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      connections_++;
      auto session = std::make_shared<Session>(std::move(socket), *this);
      session_started(session);
      session->start();
    }
    accept();
  });
}

void Server::begin_shutdown() {
  if (shutting_down_.exchange(true)) return;
  log_event("info", "shutting down: answering waiting long-polls, finishing in-flight requests");
  beast::error_code ec;
  acceptor_.close(ec);
  hub_.shutdown();
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    for (auto &weak : sessions_)
      if (auto s = weak.lock()) live.push_back(s);
  }
  for (auto &s : live) s->close_if_idle();
  // Stop once every connection is gone, or after 10 s.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  auto timer = std::make_shared<net::steady_timer>(io_);
  auto check = std::make_shared<std::function<void()>>();
  *check = [this, timer, deadline, check] {
    if (connections_.load() == 0 || Clock::now() >= deadline) {
      keep_running_.clear();
      for (auto &io : more_io_) io->stop();
      io_.stop();
      return;
    }
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([check](beast::error_code) { (*check)(); });
  };
  (*check)();
}

int Server::run() {
  tcp::endpoint endpoint;
  try {
    endpoint = tcp::endpoint(net::ip::make_address(config_.listen_host), config_.listen_port);
  } catch (const std::exception &e) {
    log_event("error", "cannot listen: not an IP address", {{"listen", config_.listen_host}});
    return 2;
  }
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    log_event("error", "cannot listen",
              {{"listen", config_.listen_host + ":" + std::to_string(config_.listen_port)}, {"error", ec.message()}});
    return 2;
  }
  signals_.async_wait([this](beast::error_code, int) { begin_shutdown(); });
  accept();
  log_event("info", "awf-bridge listening",
            {{"listen", config_.listen_host + ":" + std::to_string(config_.listen_port)},
             {"pool_size", config_.pool_size},
             {"threads", config_.io_threads},
             {"lanes", lanes_.lanes()},
             {"group_limit", config_.group_limit},
             {"auth", config_.require_auth ? "clients" : "none"}});
  // An exception escaping a handler is a bug; it must cost that one request, not the process.
  auto serve = [](net::io_context &io) {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception &e) {
        log_event("error", "bridge bug: a request handler threw; serving on", {{"error", e.what()}});
      } catch (...) {
        log_event("error", "bridge bug: a request handler threw; serving on");
      }
    }
  };
  std::vector<std::thread> threads;
  for (auto &io : more_io_) threads.emplace_back(serve, std::ref(*io));
  serve(io_);
  for (auto &t : threads) t.join();
  lanes_.stop();
  monitor_.stop();
  pool_.stop();
  log_event("info", "awf-bridge stopped");
  return 0;
}

}  // namespace awf::bridge
