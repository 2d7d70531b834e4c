// Request and response bodies of the bridge: JSON and YAML, both read into nlohmann::json.
// Pure C++ (no network, no database), unit-tested on the seed's examples.
//
// YAML follows the 1.2 core schema: quoted and block scalars are strings; plain scalars are null,
// booleans, integers or floats when they read as such, else strings. On output, a string that a
// YAML reader (1.2 or the 1.1 rules many clients still use) could take for anything else is
// quoted, so strings stay strings ('2023-05-04T15:30:43', '17633', UUIDs) and numbers numbers.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace awf::bridge {

enum class Format { Json, Yaml };

// Limits on what a body may build: nesting depth, number of values and, for YAML, bytes of text
// in keys and scalars. YAML aliases can otherwise expand a small document exponentially ("billion
// laughs") or repeat one long string; a JSON body holds no more text than its own size.
struct DecodeLimits {
  size_t max_depth = 128;
  size_t max_values = 1000000;
  size_t max_bytes = 16 << 20;
};

class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The format of a request body by its Content-Type (parameters such as charset ignored; an
// absent header means JSON). nullopt: unsupported media type.
std::optional<Format> format_of_content_type(std::string_view content_type);

// The response format for an Accept header; `fallback` (the request's format) for an absent
// header or */*. nullopt: nothing acceptable.
std::optional<Format> format_for_accept(std::string_view accept, Format fallback);

// Whether a Content-Type's charset parameter, if any, is UTF-8 ("utf-8", "utf8", any case).
bool is_utf8_charset(std::string_view content_type);

// The media type sent back for a format.
std::string_view media_type(Format format);

// Parses a body. Throws DecodeError with a message that says what is wrong and where.
nlohmann::json decode(std::string_view body, Format format, const DecodeLimits &limits = {});

// Serializes a document. JSON is compact; YAML is block style. Invalid UTF-8 in strings is
// replaced, never emitted.
std::string encode(const nlohmann::json &doc, Format format);

// A successful answer, {"result": <result_json>}, from JSON text (the database's) without building
// a document: JSON wraps the text as it is; YAML is written as the text is read, its numbers
// keeping their digits. Throws std::invalid_argument when nlohmann cannot read the text (not JSON,
// or a number beyond a double, which jsonb can hold).
std::string encode_result(std::string_view result_json, Format format);

}  // namespace awf::bridge
