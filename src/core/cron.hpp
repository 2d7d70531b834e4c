// Cron expressions for the scheduler: parsed once, then asked for the next fire time. Pure C++ and
// UTC only (civil-date arithmetic, no time zone database), so it is unit-tested alone and every
// backend computes the same fire time whatever its TimeZone setting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace awf {

// "minute hour day-of-month month day-of-week" (fires at second 0), the same with a leading
// "second", or a macro: @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly.
// Day-of-month and day-of-week combine as in Vixie cron (and pg_cron): when both fields are
// restricted a day matches if either does; a field that begins with '*' ("*", "*/2") does not
// restrict, and the day must then match both fields' sets.
class CronSchedule {
 public:
  static constexpr size_t kMaxExpressionBytes = 256;
  // How far next_after looks: 8 years of 365.25 days, so a leap day is found even across a
  // century that skips one (2096-03-01 -> 2104-02-29).
  static constexpr int64_t kHorizonSeconds = 2922LL * 86400;

  // Parses a cron expression; on error returns std::nullopt and sets *error (if error is not
  // null) to a short message that names the field and the offending text, e.g.
  // "field 2 (minute) has \"61\": out of range 0-59". Never throws.
  static std::optional<CronSchedule> parse(std::string_view expression, std::string *error);

  // The first fire time strictly after `after_unix_seconds` (UTC, whole seconds), or -1 when
  // there is none within kHorizonSeconds (e.g. "0 0 30 2 *"). Also -1 for inputs beyond
  // +-2^62 seconds (some 146 billion years), which no caller has reason to pass.
  int64_t next_after(int64_t after_unix_seconds) const;

  bool has_seconds() const;  // 6-field form

 private:
  CronSchedule() = default;
  bool day_matches(unsigned day_of_month, unsigned weekday) const;

  uint64_t seconds_ = 0;         // bit n: second n
  uint64_t minutes_ = 0;         // bit n: minute n
  uint32_t hours_ = 0;           // bit n: hour n
  uint32_t days_of_month_ = 0;   // bits 1..31
  uint16_t months_ = 0;          // bits 1..12
  uint8_t days_of_week_ = 0;     // bits 0..6, 0 = Sunday (7 is folded into 0)
  bool day_of_month_star_ = false;
  bool day_of_week_star_ = false;
  bool has_seconds_ = false;
};

}  // namespace awf
