#include "auth.hpp"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace awf::bridge {

namespace {

std::optional<std::string> base64_decode(std::string_view in) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char *chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(chars[i])] = i;
    return t;
  }();
  std::string out;
  // Only the low 14 bits are ever read; unsigned, so the shift may carry the rest off the top
  // (an int overflowed after five characters: undefined behaviour, found by fuzz_http).
  uint32_t buffer = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : in) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    const int v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (padding > 2) return std::nullopt;
  return out;
}

std::string base64url(const unsigned char *data, size_t n) {
  const char *chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t chunk = static_cast<uint32_t>(data[i]) << 16;
    if (i + 1 < n) chunk |= static_cast<uint32_t>(data[i + 1]) << 8;
    if (i + 2 < n) chunk |= data[i + 2];
    out.push_back(chars[(chunk >> 18) & 63]);
    out.push_back(chars[(chunk >> 12) & 63]);
    if (i + 1 < n) out.push_back(chars[(chunk >> 6) & 63]);
    if (i + 2 < n) out.push_back(chars[chunk & 63]);
  }
  return out;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

}  // namespace

namespace {
// A control character (NUL above all: crypt(3) would stop at it) is never part of a credential.
std::optional<Credential> checked(Credential c) {
  for (const std::string *part : {&c.client_id, &c.secret})
    for (unsigned char ch : *part)
      if (ch < 0x20 || ch == 0x7f) return std::nullopt;
  return c;
}
}  // namespace

std::optional<Credential> parse_authorization(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  if (iequals_prefix(header, "basic ")) {
    auto decoded = base64_decode(header.substr(6));
    if (!decoded) return std::nullopt;
    const size_t colon = decoded->find(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    return checked(Credential{decoded->substr(0, colon), decoded->substr(colon + 1)});
  }
  if (iequals_prefix(header, "bearer ")) {
    std::string_view token = header.substr(7);
    const size_t dot = token.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == token.size()) return std::nullopt;
    return checked(Credential{std::string(token.substr(0, dot)), std::string(token.substr(dot + 1))});
  }
  return std::nullopt;
}

std::string new_secret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for a secret");
  return base64url(bytes, sizeof bytes);
}

std::string hash_secret(const std::string &secret) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof setting) == nullptr)
    throw std::runtime_error("crypt_gensalt failed: yescrypt unavailable");
  struct crypt_data data {};
  const char *hash = crypt_r(secret.c_str(), setting, &data);
  if (hash == nullptr || hash[0] == '*') throw std::runtime_error("crypt failed");
  return hash;
}

bool is_client_role(std::string_view role) {
  return role == "awf_executor" || role == "awf_user" || role == "awf_admin";
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool secret_matches(const std::string &secret, const std::string &stored_hash) {
  struct crypt_data data {};
  const char *hash = crypt_r(secret.c_str(), stored_hash.c_str(), &data);
  if (hash == nullptr || hash[0] == '*') return false;
  return constant_time_equal(hash, stored_hash);
}

std::string CredentialCache::key(const Credential &credential) {
  std::string material = credential.client_id;
  material.push_back('\0');
  material += credential.secret;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(material.data(), material.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char *>(digest), length);
}

std::optional<std::string> CredentialCache::role_of(const Credential &credential) {
  if (ttl_.count() == 0) return std::nullopt;
  const std::string k = key(credential);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(k);
  if (it == entries_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.role;
}

void CredentialCache::remember(const Credential &credential, const std::string &role) {
  if (ttl_.count() == 0) return;
  const std::string k = key(credential);
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.size() >= 10000) entries_.clear();  // bounded: start over rather than grow
  entries_[k] = Entry{role, std::chrono::steady_clock::now() + ttl_};
}

namespace {
// Looks up a hash and what it grants; checks the secret against it in constant time. An unknown id
// costs the time of a real check too, so timing does not reveal which ids exist.
std::optional<std::string> check_secret(pqxx::connection &connection, const char *lookup_sql,
                                        const Credential &credential) {
  pqxx::nontransaction tx(connection);
  const pqxx::result r = tx.exec_params(lookup_sql, credential.client_id);
  if (r.empty() || r[0][0].is_null()) {
    static const std::string decoy = hash_secret("decoy");
    (void)secret_matches(credential.secret, decoy);
    return std::nullopt;
  }
  if (!secret_matches(credential.secret, r[0][0].c_str())) return std::nullopt;
  return std::string(r[0][1].c_str());
}
}  // namespace

std::optional<std::string> verify_credential(pqxx::connection &connection, const Credential &credential) {
  return check_secret(connection, "SELECT secret_hash, role FROM awf.client_lookup($1)", credential);
}

std::optional<std::string> verify_api_key(pqxx::connection &connection, const Credential &key) {
  return check_secret(connection, "SELECT secret_hash, workflow_id FROM awf.nlflow_key_lookup($1)", key);
}

}  // namespace awf::bridge
