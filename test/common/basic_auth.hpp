// The test clients' HTTP Basic credential (load_check, the reliability executor and slow clients):
// base64 of "ID:SECRET" (RFC 4648, with padding).
#pragma once

#include <cstdint>
#include <string>

namespace awf::test {

inline std::string base64(const std::string &in) {
  static const char *chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(chars[(n >> 18) & 63]);
    out.push_back(chars[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? chars[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? chars[n & 63] : '=');
  }
  return out;
}

// The value of an Authorization header for "ID:SECRET".
inline std::string basic_auth(const std::string &credential) { return "Basic " + base64(credential); }

}  // namespace awf::test
