// Text forms of the values in an AidboxTask document. Pure C++ so they are unit-tested alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace awf {

// PostgreSQL's timestamptz: microseconds since 2000-01-01 00:00:00 UTC.
using PgTimestamp = int64_t;

// "2023-05-04T16:33:14.682354Z": UTC, always six fractional digits, as seed 002 shows.
std::string format_timestamp(PgTimestamp ts);

// "819c2499-1303-4c0e-bf1e-bcca761bfbde" from 16 raw bytes.
std::string format_uuid(const unsigned char bytes[16]);

// True for the canonical 8-4-4-4-12 hexadecimal form (either case).
bool is_canonical_uuid(std::string_view text);

// The integer a JSON number denotes, if it denotes one that fits int64: "10", "-3", "10.000".
// nullopt for fractions ("1.5"), exponents and out-of-range values.
std::optional<int64_t> parse_integral(std::string_view number_text);

}  // namespace awf

namespace awf {

// Parses the canonical UUID text form into 16 bytes; false if it is not canonical.
bool parse_uuid(std::string_view text, unsigned char out[16]);

// Parses an ISO-8601 date or date-time: "2023-05-04", "2023-05-04T15:30:43",
// "2023-05-04T15:30:43.123456Z", "2023-05-04 15:30:43+02:00". A time without an offset is UTC
// (seed 002 sends executeAt that way). nullopt if malformed or outside years 1..9999.
std::optional<PgTimestamp> parse_timestamp(std::string_view text);

}  // namespace awf
