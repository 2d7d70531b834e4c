// Concurrency test of awf.task_poll: several pollers drain one queue at the same time, and every
// task must be claimed exactly once.
//
// For each maxBatchSize it creates N ready tasks of a fresh definition, releases P pollers at once
// (one connection each, autocommit), and lets each call awf.task_poll until it sees 3 empty polls
// in a row. It then merges what the pollers got and checks, against the client's view and the
// table:
//   claimed_twice  ids handed out by more than one claim            (must be 0)
//   never_claimed  tasks of the definition no poller got            (must be 0)
//   the table      no task left 'ready', all N 'requested', each with the execId of its claim,
//                  one ready->requested log row per task
//   each poll      at most maxBatchSize tasks, all 'requested', each with a new execId
// Finally it deletes the tasks it created (and their log rows).
//
//   awf_drain_test [CONNINFO] [--tasks N] [--pollers N] [--batch-sizes 1,10] [--timeout S] [--keep]
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
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
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

// Tasks get this requestedToStartTimeout, so that a background worker (when awf is preloaded)
// cannot re-queue a claim while the test runs: a re-queue is a legitimate second claim, not a bug.
constexpr int kRequestedToStartTimeoutMs = 3600 * 1000;
constexpr int kEmptyPollsToStop = 3;
constexpr auto kEmptyPollSleep = std::chrono::milliseconds(5);

struct Options {
  std::string conninfo;
  long tasks = 10000;
  int pollers = 8;
  std::vector<int> batch_sizes{1, 10};
  int timeout_s = 300;
  bool keep = false;
};

void usage(std::ostream &out) {
  out << "usage: awf_drain_test [CONNINFO] [--tasks N] [--pollers N] [--batch-sizes B1,B2,...]\n"
         "                      [--timeout SECONDS] [--keep]\n"
         "\n"
         "Concurrent pollers drain a queue of awf tasks with awf.task_poll; every task must be\n"
         "claimed exactly once. One run per batch size, each on a fresh task definition.\n"
         "\n"
         "  CONNINFO          libpq connection string; if omitted, libpq uses PGHOST, PGPORT,\n"
         "                    PGDATABASE, PGUSER, ... from the environment\n"
         "  --tasks N         tasks to create and drain per batch size (default 10000)\n"
         "  --pollers N       concurrent pollers, one connection each (default 8)\n"
         "  --batch-sizes L   comma-separated max_batch_size values (default 1,10)\n"
         "  --timeout S       give up a drain after S seconds (default 300)\n"
         "  --keep            keep the created tasks instead of deleting them (for inspection)\n"
         "  -h, --help        show this help\n"
         "\n"
         "Exit status: 0 all checks passed, 1 a check failed, 2 usage or connection error.\n";
}


// Returns 0 to go on, 1 after --help, 2 on a usage error (already reported).
int parse_args(int argc, char **argv, Options &opt) {
  bool have_conninfo = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc) {
        std::cerr << "awf_drain_test: " << arg << " needs a value\n";
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
    } else if (arg == "--tasks") {
      if (!value(v)) return 2;
      if (!parse_long(v, 1, 100000000, n)) {
        std::cerr << "awf_drain_test: --tasks wants a positive integer, got '" << v << "'\n";
        return 2;
      }
      opt.tasks = n;
    } else if (arg == "--pollers") {
      if (!value(v)) return 2;
      if (!parse_long(v, 1, 1000, n)) {
        std::cerr << "awf_drain_test: --pollers wants an integer in 1..1000, got '" << v << "'\n";
        return 2;
      }
      opt.pollers = static_cast<int>(n);
    } else if (arg == "--batch-sizes") {
      if (!value(v)) return 2;
      opt.batch_sizes.clear();
      std::stringstream list(v);
      std::string item;
      while (std::getline(list, item, ',')) {
        if (!parse_long(item, 1, 1000000, n)) {
          std::cerr << "awf_drain_test: --batch-sizes wants positive integers like 1,10, got '"
                    << v << "'\n";
          return 2;
        }
        opt.batch_sizes.push_back(static_cast<int>(n));
      }
      if (opt.batch_sizes.empty()) {
        std::cerr << "awf_drain_test: --batch-sizes is empty\n";
        return 2;
      }
    } else if (arg == "--timeout") {
      if (!value(v)) return 2;
      if (!parse_long(v, 1, 86400, n)) {
        std::cerr << "awf_drain_test: --timeout wants seconds in 1..86400, got '" << v << "'\n";
        return 2;
      }
      opt.timeout_s = static_cast<int>(n);
    } else if (arg == "--keep") {
      opt.keep = true;
    } else if (!arg.empty() && arg[0] == '-') {
      std::cerr << "awf_drain_test: unknown option " << arg << " (see --help)\n";
      return 2;
    } else if (!have_conninfo) {
      opt.conninfo = arg;
      have_conninfo = true;
    } else {
      std::cerr << "awf_drain_test: more than one connection string given (see --help)\n";
      return 2;
    }
  }
  return 0;
}


// A one-shot latch: pollers connect, arrive, and wait until the main thread releases them all.
class StartGate {
 public:
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++arrived_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void wait_for_arrivals(int count) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return arrived_ >= count; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  bool open_ = false;
};

struct Claim {
  std::string id;
  std::string exec_id;
};

struct PollerResult {
  std::vector<Claim> claims;
  long polls = 0;
  long empty_polls = 0;
  long oversized_polls = 0;     // returned more than max_batch_size tasks
  long malformed_resources = 0;  // no id/execId, or a status other than 'requested'
  std::string error;            // set when the poller failed
};

void run_poller(const Options &opt, const std::string &definition, int batch, StartGate &gate,
                const std::atomic<bool> &stop, PollerResult &out) {
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = connect(opt.conninfo);
    conn->prepare("poll", "SELECT awf.task_poll(ARRAY[$1::text], NULL, $2::integer)::text");
  } catch (const std::exception &e) {
    out.error = e.what();
  }
  gate.arrive_and_wait();  // arrive even after a failure, so the others are not held up
  if (!out.error.empty()) return;

  out.claims.reserve(static_cast<std::size_t>(opt.tasks / opt.pollers + 16));
  try {
    int empty_in_a_row = 0;
    while (empty_in_a_row < kEmptyPollsToStop) {
      if (stop.load(std::memory_order_relaxed)) {
        out.error = "stopped: the drain took longer than --timeout";
        return;
      }
      std::string text;
      {
        pqxx::nontransaction tx(*conn);  // autocommit: the claim is committed when this returns
        const pqxx::result r = tx.exec_prepared("poll", definition, batch);
        if (r.size() != 1 || r[0][0].is_null()) {
          out.error = "awf.task_poll returned no value";
          return;
        }
        text = r[0][0].as<std::string>();
      }
      ++out.polls;
      const nlohmann::json doc = nlohmann::json::parse(text);
      const auto resources = doc.find("resources");
      if (resources == doc.end() || !resources->is_array()) {
        out.error = "awf.task_poll returned no \"resources\" array: " + text.substr(0, 300);
        return;
      }
      if (resources->empty()) {
        ++out.empty_polls;
        ++empty_in_a_row;
        std::this_thread::sleep_for(kEmptyPollSleep);
        continue;
      }
      empty_in_a_row = 0;
      if (resources->size() > static_cast<std::size_t>(batch)) ++out.oversized_polls;
      for (const auto &res : *resources) {
        const auto id = res.find("id");
        const auto exec_id = res.find("execId");
        const auto status = res.find("status");
        const bool ok = id != res.end() && id->is_string() && exec_id != res.end() &&
                        exec_id->is_string() && status != res.end() && status->is_string() &&
                        status->get<std::string>() == "requested";
        if (!ok) ++out.malformed_resources;
        if (id != res.end() && id->is_string())
          out.claims.push_back({id->get<std::string>(), exec_id != res.end() && exec_id->is_string()
                                                            ? exec_id->get<std::string>()
                                                            : std::string()});
      }
    }
  } catch (const pqxx::sql_error &e) {
    out.error = std::string("SQL error in awf.task_poll: ") + e.what();
  } catch (const std::exception &e) {
    out.error = std::string("poller failed: ") + e.what();
  }
}

std::string unique_definition(int batch) {
  return "drain-b" + std::to_string(batch) + "-" + std::to_string(::getpid()) + "-" + random_hex8();
}


long count_status(pqxx::connection &conn, const std::string &definition, const char *status) {
  pqxx::nontransaction tx(conn);
  return tx
      .exec_params1("SELECT count(*) FROM awf.task WHERE definition = $1 AND status = $2",
                    definition, status)[0]
      .as<long>();
}

// One drain with one batch size. Returns true when every check passed.
bool drain(const Options &opt, pqxx::connection &admin, int batch) {
  const std::string definition = unique_definition(batch);
  std::vector<std::string> failures;
  auto fail = [&](const std::string &why) { failures.push_back(why); };

  // Setup: N ready tasks in one statement.
  {
    pqxx::work tx(admin);
    const long created =
        tx.exec_params1(
              "SELECT count(awf.task_create($1, pg_catalog.jsonb_build_object('n', i),"
              "                             requested_to_start_timeout => $3))"
              "  FROM pg_catalog.generate_series(1, $2::bigint) i",
              definition, opt.tasks, kRequestedToStartTimeoutMs)[0]
            .as<long>();
    tx.commit();
    if (created != opt.tasks) {
      std::cerr << "drain: setup created " << created << " tasks, expected " << opt.tasks << "\n";
      delete_tasks(admin, definition);
      return false;
    }
  }
  const long ready_before = count_status(admin, definition, "ready");
  if (ready_before != opt.tasks) {
    std::cerr << "drain: after setup " << ready_before << " of " << opt.tasks
              << " tasks are ready (are they delayed, or claimed by someone else?)\n";
    if (!opt.keep) delete_tasks(admin, definition);
    return false;
  }

  // Pollers: connect, wait at the gate, then all start together.
  StartGate gate;
  std::atomic<bool> stop{false};
  std::vector<PollerResult> results(static_cast<std::size_t>(opt.pollers));
  std::vector<std::thread> threads;
  threads.reserve(results.size());
  for (auto &r : results)
    threads.emplace_back(run_poller, std::cref(opt), std::cref(definition), batch,
                         std::ref(gate), std::cref(stop), std::ref(r));
  gate.wait_for_arrivals(opt.pollers);
  const auto started = Clock::now();
  gate.open();

  // A watchdog, so a poller that never sees an empty queue cannot hang the test.
  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(done_mutex);
    if (!done_cv.wait_for(lock, std::chrono::seconds(opt.timeout_s), [&] { return done; }))
      stop.store(true);
  });
  for (auto &t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  {
    std::lock_guard<std::mutex> lock(done_mutex);
    done = true;
  }
  done_cv.notify_all();
  watchdog.join();

  // Merge.
  long claimed = 0, polls = 0, empty_polls = 0, oversized = 0, malformed = 0;
  long per_poller_min = opt.tasks, per_poller_max = 0;
  std::unordered_map<std::string, int> times_claimed;
  std::unordered_map<std::string, std::string> last_exec_id;
  std::unordered_map<std::string, int> exec_id_uses;
  times_claimed.reserve(static_cast<std::size_t>(opt.tasks) * 2);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const PollerResult &r = results[i];
    if (!r.error.empty()) fail("poller " + std::to_string(i) + ": " + r.error);
    claimed += static_cast<long>(r.claims.size());
    polls += r.polls;
    empty_polls += r.empty_polls;
    oversized += r.oversized_polls;
    malformed += r.malformed_resources;
    per_poller_min = std::min(per_poller_min, static_cast<long>(r.claims.size()));
    per_poller_max = std::max(per_poller_max, static_cast<long>(r.claims.size()));
    for (const Claim &c : r.claims) {
      ++times_claimed[c.id];
      last_exec_id[c.id] = c.exec_id;
      if (!c.exec_id.empty()) ++exec_id_uses[c.exec_id];
    }
  }
  long claimed_twice = 0;
  std::vector<std::string> twice_examples;
  for (const auto &[id, n] : times_claimed)
    if (n > 1) {
      ++claimed_twice;
      if (twice_examples.size() < 5)
        twice_examples.push_back(id + " x" + std::to_string(n));
    }
  long reused_exec_ids = 0;
  for (const auto &entry : exec_id_uses)
    if (entry.second > 1) ++reused_exec_ids;

  // The table's view: every task of the definition, with its status and execId.
  long in_table = 0, never_claimed = 0, exec_id_mismatch = 0;
  long ready_after = 0, requested_after = 0, other_status = 0;
  std::vector<std::string> never_examples, mismatch_examples;
  std::unordered_set<std::string> table_ids;
  table_ids.reserve(static_cast<std::size_t>(opt.tasks) * 2);
  {
    pqxx::nontransaction tx(admin);
    const pqxx::result rows = tx.exec_params(
        "SELECT id::text, status, coalesce(exec_id::text, '') FROM awf.task WHERE definition = $1",
        definition);
    for (const auto &row : rows) {
      const std::string id = row[0].as<std::string>();
      const std::string status = row[1].as<std::string>();
      const std::string exec_id = row[2].as<std::string>();
      ++in_table;
      table_ids.insert(id);
      if (status == "ready")
        ++ready_after;
      else if (status == "requested")
        ++requested_after;
      else
        ++other_status;
      const auto it = last_exec_id.find(id);
      if (it == last_exec_id.end()) {
        ++never_claimed;
        if (never_examples.size() < 5) never_examples.push_back(id + " (" + status + ")");
      } else if (times_claimed[id] == 1 && it->second != exec_id) {
        ++exec_id_mismatch;
        if (mismatch_examples.size() < 5)
          mismatch_examples.push_back(id + " got " + it->second + ", table has " + exec_id);
      }
    }
  }
  long foreign = 0;
  for (const auto &entry : times_claimed)
    if (!table_ids.count(entry.first)) ++foreign;
  long requested_logs = 0;
  {
    pqxx::nontransaction tx(admin);
    requested_logs =
        tx.exec_params1(
              "SELECT count(*) FROM awf.task_log l JOIN awf.task t ON t.id = l.task_id"
              " WHERE t.definition = $1 AND l.kind = 'status' AND l.status_from = 'ready'"
              "   AND l.status_to = 'requested'",
              definition)[0]
            .as<long>();
  }
  // Cross-checks by count, as asked: no task left ready, all of them requested.
  const long ready_count = count_status(admin, definition, "ready");
  const long requested_count = count_status(admin, definition, "requested");

  const long distinct_claimed = static_cast<long>(times_claimed.size()) - foreign;
  const long never_claimed_by_count = opt.tasks - distinct_claimed;

  std::printf(
      "drain: tasks=%ld pollers=%d maxBatchSize=%d claimed=%ld claimed_twice=%ld "
      "never_claimed=%ld seconds=%.2f tasks_per_second=%.0f\n",
      opt.tasks, opt.pollers, batch, claimed, claimed_twice, never_claimed_by_count, seconds,
      seconds > 0 ? static_cast<double>(claimed) / seconds : 0.0);
  std::printf(
      "  detail: definition=%s polls=%ld empty_polls=%ld per_poller_claims=%ld..%ld "
      "table_ready=%ld table_requested=%ld ready_to_requested_logs=%ld\n",
      definition.c_str(), polls, empty_polls, per_poller_min, per_poller_max, ready_count,
      requested_count, requested_logs);
  std::fflush(stdout);

  auto join = [](const std::vector<std::string> &v) {
    std::string s;
    for (const auto &x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (claimed_twice != 0)
    fail(std::to_string(claimed_twice) + " tasks were claimed more than once, e.g. " +
         join(twice_examples));
  if (never_claimed_by_count != 0)
    fail(std::to_string(never_claimed_by_count) + " tasks were never claimed (N - distinct claimed)");
  if (never_claimed != never_claimed_by_count)
    fail("the table has " + std::to_string(never_claimed) +
         " tasks no poller got, the count says " + std::to_string(never_claimed_by_count));
  if (!never_examples.empty()) fail("never claimed, e.g. " + join(never_examples));
  if (foreign != 0)
    fail(std::to_string(foreign) + " claimed ids are not tasks of definition " + definition);
  if (in_table != opt.tasks)
    fail("the table holds " + std::to_string(in_table) + " tasks of the definition, expected " +
         std::to_string(opt.tasks));
  if (ready_count != 0) fail(std::to_string(ready_count) + " tasks are still 'ready'");
  if (requested_count != opt.tasks)
    fail(std::to_string(requested_count) + " tasks are 'requested', expected " +
         std::to_string(opt.tasks));
  if (ready_count != ready_after || requested_count != requested_after)
    fail("the status counts changed between two reads of an idle queue");
  if (other_status != 0)
    fail(std::to_string(other_status) + " tasks are neither 'ready' nor 'requested'");
  if (exec_id_mismatch != 0)
    fail(std::to_string(exec_id_mismatch) +
         " tasks hold an execId other than the one their claim returned, e.g. " +
         join(mismatch_examples));
  if (reused_exec_ids != 0)
    fail(std::to_string(reused_exec_ids) + " execIds were handed out for more than one claim");
  if (requested_logs != claimed)
    fail("awf.task_log has " + std::to_string(requested_logs) +
         " ready->requested rows, the pollers made " + std::to_string(claimed) + " claims");
  if (oversized != 0)
    fail(std::to_string(oversized) + " polls returned more than maxBatchSize=" +
         std::to_string(batch) + " tasks");
  if (malformed != 0)
    fail(std::to_string(malformed) +
         " claimed resources lacked an id or execId or were not 'requested'");

  for (const auto &why : failures)
    std::printf("drain: FAIL maxBatchSize=%d: %s\n", batch, why.c_str());
  if (opt.keep)
    std::printf("drain: kept the tasks of definition %s\n", definition.c_str());
  else
    delete_tasks(admin, definition);
  std::fflush(stdout);
  return failures.empty();
}

}  // namespace

int main(int argc, char **argv) {
  Options opt;
  if (const int rc = parse_args(argc, argv, opt); rc != 0) return rc == 1 ? 0 : 2;

  std::unique_ptr<pqxx::connection> admin;
  try {
    admin = connect(opt.conninfo);
    pqxx::nontransaction tx(*admin);
    const pqxx::result ext =
        tx.exec("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'awf'");
    if (ext.empty()) {
      std::cerr << "awf_drain_test: the awf extension is not installed in database '"
                << admin->dbname() << "' (run CREATE EXTENSION awf)\n";
      return 2;
    }
  } catch (const ConnectError &e) {
    std::cerr << "awf_drain_test: " << e.what() << "\n";
    return 2;
  } catch (const std::exception &e) {
    std::cerr << "awf_drain_test: " << e.what() << "\n";
    return 2;
  }

  bool ok = true;
  for (const int batch : opt.batch_sizes) {
    try {
      ok = drain(opt, *admin, batch) && ok;
    } catch (const pqxx::sql_error &e) {
      std::cerr << "awf_drain_test: maxBatchSize=" << batch << ": SQL error: " << e.what()
                << "  query: " << e.query() << "\n";
      ok = false;
    } catch (const std::exception &e) {
      std::cerr << "awf_drain_test: maxBatchSize=" << batch << ": " << e.what() << "\n";
      ok = false;
    }
  }
  if (!ok) std::printf("drain: FAILED\n");
  return ok ? 0 : 1;
}
