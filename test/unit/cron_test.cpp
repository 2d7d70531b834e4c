#include "core/cron.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace awf {
namespace {

// Unix seconds of a UTC civil time, counted by plain loops so that it checks, rather than
// repeats, the arithmetic in cron.cpp. Years 1900..2200 are plenty here.
bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}
int64_t days_since_epoch(int y, int m, int d) {
  int64_t days = 0;
  for (int year = 1970; year < y; ++year) days += is_leap(year) ? 366 : 365;
  for (int year = y; year < 1970; ++year) days -= is_leap(year) ? 366 : 365;
  for (int month = 1; month < m; ++month) days += days_in_month(y, month);
  return days + d - 1;
}
int64_t utc(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  return days_since_epoch(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

CronSchedule must_parse(const std::string &expression) {
  std::string error;
  const auto schedule = CronSchedule::parse(expression, &error);
  EXPECT_TRUE(schedule.has_value()) << expression << ": " << error;
  return schedule ? *schedule : *CronSchedule::parse("* * * * *", nullptr);
}

int64_t next(const std::string &expression, int64_t after) {
  return must_parse(expression).next_after(after);
}

std::string parse_error(const std::string &expression) {
  std::string error;
  const auto schedule = CronSchedule::parse(expression, &error);
  EXPECT_FALSE(schedule.has_value()) << expression;
  EXPECT_FALSE(error.empty()) << expression;
  return error;
}

TEST(CronHelper, AgreesWithDateCommand) {
  // Each literal from `date -u -d '...' +%s`.
  EXPECT_EQ(utc(2028, 2, 29), 1835395200);
  EXPECT_EQ(utc(2025, 3, 1), 1740787200);
  EXPECT_EQ(utc(2104, 2, 29), 4233686400);
  EXPECT_EQ(utc(2096, 3, 1), 3981398400);
  EXPECT_EQ(utc(2025, 3, 10, 9, 0), 1741597200);
  EXPECT_EQ(utc(2024, 12, 31, 23, 59, 59), 1735689599);
  EXPECT_EQ(utc(1969, 12, 31, 23, 59, 59), -1);
}

TEST(CronNext, EverySecond) {
  const CronSchedule every = must_parse("* * * * * *");
  EXPECT_TRUE(every.has_seconds());
  for (int64_t t : {int64_t{0}, int64_t{-5}, utc(2025, 6, 30, 23, 59, 59), utc(2024, 2, 28, 12)})
    EXPECT_EQ(every.next_after(t), t + 1) << t;
}

TEST(CronNext, FiveFieldsFireAtSecondZero) {
  const CronSchedule every = must_parse("* * * * *");
  EXPECT_FALSE(every.has_seconds());
  EXPECT_EQ(every.next_after(utc(2025, 5, 4, 10, 20, 0)), utc(2025, 5, 4, 10, 21, 0));
  EXPECT_EQ(every.next_after(utc(2025, 5, 4, 10, 20, 1)), utc(2025, 5, 4, 10, 21, 0));
  EXPECT_EQ(every.next_after(utc(2025, 5, 4, 10, 20, 59)), utc(2025, 5, 4, 10, 21, 0));
}

TEST(CronNext, EveryFiveMinutes) {
  EXPECT_EQ(next("*/5 * * * *", utc(2025, 5, 4, 12, 3, 27)), utc(2025, 5, 4, 12, 5));
  EXPECT_EQ(next("*/5 * * * *", utc(2025, 5, 4, 12, 5)), utc(2025, 5, 4, 12, 10));
  EXPECT_EQ(next("*/5 * * * *", utc(2025, 5, 4, 23, 55)), utc(2025, 5, 5, 0, 0));
}

TEST(CronNext, WeekdaysSkipTheWeekend) {
  // 2025-03-07 is a Friday, 2025-03-10 a Monday.
  EXPECT_EQ(next("0 9 * * MON-FRI", utc(2025, 3, 7, 10, 0)), utc(2025, 3, 10, 9, 0));
  EXPECT_EQ(next("0 9 * * MON-FRI", utc(2025, 3, 7, 8, 59, 59)), utc(2025, 3, 7, 9, 0));
  EXPECT_EQ(next("0 9 * * 1-5", utc(2025, 3, 8, 9, 0)), utc(2025, 3, 10, 9, 0));
}

TEST(CronNext, LeapDay) {
  EXPECT_EQ(next("0 0 29 2 *", utc(2025, 3, 1)), utc(2028, 2, 29));
  EXPECT_EQ(next("0 0 29 2 *", utc(2025, 3, 1)), 1835395200);
  EXPECT_EQ(next("0 0 29 2 *", utc(2024, 2, 28, 23, 59, 59)), utc(2024, 2, 29));
  // 2100 is not a leap year: the next leap day after 2096's is just inside the 8-year horizon.
  EXPECT_EQ(next("0 0 29 FEB *", utc(2096, 3, 1)), utc(2104, 2, 29));
}

TEST(CronNext, NeverReturnsMinusOne) {
  EXPECT_EQ(next("0 0 30 2 *", utc(2025, 1, 1)), -1);
  EXPECT_EQ(next("0 0 31 4,6,9,11 *", utc(2025, 1, 1)), -1);
  EXPECT_EQ(next("* * * 30 2 *", 0), -1);
}

TEST(CronNext, HorizonIsEightYears) {
  // February 1st on a Monday ("*/31" is just the 1st, but beginning with '*' it makes both day
  // fields apply): 2027, then not until 2038. A fire time exactly at the horizon still counts;
  // one a second beyond it does not.
  const CronSchedule s = must_parse("0 0 */31 2 MON");
  EXPECT_EQ(s.next_after(utc(2021, 2, 1)), utc(2027, 2, 1));
  EXPECT_EQ(s.next_after(utc(2027, 2, 1)), -1);
  EXPECT_EQ(s.next_after(utc(2038, 2, 1) - CronSchedule::kHorizonSeconds), utc(2038, 2, 1));
  EXPECT_EQ(s.next_after(utc(2038, 2, 1) - CronSchedule::kHorizonSeconds - 1), -1);
}

TEST(CronNext, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // Vixie cron: the 13th of every month and every Friday. January 2025: Fridays 3, 10, 17, 24,
  // 31; the 13th is a Monday.
  const CronSchedule s = must_parse("0 0 13 * FRI");
  std::vector<int64_t> fires;
  for (int64_t t = utc(2025, 1, 1); fires.size() < 6; t = fires.back())
    fires.push_back(s.next_after(t));
  EXPECT_EQ(fires, (std::vector<int64_t>{utc(2025, 1, 3), utc(2025, 1, 10), utc(2025, 1, 13),
                                         utc(2025, 1, 17), utc(2025, 1, 24), utc(2025, 1, 31)}));
}

TEST(CronNext, OnlyTheRestrictedDayFieldCounts) {
  EXPECT_EQ(next("0 0 13 * *", utc(2025, 1, 1)), utc(2025, 1, 13));
  EXPECT_EQ(next("0 0 * * FRI", utc(2025, 1, 1)), utc(2025, 1, 3));
  // A field beginning with '*' does not restrict, as in Vixie cron and pg_cron, so its set and
  // the other field's must both match: Fridays that fall on an odd day.
  EXPECT_EQ(next("0 0 */2 * FRI", utc(2025, 1, 1)), utc(2025, 1, 3));
  EXPECT_EQ(next("0 0 */2 * FRI", utc(2025, 1, 3)), utc(2025, 1, 17));
  EXPECT_EQ(next("0 0 13 * */1", utc(2025, 1, 1)), utc(2025, 1, 13));
}

TEST(CronNext, Macros) {
  const int64_t t = utc(2025, 5, 4, 10, 20, 30);  // a Sunday
  EXPECT_EQ(next("@hourly", t), utc(2025, 5, 4, 11));
  EXPECT_EQ(next("@daily", t), utc(2025, 5, 5));
  EXPECT_EQ(next("@midnight", t), utc(2025, 5, 5));
  EXPECT_EQ(next("@weekly", t), utc(2025, 5, 11));
  EXPECT_EQ(next("@monthly", t), utc(2025, 6, 1));
  EXPECT_EQ(next("@yearly", t), utc(2026, 1, 1));
  EXPECT_EQ(next("@annually", t), utc(2026, 1, 1));
  EXPECT_EQ(next("  @HOURLY\t", t), utc(2025, 5, 4, 11));
  EXPECT_FALSE(must_parse("@hourly").has_seconds());
}

TEST(CronNext, Rollovers) {
  EXPECT_EQ(next("* * * * * *", utc(2024, 12, 31, 23, 59, 59)), utc(2025, 1, 1));
  EXPECT_EQ(next("* * * * *", utc(2024, 12, 31, 23, 59, 30)), utc(2025, 1, 1));
  EXPECT_EQ(next("0 0 1 * *", utc(2025, 1, 31, 12)), utc(2025, 2, 1));
  EXPECT_EQ(next("0 0 31 * *", utc(2025, 1, 31)), utc(2025, 3, 31));
  EXPECT_EQ(next("59 23 31 12 *", utc(2025, 12, 31, 23, 59)), utc(2026, 12, 31, 23, 59));
  EXPECT_EQ(next("0 0 1 1 *", utc(2024, 12, 31, 23, 59, 59)), utc(2025, 1, 1));
  EXPECT_EQ(next("30 * * * * *", utc(2025, 4, 30, 23, 59, 31)), utc(2025, 5, 1, 0, 0, 30));
}

TEST(CronNext, StrictlyAfter) {
  EXPECT_EQ(next("0 12 * * *", utc(2025, 5, 4, 12)), utc(2025, 5, 5, 12));
  EXPECT_EQ(next("0 12 * * *", utc(2025, 5, 4, 12) - 1), utc(2025, 5, 4, 12));
  EXPECT_EQ(next("*/10 * * * * *", utc(2025, 5, 4, 12, 0, 10)), utc(2025, 5, 4, 12, 0, 20));
}

TEST(CronNext, SevenIsSunday) {
  // 2025-05-04 is a Sunday.
  for (const char *expression : {"0 0 * * 7", "0 0 * * 0", "0 0 * * SUN", "0 0 * * sun",
                                 "0 0 * * 6-7", "0 0 * * 0,7"}) {
    EXPECT_EQ(next(expression, utc(2025, 4, 28)), expression == std::string("0 0 * * 6-7")
                                                       ? utc(2025, 5, 3)
                                                       : utc(2025, 5, 4))
        << expression;
    EXPECT_EQ(next(expression, utc(2025, 5, 3, 12)), utc(2025, 5, 4)) << expression;
  }
}

TEST(CronNext, BeforeTheEpoch) {
  EXPECT_EQ(next("0 0 1 1 *", -86400 * 300), 0);
  EXPECT_EQ(next("0 0 1 1 *", -86400 * 400), utc(1969, 1, 1));
  EXPECT_EQ(next("0 0 * * *", utc(1969, 3, 1, 5)), utc(1969, 3, 2));
}

TEST(CronNext, ExtremeInputs) {
  const CronSchedule every = must_parse("* * * * * *");
  EXPECT_EQ(every.next_after(INT64_MAX), -1);
  EXPECT_EQ(every.next_after(INT64_MIN), -1);
  const int64_t bound = int64_t{1} << 62;
  EXPECT_EQ(every.next_after(bound), bound + 1);
  EXPECT_EQ(every.next_after(bound + 1), -1);
  EXPECT_EQ(every.next_after(-bound), -bound + 1);
  EXPECT_EQ(every.next_after(-bound - 1), -1);
  EXPECT_EQ(must_parse("0 0 30 2 *").next_after(bound), -1);
  // 9999-12-31T23:59:59Z (`date -u -d '9999-12-31 23:59:59' +%s`) -> 10000-01-01.
  EXPECT_EQ(must_parse("@yearly").next_after(253402300799), 253402300800);
}

TEST(CronNext, WorstCasesAreQuick) {
  // Each of these walks the whole horizon; thousands of calls stay well within a test's time.
  const CronSchedule never = must_parse("0 0 30 2 *");
  const CronSchedule rare = must_parse("59 59 23 31 12 SUN");
  int64_t last = 0;
  for (int i = 0; i < 2000; ++i) {
    EXPECT_EQ(never.next_after(utc(2000, 1, 1) + i * 3607), -1);
    last = rare.next_after(utc(2000, 1, 1) + i * 3607);
  }
  EXPECT_NE(last, -1);  // December 31 or any Sunday in December
}

TEST(CronParse, Syntax) {
  EXPECT_EQ(next("10/15 * * * *", utc(2025, 5, 4, 12, 11)), utc(2025, 5, 4, 12, 25));
  EXPECT_EQ(next("10/15 * * * *", utc(2025, 5, 4, 12, 55)), utc(2025, 5, 4, 13, 10));
  EXPECT_EQ(next("0 8-18/5 * * *", utc(2025, 5, 4, 13, 1)), utc(2025, 5, 4, 18));
  EXPECT_EQ(next("0 8-18/5 * * *", utc(2025, 5, 4, 18, 1)), utc(2025, 5, 5, 8));
  EXPECT_EQ(next("0 0 1 jan,Jul *", utc(2025, 2, 1)), utc(2025, 7, 1));
  EXPECT_EQ(next("0 0 1 Mar-may/2 *", utc(2025, 3, 2)), utc(2025, 5, 1));
  EXPECT_EQ(next("  0\t\t9  *   * *  ", utc(2025, 5, 4, 9)), utc(2025, 5, 5, 9));
  EXPECT_EQ(next("000000005 * * * *", utc(2025, 5, 4, 9)), utc(2025, 5, 4, 9, 5));  // 9 digits
  EXPECT_EQ(next("*/100 * * * *", utc(2025, 5, 4, 9, 1)), utc(2025, 5, 4, 10, 0));
  EXPECT_EQ(next("1,2,3,58-59 * * * *", utc(2025, 5, 4, 9, 3)), utc(2025, 5, 4, 9, 58));
}

TEST(CronParse, LongestExpression) {
  std::string expression = "* * * * *";
  expression.resize(CronSchedule::kMaxExpressionBytes, ' ');
  EXPECT_TRUE(CronSchedule::parse(expression, nullptr).has_value());
  expression.push_back(' ');
  EXPECT_EQ(parse_error(expression), "expression is longer than 256 bytes");
}

TEST(CronParse, NullErrorIsAllowed) {
  EXPECT_FALSE(CronSchedule::parse("bad", nullptr).has_value());
  EXPECT_FALSE(CronSchedule::parse("61 * * * *", nullptr).has_value());
}

TEST(CronParse, EmptyExpression) {
  EXPECT_EQ(parse_error(""), "empty expression");
  EXPECT_EQ(parse_error(" \t "), "empty expression");
}

TEST(CronParse, WrongFieldCount) {
  const std::string expected =
      ", expected 5 (minute hour day-of-month month day-of-week) or 6 (with a leading second)";
  EXPECT_EQ(parse_error("*"), "found 1 field" + expected);
  EXPECT_EQ(parse_error("* * * *"), "found 4 fields" + expected);
  EXPECT_EQ(parse_error("* * * * * * *"), "found 7 fields" + expected);
}

TEST(CronParse, OutOfRange) {
  EXPECT_EQ(parse_error("0 61 * * * *"), "field 2 (minute) has \"61\": out of range 0-59");
  EXPECT_EQ(parse_error("61 * * * *"), "field 1 (minute) has \"61\": out of range 0-59");
  EXPECT_EQ(parse_error("60 * * * * *"), "field 1 (second) has \"60\": out of range 0-59");
  EXPECT_EQ(parse_error("* 24 * * *"), "field 2 (hour) has \"24\": out of range 0-23");
  EXPECT_EQ(parse_error("* * 0 * *"), "field 3 (day-of-month) has \"0\": out of range 1-31");
  EXPECT_EQ(parse_error("* * 1-32 * *"), "field 3 (day-of-month) has \"32\": out of range 1-31");
  EXPECT_EQ(parse_error("* * * 13 *"), "field 4 (month) has \"13\": out of range 1-12");
  EXPECT_EQ(parse_error("* * * 0 *"), "field 4 (month) has \"0\": out of range 1-12");
  EXPECT_EQ(parse_error("* * * * 8"), "field 5 (day-of-week) has \"8\": out of range 0-7");
  EXPECT_EQ(parse_error("0 * * * * 8"), "field 6 (day-of-week) has \"8\": out of range 0-7");
}

TEST(CronParse, UnknownNames) {
  EXPECT_EQ(parse_error("* * * FOO *"), "field 4 (month) has \"FOO\": unknown name");
  EXPECT_EQ(parse_error("* * * * MONDAY"), "field 5 (day-of-week) has \"MONDAY\": unknown name");
  EXPECT_EQ(parse_error("* * * MON *"), "field 4 (month) has \"MON\": unknown name");
  EXPECT_EQ(parse_error("* JAN * * *"),
            "field 2 (hour) has \"JAN\": names are allowed only in month and day-of-week");
}

TEST(CronParse, GarbageCharacters) {
  EXPECT_EQ(parse_error("5x * * * *"), "field 1 (minute) has \"5x\": unexpected character 'x'");
  EXPECT_EQ(parse_error("$ * * * *"), "field 1 (minute) has \"$\": unexpected character '$'");
  EXPECT_EQ(parse_error("-5 * * * *"), "field 1 (minute) has \"-5\": unexpected character '-'");
  EXPECT_EQ(parse_error("* * * * 1#2"),
            "field 5 (day-of-week) has \"1#2\": unexpected character '#'");
  EXPECT_EQ(parse_error("*5 * * * *"), "field 1 (minute) has \"*5\": unexpected character '5'");
  EXPECT_EQ(parse_error("*/x * * * *"), "field 1 (minute) has \"*/x\": unexpected character 'x'");
  EXPECT_EQ(parse_error("1-2-3 * * * *"),
            "field 1 (minute) has \"1-2-3\": unexpected character '-'");
  EXPECT_EQ(parse_error("5- * * * *"), "field 1 (minute) has \"5-\": missing value");
  EXPECT_EQ(parse_error("*/ * * * *"), "field 1 (minute) has \"*/\": missing step after '/'");
  EXPECT_EQ(parse_error("? * * * *"), "field 1 (minute) has \"?\": unexpected character '?'");
  EXPECT_EQ(parse_error("* * L * *"),
            "field 3 (day-of-month) has \"L\": names are allowed only in month and day-of-week");
  // Only spaces and tabs separate fields.
  EXPECT_EQ(parse_error("0 0 * * *\n"),
            "field 5 (day-of-week) has \"*\n\": unexpected character '\n'");
}

TEST(CronParse, TooManyDigits) {
  EXPECT_EQ(parse_error("0000000005 * * * *"),
            "field 1 (minute) has \"0000000005\": more than 9 digits");
  EXPECT_EQ(parse_error("*/1234567890 * * * *"),
            "field 1 (minute) has \"1234567890\": more than 9 digits");
  EXPECT_EQ(parse_error("* * * * * 99999999999999999999"),
            "field 6 (day-of-week) has \"99999999999999999999\": more than 9 digits");
  EXPECT_EQ(parse_error("* 999999999 * * *"),
            "field 2 (hour) has \"999999999\": out of range 0-23");
}

TEST(CronParse, Steps) {
  EXPECT_EQ(parse_error("*/0 * * * *"), "field 1 (minute) has \"*/0\": step must be at least 1");
  EXPECT_EQ(parse_error("* * * 1-6/0 *"), "field 4 (month) has \"1-6/0\": step must be at least 1");
  EXPECT_EQ(parse_error("5/0 * * * *"), "field 1 (minute) has \"5/0\": step must be at least 1");
  EXPECT_EQ(parse_error("*/-1 * * * *"), "field 1 (minute) has \"*/-1\": unexpected character '-'");
}

TEST(CronParse, RangeBackwards) {
  EXPECT_EQ(parse_error("* * * * FRI-MON"),
            "field 5 (day-of-week) has \"FRI-MON\": range start is greater than its end");
  EXPECT_EQ(parse_error("30-10 * * * *"),
            "field 1 (minute) has \"30-10\": range start is greater than its end");
  EXPECT_TRUE(CronSchedule::parse("10-10 * * * *", nullptr).has_value());
}

TEST(CronParse, EmptyListItems) {
  EXPECT_EQ(parse_error("1,,2 * * * *"), "field 1 (minute) has \"1,,2\": empty list item");
  EXPECT_EQ(parse_error("1, * * * *"), "field 1 (minute) has \"1,\": empty list item");
  EXPECT_EQ(parse_error(",1 * * * *"), "field 1 (minute) has \",1\": empty list item");
  EXPECT_EQ(parse_error("* * * JAN, *"), "field 4 (month) has \"JAN,\": empty list item");
}

TEST(CronParse, Macros) {
  EXPECT_EQ(parse_error("@reboot"),
            "unknown macro \"@reboot\" (expected @yearly, @annually, @monthly, @weekly, @daily, "
            "@midnight or @hourly)");
  EXPECT_EQ(parse_error("@daily 5"), "macro \"@daily\" takes no fields, found \"5\"");
  EXPECT_EQ(parse_error("@"),
            "unknown macro \"@\" (expected @yearly, @annually, @monthly, @weekly, @daily, "
            "@midnight or @hourly)");
}

// next_after against a brute-force walk over every minute (or second) of a window, with the
// expected matches written as predicates.
struct Civil {
  int year, month, day, weekday, hour, minute, second;
};

void check_against_brute_force(const std::string &expression,
                               const std::function<bool(const Civil &)> &matches, int from_year,
                               int from_month, int day_count, bool by_second) {
  const CronSchedule schedule = must_parse(expression);
  const int64_t start = utc(from_year, from_month, 1);
  std::vector<int64_t> expected;
  Civil c{from_year, from_month, 1, 0, 0, 0, 0};
  for (int n = 0; n < day_count; ++n) {
    const int64_t day_start = start + int64_t{n} * 86400;
    c.weekday = static_cast<int>(((day_start / 86400 + 4) % 7 + 7) % 7);
    for (c.hour = 0; c.hour < 24; ++c.hour)
      for (c.minute = 0; c.minute < 60; ++c.minute)
        for (c.second = 0; c.second < (by_second ? 60 : 1); ++c.second)
          if (matches(c)) expected.push_back(day_start + c.hour * 3600 + c.minute * 60 + c.second);
    if (++c.day > days_in_month(c.year, c.month)) {
      c.day = 1;
      if (++c.month > 12) {
        c.month = 1;
        ++c.year;
      }
    }
  }
  const int64_t end = start + int64_t{day_count} * 86400;
  std::vector<int64_t> actual;
  for (int64_t t = schedule.next_after(start - 1); t != -1 && t < end; t = schedule.next_after(t))
    actual.push_back(t);
  EXPECT_EQ(actual.size(), expected.size()) << expression;
  EXPECT_TRUE(actual == expected) << expression;
}

TEST(CronNext, AgreesWithBruteForceByMinute) {
  // 2023-12-01 .. 2025-01-04: a leap February, two year ends, every weekday of every month.
  const int days = 400;
  check_against_brute_force(
      "*/7 3-5 * * MON", [](const Civil &c) {
        return c.minute % 7 == 0 && c.hour >= 3 && c.hour <= 5 && c.weekday == 1;
      },
      2023, 12, days, false);
  check_against_brute_force(
      "0 0 13 * FRI",
      [](const Civil &c) {
        return c.hour == 0 && c.minute == 0 && (c.day == 13 || c.weekday == 5);
      },
      2023, 12, days, false);
  check_against_brute_force(
      "30 12 */2 * FRI",
      [](const Civil &c) {
        return c.hour == 12 && c.minute == 30 && c.day % 2 == 1 && c.weekday == 5;
      },
      2023, 12, days, false);
  check_against_brute_force(
      "15,45 */6 1-7 JAN,MAR-MAY 7",
      [](const Civil &c) {
        const bool month = c.month == 1 || (c.month >= 3 && c.month <= 5);
        return (c.minute == 15 || c.minute == 45) && c.hour % 6 == 0 && month &&
               (c.day <= 7 || c.weekday == 0);
      },
      2023, 12, days, false);
  check_against_brute_force(
      "59 23 29-31 * *",
      [](const Civil &c) { return c.hour == 23 && c.minute == 59 && c.day >= 29; }, 2023, 12,
      days, false);
  check_against_brute_force(
      "0 0 * FEB SAT,SUN",
      [](const Civil &c) {
        return c.hour == 0 && c.minute == 0 && c.month == 2 && (c.weekday == 6 || c.weekday == 0);
      },
      2023, 12, days, false);
  check_against_brute_force(
      "5-55/25 1/9 * * *",
      [](const Civil &c) { return c.minute % 25 == 5 && c.hour % 9 == 1; }, 2023, 12, days,
      false);
}

TEST(CronNext, AgreesWithBruteForceBySecond) {
  check_against_brute_force(
      "*/20 5 10,23 * * *",
      [](const Civil &c) {
        return c.second % 20 == 0 && c.minute == 5 && (c.hour == 10 || c.hour == 23);
      },
      2024, 2, 3, true);
  check_against_brute_force(
      "59 59 23 * * *",
      [](const Civil &c) { return c.second == 59 && c.minute == 59 && c.hour == 23; }, 2024, 12,
      3, true);
}

}  // namespace
}  // namespace awf
