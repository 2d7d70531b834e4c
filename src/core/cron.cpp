#include "core/cron.hpp"

#include "core/civil_date.hpp"

#include <utility>

namespace awf {

namespace {
using civil::civil_from_days;
using civil::days_from_civil;
using civil::floor_div;

// One field of the expression: its name in messages, its range and, for month and day-of-week,
// the three-letter names (names[i] denotes name_base + i).
struct FieldSpec {
  const char *name;
  unsigned lo, hi;
  const char *const *names;
  unsigned name_base;
  size_t name_count;
};

const char *const kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char *const kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const FieldSpec kSecond = {"second", 0, 59, nullptr, 0, 0};
const FieldSpec kMinute = {"minute", 0, 59, nullptr, 0, 0};
const FieldSpec kHour = {"hour", 0, 23, nullptr, 0, 0};
const FieldSpec kDayOfMonth = {"day-of-month", 1, 31, nullptr, 0, 0};
const FieldSpec kMonth = {"month", 1, 12, kMonthNames, 1, 12};
const FieldSpec kDayOfWeek = {"day-of-week", 0, 7, kDayNames, 0, 7};

constexpr size_t kMaxDigits = 9;

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (to_upper(a[i]) != to_upper(b[i])) return false;
  return true;
}

void set_error(std::string *error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

// Reports a bad field: field <position> (<name>) has "<text>": <reason>.
bool fail(std::string *error, int position, const FieldSpec &spec, std::string_view text,
          std::string_view reason) {
  if (error == nullptr) return false;
  std::string message = "field " + std::to_string(position) + " (" + spec.name + ") has \"";
  message.append(text);
  message += "\": ";
  message.append(reason);
  *error = std::move(message);
  return false;
}

std::string unexpected(char c) { return std::string("unexpected character '") + c + "'"; }

// Parses a number or a name at item[*i], advancing *i past it.
bool parse_value(std::string_view item, size_t *i, const FieldSpec &spec, int position,
                 std::string *error, unsigned *value) {
  const size_t start = *i;
  size_t end = start;
  if (end < item.size() && is_digit(item[end])) {
    while (end < item.size() && is_digit(item[end])) ++end;
    const std::string_view token = item.substr(start, end - start);
    if (token.size() > kMaxDigits) return fail(error, position, spec, token, "more than 9 digits");
    unsigned v = 0;
    for (char c : token) v = v * 10 + static_cast<unsigned>(c - '0');
    if (v < spec.lo || v > spec.hi) {
      return fail(error, position, spec, token,
                  "out of range " + std::to_string(spec.lo) + "-" + std::to_string(spec.hi));
    }
    *value = v;
  } else if (end < item.size() && is_letter(item[end])) {
    while (end < item.size() && is_letter(item[end])) ++end;
    const std::string_view token = item.substr(start, end - start);
    if (spec.names == nullptr) {
      return fail(error, position, spec, token, "names are allowed only in month and day-of-week");
    }
    size_t k = 0;
    while (k < spec.name_count && !equals_ignoring_case(token, spec.names[k])) ++k;
    if (k == spec.name_count) return fail(error, position, spec, token, "unknown name");
    *value = spec.name_base + static_cast<unsigned>(k);
  } else if (end < item.size()) {
    return fail(error, position, spec, item, unexpected(item[end]));
  } else {
    return fail(error, position, spec, item, "missing value");
  }
  *i = end;
  return true;
}

// Parses one field ("*/15", "1-5,10", "MON-FRI") into a bit set over [spec.lo, spec.hi].
bool parse_field(std::string_view text, const FieldSpec &spec, int position, std::string *error,
                 uint64_t *bits) {
  *bits = 0;
  size_t from = 0;
  for (;;) {
    const size_t comma = text.find(',', from);
    const std::string_view item =
        text.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from);
    if (item.empty()) return fail(error, position, spec, text, "empty list item");

    size_t i = 0;
    unsigned first = spec.lo, last = spec.hi;
    bool single = false;
    if (item[0] == '*') {
      i = 1;
    } else {
      if (!parse_value(item, &i, spec, position, error, &first)) return false;
      last = first;
      single = true;
      if (i < item.size() && item[i] == '-') {
        ++i;
        if (!parse_value(item, &i, spec, position, error, &last)) return false;
        if (first > last) {
          return fail(error, position, spec, item, "range start is greater than its end");
        }
        single = false;
      }
    }
    uint64_t step = 1;
    if (i < item.size() && item[i] == '/') {
      ++i;
      const size_t start = i;
      while (i < item.size() && is_digit(item[i])) ++i;
      const std::string_view digits = item.substr(start, i - start);
      if (digits.empty()) {
        return fail(error, position, spec, item,
                    i < item.size() ? unexpected(item[i]) : std::string("missing step after '/'"));
      }
      if (digits.size() > kMaxDigits) {
        return fail(error, position, spec, digits, "more than 9 digits");
      }
      step = 0;
      for (char c : digits) step = step * 10 + static_cast<uint64_t>(c - '0');
      if (step < 1) return fail(error, position, spec, item, "step must be at least 1");
      if (single) last = spec.hi;  // "N/S": from N to the field's maximum
    }
    if (i < item.size()) return fail(error, position, spec, item, unexpected(item[i]));
    for (uint64_t v = first; v <= last; v += step) *bits |= uint64_t{1} << v;

    if (comma == std::string_view::npos) return true;
    from = comma + 1;
  }
}

struct Macro {
  const char *name;
  const char *expansion;
};

const Macro kMacros[] = {
    {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},  {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};


// The lowest set bit of `bits` at or above `from`, or -1.
int next_bit(uint64_t bits, unsigned from) {
  if (from >= 64) return -1;
  const uint64_t rest = bits & (~uint64_t{0} << from);
  if (rest == 0) return -1;
  int n = 0;
  while (((rest >> n) & 1) == 0) ++n;
  return n;
}

constexpr int64_t kSecondsPerDay = 86400;

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(std::string_view expression, std::string *error) {
  if (expression.size() > kMaxExpressionBytes) {
    set_error(error, "expression is longer than " + std::to_string(kMaxExpressionBytes) + " bytes");
    return std::nullopt;
  }
  // The first six fields, and how many there are in all.
  std::string_view fields[6];
  size_t field_count = 0;
  for (size_t i = 0; i < expression.size();) {
    if (is_blank(expression[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < expression.size() && !is_blank(expression[i])) ++i;
    if (field_count < 6) fields[field_count] = expression.substr(start, i - start);
    ++field_count;
  }
  if (field_count == 0) {
    set_error(error, "empty expression");
    return std::nullopt;
  }

  if (fields[0][0] == '@') {
    for (const Macro &macro : kMacros) {
      if (!equals_ignoring_case(fields[0], macro.name)) continue;
      if (field_count > 1) {
        set_error(error, "macro \"" + std::string(fields[0]) + "\" takes no fields, found \"" +
                             std::string(fields[1]) + "\"");
        return std::nullopt;
      }
      return parse(macro.expansion, error);
    }
    set_error(error, "unknown macro \"" + std::string(fields[0]) +
                         "\" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight "
                         "or @hourly)");
    return std::nullopt;
  }

  if (field_count != 5 && field_count != 6) {
    const char *noun = field_count == 1 ? " field" : " fields";
    set_error(error, "found " + std::to_string(field_count) + noun +
                         ", expected 5 (minute hour day-of-month month day-of-week) or 6 (with "
                         "a leading second)");
    return std::nullopt;
  }

  CronSchedule schedule;
  schedule.has_seconds_ = field_count == 6;
  const size_t offset = schedule.has_seconds_ ? 1 : 0;
  const FieldSpec *const specs[] = {&kMinute, &kHour, &kDayOfMonth, &kMonth, &kDayOfWeek};
  uint64_t bits[5];
  if (schedule.has_seconds_) {
    if (!parse_field(fields[0], kSecond, 1, error, &schedule.seconds_)) return std::nullopt;
  } else {
    schedule.seconds_ = 1;  // second 0
  }
  for (size_t k = 0; k < 5; ++k) {
    const int position = static_cast<int>(k + offset + 1);
    if (!parse_field(fields[k + offset], *specs[k], position, error, &bits[k])) return std::nullopt;
  }
  schedule.minutes_ = bits[0];
  schedule.hours_ = static_cast<uint32_t>(bits[1]);
  schedule.days_of_month_ = static_cast<uint32_t>(bits[2]);
  schedule.months_ = static_cast<uint16_t>(bits[3]);
  schedule.days_of_week_ = static_cast<uint8_t>((bits[4] | (bits[4] >> 7)) & 0x7F);
  schedule.day_of_month_star_ = fields[offset + 2][0] == '*';
  schedule.day_of_week_star_ = fields[offset + 4][0] == '*';
  return schedule;
}

bool CronSchedule::has_seconds() const { return has_seconds_; }

bool CronSchedule::day_matches(unsigned day_of_month, unsigned weekday) const {
  const bool dom = (days_of_month_ >> day_of_month) & 1;
  const bool dow = (days_of_week_ >> weekday) & 1;
  // Vixie cron: either field unrestricted -> both sets apply; both restricted -> either.
  if (day_of_month_star_ || day_of_week_star_) return dom && dow;
  return dom || dow;
}

int64_t CronSchedule::next_after(int64_t after_unix_seconds) const {
  // Far beyond any calendar in use; keeps every step below (a month past the horizon at most)
  // clear of int64 overflow.
  constexpr int64_t kBound = int64_t{1} << 62;
  if (after_unix_seconds < -kBound || after_unix_seconds > kBound) return -1;
  const int64_t limit = after_unix_seconds + kHorizonSeconds;
  int64_t t = after_unix_seconds + 1;
  // Each pass either returns or moves t forward to the start of the next candidate month, day,
  // hour or minute (resetting the smaller units), so passes are bounded by about the number of
  // days in the horizon plus a few per matching day.
  while (t <= limit) {
    const int64_t days = floor_div(t, kSecondsPerDay);
    const int64_t day_start = days * kSecondsPerDay;
    const auto second_of_day = static_cast<unsigned>(t - day_start);
    const unsigned hour = second_of_day / 3600;
    const unsigned minute = (second_of_day / 60) % 60;
    const unsigned second = second_of_day % 60;
    int64_t year;
    unsigned month, day;
    civil_from_days(days, year, month, day);

    if (((months_ >> month) & 1) == 0) {
      t = days_from_civil(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1) *
          kSecondsPerDay;
      continue;
    }
    const int64_t since_sunday = days + 4;  // 1970-01-01 was a Thursday
    const auto weekday = static_cast<unsigned>(since_sunday - floor_div(since_sunday, 7) * 7);
    if (!day_matches(day, weekday)) {
      t = day_start + kSecondsPerDay;
      continue;
    }
    const int h = next_bit(hours_, hour);
    if (h < 0) {
      t = day_start + kSecondsPerDay;
      continue;
    }
    if (static_cast<unsigned>(h) != hour) {
      t = day_start + h * 3600;
      continue;
    }
    const int m = next_bit(minutes_, minute);
    if (m < 0) {
      t = day_start + (hour + 1) * 3600;
      continue;
    }
    if (static_cast<unsigned>(m) != minute) {
      t = day_start + hour * 3600 + m * 60;
      continue;
    }
    const int s = next_bit(seconds_, second);
    if (s < 0) {
      t = day_start + hour * 3600 + (minute + 1) * 60;
      continue;
    }
    t = day_start + hour * 3600 + minute * 60 + s;
    return t <= limit ? t : -1;
  }
  return -1;
}

}  // namespace awf
