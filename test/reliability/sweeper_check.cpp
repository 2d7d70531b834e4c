// Sweeper vs claimers (issue 8, item 5): the background worker re-queues tasks that claimers hold
// while the claimers keep working on them, and nobody may deadlock or fail to serialize.
//
// Setup: one task definition with tiny timeouts (requestedToStartTimeout and inProgressTimeout of
// a few hundred ms, retries allowed, a short retryDelay), a second one that also has a
// concurrency limit (its claims go through awf.claim_limited and its advisory lock), and a
// workflow definition whose decision tasks get the same tiny timeouts (their status changes run
// the awf.task_rules trigger: workflow events, decisions, finishing a workflow and canceling its
// tasks, in the worker's sweeps as in the claimers' calls). A producer keeps a backlog of ready
// tasks of both task definitions and a few workflows running. A decision schedules two activities
// (tasks of the first definition) at the workflow's start, and at each completed activity either
// completes the workflow (canceling what still runs) or schedules one more activity. N claimer
// threads, each on its own connection, loop:
//   awf.task_poll (1..3 tasks) -> for each task, at random: nothing (the claim expires), or wait
//   (sometimes longer than the requested-to-start timeout) and awf.task_start -> then nothing
//   (the execution times out), or heartbeats/progress with pauses (sometimes longer than the
//   in-progress timeout) and awf.task_success or awf.task_fail. Some starts run in an explicit
//   transaction that holds the row lock for a while before it commits.
// Meanwhile the worker (awf.tick_interval = 50 ms) re-queues, times out and promotes the same
// tasks. Every error a claimer gets is counted by SQLSTATE:
//   40P01 deadlock, 40001 serialization failure     must be 0
//   WA001/WA002/WA003 (not found, stale execId, wrong status: the worker got there first)
//                                                   expected, counted separately
//   anything else (XX000, lost connections, ...)    must be 0
// pg_stat_database.deadlocks of the database (all backends, the worker's too) must not grow.
// At the end the claimers stop, and once the worker catches up no task of the run may be left
// requested, in-progress or waiting (nothing stuck); the worker must have re-queued claims and
// timed out executions; the worker process must be the same one as at the start (it never died);
// every success the clients saw must be a succeeded task in the table and vice versa; no task may
// have been started more often than its retries allow; no workflow may be stuck (not done, with
// no decision task, no pending event and no unfinished activity), and no task of a finished
// workflow may be left unfinished.
//
//   awf_sweeper_check [CONNINFO] [--seconds N] [--claimers N] [--keep]
//
// Prints one line per check ("PASS name" / "FAIL name: why") and a summary line
//   sweeper: 30 s, 16 claimers, claims=... requeued=... deadlocks=0 serialization_failures=0 ...
// Exit status: 0 every check passed, 1 a check failed, 2 usage or connection error.
#include <pqxx/pqxx>

#include "../common/pg_client.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using awf::test::ConnectError;
using awf::test::connect;
using awf::test::parse_long;
using awf::test::random_hex8;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The definitions' settings: short enough that the worker re-queues a good share of the claims.
constexpr int kRequestedToStartTimeoutMs = 150;
constexpr int kInProgressTimeoutMs = 250;
constexpr int kAllowedRetryCount = 3;
constexpr int kRetryDelayMs = 100;
constexpr int kConcurrencyLimit = 4;
constexpr int kBacklog = 48;  // ready tasks the producer keeps per definition
constexpr int kRunningWorkflows = 16;  // workflows the producer keeps running
// A timer may fire this late and still count as kept (the worker skips rows claimers hold locked,
// and 2 busy cores delay its ticks); a task the worker never gets to is late without bound.
constexpr long kMaxLatenessMs = 10000;

struct Options {
  std::string conninfo;
  int seconds = 30;
  int claimers = 16;
  bool keep = false;
};

void usage(std::ostream &out) {
  out << "usage: awf_sweeper_check [CONNINFO] [--seconds N] [--claimers N] [--keep]\n"
         "\n"
         "Claimers poll, start, heartbeat, finish and abandon tasks with tiny timeouts while the\n"
         "pg_awf background worker re-queues them. Needs awf preloaded, the worker running in\n"
         "this database (awf.database) and a short awf.tick_interval (50 ms).\n"
         "\n"
         "  CONNINFO        libpq connection string (default: libpq's PG* environment)\n"
         "  --seconds N     how long the claimers run (default 30)\n"
         "  --claimers N    claimer threads, one connection each (default 16)\n"
         "  --keep          keep the run's tasks and definitions (for inspection)\n"
         "\n"
         "Exit status: 0 all checks passed, 1 a check failed, 2 usage or connection error.\n";
}

int parse_args(int argc, char **argv, Options &opt) {
  bool have_conninfo = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    long n = 0;
    auto number = [&](long min, long max) {
      if (i + 1 >= argc || !parse_long(argv[i + 1], min, max, n)) {
        std::cerr << "awf_sweeper_check: " << arg << " wants an integer in " << min << ".." << max
                  << "\n";
        return false;
      }
      ++i;
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      usage(std::cout);
      return 1;
    } else if (arg == "--seconds") {
      if (!number(1, 86400)) return 2;
      opt.seconds = static_cast<int>(n);
    } else if (arg == "--claimers") {
      if (!number(1, 500)) return 2;
      opt.claimers = static_cast<int>(n);
    } else if (arg == "--keep") {
      opt.keep = true;
    } else if (!arg.empty() && arg[0] == '-') {
      std::cerr << "awf_sweeper_check: unknown option " << arg << " (see --help)\n";
      return 2;
    } else if (!have_conninfo) {
      opt.conninfo = arg;
      have_conninfo = true;
    } else {
      std::cerr << "awf_sweeper_check: more than one connection string given\n";
      return 2;
    }
  }
  return 0;
}

// What one claimer did and saw.
struct ClaimerStats {
  long polls = 0, claims = 0, abandoned_claims = 0, starts = 0, abandoned_runs = 0;
  long notifies = 0, successes = 0, fails = 0, held_transactions = 0, decisions = 0;
  std::map<std::string, long> errors;          // SQLSTATE -> count
  std::map<std::string, std::string> example;  // SQLSTATE -> first message
  std::string fatal;                           // set when the claimer could not go on
};

using json = nlohmann::json;

struct Claimed {
  std::string id, exec_id;
  std::string event;  // a decision task's event; empty for other tasks
};

bool is_domain_error(const std::string &sqlstate) {
  return sqlstate == "WA001" || sqlstate == "WA002" || sqlstate == "WA003";
}

std::string one_line(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s.size() > 300 ? s.substr(0, 300) + "..." : s;
}

class Claimer {
 public:
  Claimer(const Options &opt, std::vector<std::string> definitions, std::string workflow_definition,
          unsigned seed, const std::atomic<bool> &stop, ClaimerStats &stats)
      : opt_(opt), definitions_(std::move(definitions)), workflow_definition_(std::move(workflow_definition)),
        rng_(seed), stop_(stop), stats_(stats) {}

  void run() {
    try {
      conn_ = connect(opt_.conninfo);
      conn_->prepare("poll", "SELECT awf.task_poll($1::text[], $2::text[], $3::integer)::text");
      conn_->prepare("start", "SELECT awf.task_start($1::uuid, $2::uuid) IS NOT NULL");
      conn_->prepare("heartbeat", "SELECT awf.task_notify($1::uuid, $2::uuid) IS NOT NULL");
      conn_->prepare("progress",
                     "SELECT awf.task_notify($1::uuid, $2::uuid, 'progress', 'working', $3::bigint,"
                     " 10, 'steps') IS NOT NULL");
      conn_->prepare("success",
                     "SELECT awf.task_success($1::uuid, $2::uuid, '{\"ok\": true}') IS NOT NULL");
      conn_->prepare("decide",
                     "SELECT awf.task_success($1::uuid, $2::uuid, $3::jsonb) IS NOT NULL");
      conn_->prepare("fail",
                     "SELECT awf.task_fail($1::uuid, $2::uuid, '{\"why\": \"sweeper\"}') IS NOT NULL");
    } catch (const std::exception &e) {
      stats_.fatal = one_line(e.what());
      return;
    }
    const std::string defs_array = definitions_array();
    const std::string workflows_array = "{\"" + workflow_definition_ + "\"}";
    while (!stop_.load(std::memory_order_relaxed)) {
      if (!conn_->is_open()) {
        stats_.fatal = "the connection was lost";
        return;
      }
      std::vector<Claimed> tasks;
      const int batch = 1 + static_cast<int>(uniform(0, 2));
      std::string text;
      if (!call([&] {
            pqxx::nontransaction tx(*conn_);
            text = tx.exec_prepared1("poll", defs_array, workflows_array, batch)[0].as<std::string>();
          }))
        continue;
      ++stats_.polls;
      try {
        const auto doc = nlohmann::json::parse(text);
        for (const auto &r : doc.at("resources")) {
          Claimed c{r.at("id").get<std::string>(), r.at("execId").get<std::string>(), ""};
          if (r.at("definition").get<std::string>() == "awf.workflow/decision-task")
            c.event = r.at("params").at("event").get<std::string>();
          tasks.push_back(std::move(c));
        }
      } catch (const std::exception &e) {
        stats_.fatal = "awf.task_poll returned an unexpected document: " + one_line(text);
        return;
      }
      if (tasks.empty()) {
        std::this_thread::sleep_for(milliseconds(5));
        continue;
      }
      stats_.claims += static_cast<long>(tasks.size());
      for (const auto &c : tasks) {
        if (stop_.load(std::memory_order_relaxed)) break;
        work_on(c);
      }
    }
  }

 private:
  long uniform(long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng_); }
  bool chance(int percent) { return uniform(1, 100) <= percent; }
  void pause(long lo_ms, long hi_ms) { std::this_thread::sleep_for(milliseconds(uniform(lo_ms, hi_ms))); }

  std::string definitions_array() const {
    std::string out = "{";
    for (std::size_t i = 0; i < definitions_.size(); ++i)
      out += (i ? ",\"" : "\"") + definitions_[i] + "\"";
    return out + "}";
  }

  // Runs one database step; counts its error by SQLSTATE. Returns true when it succeeded.
  template <class F>
  bool call(F &&f) {
    try {
      f();
      return true;
    } catch (const pqxx::sql_error &e) {
      note_error(e.sqlstate().empty() ? "(none)" : e.sqlstate(), e.what());
    } catch (const pqxx::broken_connection &e) {
      note_error("(connection lost)", e.what());
    } catch (const pqxx::in_doubt_error &e) {
      note_error("(in doubt)", e.what());
    } catch (const std::exception &e) {
      note_error("(client)", e.what());
    }
    return false;
  }

  void note_error(const std::string &sqlstate, const std::string &message) {
    ++stats_.errors[sqlstate];
    if (!stats_.example.count(sqlstate)) stats_.example[sqlstate] = one_line(message);
  }

  bool step(const char *statement, const std::string &id, const std::string &exec_id) {
    return call([&] {
      pqxx::nontransaction tx(*conn_);
      tx.exec_prepared1(statement, id, exec_id);
    });
  }

  // What a decision decides: at the workflow's start, two activities; after an activity, finish
  // the workflow (its other activity may still run: it is canceled) or schedule one more. So a
  // workflow always has something that will make it move on, until it is done.
  std::string decision(const std::string &event) {
    const json activity = {{"action", "awf.workflow.action/schedule-task"},
                           {"task-request", {{"definition", definitions_[0]}, {"params", {{"activity", true}}}}}};
    if (event == "awf.workflow.event/workflow-init") return json::array({activity, activity}).dump();
    if (chance(50))
      return json::array({{{"action", "awf.workflow.action/complete-workflow"}, {"result", {{"done", true}}}}}).dump();
    return json::array({activity}).dump();
  }

  void work_on(const Claimed &c) {
    const std::string &id = c.id;
    const std::string &exec_id = c.exec_id;
    if (chance(10)) {  // the executor dies before it starts: the claim expires
      ++stats_.abandoned_claims;
      return;
    }
    // Most start in time; some only after the requested-to-start timeout (the worker may have
    // re-queued the task, and another claimer may hold it under a new execId by then).
    if (chance(15))
      pause(kRequestedToStartTimeoutMs - 30, kRequestedToStartTimeoutMs + 120);
    else if (chance(50))
      pause(0, 20);
    bool started = false;
    if (chance(20)) {
      // Start and heartbeat in one transaction that keeps the row locked for a while: the
      // worker's sweep must skip the row (SKIP LOCKED), not wait for it or deadlock with it.
      ++stats_.held_transactions;
      started = call([&] {
        pqxx::work tx(*conn_);
        tx.exec_prepared1("start", id, exec_id);
        std::this_thread::sleep_for(milliseconds(uniform(0, 60)));
        tx.exec_prepared1("heartbeat", id, exec_id);
        tx.commit();
      });
      if (started) ++stats_.notifies;
    } else {
      started = step("start", id, exec_id);
    }
    if (!started) return;
    ++stats_.starts;
    if (chance(10)) {  // the executor dies while running: the in-progress timeout fires
      ++stats_.abandoned_runs;
      return;
    }
    // Work: a few heartbeats or progress notes, pauses between them; some runs take longer than
    // the in-progress timeout without a heartbeat in time.
    const int beats = static_cast<int>(uniform(0, 3));
    for (int i = 0; i < beats; ++i) {
      if (chance(8))
        pause(kInProgressTimeoutMs - 30, kInProgressTimeoutMs + 150);
      else
        pause(0, 60);
      bool ok;
      if (chance(50)) {
        ok = step("heartbeat", id, exec_id);
      } else {
        ok = call([&] {
          pqxx::nontransaction tx(*conn_);
          tx.exec_prepared1("progress", id, exec_id, i + 1);
        });
      }
      if (!ok) return;  // re-queued or timed out under us: give up as a real executor would
      ++stats_.notifies;
    }
    pause(0, 30);
    if (!c.event.empty() && chance(85)) {  // (the other 15% fail: a decision's result must be actions)
      const std::string result = decision(c.event);
      if (call([&] {
            pqxx::nontransaction tx(*conn_);
            tx.exec_prepared1("decide", id, exec_id, result);
          })) {
        ++stats_.successes;
        ++stats_.decisions;
      }
    } else if (c.event.empty() && chance(65)) {
      if (step("success", id, exec_id)) ++stats_.successes;
    } else {
      if (step("fail", id, exec_id)) ++stats_.fails;
    }
  }

  const Options &opt_;
  std::vector<std::string> definitions_;
  std::string workflow_definition_;
  std::mt19937 rng_;
  const std::atomic<bool> &stop_;
  ClaimerStats &stats_;
  std::unique_ptr<pqxx::connection> conn_;
};

struct ProducerStats {
  long created = 0, workflows = 0;
  std::string error;
};

// Keeps kBacklog ready tasks of each definition and kRunningWorkflows workflows running.
void run_producer(const Options &opt, const std::vector<std::string> &definitions,
                  const std::string &workflow_definition, const std::atomic<bool> &stop,
                  ProducerStats &stats) {
  try {
    auto conn = connect(opt.conninfo);
    conn->prepare("ready", "SELECT count(*) FROM awf.task WHERE definition = $1 AND status = 'ready'");
    conn->prepare("create",
                  "SELECT awf.task_create_many($1, array_agg(pg_catalog.jsonb_build_object('n', i)))"
                  "  FROM pg_catalog.generate_series(1, $2::integer) i");
    conn->prepare("running", "SELECT count(*) FROM awf.workflow WHERE definition = $1 AND status <> 'done'");
    conn->prepare("workflow",
                  "SELECT count(awf.workflow_create($1, pg_catalog.jsonb_build_object('n', i)))"
                  "  FROM pg_catalog.generate_series(1, $2::integer) i");
    while (!stop.load(std::memory_order_relaxed)) {
      {
        pqxx::nontransaction tx(*conn);
        const long running = tx.exec_prepared1("running", workflow_definition)[0].as<long>();
        if (running < kRunningWorkflows)
          stats.workflows +=
              tx.exec_prepared1("workflow", workflow_definition, kRunningWorkflows - running)[0].as<long>();
      }
      for (const auto &def : definitions) {
        pqxx::nontransaction tx(*conn);
        const long ready = tx.exec_prepared1("ready", def)[0].as<long>();
        if (ready < kBacklog)
          stats.created += tx.exec_prepared1("create", def, kBacklog - ready)[0].as<long>();
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  } catch (const std::exception &e) {
    stats.error = one_line(e.what());
  }
}

struct Checks {
  int passed = 0, failed = 0;
  void check(bool ok, const std::string &name, const std::string &why = "") {
    if (ok) {
      ++passed;
      std::printf("PASS %s\n", name.c_str());
    } else {
      ++failed;
      std::printf("FAIL %s%s%s\n", name.c_str(), why.empty() ? "" : ": ", why.c_str());
    }
    std::fflush(stdout);
  }
};

long scalar(pqxx::connection &conn, const std::string &sql) {
  pqxx::nontransaction tx(conn);
  const pqxx::field f = tx.exec1(sql)[0];
  return f.is_null() ? -1 : f.as<long>();
}

std::string quoted_list(pqxx::connection &conn, const std::vector<std::string> &defs) {
  pqxx::nontransaction tx(conn);
  std::string out;
  for (const auto &d : defs) out += (out.empty() ? "" : ", ") + tx.quote(d);
  return out;
}

int run(const Options &opt) {
  auto admin = connect(opt.conninfo);
  Checks checks;
  const std::string suffix = std::to_string(::getpid()) + "-" + random_hex8();
  const std::vector<std::string> definitions = {"sweeper-" + suffix, "sweeper-limited-" + suffix};
  const std::string workflow_definition = "sweeper-wf-" + suffix;
  const std::string decision_queue = "awf.workflow/decision-task@" + workflow_definition;
  std::vector<std::string> all_definitions = definitions;
  all_definitions.push_back(decision_queue);
  const std::string in_defs = "(" + quoted_list(*admin, all_definitions) + ")";
  const std::string in_wf = "(SELECT id FROM awf.workflow WHERE definition = " +
                            quoted_list(*admin, {workflow_definition}) + ")";

  // Preconditions: the extension, and its worker sweeping this database often enough.
  {
    pqxx::nontransaction tx(*admin);
    if (tx.exec("SELECT 1 FROM pg_extension WHERE extname = 'awf'").empty()) {
      std::cerr << "awf_sweeper_check: the awf extension is not installed in database '"
                << admin->dbname() << "'\n";
      return 2;
    }
    const std::string db = tx.exec1("SELECT current_setting('awf.database', true)")[0].c_str();
    const std::string tick = tx.exec1("SELECT current_setting('awf.tick_interval', true)")[0].c_str();
    std::printf("sweeper: database %s, awf.database=%s, awf.tick_interval=%s\n", admin->dbname(),
                db.c_str(), tick.c_str());
    if (db != admin->dbname()) {
      std::cerr << "awf_sweeper_check: the worker sweeps database '" << db << "', not '"
                << admin->dbname() << "' (set awf.database or connect there)\n";
      return 2;
    }
  }
  // The worker's pid, once it is up (it starts with the server; wait for it).
  long worker_pid = -1;
  for (auto deadline = Clock::now() + std::chrono::seconds(30); Clock::now() < deadline;) {
    worker_pid = scalar(*admin,
                        "SELECT min(pid) FROM pg_stat_activity WHERE backend_type = 'pg_awf worker'");
    if (worker_pid > 0) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  checks.check(worker_pid > 0, "worker_running", "no 'pg_awf worker' in pg_stat_activity after 30 s");
  if (worker_pid <= 0) {
    std::printf("sweeper_check: %d passed, %d failed\n", checks.passed, checks.failed);
    return 1;
  }

  {
    pqxx::work tx(*admin);
    tx.exec_params(
        "INSERT INTO awf.definition (name, requested_to_start_timeout, in_progress_timeout,"
        "                            allowed_retry_count, retry_delay, concurrency_limit)"
        " VALUES ($1, $3, $4, $5, $6, NULL), ($2, $3, $4, $5, $6, $7), ($8, $3, $4, $5, $6, NULL)",
        definitions[0], definitions[1], kRequestedToStartTimeoutMs, kInProgressTimeoutMs,
        kAllowedRetryCount, kRetryDelayMs, kConcurrencyLimit, decision_queue);
    tx.commit();
  }
  const std::string db_quoted = [&] {
    pqxx::nontransaction tx(*admin);
    return tx.quote(std::string(admin->dbname()));
  }();
  const std::string deadlocks_sql =
      "SELECT deadlocks FROM pg_stat_database WHERE datname = " + db_quoted;
  {
    pqxx::nontransaction tx(*admin);
    tx.exec("SELECT pg_stat_clear_snapshot()");
  }
  const long deadlocks_before = scalar(*admin, deadlocks_sql);

  // Run.
  std::atomic<bool> stop{false};
  std::vector<ClaimerStats> stats(static_cast<std::size_t>(opt.claimers));
  ProducerStats producer;
  std::thread producer_thread(run_producer, std::cref(opt), std::cref(definitions),
                              std::cref(workflow_definition), std::cref(stop), std::ref(producer));
  // Let the producer fill the queue first.
  for (auto deadline = Clock::now() + std::chrono::seconds(10); Clock::now() < deadline;) {
    if (scalar(*admin, "SELECT count(*) FROM awf.task WHERE status = 'ready' AND definition IN " +
                           in_defs) >= kBacklog)
      break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  std::vector<std::thread> threads;
  std::random_device rd;
  const auto started = Clock::now();
  for (int i = 0; i < opt.claimers; ++i)
    threads.emplace_back([&, i, seed = rd()] {
      Claimer(opt, definitions, workflow_definition, seed, stop, stats[static_cast<std::size_t>(i)]).run();
    });
  // While they run: how late is the most overdue claim, execution or retry of the run? The worker
  // must keep up (a row a claimer holds locked is skipped, so it may be late by that long).
  const std::string lateness_sql =
      "SELECT coalesce(extract(epoch FROM max(clock_timestamp() - due_at)) * 1000, 0)::bigint"
      "  FROM awf.task WHERE definition IN " + in_defs +
      "   AND status IN ('requested', 'in-progress', 'waiting') AND due_at < clock_timestamp()";
  long max_lateness_ms = 0, samples = 0;
  for (const auto end = started + std::chrono::seconds(opt.seconds); Clock::now() < end;) {
    std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(250), end - Clock::now()));
    max_lateness_ms = std::max(max_lateness_ms, scalar(*admin, lateness_sql));
    ++samples;
  }
  stop.store(true);
  for (auto &t : threads) t.join();
  producer_thread.join();
  const double ran_s = std::chrono::duration<double>(Clock::now() - started).count();
  const long in_flight_at_stop = scalar(
      *admin, "SELECT count(*) FROM awf.task WHERE definition IN " + in_defs +
                  " AND status IN ('requested', 'in-progress', 'waiting')");

  // Catch-up: with the claimers gone, every claim and execution must expire, and every retry
  // become ready again, within the timeouts plus a few ticks. Wait for it, with a deadline.
  const std::string in_flight_sql =
      "SELECT count(*) FROM awf.task WHERE definition IN " + in_defs +
      " AND status IN ('requested', 'in-progress', 'waiting')";
  long in_flight = -1;
  const auto catch_up_started = Clock::now();
  for (auto deadline = Clock::now() + std::chrono::seconds(30); Clock::now() < deadline;) {
    in_flight = scalar(*admin, in_flight_sql);
    if (in_flight == 0) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  const double catch_up_s = std::chrono::duration<double>(Clock::now() - catch_up_started).count();
  std::string stuck_examples;
  if (in_flight != 0) {
    pqxx::nontransaction tx(*admin);
    for (const auto &row : tx.exec(
             "SELECT id, status, due_at, clock_timestamp() - due_at AS late FROM awf.task"
             " WHERE definition IN " + in_defs +
             " AND status IN ('requested', 'in-progress', 'waiting') ORDER BY due_at LIMIT 5"))
      stuck_examples += std::string(stuck_examples.empty() ? "" : "; ") + row[0].c_str() + " " +
                        row[1].c_str() + " due " + (row[2].is_null() ? "NULL" : row[2].c_str()) +
                        " late " + (row[3].is_null() ? "NULL" : row[3].c_str());
  }

  // Merge the claimers' view.
  ClaimerStats total;
  std::map<std::string, long> errors;
  std::map<std::string, std::string> examples;
  std::string fatal;
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const auto &s = stats[i];
    total.polls += s.polls;
    total.claims += s.claims;
    total.abandoned_claims += s.abandoned_claims;
    total.starts += s.starts;
    total.abandoned_runs += s.abandoned_runs;
    total.notifies += s.notifies;
    total.successes += s.successes;
    total.fails += s.fails;
    total.held_transactions += s.held_transactions;
    total.decisions += s.decisions;
    for (const auto &[state, n] : s.errors) errors[state] += n;
    for (const auto &[state, msg] : s.example)
      if (!examples.count(state)) examples[state] = msg;
    if (!s.fatal.empty() && fatal.empty()) fatal = "claimer " + std::to_string(i) + ": " + s.fatal;
  }
  const long deadlocks_client = errors.count("40P01") ? errors["40P01"] : 0;
  const long serialization_client = errors.count("40001") ? errors["40001"] : 0;
  std::string domain_text, other_text;
  long other_errors = 0;
  for (const auto &[state, n] : errors) {
    std::string &out = is_domain_error(state) ? domain_text : other_text;
    out += (out.empty() ? "" : ",") + state + ":" + std::to_string(n);
    if (!is_domain_error(state) && state != "40P01" && state != "40001") other_errors += n;
  }

  // The table's view.
  long requeued = 0, timed_out = 0, retries_exhausted = 0, succeeded = 0, failed_by_executor = 0;
  long over_started = 0, tasks = 0, promoted = 0;
  {
    pqxx::nontransaction tx(*admin);
    const auto logs = tx.exec1(
        "SELECT count(*) FILTER (WHERE l.message = 'requestedToStartTimeout expired'),"
        "       count(*) FILTER (WHERE l.message = 'inProgressTimeout expired'),"
        "       count(*) FILTER (WHERE l.status_from = 'waiting' AND l.status_to = 'ready')"
        "  FROM awf.task_log l JOIN awf.task t ON t.id = l.task_id WHERE t.definition IN " + in_defs);
    requeued = logs[0].as<long>();
    timed_out = logs[1].as<long>();
    promoted = logs[2].as<long>();
    const auto counts = tx.exec1(
        "SELECT count(*),"
        "       count(*) FILTER (WHERE outcome = 'succeeded'),"
        "       count(*) FILTER (WHERE outcome_reason ->> 'type' = 'awf.task/failed-due-to-in-progress-timeout'),"
        "       count(*) FILTER (WHERE outcome_reason ->> 'type' = 'awf.task/failed-by-executor'),"
        "       count(*) FILTER (WHERE retry_count > " + std::to_string(kAllowedRetryCount + 1) + ")"
        "  FROM awf.task WHERE definition IN " + in_defs);
    tasks = counts[0].as<long>();
    succeeded = counts[1].as<long>();
    retries_exhausted = counts[2].as<long>();
    failed_by_executor = counts[3].as<long>();
    over_started = counts[4].as<long>();
  }
  // The workflows: none stuck (not done, and nothing left that would move it on), and no task of
  // a finished workflow left unfinished.
  long workflows = 0, workflows_succeeded = 0, workflows_failed = 0, stuck_workflows = 0, orphans = 0;
  std::string stuck_examples_wf, orphan_examples;
  {
    pqxx::nontransaction tx(*admin);
    const std::string wfdef = tx.quote(workflow_definition);
    const auto w = tx.exec1(
        "SELECT count(*), count(*) FILTER (WHERE outcome = 'succeeded'), count(*) FILTER (WHERE outcome = 'failed')"
        "  FROM awf.workflow WHERE definition = " + wfdef);
    workflows = w[0].as<long>();
    workflows_succeeded = w[1].as<long>();
    workflows_failed = w[2].as<long>();
    for (const auto &row : tx.exec(
             "SELECT w.id, w.status FROM awf.workflow w WHERE w.definition = " + wfdef +
             "   AND w.status <> 'done' AND w.decision_task_id IS NULL"
             "   AND NOT EXISTS (SELECT 1 FROM awf.workflow_event e WHERE e.workflow_id = w.id)"
             "   AND NOT EXISTS (SELECT 1 FROM awf.workflow_task m JOIN awf.task t ON t.id = m.task_id"
             "                    WHERE m.workflow_id = w.id AND t.status <> 'done')")) {
      if (++stuck_workflows <= 5)
        stuck_examples_wf += std::string(stuck_examples_wf.empty() ? "" : "; ") + row[0].c_str() + " " + row[1].c_str();
    }
    for (const auto &row : tx.exec(
             "SELECT t.id, t.status, t.definition FROM awf.task t JOIN awf.workflow w ON w.id = t.workflow_id"
             " WHERE w.definition = " + wfdef + " AND w.status = 'done' AND t.status <> 'done'")) {
      if (++orphans <= 5)
        orphan_examples += std::string(orphan_examples.empty() ? "" : "; ") + row[0].c_str() + " " +
                           row[1].c_str() + " " + row[2].c_str();
    }
  }

  // Deadlocks as the server counts them (every backend of the database, the worker's too). The
  // claimers' backends flushed their statistics when they disconnected; the worker flushes its
  // own after a tick at most a second later: wait for two seconds of ticks first.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  {
    pqxx::nontransaction tx(*admin);
    tx.exec("SELECT pg_stat_clear_snapshot()");
  }
  const long deadlocks_after = scalar(*admin, deadlocks_sql);
  const long deadlocks_server = deadlocks_after - deadlocks_before;
  const long worker_pid_after =
      scalar(*admin, "SELECT min(pid) FROM pg_stat_activity WHERE backend_type = 'pg_awf worker'");

  std::printf(
      "sweeper: %d s, %d claimers, claims=%ld, starts=%ld, successes=%ld, fails=%ld, notifies=%ld, "
      "requeued=%ld, timed_out=%ld, deadlocks=%ld serialization_failures=%ld "
      "other_errors_by_sqlstate={%s}\n",
      opt.seconds, opt.claimers, total.claims, total.starts, total.successes, total.fails,
      total.notifies, requeued, timed_out, std::max(deadlocks_client, deadlocks_server),
      serialization_client, other_text.c_str());
  std::printf(
      "  detail: ran %.1f s, polls=%ld, created=%ld, tasks=%ld, abandoned_claims=%ld, "
      "abandoned_runs=%ld, held_transactions=%ld, promoted_retries=%ld, retries_exhausted=%ld, "
      "failed_by_executor=%ld, succeeded_in_table=%ld, decisions=%ld, workflows=%ld (succeeded %ld, "
      "failed %ld), domain_errors={%s}, "
      "pg_stat_database.deadlocks %ld -> %ld, max_lateness=%ld ms (%ld samples), "
      "in_flight_at_stop=%ld, catch-up %.1f s, worker pid %ld -> %ld\n",
      ran_s, total.polls, producer.created, tasks, total.abandoned_claims, total.abandoned_runs,
      total.held_transactions, promoted, retries_exhausted, failed_by_executor, succeeded,
      total.decisions, workflows, workflows_succeeded, workflows_failed, domain_text.c_str(), deadlocks_before, deadlocks_after, max_lateness_ms, samples,
      in_flight_at_stop, catch_up_s, worker_pid, worker_pid_after);
  for (const auto &[state, msg] : examples)
    std::printf("  first %s: %s\n", state.c_str(), msg.c_str());
  std::fflush(stdout);

  checks.check(fatal.empty(), "claimers_ran_to_the_end", fatal);
  checks.check(producer.error.empty(), "producer_ran_to_the_end", producer.error);
  checks.check(total.claims > 0 && total.starts > 0 && total.successes > 0 && total.fails > 0,
               "claimers_did_work",
               "claims=" + std::to_string(total.claims) + " starts=" + std::to_string(total.starts) +
                   " successes=" + std::to_string(total.successes) + " fails=" + std::to_string(total.fails));
  checks.check(deadlocks_client == 0, "no_deadlock_errors_in_claimers",
               std::to_string(deadlocks_client) + " x 40P01");
  checks.check(deadlocks_server == 0, "pg_stat_database_deadlocks_unchanged",
               std::to_string(deadlocks_before) + " -> " + std::to_string(deadlocks_after));
  checks.check(serialization_client == 0, "no_serialization_failures",
               std::to_string(serialization_client) + " x 40001");
  checks.check(other_errors == 0, "no_unexpected_errors", "{" + other_text + "}");
  checks.check(requeued > 0, "worker_requeued_expired_claims",
               "no 'requestedToStartTimeout expired' log row for the run's tasks");
  checks.check(timed_out > 0, "worker_timed_out_executions",
               "no 'inProgressTimeout expired' log row for the run's tasks");
  checks.check(max_lateness_ms < kMaxLatenessMs, "worker_keeps_up_while_claimers_run",
               "a claim, execution or retry was " + std::to_string(max_lateness_ms) +
                   " ms past its due time (limit " + std::to_string(kMaxLatenessMs) + " ms)");
  checks.check(in_flight == 0, "nothing_stuck_after_catch_up",
               std::to_string(in_flight) + " tasks still requested/in-progress/waiting 30 s after "
               "the claimers stopped: " + stuck_examples);
  checks.check(total.decisions > 0 && workflows_succeeded > 0, "workflows_moved_on",
               "decisions=" + std::to_string(total.decisions) + " succeeded workflows=" +
                   std::to_string(workflows_succeeded));
  checks.check(stuck_workflows == 0, "no_stuck_workflow",
               std::to_string(stuck_workflows) + " workflows not done with no decision, event or unfinished "
               "activity: " + stuck_examples_wf);
  checks.check(orphans == 0, "no_unfinished_task_of_a_finished_workflow",
               std::to_string(orphans) + " tasks: " + orphan_examples);
  checks.check(worker_pid_after == worker_pid, "worker_never_restarted",
               "worker pid " + std::to_string(worker_pid) + " -> " + std::to_string(worker_pid_after));
  checks.check(succeeded == total.successes, "successes_match_table",
               "clients saw " + std::to_string(total.successes) + " successes, the table has " +
                   std::to_string(succeeded) + " succeeded tasks");
  checks.check(failed_by_executor <= total.fails, "executor_failures_match_table",
               std::to_string(failed_by_executor) + " tasks failed-by-executor, clients failed " +
                   std::to_string(total.fails) + " times");
  checks.check(over_started == 0, "starts_within_allowed_retries",
               std::to_string(over_started) + " tasks started more than " +
                   std::to_string(kAllowedRetryCount + 1) + " times");

  if (opt.keep) {
    std::printf("sweeper: kept definitions %s\n", in_defs.c_str());
  } else {
    pqxx::work tx(*admin);
    tx.exec("DELETE FROM awf.task_log WHERE task_id IN (SELECT id FROM awf.task WHERE definition IN " +
            in_defs + ")");
    tx.exec("DELETE FROM awf.concurrency_slot WHERE definition IN " + in_defs);
    tx.exec("DELETE FROM awf.workflow_task WHERE workflow_id IN " + in_wf);
    tx.exec("DELETE FROM awf.workflow_event WHERE workflow_id IN " + in_wf);
    tx.exec("DELETE FROM awf.task_log WHERE task_id IN (SELECT id FROM awf.task WHERE workflow_id IN " + in_wf + ")");
    tx.exec("DELETE FROM awf.task WHERE workflow_id IN " + in_wf);
    tx.exec("DELETE FROM awf.workflow WHERE id IN " + in_wf);
    tx.exec("DELETE FROM awf.task WHERE definition IN " + in_defs);
    tx.exec("DELETE FROM awf.definition WHERE name IN " + in_defs);
    tx.commit();
  }
  std::printf("sweeper_check: %d passed, %d failed\n", checks.passed, checks.failed);
  return checks.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
  Options opt;
  if (const int rc = parse_args(argc, argv, opt); rc != 0) return rc == 1 ? 0 : 2;
  try {
    return run(opt);
  } catch (const ConnectError &e) {
    std::cerr << "awf_sweeper_check: " << e.what() << "\n";
    return 2;
  } catch (const pqxx::sql_error &e) {
    std::cerr << "awf_sweeper_check: SQL error: " << e.what() << "  query: " << e.query() << "\n";
    return 2;
  } catch (const std::exception &e) {
    std::cerr << "awf_sweeper_check: " << e.what() << "\n";
    return 2;
  }
}
