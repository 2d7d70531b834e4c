// awf_test_executor: the processes of the fault tests (test/reliability/faults.sh), real clients of
// a real bridge and database. Two modes:
//
//   awf_test_executor --bridge http://HOST:PORT --auth ID:SECRET --definition D [--definition D2]
//                     --out FILE [--stop-file F] [--seconds S] [--batch N] [--long-poll-ms MS]
//                     [--work-ms MS] [--name NAME]
//     An executor over HTTP (POST /rpc, JSON): loops poll (or long-poll with --long-poll-ms) ->
//     start -> (random work up to --work-ms) -> success. A connection error, a 5xx or a 503 is
//     retried with a short backoff (the bridge or the database may be down for seconds). For every
//     success answered 200 it appends "S ID EXECID" to --out; for a success whose answer was lost
//     (connection error or 503) and whose retry was then refused, "A ID EXECID" (ambiguous: the
//     first attempt may have been applied). Each line is one write(2) on an O_APPEND file, so a
//     SIGKILL loses nothing already answered. Exits when --stop-file exists or --seconds pass,
//     printing one "executor NAME: ..." line of counts.
//
//   awf_test_executor create --definition D --out FILE [--db CONNINFO] [--connections N]
//                     [--rate PER_SECOND] [--count N] [--stop-file F] [--seconds S]
//     An application enqueuing over SQL: each of N connections loops BEGIN; awf.task_create(D,
//     params, a fresh id); COMMIT. After COMMIT returns it appends "C ID" to --out; when COMMIT
//     itself throws (connection lost while committing: the outcome is unknown) "D ID". A failure
//     before COMMIT was sent means the task was never committed: no line. Reconnects with a short
//     backoff while the database is down. Without --db libpq reads the PG* environment.
#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../common/basic_auth.hpp"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

[[noreturn]] void usage(const std::string &message) {
  std::cerr << "awf_test_executor: " << message << "\n"
            << "usage: awf_test_executor --bridge http://HOST:PORT --auth ID:SECRET --definition D --out FILE\n"
               "         [--stop-file F] [--seconds S] [--batch N] [--long-poll-ms MS] [--work-ms MS] [--name NAME]\n"
               "       awf_test_executor create --definition D --out FILE [--db CONNINFO] [--connections N]\n"
               "         [--rate PER_SECOND] [--count N] [--stop-file F] [--seconds S]\n";
  std::exit(2);
}

struct Options {
  bool create = false;
  std::string host = "127.0.0.1", port;
  std::string auth;
  std::vector<std::string> definitions;
  std::string out, stop_file, name = "executor", conninfo;
  double seconds = 3600;
  int batch = 1, long_poll_ms = 0, work_ms = 0, connections = 1;
  double rate = 0;
  long count = 0;
};

Options parse(int argc, char **argv) {
  Options o;
  int i = 1;
  if (argc > 1 && std::string(argv[1]) == "create") {
    o.create = true;
    i = 2;
  }
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() {
      const std::string v = value();
      char *end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || d < 0) usage(a + " needs a non-negative number, got \"" + v + "\"");
      return d;
    };
    if (a == "--bridge") {
      std::string url = value();
      if (url.rfind("http://", 0) == 0) url = url.substr(7);
      while (!url.empty() && url.back() == '/') url.pop_back();
      const size_t colon = url.rfind(':');
      if (colon == std::string::npos || colon == 0) usage("--bridge needs http://HOST:PORT");
      o.host = url.substr(0, colon);
      o.port = url.substr(colon + 1);
    } else if (a == "--auth") {
      o.auth = value();
    } else if (a == "--definition") {
      o.definitions.push_back(value());
    } else if (a == "--out") {
      o.out = value();
    } else if (a == "--stop-file") {
      o.stop_file = value();
    } else if (a == "--name") {
      o.name = value();
    } else if (a == "--db") {
      o.conninfo = value();
    } else if (a == "--seconds") {
      o.seconds = number();
    } else if (a == "--batch") {
      o.batch = std::max(1, static_cast<int>(number()));
    } else if (a == "--long-poll-ms") {
      o.long_poll_ms = static_cast<int>(number());
    } else if (a == "--work-ms") {
      o.work_ms = static_cast<int>(number());
    } else if (a == "--connections") {
      o.connections = std::max(1, static_cast<int>(number()));
    } else if (a == "--rate") {
      o.rate = number();
    } else if (a == "--count") {
      o.count = static_cast<long>(number());
    } else {
      usage("unknown argument \"" + a + "\"");
    }
  }
  if (o.definitions.empty()) usage("--definition is required");
  if (o.out.empty()) usage("--out is required");
  if (!o.create && o.port.empty()) usage("--bridge is required");
  return o;
}

// --- shared: the record file, stopping, backoff ---------------------------------------------

int out_fd = -1;

// One line, one write(2) on an O_APPEND descriptor: in the file as soon as this returns, whatever
// happens to the process next.
void record(const std::string &line) {
  const std::string text = line + "\n";
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(out_fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("awf_test_executor: write");
      std::exit(3);
    }
    done += static_cast<size_t>(n);
  }
}

Clock::time_point end_time;
std::string stop_file;

bool stopping() {
  if (Clock::now() >= end_time) return true;
  struct stat st;
  return !stop_file.empty() && ::stat(stop_file.c_str(), &st) == 0;
}

thread_local std::mt19937_64 rng(std::random_device{}() ^
                                 static_cast<uint64_t>(Clock::now().time_since_epoch().count()));

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Exponential backoff with jitter, 20 ms to 500 ms.
struct Backoff {
  int next = 20;
  void wait() {
    sleep_ms(next / 2 + static_cast<int>(rng() % static_cast<uint64_t>(next / 2 + 1)));
    next = std::min(500, next * 2);
  }
  void reset() { next = 20; }
};

// --- a minimal HTTP/1.1 keep-alive client over a blocking socket ---------------------------

// The request never reached the bridge (connect failed): retrying cannot apply it twice.
struct NotSent : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Sent, but no complete answer: the bridge may or may not have acted on it.
struct NoAnswer : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Response {
  int status = 0;
  std::string body;
};

class Http {
 public:
  Http(std::string host, std::string port, const std::string &auth)
      : host_(std::move(host)), port_(std::move(port)) {
    if (!auth.empty()) auth_ = awf::test::basic_auth(auth);
  }
  ~Http() { disconnect(); }

  Response post(const std::string &body, int timeout_s) {
    if (fd_ < 0) connect_now();
    timeval tv{timeout_s, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string req = "POST /rpc HTTP/1.1\r\nHost: " + host_ + "\r\nContent-Type: application/json\r\n";
    if (!auth_.empty()) req += "Authorization: " + auth_ + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    size_t sent = 0;
    while (sent < req.size()) {
      const ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        const std::string e = std::strerror(errno);
        disconnect();
        // A keep-alive connection the bridge closed meanwhile: nothing was read, but part of the
        // request may have been; count it as sent (the caller treats it as uncertain).
        throw NoAnswer("send: " + e);
      }
      sent += static_cast<size_t>(n);
    }
    Response out;
    char chunk[16384];
    for (;;) {
      if (parse(out)) break;
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) {
        disconnect();
        throw NoAnswer("connection closed before the answer");
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        const std::string e = errno == EAGAIN || errno == EWOULDBLOCK ? "no answer in time" : std::strerror(errno);
        disconnect();
        throw NoAnswer("recv: " + e);
      }
      buf_.append(chunk, static_cast<size_t>(n));
    }
    if (close_) disconnect();
    return out;
  }

  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }

 private:
  void connect_now() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *res = nullptr;
    if (int rc = getaddrinfo(host_.c_str(), port_.c_str(), &hints, &res); rc != 0)
      throw NotSent(std::string("resolve: ") + gai_strerror(rc));
    std::string error = "no address";
    for (addrinfo *ai = res; ai != nullptr; ai = ai->ai_next) {
      const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) {
        error = std::strerror(errno);
        continue;
      }
      if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        fd_ = fd;
        break;
      }
      error = std::strerror(errno);
      ::close(fd);
    }
    freeaddrinfo(res);
    if (fd_ < 0) throw NotSent("connect: " + error);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  // One whole response from the front of buf_ (Content-Length bodies, as the bridge sends).
  bool parse(Response &out) {
    const size_t head_end = buf_.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    std::istringstream head(buf_.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) {
      disconnect();
      throw NoAnswer("malformed status line: " + line);
    }
    out.status = std::atoi(line.c_str() + 9);
    long length = 0;
    close_ = line.compare(0, 8, "HTTP/1.0") == 0;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon), value = line.substr(colon + 1);
      for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      for (auto &c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "content-length") length = std::atol(value.c_str());
      else if (name == "connection") close_ = value == "close";
    }
    const size_t total = head_end + 4 + static_cast<size_t>(length);
    if (buf_.size() < total) return false;
    out.body = buf_.substr(head_end + 4, static_cast<size_t>(length));
    buf_.erase(0, total);
    return true;
  }

  std::string host_, port_, auth_;
  int fd_ = -1;
  std::string buf_;
  bool close_ = false;
};

// --- executor mode --------------------------------------------------------------------------

struct Counts {
  long polls = 0, claimed = 0, started = 0, succeeded = 0, refused = 0, ambiguous = 0, transport_errors = 0,
       http_5xx = 0, other_errors = 0, gave_up = 0;
};

std::string error_type(const std::string &body) {
  try {
    const json doc = json::parse(body);
    if (doc.contains("error")) return doc["error"].value("type", "?");
  } catch (const std::exception &) {
  }
  return "?";
}

struct Answer {
  int status = 0;  // 0: no definitive answer (stopping or gave up)
  std::string body;
  bool uncertain = false;  // an earlier attempt was sent and its outcome is unknown
};

class Executor {
 public:
  explicit Executor(const Options &o) : o_(o), http_(o.host, o.port, o.auth) {}

  void run() {
    Backoff backoff;
    json poll = {{"method", o_.long_poll_ms > 0 ? "awf.task/long-poll" : "awf.task/poll"},
                 {"params", {{"taskDefinitions", o_.definitions}, {"maxBatchSize", o_.batch}}}};
    if (o_.long_poll_ms > 0) poll["params"]["timeout"] = o_.long_poll_ms;
    const std::string poll_body = poll.dump();
    const int poll_timeout_s = 30 + o_.long_poll_ms / 1000;
    while (!stopping()) {
      Response r;
      try {
        counts_.polls++;
        r = http_.post(poll_body, poll_timeout_s);
      } catch (const std::exception &e) {
        // A claim whose answer is lost comes back after requestedToStartTimeout.
        counts_.transport_errors++;
        note_error(e.what());
        backoff.wait();
        continue;
      }
      if (r.status != 200) {
        (r.status >= 500 ? counts_.http_5xx : counts_.other_errors)++;
        note_error("poll: HTTP " + std::to_string(r.status) + " " + error_type(r.body));
        backoff.wait();
        continue;
      }
      backoff.reset();
      json resources;
      try {
        resources = json::parse(r.body).at("result").at("resources");
      } catch (const std::exception &e) {
        counts_.other_errors++;
        note_error(std::string("poll: unreadable answer: ") + e.what());
        continue;
      }
      if (resources.empty()) {
        if (o_.long_poll_ms == 0) sleep_ms(10 + static_cast<int>(rng() % 20));
        continue;
      }
      for (const auto &task : resources) {
        counts_.claimed++;
        execute(task.value("id", ""), task.value("execId", ""));
      }
    }
  }

  void report() const {
    std::cout << "executor " << o_.name << ": polls=" << counts_.polls << " claimed=" << counts_.claimed
              << " started=" << counts_.started << " succeeded=" << counts_.succeeded << " refused=" << counts_.refused
              << " ambiguous=" << counts_.ambiguous << " transport_errors=" << counts_.transport_errors
              << " http_5xx=" << counts_.http_5xx << " other_errors=" << counts_.other_errors
              << " gave_up=" << counts_.gave_up << (last_error_.empty() ? "" : " last_error=\"" + last_error_ + "\"")
              << std::endl;
  }

 private:
  void execute(const std::string &id, const std::string &exec_id) {
    const json ids = {{"id", id}, {"execId", exec_id}};
    const Answer started = call_until_answered(json{{"method", "awf.task/start"}, {"params", ids}}.dump());
    if (started.status == 0) return;
    if (started.status != 200) {
      counts_.refused++;
      // Refused, but an earlier attempt may have started it for us: success tells.
      if (!started.uncertain) return;
    } else {
      counts_.started++;
    }
    if (o_.work_ms > 0) sleep_ms(static_cast<int>(rng() % static_cast<uint64_t>(o_.work_ms + 1)));
    const Answer done = call_until_answered(
        json{{"method", "awf.task/success"}, {"params", {{"id", id}, {"execId", exec_id}, {"result", {{"by", o_.name}}}}}}
            .dump());
    if (done.status == 200) {
      counts_.succeeded++;
      record("S " + id + " " + exec_id);
    } else if (done.status != 0) {
      if (done.uncertain) {
        counts_.ambiguous++;
        record("A " + id + " " + exec_id);
      } else {
        counts_.refused++;
      }
    }
  }

  // Sends until a definitive answer (2xx or 4xx); connection errors and 5xx are retried with
  // backoff for up to two minutes, or until the executor stops.
  Answer call_until_answered(const std::string &body) {
    Answer a;
    Backoff backoff;
    const auto give_up = Clock::now() + std::chrono::minutes(2);
    for (;;) {
      if (stopping() || Clock::now() >= give_up) {
        if (!stopping()) counts_.gave_up++;
        a.status = 0;
        return a;
      }
      try {
        const Response r = http_.post(body, 30);
        if (r.status >= 500) {
          // 503 awf.db/unavailable can come after the statement ran (the connection broke
          // before its answer): the outcome is unknown.
          counts_.http_5xx++;
          a.uncertain = true;
          note_error("HTTP " + std::to_string(r.status) + " " + error_type(r.body));
          backoff.wait();
          continue;
        }
        a.status = r.status;
        a.body = r.body;
        if (r.status != 200 && r.status != 422) {
          counts_.other_errors++;
          note_error("HTTP " + std::to_string(r.status) + " " + error_type(r.body));
        }
        return a;
      } catch (const NotSent &e) {
        counts_.transport_errors++;
        note_error(e.what());
      } catch (const std::exception &e) {
        counts_.transport_errors++;
        a.uncertain = true;
        note_error(e.what());
      }
      backoff.wait();
    }
  }

  void note_error(const std::string &e) { last_error_ = e; }

  const Options &o_;
  Http http_;
  Counts counts_;
  std::string last_error_;
};

// --- create mode ----------------------------------------------------------------------------

std::string random_uuid() {
  const uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

struct CreateCounts {
  std::atomic<long> committed{0}, in_doubt{0}, failed{0}, connects{0};
  std::atomic<long> claimed_slots{0};  // for --count
};

void create_loop(const Options &o, CreateCounts &counts, int thread) {
  std::unique_ptr<pqxx::connection> db;
  Backoff backoff;
  const std::string definition = o.definitions[0];
  const auto interval = o.rate > 0 ? std::chrono::duration<double>(o.connections / o.rate)
                                   : std::chrono::duration<double>(0);
  auto next = Clock::now();
  long n = 0;
  while (!stopping()) {
    if (o.count > 0 && counts.claimed_slots.fetch_add(1) >= o.count) break;
    if (interval.count() > 0) {
      next += std::chrono::duration_cast<Clock::duration>(interval);
      const auto now = Clock::now();
      if (next > now) std::this_thread::sleep_until(next);
      else if (now - next > std::chrono::seconds(1)) next = now;  // after an outage: no burst
    }
    if (!db) {
      try {
        db = std::make_unique<pqxx::connection>(o.conninfo);
        counts.connects++;
        backoff.reset();
      } catch (const std::exception &) {
        if (o.count > 0) counts.claimed_slots--;
        backoff.wait();
        continue;
      }
    }
    const std::string id = random_uuid();
    const std::string params = json{{"creator", thread}, {"n", n++}}.dump();
    std::unique_ptr<pqxx::work> tx;
    try {
      tx = std::make_unique<pqxx::work>(*db);
      tx->exec_params("SELECT awf.task_create($1, $2::jsonb, $3::uuid)", definition, params, id);
    } catch (const std::exception &) {
      // COMMIT was never sent: this task was not committed.
      tx.reset();
      db.reset();
      counts.failed++;
      if (o.count > 0) counts.claimed_slots--;
      backoff.wait();
      continue;
    }
    try {
      tx->commit();
    } catch (const std::exception &) {
      // The outcome of COMMIT is unknown (the connection was lost while committing).
      counts.in_doubt++;
      record("D " + id);
      tx.reset();
      db.reset();
      backoff.wait();
      continue;
    }
    tx.reset();
    counts.committed++;
    record("C " + id);
  }
}

int create_mode(const Options &o) {
  CreateCounts counts;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.connections; ++i) threads.emplace_back([&, i] { create_loop(o, counts, i); });
  for (auto &t : threads) t.join();
  std::cout << "creator: committed=" << counts.committed << " in_doubt=" << counts.in_doubt
            << " failed_before_commit=" << counts.failed << " connects=" << counts.connects << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  const Options o = parse(argc, argv);
  out_fd = ::open(o.out.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (out_fd < 0) {
    std::perror(("awf_test_executor: " + o.out).c_str());
    return 2;
  }
  end_time = Clock::now() + std::chrono::milliseconds(static_cast<long>(o.seconds * 1000));
  stop_file = o.stop_file;
  if (o.create) return create_mode(o);
  Executor executor(o);
  executor.run();
  executor.report();
  return 0;
}
