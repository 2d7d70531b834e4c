#include "core/format.hpp"

#include "core/civil_date.hpp"

#include <charconv>
#include <cstdio>

namespace awf {

namespace {
using civil::civil_from_days;
using civil::days_from_civil;
using civil::floor_div;
}  // namespace

std::string format_timestamp(PgTimestamp ts) {
  constexpr int64_t kUsecPerDay = 86400LL * 1000000LL;
  constexpr int64_t kDaysFrom1970To2000 = 10957;
  const int64_t days = floor_div(ts, kUsecPerDay);
  int64_t usec_of_day = ts - days * kUsecPerDay;
  int64_t year;
  unsigned month, day;
  civil_from_days(days + kDaysFrom1970To2000, year, month, day);
  const auto usec = static_cast<unsigned>(usec_of_day % 1000000);
  const auto secs = static_cast<unsigned>(usec_of_day / 1000000);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%06uZ",
                static_cast<long long>(year), month, day, secs / 3600, (secs / 60) % 60, secs % 60,
                usec);
  return buf;
}

std::string format_uuid(const unsigned char bytes[16]) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xF]);
  }
  return out;
}

bool is_canonical_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::optional<int64_t> parse_integral(std::string_view text) {
  const auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  if (dot != std::string_view::npos) {
    for (char c : text.substr(dot + 1))
      if (c != '0') return std::nullopt;
  }
  if (whole.empty() || whole.find_first_of("eE+") != std::string_view::npos) return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), value);
  if (ec != std::errc() || end != whole.data() + whole.size()) return std::nullopt;
  return value;
}

}  // namespace awf

namespace awf {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}


bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Reads exactly n digits at text[pos...]; advances pos.
bool read_digits(std::string_view text, size_t &pos, size_t n, int &out) {
  if (pos + n > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}
}  // namespace

bool parse_uuid(std::string_view text, unsigned char out[16]) {
  if (!is_canonical_uuid(text)) return false;
  int byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '-') {
      ++i;
      continue;
    }
    out[byte++] = static_cast<unsigned char>(hex_value(text[i]) * 16 + hex_value(text[i + 1]));
    i += 2;
  }
  return byte == 16;
}

std::optional<PgTimestamp> parse_timestamp(std::string_view text) {
  size_t pos = 0;
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, month) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, day))
    return std::nullopt;
  static const int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1) return std::nullopt;
  if (day > kDaysInMonth[month - 1] + (month == 2 && is_leap(year) ? 1 : 0)) return std::nullopt;
  int64_t usec = 0;
  int offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
    ++pos;
    if (!read_digits(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
        !read_digits(text, pos, 2, minute))
      return std::nullopt;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!read_digits(text, pos, 2, second)) return std::nullopt;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        size_t digits = 0;
        int64_t scale = 100000;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (digits < 6) usec += (text[pos] - '0') * scale;
          scale /= 10;
          ++digits;
          ++pos;
        }
        if (digits == 0 || digits > 9) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
    if (pos < text.size()) {
      const char sign = text[pos];
      if ((sign == 'Z' || sign == 'z') && pos + 1 == text.size()) {
        ++pos;
      } else if (sign == '+' || sign == '-') {
        ++pos;
        int oh, om = 0;
        if (!read_digits(text, pos, 2, oh)) return std::nullopt;
        if (pos < text.size() && text[pos] == ':') ++pos;
        if (pos < text.size() && !read_digits(text, pos, 2, om)) return std::nullopt;
        if (oh > 15 || om > 59) return std::nullopt;
        offset_minutes = (sign == '+' ? 1 : -1) * (oh * 60 + om);
      } else {
        return std::nullopt;
      }
    }
    if (pos != text.size()) return std::nullopt;
  }
  constexpr int64_t kDaysFrom1970To2000 = 10957;
  const int64_t days = days_from_civil(year, static_cast<unsigned>(month),
                                       static_cast<unsigned>(day)) - kDaysFrom1970To2000;
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000000 + usec;
}

}  // namespace awf
