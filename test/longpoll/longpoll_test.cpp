// Long-poll wakeup test of awf.task_long_poll: W waiters sit in long-polls on one definition, and
// the producer creates tasks one at a time; every task must reach exactly one waiter, and the test
// measures how long after the enqueuing commit the long-poll returns.
//
// Each waiter has its own connection (autocommit) and calls awf.task_long_poll(ARRAY[def], NULL,
// 1, 2000) in a loop, noting for every task it gets the id and the steady_clock time the call
// returned. The producer waits until all waiters are asleep inside a long-poll (pg_stat_activity:
// wait_event_type 'Extension', which both the shared-memory wait and the 100 ms fallback use),
// then per task: awf.task_create in autocommit, the time right after it returns (after the
// commit), waits until some waiter reports the task, and waits again until every waiter is back
// asleep, so that each measurement is one task against W idle waiters.
//   latency = waiter's return time - producer's commit-return time  (p50, p99, max, min)
// The commit lies between the producer's send and its return, so that figure is a lower bound
// (the waiter can even return first: negative values) and the detail line adds the upper bound
// from the send. With track_commit_timestamp=on it also prints the time from the server's commit
// timestamp to the waiter's return (both wall clock, same machine).
// Checks: every created task delivered, none twice, no id that was not created, no task of the
// definition left 'ready', and with --max-p99-ms, p99 within the bound. Timing does not fail the
// test by default: machines are shared and noisy. Finally it deletes the tasks it created (and
// their log rows).
//
//   awf_longpoll_test [CONNINFO] [--waiters N] [--tasks N] [--mode NAME] [--max-p99-ms X] [--keep]
//
// Without CONNINFO libpq uses PGHOST, PGPORT, PGDATABASE, PGUSER, ... Exit status: 0 when every
// check passes, 1 when a check fails, 2 on usage or connection errors.
#include <pqxx/pqxx>

#include "../common/pg_client.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

using awf::test::ConnectError;
using awf::test::connect;
using awf::test::delete_tasks;
using awf::test::parse_long;
using awf::test::random_hex8;

using Clock = std::chrono::steady_clock;

// Tasks get this requestedToStartTimeout, so that the background worker (when awf is preloaded)
// cannot re-queue a claim while the test runs: a re-queue is a legitimate second delivery.
constexpr int kRequestedToStartTimeoutMs = 3600 * 1000;
// The server-side timeout of each long-poll; waiters notice the stop flag at most this late.
constexpr int kLongPollTimeoutMs = 2000;
// A guard against a long-poll that never returns: the server cancels it.
constexpr int kWaiterStatementTimeoutMs = kLongPollTimeoutMs + 15000;
// How long the producer waits for a task to be delivered before going on to the next one (the
// task still counts if it arrives later; it is missing only if no waiter ever got it).
constexpr auto kDeliveryWait = std::chrono::milliseconds(2000);
// How long the producer waits for all waiters to be asleep again, before the first task and
// between tasks; how often it looks.
constexpr auto kFirstSettleWait = std::chrono::seconds(10);
constexpr auto kSettleWait = std::chrono::milliseconds(1000);
constexpr auto kSettleCheckInterval = std::chrono::milliseconds(1);
// A short pause after the waiters are asleep, before the next create.
constexpr auto kPauseBetweenTasks = std::chrono::milliseconds(5);

struct Options {
  std::string conninfo;
  int waiters = 20;
  long tasks = 200;
  std::string mode = "preload";
  bool have_max_p99 = false;
  double max_p99_ms = 0;
  bool keep = false;
};

void usage(std::ostream &out) {
  out << "usage: awf_longpoll_test [CONNINFO] [--waiters N] [--tasks N] [--mode NAME]\n"
         "                         [--max-p99-ms X] [--keep]\n"
         "\n"
         "N waiters long-poll one fresh task definition with awf.task_long_poll; tasks are then\n"
         "created one at a time, and every task must be delivered to exactly one waiter. Prints\n"
         "p50/p99/max of the time from the enqueuing commit to the long-poll's return.\n"
         "\n"
         "  CONNINFO          libpq connection string; if omitted, libpq uses PGHOST, PGPORT,\n"
         "                    PGDATABASE, PGUSER, ... from the environment\n"
         "  --waiters N       concurrent long-polls, one connection each (default 20)\n"
         "  --tasks N         tasks to create, one at a time (default 200)\n"
         "  --mode NAME       a label for the output, e.g. preload or fallback (default preload)\n"
         "  --max-p99-ms X    fail (exit 1) when p99 exceeds X milliseconds (default: timing\n"
         "                    never fails the test)\n"
         "  --keep            keep the created tasks instead of deleting them (for inspection)\n"
         "  -h, --help        show this help\n"
         "\n"
         "Exit status: 0 all checks passed, 1 a check failed, 2 usage or connection error.\n";
}


bool parse_double(const std::string &text, double min, double &out) {
  if (text.empty()) return false;
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(value) || value < min) return false;
    out = value;
    return true;
  } catch (const std::exception &) {
    return false;
  }
}

// Returns 0 to go on, 1 after --help, 2 on a usage error (already reported).
int parse_args(int argc, char **argv, Options &opt) {
  bool have_conninfo = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc) {
        std::cerr << "awf_longpoll_test: " << arg << " needs a value\n";
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    long n = 0;
    if (arg == "-h" || arg == "--help") {
      usage(std::cout);
      return 1;
    } else if (arg == "--waiters") {
      if (!value(v)) return 2;
      if (!parse_long(v, 1, 1000, n)) {
        std::cerr << "awf_longpoll_test: --waiters wants an integer in 1..1000, got '" << v
                  << "'\n";
        return 2;
      }
      opt.waiters = static_cast<int>(n);
    } else if (arg == "--tasks") {
      if (!value(v)) return 2;
      if (!parse_long(v, 1, 10000000, n)) {
        std::cerr << "awf_longpoll_test: --tasks wants a positive integer, got '" << v << "'\n";
        return 2;
      }
      opt.tasks = n;
    } else if (arg == "--mode") {
      if (!value(v)) return 2;
      if (v.empty() || v.find_first_of(" \t\n=") != std::string::npos) {
        std::cerr << "awf_longpoll_test: --mode wants a word like preload or fallback, got '"
                  << v << "'\n";
        return 2;
      }
      opt.mode = v;
    } else if (arg == "--max-p99-ms") {
      if (!value(v)) return 2;
      if (!parse_double(v, 0, opt.max_p99_ms)) {
        std::cerr << "awf_longpoll_test: --max-p99-ms wants a non-negative number, got '" << v
                  << "'\n";
        return 2;
      }
      opt.have_max_p99 = true;
    } else if (arg == "--keep") {
      opt.keep = true;
    } else if (!arg.empty() && arg[0] == '-') {
      std::cerr << "awf_longpoll_test: unknown option " << arg << " (see --help)\n";
      return 2;
    } else if (!have_conninfo) {
      opt.conninfo = arg;
      have_conninfo = true;
    } else {
      std::cerr << "awf_longpoll_test: more than one connection string given (see --help)\n";
      return 2;
    }
  }
  return 0;
}


// Microseconds since the Unix epoch, comparable with the server's timestamps on the same machine.
std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}


// One delivery: which waiter got the task, and when its long-poll returned.
struct Delivery {
  int waiter;
  Clock::time_point returned;
  std::int64_t returned_wall_us;  // the same instant on the wall clock (for commit timestamps)
};

// What the waiters report, shared with the producer.
class Board {
 public:
  void delivered(const std::string &id, int waiter, Clock::time_point returned,
                 std::int64_t returned_wall_us) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      deliveries_[id].push_back({waiter, returned, returned_wall_us});
    }
    cv_.notify_all();
  }
  void connected(bool ok) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++arrived_;
      if (ok) ++alive_;
    }
    cv_.notify_all();
  }
  void failed() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --alive_;
      ++failed_;
    }
    cv_.notify_all();
  }
  // Waits until `count` waiters tried to connect; returns how many are alive.
  int wait_for_arrivals(int count) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return arrived_ >= count; });
    return alive_;
  }
  // Waits until `id` was delivered at least once, or a waiter failed, or the deadline passed.
  // Returns true with the first delivery's time when delivered.
  bool wait_for(const std::string &id, Clock::time_point deadline, Clock::time_point &returned) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_until(lock, deadline, [&] { return deliveries_.count(id) > 0 || failed_ > 0; });
    const auto it = deliveries_.find(id);
    if (it == deliveries_.end()) return false;
    returned = it->second.front().returned;
    return true;
  }
  int alive() {
    std::lock_guard<std::mutex> lock(mutex_);
    return alive_;
  }
  int failed_count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return failed_;
  }
  // After the waiters are joined.
  const std::unordered_map<std::string, std::vector<Delivery>> &deliveries() const {
    return deliveries_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::unordered_map<std::string, std::vector<Delivery>> deliveries_;
  int arrived_ = 0;
  int alive_ = 0;
  int failed_ = 0;
};

struct WaiterResult {
  long long_polls = 0;
  long empty_long_polls = 0;
  long tasks = 0;
  long malformed_resources = 0;  // a resource without an id
  std::string error;            // set when the waiter failed
};

void run_waiter(const Options &opt, const std::string &definition, const std::string &app_name,
                int index, Board &board, const std::atomic<bool> &stop, WaiterResult &out) {
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = connect(opt.conninfo);
    pqxx::nontransaction tx(*conn);
    tx.exec("SET application_name = " + tx.quote(app_name));
    tx.exec("SET statement_timeout = " + std::to_string(kWaiterStatementTimeoutMs));
    tx.commit();
    conn->prepare("long_poll",
                  "SELECT awf.task_long_poll(ARRAY[$1::text], NULL, 1, $2::integer)::text");
  } catch (const std::exception &e) {
    out.error = e.what();
    board.connected(false);
    return;
  }
  board.connected(true);

  try {
    while (!stop.load(std::memory_order_relaxed)) {
      std::string text;
      Clock::time_point returned;
      std::int64_t returned_wall_us = 0;
      {
        pqxx::nontransaction tx(*conn);  // autocommit: the claim is committed when this returns
        const pqxx::result r = tx.exec_prepared("long_poll", definition, kLongPollTimeoutMs);
        returned = Clock::now();
        returned_wall_us = wall_us();
        if (r.size() != 1 || r[0][0].is_null()) {
          out.error = "awf.task_long_poll returned no value";
          board.failed();
          return;
        }
        text = r[0][0].as<std::string>();
      }
      ++out.long_polls;
      const nlohmann::json doc = nlohmann::json::parse(text);
      const auto resources = doc.find("resources");
      if (resources == doc.end() || !resources->is_array()) {
        out.error = "awf.task_long_poll returned no \"resources\" array: " + text.substr(0, 300);
        board.failed();
        return;
      }
      if (resources->empty()) {
        ++out.empty_long_polls;
        continue;
      }
      for (const auto &res : *resources) {
        const auto id = res.find("id");
        if (id == res.end() || !id->is_string()) {
          ++out.malformed_resources;
          continue;
        }
        ++out.tasks;
        board.delivered(id->get<std::string>(), index, returned, returned_wall_us);
      }
    }
  } catch (const pqxx::sql_error &e) {
    out.error = std::string("SQL error in awf.task_long_poll: ") + e.what();
    board.failed();
  } catch (const std::exception &e) {
    out.error = std::string("waiter failed: ") + e.what();
    board.failed();
  }
}

// Waits until all live waiters of this run are asleep inside awf.task_long_poll, or `limit`
// passes. Returns true when they were; otherwise describes in `awake` what the others were doing.
bool wait_until_asleep(pqxx::connection &conn, const std::string &app_name, Board &board,
                       Clock::duration limit, std::string &awake) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    const int expected = board.alive();
    long asleep = 0;
    {
      pqxx::nontransaction tx(conn);
      asleep = tx.exec_prepared1("asleep", app_name)[0].as<long>();
    }
    if (asleep >= expected && expected > 0) return true;
    if (board.failed_count() > 0 || Clock::now() >= deadline) {
      pqxx::nontransaction tx(conn);
      const pqxx::result rows = tx.exec_prepared("awake", app_name);
      awake = std::to_string(asleep) + "/" + std::to_string(expected) + " asleep, others:";
      for (const auto &row : rows)
        awake += " [" + row[0].as<std::string>() + "]";
      return false;
    }
    std::this_thread::sleep_for(kSettleCheckInterval);
  }
}


double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double> &sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct Created {
  std::string id;
  std::string xid;              // the creating transaction, when commit timestamps are tracked
  Clock::time_point sent;       // right before awf.task_create was sent
  Clock::time_point committed;  // right after it returned, so after its commit
  double create_ms;             // the statement's round trip
};

// The whole test. Returns 0 when every check passed, 1 otherwise.
int run(const Options &opt, pqxx::connection &admin, bool preloaded, bool commit_ts) {
  const std::string definition =
      "longpoll-" + std::to_string(::getpid()) + "-" + random_hex8();
  const std::string app_name = "awf_longpoll_test " + definition;  // < 64 bytes
  std::vector<std::string> failures;
  auto fail = [&](const std::string &why) { failures.push_back(why); };

  // With track_commit_timestamp the producer also notes its transaction, to read the commit's
  // time afterwards; the xid's 32 low bits are what pg_xact_commit_timestamp takes.
  admin.prepare("create",
                std::string("SELECT awf.task_create($1::text, requested_to_start_timeout => "
                            "$2::integer) -> 'resource' ->> 'id'") +
                    (commit_ts ? ", (pg_catalog.pg_current_xact_id()::text::bigint % 4294967296)"
                                 "::text"
                               : ""));
  admin.prepare("asleep",
                "SELECT count(*) FROM pg_catalog.pg_stat_activity"
                " WHERE application_name = $1 AND state = 'active'"
                "   AND wait_event_type = 'Extension' AND query LIKE '%task_long_poll%'");
  admin.prepare("awake",
                "SELECT concat_ws(' ', 'pid', pid, state, wait_event_type, wait_event,"
                "                 round(extract(epoch FROM now() - query_start) * 1000) || 'ms',"
                "                 left(query, 40))"
                "  FROM pg_catalog.pg_stat_activity"
                " WHERE application_name = $1 AND NOT (state IS NOT DISTINCT FROM 'active'"
                "   AND wait_event_type IS NOT DISTINCT FROM 'Extension'"
                "   AND query LIKE '%task_long_poll%')");

  // Waiters: connect, then long-poll until told to stop.
  Board board;
  std::atomic<bool> stop{false};
  std::vector<WaiterResult> results(static_cast<std::size_t>(opt.waiters));
  std::vector<std::thread> threads;
  threads.reserve(results.size());
  for (int i = 0; i < opt.waiters; ++i)
    threads.emplace_back(run_waiter, std::cref(opt), std::cref(definition), std::cref(app_name),
                         i, std::ref(board), std::cref(stop),
                         std::ref(results[static_cast<std::size_t>(i)]));
  const int connected = board.wait_for_arrivals(opt.waiters);

  std::vector<Created> created;
  created.reserve(static_cast<std::size_t>(opt.tasks));
  std::vector<double> latencies;  // return - commit-return: the figure asked for, a lower bound
  std::vector<double> from_send;  // return - send of the create: an upper bound
  latencies.reserve(static_cast<std::size_t>(opt.tasks));
  from_send.reserve(static_cast<std::size_t>(opt.tasks));
  long not_in_time = 0;  // not delivered within kDeliveryWait of the commit
  long unsettled = 0;    // the waiters were not all asleep again within kSettleWait
  std::vector<std::string> unsettled_examples;
  std::string awake;
  std::string producer_error;
  bool first_settled = false;
  try {
    if (connected == opt.waiters) {
      first_settled = wait_until_asleep(admin, app_name, board, kFirstSettleWait, awake);
      if (!first_settled && board.failed_count() == 0) {
        std::fprintf(stderr,
                     "awf_longpoll_test: after %lld s not all %d waiters are asleep in "
                     "awf.task_long_poll (pg_stat_activity, wait_event_type 'Extension'): %s; "
                     "going on anyway\n",
                     static_cast<long long>(
                         std::chrono::duration_cast<std::chrono::seconds>(kFirstSettleWait).count()),
                     opt.waiters, awake.c_str());
        first_settled = true;
      }
    }
    for (long i = 0; first_settled && i < opt.tasks; ++i) {
      if (board.failed_count() > 0) break;
      const auto before = Clock::now();
      std::string id;
      {
        pqxx::nontransaction tx(admin);  // autocommit: committed when this returns
        const pqxx::result r = tx.exec_prepared("create", definition, kRequestedToStartTimeoutMs);
        const auto committed = Clock::now();
        if (r.size() != 1 || r[0][0].is_null()) {
          producer_error = "awf.task_create returned no resource id";
          break;
        }
        id = r[0][0].as<std::string>();
        created.push_back({id, commit_ts ? r[0][1].as<std::string>() : std::string(), before,
                           committed, ms(committed - before)});
      }
      Clock::time_point returned;
      if (!board.wait_for(id, created.back().committed + kDeliveryWait, returned)) {
        ++not_in_time;
      } else {
        latencies.push_back(ms(returned - created.back().committed));
        from_send.push_back(ms(returned - created.back().sent));
      }
      if (!wait_until_asleep(admin, app_name, board, kSettleWait, awake)) {
        ++unsettled;
        if (unsettled_examples.size() < 3)
          unsettled_examples.push_back("after task " + std::to_string(i + 1) + ": " + awake);
      }
      std::this_thread::sleep_for(kPauseBetweenTasks);
    }
  } catch (const pqxx::sql_error &e) {
    producer_error = std::string("SQL error: ") + e.what() + "  query: " + e.query();
  } catch (const std::exception &e) {
    producer_error = e.what();
  }

  // Stop: each waiter finishes its current long-poll (at most kLongPollTimeoutMs).
  stop.store(true);
  for (auto &t : threads) t.join();

  // Merge.
  if (connected != opt.waiters)
    fail(std::to_string(opt.waiters - connected) + " of " + std::to_string(opt.waiters) +
         " waiters could not connect");
  if (!producer_error.empty()) fail("producer: " + producer_error);
  long long_polls = 0, empty_long_polls = 0, malformed = 0;
  long per_waiter_min = opt.tasks, per_waiter_max = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const WaiterResult &r = results[i];
    if (!r.error.empty()) fail("waiter " + std::to_string(i) + ": " + r.error);
    long_polls += r.long_polls;
    empty_long_polls += r.empty_long_polls;
    malformed += r.malformed_resources;
    per_waiter_min = std::min(per_waiter_min, r.tasks);
    per_waiter_max = std::max(per_waiter_max, r.tasks);
  }
  const auto &deliveries = board.deliveries();
  std::unordered_set<std::string> created_ids;
  created_ids.reserve(created.size() * 2);
  for (const Created &c : created) created_ids.insert(c.id);
  long delivered = 0, delivered_twice = 0, missing = 0, foreign = 0, late = 0;
  std::vector<std::string> twice_examples, missing_examples;
  for (const Created &c : created) {
    const auto it = deliveries.find(c.id);
    if (it == deliveries.end()) {
      ++missing;
      if (missing_examples.size() < 5) missing_examples.push_back(c.id);
      continue;
    }
    ++delivered;
    if (it->second.size() > 1) {
      ++delivered_twice;
      if (twice_examples.size() < 5) {
        std::string waiters;
        for (const Delivery &d : it->second)
          waiters += (waiters.empty() ? "" : ",") + std::to_string(d.waiter);
        twice_examples.push_back(c.id + " x" + std::to_string(it->second.size()) +
                                 " (waiters " + waiters + ")");
      }
    }
  }
  for (const auto &entry : deliveries)
    if (!created_ids.count(entry.first)) ++foreign;
  late = not_in_time - missing;  // delivered, but after the producer stopped waiting

  // The table's view: no task of the definition may still be ready.
  long table_ready = 0, table_total = 0;
  {
    pqxx::nontransaction tx(admin);
    const pqxx::row row = tx.exec_params1(
        "SELECT count(*) FILTER (WHERE status = 'ready'), count(*) FROM awf.task"
        " WHERE definition = $1",
        definition);
    table_ready = row[0].as<long>();
    table_total = row[1].as<long>();
  }

  // Optional: from the commit's own timestamp (taken by the server just before the commit record
  // is flushed) to the waiter's return, both on the wall clock of this machine.
  std::vector<double> from_commit_ts;
  if (commit_ts && !created.empty()) {
    std::string xids;
    for (const Created &c : created) xids += (xids.empty() ? "" : ",") + c.xid;
    pqxx::nontransaction tx(admin);
    const pqxx::result rows = tx.exec_params(
        "SELECT x::text, (extract(epoch FROM pg_catalog.pg_xact_commit_timestamp(x::text::xid))"
        "                 * 1000000)::bigint"
        "  FROM pg_catalog.unnest(pg_catalog.string_to_array($1, ',')::bigint[]) x",
        xids);
    std::unordered_map<std::string, std::int64_t> commit_us;
    for (const auto &row : rows)
      if (!row[1].is_null()) commit_us[row[0].as<std::string>()] = row[1].as<std::int64_t>();
    for (const Created &c : created) {
      const auto it = deliveries.find(c.id);
      const auto ts = commit_us.find(c.xid);
      if (it == deliveries.end() || ts == commit_us.end()) continue;
      from_commit_ts.push_back(static_cast<double>(it->second.front().returned_wall_us -
                                                   ts->second) / 1000.0);
    }
    std::sort(from_commit_ts.begin(), from_commit_ts.end());
  }

  std::vector<double> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());
  const double p50 = percentile(sorted, 0.50);
  const double p99 = percentile(sorted, 0.99);
  const double max = sorted.empty() ? 0 : sorted.back();
  const double min = sorted.empty() ? 0 : sorted.front();
  double sum = 0;
  for (double v : sorted) sum += v;
  const double mean = sorted.empty() ? 0 : sum / static_cast<double>(sorted.size());
  std::vector<double> create_ms;
  create_ms.reserve(created.size());
  for (const Created &c : created) create_ms.push_back(c.create_ms);
  std::sort(create_ms.begin(), create_ms.end());
  std::sort(from_send.begin(), from_send.end());

  // The commit happens between the producer's send and its return, so the latency asked for (from
  // the producer's return) is a lower bound and the one from the send an upper bound. The lower
  // bound can come out negative (the woken waiter can return before the producer's backend has
  // answered): the summary clamps at 0, min_ms shows the real value.
  std::printf(
      "longpoll: mode=%s waiters=%d tasks=%ld delivered=%ld delivered_twice=%ld missing=%ld "
      "p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
      opt.mode.c_str(), opt.waiters, static_cast<long>(created.size()), delivered, delivered_twice,
      missing, std::max(0.0, p50), std::max(0.0, p99), std::max(0.0, max));
  std::printf(
      "  detail: definition=%s preloaded=%s measured=%zu min_ms=%.3f mean_ms=%.2f p50_ms=%.3f "
      "p99_ms=%.3f max_ms=%.3f from_send_p50_ms=%.3f from_send_p99_ms=%.3f "
      "from_send_max_ms=%.3f create_p50_ms=%.3f create_p99_ms=%.3f late=%ld unsettled=%ld "
      "long_polls=%ld empty_long_polls=%ld per_waiter_tasks=%ld..%ld table_ready=%ld\n",
      definition.c_str(), preloaded ? "yes" : "no", sorted.size(), min, mean, p50, p99, max,
      percentile(from_send, 0.50), percentile(from_send, 0.99),
      from_send.empty() ? 0.0 : from_send.back(), percentile(create_ms, 0.50),
      percentile(create_ms, 0.99), late, unsettled, long_polls, empty_long_polls, per_waiter_min,
      per_waiter_max, table_ready);
  for (const auto &example : unsettled_examples)
    std::printf("  unsettled: %s\n", example.c_str());
  if (commit_ts)
    std::printf(
        "  commit_ts: measured=%zu min_ms=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f"
        " (from the server's commit timestamp to the waiter's return, wall clock)\n",
        from_commit_ts.size(), from_commit_ts.empty() ? 0.0 : from_commit_ts.front(),
        percentile(from_commit_ts, 0.50), percentile(from_commit_ts, 0.99),
        from_commit_ts.empty() ? 0.0 : from_commit_ts.back());
  std::fflush(stdout);

  auto join = [](const std::vector<std::string> &v) {
    std::string s;
    for (const auto &x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (static_cast<long>(created.size()) != opt.tasks)
    fail("created " + std::to_string(created.size()) + " of " + std::to_string(opt.tasks) +
         " tasks");
  if (delivered_twice != 0)
    fail(std::to_string(delivered_twice) + " tasks were delivered more than once, e.g. " +
         join(twice_examples));
  if (missing != 0)
    fail(std::to_string(missing) + " tasks were never delivered, e.g. " + join(missing_examples));
  if (foreign != 0)
    fail(std::to_string(foreign) + " delivered ids are not tasks this run created");
  if (malformed != 0)
    fail(std::to_string(malformed) + " delivered resources had no id");
  if (table_ready != 0)
    fail(std::to_string(table_ready) + " tasks of " + definition + " are still 'ready'");
  if (table_total != static_cast<long>(created.size()))
    fail("the table holds " + std::to_string(table_total) + " tasks of " + definition +
         ", the producer created " + std::to_string(created.size()));
  if (opt.have_max_p99 && !sorted.empty() && p99 > opt.max_p99_ms) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "p99 %.3f ms exceeds --max-p99-ms %.3f", p99, opt.max_p99_ms);
    fail(buf);
  }

  for (const auto &why : failures) std::printf("longpoll: FAIL: %s\n", why.c_str());
  if (opt.keep)
    std::printf("longpoll: kept the tasks of definition %s\n", definition.c_str());
  else
    delete_tasks(admin, definition);
  std::fflush(stdout);
  return failures.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
  Options opt;
  if (const int rc = parse_args(argc, argv, opt); rc != 0) return rc == 1 ? 0 : 2;

  std::unique_ptr<pqxx::connection> admin;
  bool preloaded = false;
  bool commit_ts = false;
  try {
    admin = connect(opt.conninfo);
    pqxx::nontransaction tx(*admin);
    const pqxx::result ext =
        tx.exec("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'awf'");
    if (ext.empty()) {
      std::cerr << "awf_longpoll_test: the awf extension is not installed in database '"
                << admin->dbname() << "' (run CREATE EXTENSION awf)\n";
      return 2;
    }
    preloaded = tx.exec1(
                      "SELECT 'awf' = ANY (pg_catalog.string_to_array(pg_catalog.replace("
                      "pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))")[0]
                    .as<bool>();
    commit_ts = tx.exec1("SELECT pg_catalog.current_setting('track_commit_timestamp')::bool")[0]
                    .as<bool>();
  } catch (const ConnectError &e) {
    std::cerr << "awf_longpoll_test: " << e.what() << "\n";
    return 2;
  } catch (const std::exception &e) {
    std::cerr << "awf_longpoll_test: " << e.what() << "\n";
    return 2;
  }
  if (opt.mode == "preload" && !preloaded)
    std::cerr << "awf_longpoll_test: note: --mode preload, but awf is not in "
                 "shared_preload_libraries (long-polls fall back to polling every 100 ms)\n";
  if (opt.mode == "fallback" && preloaded)
    std::cerr << "awf_longpoll_test: note: --mode fallback, but awf is in "
                 "shared_preload_libraries (long-polls use shared-memory wakeups)\n";

  int rc = 1;
  try {
    rc = run(opt, *admin, preloaded, commit_ts);
  } catch (const pqxx::sql_error &e) {
    std::cerr << "awf_longpoll_test: SQL error: " << e.what() << "  query: " << e.query() << "\n";
    rc = 1;
  } catch (const std::exception &e) {
    std::cerr << "awf_longpoll_test: " << e.what() << "\n";
    rc = 1;
  }
  if (rc != 0) std::printf("longpoll: FAILED\n");
  return rc;
}
