// awf-bridge: serves the pg_awf task API over HTTP, or manages its API clients and NL Flow keys.
#include <cstring>

#include <sys/resource.h>
#include <iostream>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "auth.hpp"
#include "config.hpp"
#include "log.hpp"
#include "server.hpp"

namespace {

// awf-bridge client add ID --role ROLE [--description TEXT] [--db CONNINFO]
int client_command(const std::vector<std::string> &args) {
  if (args.size() < 2 || args[0] != "add") {
    std::cerr << "usage: awf-bridge client add ID --role awf_executor|awf_user|awf_admin "
                 "[--description TEXT] [--db CONNINFO]\n";
    return 2;
  }
  std::string id = args[1], role, description, db;
  if (const char *url = std::getenv("AWF_DATABASE_URL"); url && *url) db = url;
  for (size_t i = 2; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(args[i] + " needs a value");
      return args[++i];
    };
    if (args[i] == "--role") role = value();
    else if (args[i] == "--description") description = value();
    else if (args[i] == "--db") db = value();
    else throw std::invalid_argument("unknown flag \"" + args[i] + "\"");
  }
  if (!awf::bridge::is_client_role(role)) {
    std::cerr << "awf-bridge client add: --role must be " << awf::bridge::kClientRoles << "\n";
    return 2;
  }
  const std::string secret = awf::bridge::new_secret();
  pqxx::connection connection(db);
  pqxx::work tx(connection);
  tx.exec_params("SELECT awf.client_put($1, $2, $3, $4)", id, awf::bridge::hash_secret(secret), role,
                 description.empty() ? std::string("created by awf-bridge client add") : description);
  tx.commit();
  std::cout << "client " << id << " (" << role << ") created; its secret is shown only once:\n"
            << "  id:     " << id << "\n"
            << "  secret: " << secret << "\n"
            << "  Basic:  curl -u '" << id << ":" << secret << "' ...\n"
            << "  Bearer: curl -H 'Authorization: Bearer " << id << "." << secret << "' ...\n";
  return 0;
}

// awf-bridge nlflow-key add WORKFLOW [--id KEYID] [--description TEXT] [--db CONNINFO]
int nlflow_key_command(const std::vector<std::string> &args) {
  if (args.size() < 2 || args[0] != "add") {
    std::cerr << "usage: awf-bridge nlflow-key add WORKFLOW_ID [--id KEY_ID] [--description TEXT] "
                 "[--db CONNINFO]\n"
                 "  Makes an API key (X-API-KEY) for an NL Flow workflow registered with\n"
                 "  SELECT awf.nlflow_workflow_put(id, name, definition, timeout_ms);\n";
    return 2;
  }
  std::string workflow = args[1], id, description, db;
  if (const char *url = std::getenv("AWF_DATABASE_URL"); url && *url) db = url;
  for (size_t i = 2; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(args[i] + " needs a value");
      return args[++i];
    };
    if (args[i] == "--id") id = value();
    else if (args[i] == "--description") description = value();
    else if (args[i] == "--db") db = value();
    else throw std::invalid_argument("unknown flag \"" + args[i] + "\"");
  }
  // The key id is not secret (it names the key in logs); 12 characters of a fresh secret do.
  if (id.empty()) id = awf::bridge::new_secret().substr(0, 12);
  const std::string secret = awf::bridge::new_secret();
  pqxx::connection connection(db);
  pqxx::work tx(connection);
  tx.exec_params("SELECT awf.nlflow_key_put($1, $2, $3, $4)", id, workflow, awf::bridge::hash_secret(secret),
                 description.empty() ? std::string("created by awf-bridge nlflow-key add") : description);
  tx.commit();
  std::cout << "API key " << id << " of NL Flow workflow " << workflow << " created; it is shown only once:\n"
            << "  X-API-KEY: " << id << "." << secret << "\n";
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    for (const auto &a : args)
      if (a == "--help" || a == "-h") {
        std::cout << awf::bridge::usage();
        return 0;
      }
    if (!args.empty() && args[0] == "client") return client_command({args.begin() + 1, args.end()});
    if (!args.empty() && args[0] == "nlflow-key") return nlflow_key_command({args.begin() + 1, args.end()});
    // Every connection is a file descriptor: allow as many as the hard limit permits.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      setrlimit(RLIMIT_NOFILE, &files);
    }
    awf::bridge::Server server(awf::bridge::parse_config(args));
    return server.run();
  } catch (const std::invalid_argument &e) {
    std::cerr << "awf-bridge: " << e.what() << "\n";
    return 2;
  } catch (const std::exception &e) {
    awf::bridge::log_event("error", "awf-bridge failed", {{"error", e.what()}});
    return 1;
  }
}
