// Helpers shared by the bridge's unit tests.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "codec.hpp"

namespace awf::bridge::test {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
inline bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;  // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;                          // surrogate
    if (cp > 0x10FFFF) return false;
    i += len;
  }
  return true;
}

namespace detail {

enum class Kind { Null, Boolean, Integer, Float, String, Array, Object, Other };

inline Kind kind_of(const nlohmann::json &v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return Kind::Null;
    case nlohmann::json::value_t::boolean: return Kind::Boolean;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return Kind::Integer;
    case nlohmann::json::value_t::number_float: return Kind::Float;
    case nlohmann::json::value_t::string: return Kind::String;
    case nlohmann::json::value_t::array: return Kind::Array;
    case nlohmann::json::value_t::object: return Kind::Object;
    default: return Kind::Other;
  }
}

inline bool same_integer(const nlohmann::json &a, const nlohmann::json &b) {
  if (a.is_number_unsigned() && b.is_number_unsigned()) return a.get<uint64_t>() == b.get<uint64_t>();
  if (!a.is_number_unsigned() && !b.is_number_unsigned()) return a.get<int64_t>() == b.get<int64_t>();
  const nlohmann::json &u = a.is_number_unsigned() ? a : b;
  const nlohmann::json &s = a.is_number_unsigned() ? b : a;
  return s.get<int64_t>() >= 0 && static_cast<uint64_t>(s.get<int64_t>()) == u.get<uint64_t>();
}

inline std::string show(const nlohmann::json &v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline bool same_typed(const nlohmann::json &a, const nlohmann::json &b, const std::string &path,
                       std::string &why) {
  if (kind_of(a) != kind_of(b)) {
    why = path + ": " + show(a) + " (" + a.type_name() + ") vs " + show(b) + " (" + b.type_name() + ")";
    return false;
  }
  bool same = true;
  switch (kind_of(a)) {
    case Kind::Integer: same = same_integer(a, b); break;
    case Kind::Float: {
      const double x = a.get<double>(), y = b.get<double>();
      same = x == y && std::signbit(x) == std::signbit(y);
      break;
    }
    case Kind::Array:
      if (a.size() != b.size()) {
        why = path + ": arrays of " + std::to_string(a.size()) + " and " + std::to_string(b.size()) + " items";
        return false;
      }
      for (size_t i = 0; i < a.size(); ++i)
        if (!same_typed(a[i], b[i], path + "[" + std::to_string(i) + "]", why)) return false;
      return true;
    case Kind::Object:
      if (a.size() != b.size()) {
        why = path + ": objects " + show(a) + " and " + show(b) + " have different keys";
        return false;
      }
      for (const auto &[key, value] : a.items()) {
        if (!b.contains(key)) {
          why = path + ": key \"" + key + "\" missing on the right";
          return false;
        }
        if (!same_typed(value, b.at(key), path + "." + key, why)) return false;
      }
      return true;
    default: same = a == b; break;
  }
  if (!same) why = path + ": " + show(a) + " vs " + show(b);
  return same;
}

}  // namespace detail

// Equal, and of the same kinds all the way down: 1 is not "1", 1 is not 1.0, -0.0 is not 0.0.
// (nlohmann's operator== alone takes 1 and 1.0 for equal.)
inline ::testing::AssertionResult SameTypedJson(const nlohmann::json &expected, const nlohmann::json &actual) {
  std::string why;
  if (detail::same_typed(expected, actual, "$", why)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << why << "\n  expected: " << detail::show(expected)
                                       << "\n  actual:   " << detail::show(actual);
}

// Decodes and expects a DecodeError; returns its message.
inline std::string decode_error(const std::string &body, Format format, const DecodeLimits &limits = {}) {
  try {
    const nlohmann::json doc = decode(body, format, limits);
    ADD_FAILURE() << "decoded without error to " << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).substr(0, 200);
  } catch (const DecodeError &e) {
    EXPECT_STRNE(e.what(), "");
    return e.what();
  } catch (const std::exception &e) {
    ADD_FAILURE() << "threw something other than DecodeError: " << e.what();
  }
  return {};
}

}  // namespace awf::bridge::test
