#include "core/format.hpp"

#include <gtest/gtest.h>

namespace awf {
namespace {

constexpr PgTimestamp kUsec = 1000000;

TEST(FormatTimestamp, EpochOfPostgres) { EXPECT_EQ(format_timestamp(0), "2000-01-01T00:00:00.000000Z"); }

TEST(FormatTimestamp, SeedExample) {
  // 2023-05-04T16:33:14.682354Z, as seed 002 shows lastUpdated.
  const PgTimestamp ts = *parse_timestamp("2023-05-04T16:33:14.682354Z");
  EXPECT_EQ(format_timestamp(ts), "2023-05-04T16:33:14.682354Z");
}

TEST(FormatTimestamp, BeforeTheEpochFloorsCorrectly) {
  EXPECT_EQ(format_timestamp(-1), "1999-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_timestamp(-86400 * kUsec), "1999-12-31T00:00:00.000000Z");
}

TEST(FormatTimestamp, LeapDay) {
  EXPECT_EQ(format_timestamp(*parse_timestamp("2024-02-29T12:00:00Z")), "2024-02-29T12:00:00.000000Z");
}

TEST(ParseTimestamp, WithoutOffsetIsUtc) {
  EXPECT_EQ(parse_timestamp("2023-05-04T15:30:43"), parse_timestamp("2023-05-04T15:30:43Z"));
}

TEST(ParseTimestamp, OffsetsShiftToUtc) {
  EXPECT_EQ(parse_timestamp("2023-05-04T17:30:43+02:00"), parse_timestamp("2023-05-04T15:30:43Z"));
  EXPECT_EQ(parse_timestamp("2023-05-04T13:30:43-0200"), parse_timestamp("2023-05-04T15:30:43Z"));
}

TEST(ParseTimestamp, DateOnlyIsMidnightUtc) {
  EXPECT_EQ(parse_timestamp("2023-05-04"), parse_timestamp("2023-05-04T00:00:00Z"));
}

TEST(ParseTimestamp, FractionsKeepMicroseconds) {
  EXPECT_EQ(*parse_timestamp("2000-01-01T00:00:00.5Z"), kUsec / 2);
  EXPECT_EQ(*parse_timestamp("2000-01-01T00:00:00.000001Z"), 1);
  EXPECT_EQ(*parse_timestamp("2000-01-01T00:00:00.0000019Z"), 1);  // beyond µs: truncated
}

TEST(ParseTimestamp, RejectsMalformed) {
  for (const char *bad : {"", "2023", "2023-13-01", "2023-02-30", "2023-05-04T25:00:00",
                          "2023-05-04T10:00:00Zjunk", "yesterday", "2023-05-04T10", "0000-01-01",
                          "2023-05-04T10:00:00.Z", "2023-05-04T10:00:00+99:00"}) {
    EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
  }
}

TEST(Uuid, RoundTrip) {
  unsigned char bytes[16];
  ASSERT_TRUE(parse_uuid("819C2499-1303-4c0e-bf1e-bcca761bfbde", bytes));
  EXPECT_EQ(format_uuid(bytes), "819c2499-1303-4c0e-bf1e-bcca761bfbde");
}

TEST(Uuid, RejectsNonCanonical) {
  unsigned char bytes[16];
  for (const char *bad : {"", "abc", "819c2499130340e0bf1ebcca761bfbde", "{819c2499-1303-4c0e-bf1e-bcca761bfbde}",
                          "819c2499-1303-4c0e-bf1e-bcca761bfbdg", "819c2499-1303-4c0e-bf1e_bcca761bfbde"}) {
    EXPECT_FALSE(parse_uuid(bad, bytes)) << bad;
  }
}

TEST(ParseIntegral, AcceptsWholeNumbers) {
  EXPECT_EQ(parse_integral("10"), 10);
  EXPECT_EQ(parse_integral("-3"), -3);
  EXPECT_EQ(parse_integral("10.000"), 10);
  EXPECT_EQ(parse_integral("9223372036854775807"), INT64_MAX);
}

TEST(ParseIntegral, RejectsFractionsAndOverflow) {
  EXPECT_FALSE(parse_integral("1.5"));
  EXPECT_FALSE(parse_integral("9223372036854775808"));
  EXPECT_FALSE(parse_integral("1e3"));
  EXPECT_FALSE(parse_integral(""));
  EXPECT_FALSE(parse_integral("+1"));
}

}  // namespace
}  // namespace awf
