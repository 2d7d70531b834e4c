#include "config.hpp"

#include <cstdlib>
#include <stdexcept>

namespace awf::bridge {

namespace {

long parse_number(const std::string &flag, const std::string &value, long min, long max) {
  try {
    size_t used = 0;
    long n = std::stol(value, &used);
    if (used == value.size() && n >= min && n <= max) return n;
  } catch (const std::exception &) {
  }
  throw std::invalid_argument(flag + " needs a whole number from " + std::to_string(min) + " to " +
                              std::to_string(max) + ", got \"" + value + "\"");
}

void set_listen(Config &config, const std::string &value, const std::string &source) {
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
    throw std::invalid_argument(source + " needs HOST:PORT, got \"" + value + "\"");
  config.listen_host = value.substr(0, colon);
  if (config.listen_host.size() > 2 && config.listen_host.front() == '[' &&
      config.listen_host.back() == ']')
    config.listen_host = config.listen_host.substr(1, config.listen_host.size() - 2);
  config.listen_port = static_cast<unsigned short>(parse_number(source, value.substr(colon + 1), 1, 65535));
}

}  // namespace

std::string usage() {
  const Config d;
  return "awf-bridge: the HTTP API of pg_awf (Aidbox Task Executor /rpc, NL Flow) in front of PostgreSQL.\n"
         "\n"
         "Usage:\n"
         "  awf-bridge [FLAGS]                          serve HTTP\n"
         "  awf-bridge client add ID --role ROLE [--description TEXT] [--db CONNINFO]\n"
         "                                              create (or reset) an API client; prints its secret once\n"
         "  awf-bridge nlflow-key add WORKFLOW_ID [--id KEY_ID] [--description TEXT] [--db CONNINFO]\n"
         "                                              create an NL Flow API key (X-API-KEY); prints it once\n"
         "\n"
         "Flags (default in brackets):\n"
         "  --listen HOST:PORT      address to serve on [" + d.listen_host + ":" + std::to_string(d.listen_port) + "]; env AWF_BRIDGE_LISTEN\n"
         "  --db CONNINFO           libpq conninfo or postgresql:// URL [PG* environment]; env AWF_DATABASE_URL\n"
         "  --pool-size N           database connections, the only ones opened [" + std::to_string(d.pool_size) + "]\n"
         "  --threads N             HTTP threads [" + std::to_string(d.io_threads) + "]\n"
         "  --lanes N               database calls at once, each on a pool connection [" + std::to_string(d.pool_size) + "]\n"
         "                          (default: the pool size). The first lane serves every request and\n"
         "                          runs the /rpc calls that waited meanwhile together (one statement,\n"
         "                          one commit), sending the next group while one runs (libpq pipeline\n"
         "                          mode, on a connection of its own when --pool-size is 3 or more);\n"
         "                          lane N joins while lanes 1..N-1 are each busy with one call for\n"
         "                          10 ms (a lock wait, a slow call)\n"
         "  --group-limit N         most /rpc calls in one group; 1 runs every call alone [" + std::to_string(d.group_limit) + "]\n"
         "  --body-limit BYTES      largest request body; larger gets 413 [" + std::to_string(d.body_limit) + "]\n"
         "  --yaml-body-limit BYTES largest YAML body (the slowest 256 KiB take ~90 ms to read) [" + std::to_string(d.yaml_body_limit) + "]\n"
         "  --header-timeout MS     time to receive a request [" + std::to_string(d.header_timeout_ms) + "]\n"
         "  --idle-timeout MS       keep-alive idle time [" + std::to_string(d.idle_timeout_ms) + "]\n"
         "  --max-connections N     open HTTP connections; more are refused [" + std::to_string(d.max_connections) + "]\n"
         "  --long-poll-max MS      cap on a long-poll's timeout [" + std::to_string(d.long_poll_max_ms) + "]\n"
         "  --auth-cache MS         how long a verified credential is trusted [" + std::to_string(d.auth_cache_ms) + "]\n"
         "  --no-auth               no credentials: every request runs as --anonymous-role (development only)\n"
         "  --anonymous-role ROLE   role for --no-auth [" + d.anonymous_role + "]\n"
         "  --quiet                 no per-request log lines\n"
         "  --help                  this text\n"
         "\n"
         "Authentication: HTTP Basic (client id and secret) or Bearer \"ID.SECRET\", checked against\n"
         "awf.client; each request runs with SET LOCAL ROLE to the client's role. The database login\n"
         "must be able to SET ROLE to awf_admin (e.g. GRANT awf_admin TO the bridge's login role).\n";
}

Config parse_config(const std::vector<std::string> &args) {
  Config config;
  if (const char *listen = std::getenv("AWF_BRIDGE_LISTEN"); listen && *listen)
    set_listen(config, listen, "AWF_BRIDGE_LISTEN");
  if (const char *url = std::getenv("AWF_DATABASE_URL"); url && *url) config.db = url;

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &flag = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
      return args[++i];
    };
    if (flag == "--listen") set_listen(config, value(), "--listen");
    else if (flag == "--db") config.db = value();
    else if (flag == "--pool-size") config.pool_size = static_cast<size_t>(parse_number(flag, value(), 2, 1000));
    else if (flag == "--threads") config.io_threads = static_cast<size_t>(parse_number(flag, value(), 1, 256));
    else if (flag == "--lanes") config.lanes = static_cast<size_t>(parse_number(flag, value(), 1, 1000));
    else if (flag == "--group-limit") config.group_limit = static_cast<size_t>(parse_number(flag, value(), 1, 1000));
    else if (flag == "--body-limit") config.body_limit = static_cast<size_t>(parse_number(flag, value(), 1024, 1L << 30));
    else if (flag == "--yaml-body-limit") config.yaml_body_limit = static_cast<size_t>(parse_number(flag, value(), 1024, 1L << 30));
    else if (flag == "--header-timeout") config.header_timeout_ms = static_cast<int>(parse_number(flag, value(), 100, 3600000));
    else if (flag == "--idle-timeout") config.idle_timeout_ms = static_cast<int>(parse_number(flag, value(), 100, 3600000));
    else if (flag == "--max-connections") config.max_connections = static_cast<size_t>(parse_number(flag, value(), 1, 1000000));
    else if (flag == "--long-poll-max") config.long_poll_max_ms = static_cast<int>(parse_number(flag, value(), 0, 3600000));
    else if (flag == "--auth-cache") config.auth_cache_ms = static_cast<int>(parse_number(flag, value(), 0, 3600000));
    else if (flag == "--no-auth") config.require_auth = false;
    else if (flag == "--anonymous-role") config.anonymous_role = value();
    else if (flag == "--quiet") config.log_requests = false;
    else throw std::invalid_argument("unknown flag \"" + flag + "\" (see --help)");
  }
  return config;
}

}  // namespace awf::bridge
