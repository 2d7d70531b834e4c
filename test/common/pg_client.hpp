// Shared by the test programs that drive a real cluster (drain, long-poll, bridge load check):
// argument parsing, connecting with an error that says where it tried, unique definition names,
// and removing a run's tasks. Header-only; libpqxx 6.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include <pqxx/pqxx>

namespace awf::test {

// Whole number in [min, max], the whole text.
inline bool parse_long(const std::string &text, long min, long max, long &out) {
  if (text.empty()) return false;
  try {
    std::size_t used = 0;
    const long value = std::stol(text, &used, 10);
    if (used != text.size() || value < min || value > max) return false;
    out = value;
    return true;
  } catch (const std::exception &) {
    return false;
  }
}

inline std::string env_or_unset(const char *name) {
  const char *value = std::getenv(name);
  return value ? std::string("'") + value + "'" : std::string("(unset)");
}

// Where a connection attempt went, for error messages.
inline std::string describe_target(const std::string &conninfo) {
  std::string out = conninfo.empty()
                        ? std::string("empty conninfo, so libpq's environment:")
                        : "conninfo '" + conninfo + "', with libpq's environment for what it leaves out:";
  for (const char *name : {"PGHOST", "PGPORT", "PGDATABASE", "PGUSER"})
    out += std::string(" ") + name + "=" + env_or_unset(name);
  return out;
}

class ConnectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline std::unique_ptr<pqxx::connection> connect(const std::string &conninfo) {
  try {
    return std::make_unique<pqxx::connection>(conninfo);
  } catch (const std::exception &e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw ConnectError("cannot connect to PostgreSQL (" + describe_target(conninfo) + "): " + why);
  }
}

// Eight random hex digits, to make a run's definition names unique.
inline std::string random_hex8() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(suffix, 8);
}

// Deletes the tasks of one definition and their log rows.
inline void delete_tasks(pqxx::connection &conn, const std::string &definition) {
  pqxx::work tx(conn);
  tx.exec_params(
      "DELETE FROM awf.task_log WHERE task_id IN (SELECT id FROM awf.task WHERE definition = $1)",
      definition);
  tx.exec_params("DELETE FROM awf.task WHERE definition = $1", definition);
  tx.commit();
}

}  // namespace awf::test
