// Security, item 12: how awf-bridge checks a client secret or an NL Flow API key (bridge/auth.cpp),
// run against a real database. crypt_r is interposed (this executable defines it and forwards to
// libcrypt's), so the check sees every hash the bridge computes: which secret, with which
// setting. It asserts that
//   - a known client (or key) hashes the presented secret with the stored hash as the setting,
//     right and wrong secrets alike, and grants only on the right one;
//   - an unknown client id, a disabled client and an unknown key still hash the presented secret,
//     once, with a yescrypt setting of the same cost as the stored hashes (so a miss costs what a
//     hit costs: no timing is measured, machines are noisy; what is checked is the work done);
//   - constant_time_equal compares whole strings (equal, last byte differs, first byte differs,
//     prefix); secret_matches refuses malformed stored hashes.
// Usage (run by security.sh, PG* set to a superuser): environment SECURITY_CLIENT_ID,
// SECURITY_CLIENT_SECRET, SECURITY_DISABLED_ID, SECURITY_DISABLED_SECRET, SECURITY_KEY_ID,
// SECURITY_KEY_SECRET; optional SECURITY_DB (conninfo). Prints "ok - …"/"not ok - …" lines and
// "auth-check: N passed, N failed"; never prints a secret.
#include <dlfcn.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "auth.hpp"

struct crypt_data;

namespace {

struct CryptCall {
  std::string phrase;
  std::string setting;
};
std::vector<CryptCall> g_calls;  // this check is single-threaded

int g_passed = 0;
int g_failed = 0;

void check(bool ok, const std::string &what) {
  (ok ? g_passed : g_failed)++;
  std::cout << (ok ? "ok - " : "not ok - ") << what << "\n";
}

std::string env(const char *name) {
  const char *v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    std::cerr << "awf_security_auth_check: " << name << " is not set\n";
    std::exit(2);
  }
  return v;
}

// "$y$j9T$salt$hash" -> "$y$j9T$": the algorithm and its cost parameters.
std::string algorithm_and_cost(const std::string &hash) {
  if (hash.rfind("$y$", 0) != 0) return "";
  const size_t end = hash.find('$', 3);
  return end == std::string::npos ? "" : hash.substr(0, end + 1);
}

// The hashes made while running `fn`.
template <typename Fn>
std::vector<CryptCall> hashes_during(Fn fn) {
  g_calls.clear();
  fn();
  return g_calls;
}

size_t count_phrase(const std::vector<CryptCall> &calls, const std::string &phrase) {
  size_t n = 0;
  for (const auto &c : calls) n += c.phrase == phrase;
  return n;
}

const CryptCall *find_phrase(const std::vector<CryptCall> &calls, const std::string &phrase) {
  for (const auto &c : calls)
    if (c.phrase == phrase) return &c;
  return nullptr;
}

}  // namespace

extern "C" char *crypt_r(const char *phrase, const char *setting, struct crypt_data *data) {
  using Fn = char *(*)(const char *, const char *, struct crypt_data *);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "crypt_r"));
  if (real == nullptr) {
    std::cerr << "awf_security_auth_check: libcrypt's crypt_r not found\n";
    std::abort();
  }
  g_calls.push_back({phrase ? phrase : "", setting ? setting : ""});
  return real(phrase, setting, data);
}

int main() {
  using awf::bridge::Credential;
  const std::string client_id = env("SECURITY_CLIENT_ID"), client_secret = env("SECURITY_CLIENT_SECRET");
  const std::string disabled_id = env("SECURITY_DISABLED_ID"), disabled_secret = env("SECURITY_DISABLED_SECRET");
  const std::string key_id = env("SECURITY_KEY_ID"), key_secret = env("SECURITY_KEY_SECRET");
  const char *db = std::getenv("SECURITY_DB");

  try {
    pqxx::connection connection(db ? db : "");
    std::string client_hash, key_hash;
    {
      pqxx::nontransaction tx(connection);
      client_hash = tx.exec_params("SELECT secret_hash FROM awf.client WHERE id = $1", client_id).at(0).at(0).c_str();
      key_hash = tx.exec_params("SELECT secret_hash FROM awf.nlflow_api_key WHERE id = $1", key_id).at(0).at(0).c_str();
    }
    const std::string cost = algorithm_and_cost(client_hash);
    check(!cost.empty() && cost == algorithm_and_cost(key_hash),
          "the stored client and API key hashes are yescrypt with the same cost (" + cost + ")");

    // Known client: the presented secret is hashed with the stored hash as the setting.
    std::optional<std::string> role;
    auto calls = hashes_during([&] { role = awf::bridge::verify_credential(connection, {client_id, client_secret}); });
    const CryptCall *c = find_phrase(calls, client_secret);
    check(role.has_value() && c != nullptr && c->setting == client_hash && count_phrase(calls, client_secret) == 1,
          "a known client with its secret: granted (" + role.value_or("none") +
              "), the secret hashed once with the stored hash as the setting");

    const std::string wrong = client_secret.substr(0, client_secret.size() - 1) +
                              (client_secret.back() == 'A' ? 'B' : 'A');
    calls = hashes_during([&] { role = awf::bridge::verify_credential(connection, {client_id, wrong}); });
    c = find_phrase(calls, wrong);
    check(!role && c != nullptr && c->setting == client_hash && count_phrase(calls, wrong) == 1,
          "a known client with a secret that differs in its last character: refused, after one full hash of it");

    // Unknown id: refused, after the same work (one hash of the presented secret, same cost).
    const std::string unknown_secret = client_secret;  // even the right secret under a wrong id
    calls = hashes_during(
        [&] { role = awf::bridge::verify_credential(connection, {"security-no-such-client", unknown_secret}); });
    c = find_phrase(calls, unknown_secret);
    check(!role && c != nullptr && count_phrase(calls, unknown_secret) == 1 &&
              algorithm_and_cost(c->setting) == cost,
          "an unknown client id: refused, after one hash of the presented secret with a setting of the same "
          "cost (" + (c ? algorithm_and_cost(c->setting) : std::string("no hash")) + ")");

    calls = hashes_during([&] { role = awf::bridge::verify_credential(connection, {disabled_id, disabled_secret}); });
    c = find_phrase(calls, disabled_secret);
    check(!role && c != nullptr && count_phrase(calls, disabled_secret) == 1 && algorithm_and_cost(c->setting) == cost,
          "a disabled client with its right secret: refused, after one hash of the same cost");

    // NL Flow API keys go through the same check.
    std::optional<std::string> workflow;
    calls = hashes_during([&] { workflow = awf::bridge::verify_api_key(connection, {key_id, key_secret}); });
    c = find_phrase(calls, key_secret);
    check(workflow.has_value() && c != nullptr && c->setting == key_hash && count_phrase(calls, key_secret) == 1,
          "a known API key with its secret: opens its workflow, the secret hashed once against the stored hash");
    // Its first character changed (to 'W', or 'X' when it is a 'W': never the secret itself).
    const std::string wrong_key = std::string(1, key_secret.front() == 'W' ? 'X' : 'W') + key_secret.substr(1);
    calls = hashes_during([&] { workflow = awf::bridge::verify_api_key(connection, {key_id, wrong_key}); });
    c = find_phrase(calls, wrong_key);
    check(!workflow && c != nullptr && c->setting == key_hash && count_phrase(calls, wrong_key) == 1,
          "a known API key with a wrong secret: refused, after one full hash of it");
    calls = hashes_during([&] { workflow = awf::bridge::verify_api_key(connection, {"securityNoKey", key_secret}); });
    c = find_phrase(calls, key_secret);
    check(!workflow && c != nullptr && count_phrase(calls, key_secret) == 1 && algorithm_and_cost(c->setting) == cost,
          "an unknown API key id: refused, after one hash of the presented secret with a setting of the same cost");
  } catch (const std::exception &e) {
    check(false, std::string("the checks against the database ran (") + e.what() + ")");
  }

  // The comparison itself.
  using awf::bridge::constant_time_equal;
  const std::string a = "$y$j9T$abcdefghijklmnop$0123456789";
  std::string last = a, first = a;
  last.back() = 'X';
  first.front() = 'X';
  check(constant_time_equal(a, a) && !constant_time_equal(a, last) && !constant_time_equal(a, first) &&
            !constant_time_equal(a, a.substr(0, a.size() - 1)) && !constant_time_equal(a.substr(0, 5), a) &&
            constant_time_equal("", "") && !constant_time_equal("", "x"),
        "constant_time_equal: equal strings only (last or first byte differing, a prefix, empty)");
  g_calls.clear();
  check(!awf::bridge::secret_matches("anything", "*0") && !awf::bridge::secret_matches("anything", "$y$") &&
            !awf::bridge::secret_matches("", "") && !awf::bridge::secret_matches("plain", "plain"),
        "secret_matches refuses malformed stored hashes and a stored value equal to the secret in clear");

  std::cout << "auth-check: " << g_passed << " passed, " << g_failed << " failed\n";
  return g_failed == 0 ? 0 : 1;
}
