// Client credentials: HTTP Basic (id:secret) or Bearer "ID.SECRET", checked against awf.client.
// Secrets are stored as crypt(3) yescrypt hashes; checking one costs milliseconds, so a verified
// credential is remembered (by its SHA-256, never in clear) for --auth-cache milliseconds.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <pqxx/pqxx>

namespace awf::bridge {

struct Credential {
  std::string client_id;
  std::string secret;
};

// nullopt for a missing or malformed header. Pure.
std::optional<Credential> parse_authorization(std::string_view header);

// The roles a client may be mapped to: the bridge assumes no other (SET LOCAL ROLE), whatever a
// row of awf.client says, so a tampered row cannot make it run requests as, say, a superuser.
bool is_client_role(std::string_view role);
inline constexpr const char *kClientRoles = "awf_executor, awf_user or awf_admin";

// A new random secret (256 bits, base64url) and its yescrypt hash.
std::string new_secret();
std::string hash_secret(const std::string &secret);
// Constant-time: hashes `secret` with the stored hash's settings and compares every byte.
bool secret_matches(const std::string &secret, const std::string &stored_hash);
bool constant_time_equal(std::string_view a, std::string_view b);

class CredentialCache {
 public:
  explicit CredentialCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}
  std::optional<std::string> role_of(const Credential &credential);
  void remember(const Credential &credential, const std::string &role);
  // SHA-256 of id and secret: how a credential is known without keeping it.
  static std::string key(const Credential &credential);

 private:
  std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  struct Entry {
    std::string role;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, Entry> entries_;
};

// Looks the client up and checks the secret (on a pool thread). The role, or nullopt when the
// client is unknown, disabled, or the secret is wrong — the caller cannot tell which.
std::optional<std::string> verify_credential(pqxx::connection &connection, const Credential &credential);

// An NL Flow API key "KEYID.SECRET" (X-API-KEY), as a credential {KEYID, SECRET}: the workflow
// it opens, or nullopt when the key is unknown or the secret wrong.
std::optional<std::string> verify_api_key(pqxx::connection &connection, const Credential &key);

}  // namespace awf::bridge
