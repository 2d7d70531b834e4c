// Slow clients against awf-bridge (issue 8, item 9): N connections that send a request header one
// byte per interval must not stop other clients being served, and the bridge must close each of
// them when its header timeout expires.
//
//   awf_slow_clients --bridge http://HOST:PORT --header-timeout-ms T [--auth ID:SECRET]
//                    [--slow N] [--slow-body K] [--interval-ms I] [--clients M] [--baseline-seconds S]
//                    [--slack-ms X] [--max-p99-ms P]
//
// 1. Baseline: M normal clients (one thread and one keep-alive connection each) loop over a task
//    lifecycle through POST /rpc (awf.task/create, poll, start, success, JSON, each on a
//    definition of its own, every answer checked) plus GET /health, for S seconds; every
//    request's latency is recorded.
// 2. Slow phase: the normal clients go on; this thread opens N non-blocking connections and, with
//    poll(2), sends each one byte of a request header (longer than anything the interval lets
//    through before the timeout) every I ms; K of them (--slow-body, 0 unless given) send a whole
//    header at once (POST /rpc, Content-Length 4096) and then the body one byte every I ms (the
//    header timeout covers the body as well). It records when each connection was established
//    and when the bridge closed it (end of stream or reset), and any bytes the bridge sent. The
//    phase ends when every slow connection is closed, or 1 s after the last connection's
//    establishment + T + X (X: slack; 2000 ms unless given), when the connections still open
//    count as failures. A connection's time to close is counted from just before its connect(2)
//    call: the bridge cannot have started its timer earlier.
//    Once all N are established, the bridge's /metrics must show them (awf_bridge_http_connections
//    >= N). Latencies of requests that start during the phase are the "during" sample.
// 3. After: /metrics must show the slow connections gone (awf_bridge_http_connections <= M + 1,
//    polled with a 10 s deadline).
//
// Hard checks (one "ok - ..." or "not ok - ..." line each): all N connections established; each
// closed by the bridge no earlier than T - 50 ms and no later than T + X after its connect(2); none left open; every normal request succeeded, and some were served during the
// slow phase; the p99 during the slow phase < P ms (1000 unless given: the machine is shared and
// noisy, so the ratio to the baseline is printed, not asserted); the bridge's connection count
// before and after. Figures: "slow-clients: ..." lines. Exit status: 0 when every check passes,
// 1 when one fails, 2 on usage errors.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "../common/basic_auth.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr int kSocketTimeoutS = 30;  // a normal request unanswered this long is an error

struct Options {
  std::string host = "127.0.0.1";
  std::string port;
  std::string auth;
  int slow = 500;
  int slow_body = 0;  // of the slow connections, those that send a whole header, then the body slowly
  int interval_ms = 1000;
  int header_timeout_ms = 0;  // the bridge's --header-timeout; required
  int clients = 4;
  double baseline_seconds = 5;
  int slack_ms = 2000;
  double max_p99_ms = 1000;
};

int passed = 0, failed = 0;
void check(const std::string &what, bool good, const std::string &detail = "") {
  (good ? passed : failed)++;
  std::cout << (good ? "ok - " : "not ok - ") << what << (detail.empty() ? "" : ": " + detail) << std::endl;
}

[[noreturn]] void usage_error(const std::string &message) {
  std::cerr << "awf_slow_clients: " << message << "\n"
            << "usage: awf_slow_clients --bridge http://HOST:PORT --header-timeout-ms T [--auth ID:SECRET]\n"
               "         [--slow N] [--slow-body K] [--interval-ms I] [--clients M] [--baseline-seconds S] [--slack-ms X]\n"
               "         [--max-p99-ms P]\n";
  std::exit(2);
}

Options parse_options(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    auto number = [&](double min, double max) {
      const std::string v = value();
      try {
        size_t used = 0;
        const double d = std::stod(v, &used);
        if (used == v.size() && d >= min && d <= max) return d;
      } catch (const std::exception &) {
      }
      usage_error(a + " needs a number from " + std::to_string(min) + " to " + std::to_string(max));
    };
    if (a == "--bridge") {
      std::string url = value();
      if (url.rfind("http://", 0) == 0) url = url.substr(7);
      while (!url.empty() && url.back() == '/') url.pop_back();
      const size_t colon = url.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == url.size()) usage_error("--bridge needs http://HOST:PORT");
      o.host = url.substr(0, colon);
      o.port = url.substr(colon + 1);
    } else if (a == "--auth") {
      o.auth = value();
      if (o.auth.find(':') == std::string::npos) usage_error("--auth needs ID:SECRET");
    } else if (a == "--slow") {
      o.slow = static_cast<int>(number(1, 100000));
    } else if (a == "--slow-body") {
      o.slow_body = static_cast<int>(number(0, 100000));
    } else if (a == "--interval-ms") {
      o.interval_ms = static_cast<int>(number(10, 600000));
    } else if (a == "--header-timeout-ms") {
      o.header_timeout_ms = static_cast<int>(number(100, 3600000));
    } else if (a == "--clients") {
      o.clients = static_cast<int>(number(1, 256));
    } else if (a == "--baseline-seconds") {
      o.baseline_seconds = number(0.5, 3600);
    } else if (a == "--slack-ms") {
      o.slack_ms = static_cast<int>(number(0, 600000));
    } else if (a == "--max-p99-ms") {
      o.max_p99_ms = number(1, 1e6);
    } else {
      usage_error("unknown argument " + a);
    }
  }
  if (o.port.empty()) usage_error("--bridge is required");
  if (o.slow_body > o.slow) usage_error("--slow-body cannot exceed --slow");
  if (o.header_timeout_ms == 0) usage_error("--header-timeout-ms (the bridge's --header-timeout) is required");
  return o;
}

double ms_since(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - 1;
  return v[std::min(k, v.size() - 1)];
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

sockaddr_storage resolve(const Options &o, socklen_t &length) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *res = nullptr;
  if (int rc = getaddrinfo(o.host.c_str(), o.port.c_str(), &hints, &res); rc != 0 || res == nullptr)
    throw std::runtime_error("cannot resolve " + o.host + ": " + gai_strerror(rc));
  sockaddr_storage address{};
  std::memcpy(&address, res->ai_addr, res->ai_addrlen);
  length = res->ai_addrlen;
  freeaddrinfo(res);
  return address;
}

// --- a blocking keep-alive HTTP/1.1 client (normal clients and /metrics) ---------------------

struct HttpResponse {
  int status = 0;
  std::string body;
  bool close = false;
};

class HttpClient {
 public:
  explicit HttpClient(const Options &o) : o_(o) {
    if (!o.auth.empty()) auth_ = "Authorization: " + awf::test::basic_auth(o.auth) + "\r\n";
  }
  ~HttpClient() { disconnect(); }
  HttpClient(const HttpClient &) = delete;
  HttpClient &operator=(const HttpClient &) = delete;

  HttpResponse request(const std::string &method, const std::string &path, const std::string &body = "",
                       bool authenticate = true) {
    if (fd_ < 0) connect_now();
    std::string r = method + " " + path + " HTTP/1.1\r\nHost: " + o_.host + "\r\n" + (authenticate ? auth_ : "");
    if (method == "POST") r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    r += "\r\n" + body;
    for (size_t sent = 0; sent < r.size();) {
      const ssize_t n = ::send(fd_, r.data() + sent, r.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const std::string e = std::strerror(errno);
        disconnect();
        throw std::runtime_error("send " + method + " " + path + ": " + e);
      }
      sent += static_cast<size_t>(n);
    }
    HttpResponse out;
    char chunk[16384];
    for (;;) {
      if (const size_t used = parse(out); used > 0) {
        buffer_.erase(0, used);
        break;
      }
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) {
        disconnect();
        throw std::runtime_error("the bridge closed the connection before answering " + method + " " + path);
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        const std::string e = errno == EAGAIN || errno == EWOULDBLOCK
                                  ? "no answer within " + std::to_string(kSocketTimeoutS) + " s"
                                  : std::strerror(errno);
        disconnect();
        throw std::runtime_error(method + " " + path + ": " + e);
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    if (out.close) disconnect();
    return out;
  }

 private:
  void connect_now() {
    socklen_t length = 0;
    const sockaddr_storage address = resolve(o_, length);
    fd_ = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd_, reinterpret_cast<const sockaddr *>(&address), length) != 0) {
      const std::string e = std::strerror(errno);
      disconnect();
      throw std::runtime_error("connect: " + e);
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{kSocketTimeoutS, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  // One response from the front of buffer_: the bytes it used, 0 when incomplete.
  size_t parse(HttpResponse &out) {
    const size_t head_end = buffer_.find("\r\n\r\n");
    if (head_end == std::string::npos) return 0;
    if (buffer_.compare(0, 7, "HTTP/1.") != 0) throw std::runtime_error("malformed response: " + buffer_.substr(0, 80));
    out.status = std::atoi(buffer_.c_str() + 9);
    long length = -1;
    std::istringstream head(buffer_.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon), value = line.substr(colon + 1);
      for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (name == "content-length") length = std::atol(value.c_str());
      if (name == "connection") out.close = value == "close";
    }
    if (length < 0) throw std::runtime_error("a response without Content-Length");
    const size_t total = head_end + 4 + static_cast<size_t>(length);
    if (buffer_.size() < total) return 0;
    out.body = buffer_.substr(head_end + 4, static_cast<size_t>(length));
    return total;
  }

  const Options &o_;
  std::string auth_;
  int fd_ = -1;
  std::string buffer_;
};

std::optional<double> metric(const std::string &text, const std::string &name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, name.size() + 1, name + " ") == 0) return std::atof(line.c_str() + name.size() + 1);
  return std::nullopt;
}

std::optional<double> bridge_connections(const Options &o) {
  try {
    HttpClient http(o);
    const HttpResponse r = http.request("GET", "/metrics", "", false);
    if (r.status != 200) return std::nullopt;
    return metric(r.body, "awf_bridge_http_connections");
  } catch (const std::exception &) {
    return std::nullopt;
  }
}

// --- normal clients ---------------------------------------------------------------------------

enum Phase { kBaseline = 0, kDuring = 1, kAfter = 2 };

struct Samples {
  std::vector<double> ms[3];
  long errors = 0;
  std::string first_error;
};

class NormalClient {
 public:
  NormalClient(const Options &o, int index, const std::atomic<int> &phase, const std::atomic<bool> &stop)
      : http_(o), definition_("awf-slow-clients-" + std::to_string(::getpid()) + "-" + std::to_string(index)),
        phase_(phase), stop_(stop) {}

  void run() {
    while (!stop_.load()) {
      try {
        lifecycle();
      } catch (const std::exception &e) {
        if (samples_.errors++ == 0) samples_.first_error = e.what();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  const Samples &samples() const { return samples_; }

 private:
  json rpc(const std::string &method, const json &params) {
    const json result = timed("POST", "/rpc", json{{"method", method}, {"params", params}}.dump());
    if (!result.contains("result")) throw std::runtime_error(method + " answered " + result.dump());
    return result["result"];
  }

  json timed(const std::string &method, const std::string &path, const std::string &body) {
    const int phase = phase_.load();
    const auto t0 = Clock::now();
    const HttpResponse r = http_.request(method, path, body);
    samples_.ms[phase].push_back(ms_since(t0, Clock::now()));
    if (r.status != 200) throw std::runtime_error(method + " " + path + ": HTTP " + std::to_string(r.status) + ": " + r.body);
    return json::parse(r.body);
  }

  void lifecycle() {
    const json created = rpc("awf.task/create", {{"definition", definition_}, {"params", {{"n", ++n_}}}});
    const std::string id = created["resource"].value("id", "");
    const json polled = rpc("awf.task/poll", {{"taskDefinitions", {definition_}}, {"maxBatchSize", 1}});
    if (polled["resources"].size() != 1 || polled["resources"][0].value("id", "") != id)
      throw std::runtime_error("poll did not return the task just created (" + id + "): " + polled.dump());
    const std::string exec_id = polled["resources"][0].value("execId", "");
    const json started = rpc("awf.task/start", {{"id", id}, {"execId", exec_id}});
    if (started["resource"].value("status", "") != "in-progress")
      throw std::runtime_error("start answered " + started.dump());
    const json done = rpc("awf.task/success", {{"id", id}, {"execId", exec_id}, {"result", {{"ok", true}}}});
    if (done["resource"].value("status", "") != "done") throw std::runtime_error("success answered " + done.dump());
    const json health = timed("GET", "/health", "");
    if (health.value("status", "") != "ok") throw std::runtime_error("/health answered " + health.dump());
  }

  HttpClient http_;
  std::string definition_;
  const std::atomic<int> &phase_;
  const std::atomic<bool> &stop_;
  Samples samples_;
  long n_ = 0;
};

// --- slow connections -------------------------------------------------------------------------

struct SlowConnection {
  int fd = -1;
  enum State { Connecting, Open, Closed, Failed } state = Connecting;
  // connecting: just before connect(2), so before the bridge can have accepted the connection and
  // started its header timer; established: when poll(2) saw the connection writable.
  Clock::time_point connecting, established, closed, next_send;
  bool body = false;  // a whole header first, then the body a byte at a time
  size_t sent = 0;   // bytes of `bytes`
  size_t received = 0;
  std::string error;
};

void raise_fd_limit(rlim_t needed) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= needed) return;
  rl.rlim_cur = std::min<rlim_t>(std::max<rlim_t>(needed, rl.rlim_cur), rl.rlim_max);
  setrlimit(RLIMIT_NOFILE, &rl);
}

struct SlowReport {
  int established = 0, failed_to_connect = 0, closed = 0, left_open = 0, answered = 0;
  std::vector<double> close_ms;       // connect(2) -> closed by the bridge
  std::vector<double> body_close_ms;  // the same, of the slow bodies only
  size_t min_sent = 0, max_sent = 0;
  std::string first_error;
};

// Opens the slow connections and drives them until each is closed or the deadline passes.
// `all_open` is called once, when every connection is established (or failed).
template <typename OnAllOpen>
SlowReport run_slow(const Options &o, OnAllOpen all_open) {
  // A header that never ends within the timeout: at one byte per interval, far more bytes than
  // the timeout lets through.
  std::string header = "POST /rpc HTTP/1.1\r\nHost: " + o.host + "\r\nContent-Type: application/json\r\nX-Slow: ";
  const size_t needed = static_cast<size_t>(o.header_timeout_ms / o.interval_ms + 64);
  while (header.size() < needed) header += 's';
  const std::string whole_header =
      "POST /rpc HTTP/1.1\r\nHost: " + o.host + "\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n";
  std::string body = "{\"method\": \"awf.task/poll\", \"params\": {\"x\": \"";
  while (body.size() < needed) body += 's';
  socklen_t length = 0;
  const sockaddr_storage address = resolve(o, length);
  std::vector<SlowConnection> conns(static_cast<size_t>(o.slow));
  for (size_t i = 0; i < conns.size(); ++i) conns[i].body = i < static_cast<size_t>(o.slow_body);
  for (auto &c : conns) {
    c.connecting = Clock::now();
    c.fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      c.state = SlowConnection::Failed;
      c.error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    if (::connect(c.fd, reinterpret_cast<const sockaddr *>(&address), length) != 0 && errno != EINPROGRESS) {
      c.state = SlowConnection::Failed;
      c.error = std::string("connect: ") + std::strerror(errno);
    }
  }
  const auto interval = std::chrono::milliseconds(o.interval_ms);
  const auto connect_deadline = Clock::now() + std::chrono::seconds(30);
  std::optional<Clock::time_point> close_deadline;  // last establishment + timeout + slack + 1 s
  bool announced = false;
  SlowReport report;
  auto mark_closed = [&](SlowConnection &c, Clock::time_point now) {
    c.state = SlowConnection::Closed;
    c.closed = now;
    ::close(c.fd);
    c.fd = -1;
  };
  std::vector<pollfd> fds;
  std::vector<size_t> index;
  for (;;) {
    const auto now = Clock::now();
    int connecting = 0, open = 0;
    fds.clear();
    index.clear();
    auto wait = std::chrono::milliseconds(50);
    for (size_t i = 0; i < conns.size(); ++i) {
      auto &c = conns[i];
      if (c.state == SlowConnection::Connecting) {
        ++connecting;
        fds.push_back({c.fd, POLLOUT, 0});
        index.push_back(i);
      } else if (c.state == SlowConnection::Open) {
        ++open;
        fds.push_back({c.fd, static_cast<short>(POLLIN | POLLRDHUP), 0});
        index.push_back(i);
        if (c.next_send > now)
          wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(c.next_send - now) +
                                    std::chrono::milliseconds(1));
        else
          wait = std::chrono::milliseconds(0);
      }
    }
    if (!announced && connecting == 0) {
      announced = true;
      Clock::time_point last{};
      for (auto &c : conns)
        if (c.state != SlowConnection::Failed && c.state != SlowConnection::Connecting) last = std::max(last, c.established);
      close_deadline = last + std::chrono::milliseconds(o.header_timeout_ms + o.slack_ms + 1000);
      all_open();
    }
    if (connecting == 0 && open == 0) break;
    if (connecting > 0 && now > connect_deadline) {
      for (auto &c : conns)
        if (c.state == SlowConnection::Connecting) {
          c.state = SlowConnection::Failed;
          c.error = "not established within 30 s";
          ::close(c.fd);
          c.fd = -1;
        }
      continue;
    }
    if (close_deadline && now > *close_deadline) break;
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    const auto after = Clock::now();
    for (size_t k = 0; n > 0 && k < fds.size(); ++k) {
      auto &c = conns[index[k]];
      if (fds[k].revents == 0) continue;
      if (c.state == SlowConnection::Connecting) {
        int error = 0;
        socklen_t len = sizeof error;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) {
          c.state = SlowConnection::Failed;
          c.error = std::string("connect: ") + std::strerror(error);
          ::close(c.fd);
          c.fd = -1;
          continue;
        }
        c.state = SlowConnection::Open;
        c.established = after;
        c.next_send = after;  // the first byte at once
        continue;
      }
      // Open: the bridge sent something, or closed the connection.
      char buf[4096];
      for (;;) {
        const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
        if (r > 0) {
          c.received += static_cast<size_t>(r);
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) mark_closed(c, after);
        break;
      }
    }
    // Bytes due.
    const auto send_time = Clock::now();
    for (auto &c : conns) {
      if (c.state != SlowConnection::Open || c.next_send > send_time) continue;
      const std::string &bytes = c.body ? body : header;
      if (c.body && c.sent == 0) {
        // The whole header at once (it fits any socket buffer), then the body's first byte.
        const std::string first = whole_header + body.substr(0, 1);
        if (::send(c.fd, first.data(), first.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(first.size())) {
          c.sent = 1;
        } else {
          mark_closed(c, send_time);
          continue;
        }
      } else if (c.sent < bytes.size()) {
        const ssize_t r = ::send(c.fd, bytes.data() + c.sent, 1, MSG_NOSIGNAL);
        if (r == 1) {
          ++c.sent;
        } else if (errno == EPIPE || errno == ECONNRESET) {
          mark_closed(c, send_time);
          continue;
        }
      }
      c.next_send += interval;
    }
  }
  report.min_sent = SIZE_MAX;
  for (auto &c : conns) {
    if (c.state == SlowConnection::Failed) {
      ++report.failed_to_connect;
      if (report.first_error.empty()) report.first_error = c.error;
      continue;
    }
    ++report.established;
    report.min_sent = std::min(report.min_sent, c.sent);
    report.max_sent = std::max(report.max_sent, c.sent);
    if (c.received > 0) ++report.answered;
    if (c.state == SlowConnection::Closed) {
      ++report.closed;
      report.close_ms.push_back(ms_since(c.connecting, c.closed));
      if (c.body) report.body_close_ms.push_back(report.close_ms.back());
    } else {
      ++report.left_open;
      ::close(c.fd);
    }
  }
  if (report.established == 0) report.min_sent = 0;
  return report;
}

}  // namespace

int main(int argc, char **argv) {
  const Options o = parse_options(argc, argv);
  raise_fd_limit(static_cast<rlim_t>(o.slow + o.clients + 64));
  std::cout << "slow-clients: bridge " << o.host << ":" << o.port << ", " << o.slow << " slow connections sending a byte every "
            << o.interval_ms << " ms, header timeout " << o.header_timeout_ms << " ms (slack " << o.slack_ms << " ms), "
            << o.clients << " normal clients" << std::endl;
  const std::optional<double> connections_before = bridge_connections(o);

  std::atomic<int> phase{kBaseline};
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<NormalClient>> clients;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i) clients.push_back(std::make_unique<NormalClient>(o, i, phase, stop));
  for (auto &c : clients) threads.emplace_back([&c] { c->run(); });

  // 1. Baseline.
  std::this_thread::sleep_for(std::chrono::duration<double>(o.baseline_seconds));

  // 2. Slow connections, the normal clients going on.
  phase = kDuring;
  const auto slow_start = Clock::now();
  std::optional<double> connections_during;
  double all_open_s = 0;
  SlowReport slow;
  try {
    slow = run_slow(o, [&] {
      all_open_s = ms_since(slow_start, Clock::now()) / 1000;
      connections_during = bridge_connections(o);
    });
  } catch (const std::exception &e) {
    check("slow connections", false, e.what());
  }
  const double slow_seconds = ms_since(slow_start, Clock::now()) / 1000;
  phase = kAfter;
  // 3. After: the bridge's count of connections falls back to the normal clients'.
  std::optional<double> connections_after;
  const auto after_deadline = Clock::now() + std::chrono::seconds(10);
  do {
    connections_after = bridge_connections(o);
    if (connections_after && *connections_after <= o.clients + 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (Clock::now() < after_deadline);
  stop = true;
  for (auto &t : threads) t.join();

  Samples all;
  for (auto &c : clients) {
    const Samples &s = c->samples();
    for (int p = 0; p < 3; ++p) all.ms[p].insert(all.ms[p].end(), s.ms[p].begin(), s.ms[p].end());
    all.errors += s.errors;
    if (all.first_error.empty()) all.first_error = s.first_error;
  }
  const double base_p50 = percentile(all.ms[kBaseline], 50), base_p99 = percentile(all.ms[kBaseline], 99);
  const double during_p50 = percentile(all.ms[kDuring], 50), during_p99 = percentile(all.ms[kDuring], 99);
  const double during_max = all.ms[kDuring].empty() ? 0 : *std::max_element(all.ms[kDuring].begin(), all.ms[kDuring].end());
  const double ratio = base_p99 > 0 ? during_p99 / base_p99 : 0;
  std::cout << "slow-clients: baseline: " << all.ms[kBaseline].size() << " requests in " << fixed(o.baseline_seconds, 1)
            << " s, p50 " << fixed(base_p50, 2) << " ms, p99 " << fixed(base_p99, 2) << " ms" << std::endl;
  std::cout << "slow-clients: during the slow connections: " << all.ms[kDuring].size() << " requests in "
            << fixed(slow_seconds, 1) << " s, p50 " << fixed(during_p50, 2) << " ms, p99 " << fixed(during_p99, 2)
            << " ms, max " << fixed(during_max, 2) << " ms; p99 during / baseline " << fixed(ratio, 2) << std::endl;
  double close_min = 0, close_p50 = 0, close_max = 0;
  if (!slow.close_ms.empty()) {
    close_min = *std::min_element(slow.close_ms.begin(), slow.close_ms.end());
    close_max = *std::max_element(slow.close_ms.begin(), slow.close_ms.end());
    close_p50 = percentile(slow.close_ms, 50);
  }
  std::cout << "slow-clients: slow connections: " << slow.established << " established (all within "
            << fixed(all_open_s, 2) << " s), " << slow.closed << " closed by the bridge after min "
            << fixed(close_min / 1000, 2) << " s, p50 " << fixed(close_p50 / 1000, 2) << " s, max "
            << fixed(close_max / 1000, 2) << " s; " << slow.left_open << " left open; " << slow.answered
            << " got bytes back; bytes sent slowly per connection " << slow.min_sent << "-" << slow.max_sent << std::endl;
  if (o.slow_body > 0 && !slow.body_close_ms.empty())
    std::cout << "slow-clients: of them " << o.slow_body << " sent a whole header and then the body slowly: "
              << slow.body_close_ms.size() << " closed after min "
              << fixed(*std::min_element(slow.body_close_ms.begin(), slow.body_close_ms.end()) / 1000, 2) << " s, max "
              << fixed(*std::max_element(slow.body_close_ms.begin(), slow.body_close_ms.end()) / 1000, 2) << " s"
              << std::endl;
  auto shown = [](const std::optional<double> &v) { return v ? fixed(*v, 0) : std::string("?"); };
  std::cout << "slow-clients: bridge's open HTTP connections (/metrics): before " << shown(connections_before)
            << ", all slow ones open " << shown(connections_during) << ", after " << shown(connections_after) << std::endl;

  check("all " + std::to_string(o.slow) + " slow connections established", slow.established == o.slow,
        std::to_string(slow.established) + " established" +
            (slow.first_error.empty() ? "" : ", first failure: " + slow.first_error));
  check("the bridge counted every slow connection while they were open",
        connections_during && *connections_during >= o.slow,
        "awf_bridge_http_connections " + shown(connections_during));
  const double low = o.header_timeout_ms - 50.0, high = static_cast<double>(o.header_timeout_ms + o.slack_ms);
  int early = 0, late = 0;
  for (double ms : slow.close_ms) {
    if (ms < low) ++early;
    if (ms > high) ++late;
  }
  check("every slow connection closed by the bridge", slow.closed == slow.established && slow.left_open == 0,
        std::to_string(slow.closed) + " of " + std::to_string(slow.established) + " closed, " +
            std::to_string(slow.left_open) + " still open " + fixed((high + 1000) / 1000, 1) + " s after the last was established");
  check("each closed at the header timeout (" + fixed(o.header_timeout_ms / 1000.0, 2) + " s) and within " +
            fixed(o.slack_ms / 1000.0, 2) + " s of it",
        early == 0 && late == 0 && !slow.close_ms.empty(),
        std::to_string(early) + " closed early, " + std::to_string(late) + " late (min " + fixed(close_min / 1000, 2) +
            " s, max " + fixed(close_max / 1000, 2) + " s)");
  check("every normal request succeeded", all.errors == 0,
        std::to_string(all.errors) + " errors" + (all.first_error.empty() ? "" : ", first: " + all.first_error));
  check("normal clients were served during the slow connections", all.ms[kDuring].size() >= 10 && !all.ms[kBaseline].empty(),
        std::to_string(all.ms[kDuring].size()) + " requests during, " + std::to_string(all.ms[kBaseline].size()) + " before");
  check("normal clients' p99 during the slow connections < " + fixed(o.max_p99_ms, 0) + " ms",
        !all.ms[kDuring].empty() && during_p99 < o.max_p99_ms,
        "p99 " + fixed(during_p99, 2) + " ms (baseline " + fixed(base_p99, 2) + " ms, ratio " + fixed(ratio, 2) + ")");
  check("the bridge's connection count falls back once the slow connections are closed",
        connections_after && *connections_after <= o.clients + 1,
        "awf_bridge_http_connections " + shown(connections_after) + ", want <= " + std::to_string(o.clients + 1));
  std::cout << "slow-clients: " << passed << " checks passed, " << failed << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}
