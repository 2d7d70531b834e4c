// awf-bridge settings: command-line flags, with environment fallbacks (AWF_BRIDGE_LISTEN,
// AWF_DATABASE_URL, and libpq's PG* variables when no --db is given).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace awf::bridge {

struct Config {
  std::string listen_host = "127.0.0.1";
  unsigned short listen_port = 8080;
  std::string db;                 // libpq conninfo or URL; empty: PG* environment variables
  size_t pool_size = 8;           // database connections, the only ones the bridge opens
  size_t io_threads = 2;          // threads serving HTTP; database calls run on the lanes (db_lanes.hpp)
  size_t lanes = 0;               // database calls at once (db_lanes.hpp); 0: the pool size
  size_t group_limit = 32;        // single /rpc calls in one group (one statement, one transaction)
  size_t body_limit = 1 << 20;    // bytes
  // YAML bodies get a smaller cap: YAML reads slower than JSON (~2.5x for a request, ~4x for a
  // body nesting 127 levels on every line, whose 256 KiB take ~90 ms of an HTTP thread, while its
  // other connections wait).
  size_t yaml_body_limit = 256 << 10;
  int header_timeout_ms = 10000;  // a request's header and body must arrive within this
  int idle_timeout_ms = 60000;    // a kept-alive connection may idle this long
  size_t max_connections = 4096;  // open HTTP connections; more are refused
  int long_poll_max_ms = 600000;  // longest long-poll timeout honoured
  int auth_cache_ms = 60000;      // how long a verified credential is trusted without a lookup
  bool require_auth = true;       // false: every request runs as --anonymous-role (tests, dev)
  std::string anonymous_role = "awf_admin";
  bool log_requests = true;
};

// Parses flags (argv[1..]). Throws std::invalid_argument with a message naming the flag.
Config parse_config(const std::vector<std::string> &args);

// The --help text, listing every flag with its default.
std::string usage();

}  // namespace awf::bridge
