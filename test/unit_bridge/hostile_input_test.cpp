// Bodies an attacker or a broken client might send: decode() must answer DecodeError (the server
// turns it into 400; anything else escapes its handler), never crash, hang or emit invalid UTF-8.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "codec.hpp"
#include "fixtures.hpp"
#include "support.hpp"

namespace awf::bridge::test {
namespace {

using nlohmann::json;

std::string repeat(const std::string &s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// "Billion laughs": each level is a list of `fanout` aliases of the level before.
std::string laughs(int levels, int fanout) {
  std::string doc = "l0: &l0 \"lol\"\n";
  for (int level = 1; level <= levels; ++level) {
    doc += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < fanout; ++i) doc += (i ? ", *l" : "*l") + std::to_string(level - 1);
    doc += "]\n";
  }
  return doc;
}

TEST(Hostile, YamlBillionLaughsIsCutOff) {
  const auto start = std::chrono::steady_clock::now();
  const std::string message = decode_error(laughs(9, 10), Format::Yaml);  // 10^9 strings
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_NE(message.find("values"), std::string::npos) << message;
  // Reported, not asserted: it should take well under a second.
  RecordProperty("billion_laughs_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
}

TEST(Hostile, YamlQuadraticAliasesAreCutOff) {
  decode_error(laughs(40, 2), Format::Yaml);  // 2^40 strings from a few hundred bytes
}

TEST(Hostile, YamlAliasesOfMappingsAreCutOff) {
  std::string doc = "m0: &m0 {a: lol, b: lol, c: lol, d: lol, e: lol, f: lol, g: lol, h: lol}\n";
  for (int level = 1; level <= 9; ++level) {
    const std::string prev = "*m" + std::to_string(level - 1);
    doc += "m" + std::to_string(level) + ": &m" + std::to_string(level) + " {a: " + prev + ", b: " + prev +
           ", c: " + prev + ", d: " + prev + ", e: " + prev + ", f: " + prev + ", g: " + prev + ", h: " + prev +
           "}\n";
  }
  decode_error(doc, Format::Yaml);
}

TEST(Hostile, YamlAliasesOfALongStringAreCutOffByItsBytes) {
  // Each alias is one value, but copies 128 KiB: 20,000 of them would be 2.5 GB.
  const std::string big(128 << 10, 'x');
  for (const std::string &uses : {std::string("[*s, *s, *s, *s, *s, *s, *s, *s]"), std::string("{*s : 1}")}) {
    std::string doc = "s: &s " + big + "\nl:\n";
    for (int i = 0; i < 20000; ++i) doc += "  - " + uses + "\n";
    const std::string message = decode_error(doc, Format::Yaml);
    EXPECT_NE(message.find("bytes of text"), std::string::npos) << message;
  }
}

TEST(Hostile, YamlAnchorsNobodyAliasesAreNotCopied) {
  // 120 nested anchors around 300 aliases of a 1,000-item list: within the limits (about 301,000
  // values). Had every anchored value been kept, the nested ones would copy those 300,000 values
  // 120 times over (gigabytes); only the aliased list is kept.
  std::string doc = "a: &a [";
  for (int i = 0; i < 1000; ++i) doc += i ? ", 0" : "0";
  doc += "]\nb: ";
  for (int i = 0; i < 120; ++i) doc += "&x [";
  for (int i = 0; i < 300; ++i) doc += i ? ", *a" : "*a";
  doc += std::string(120, ']') + "\n";
  const json out = decode(doc, Format::Yaml);
  const json *inner = &out.at("b");
  for (int i = 0; i < 120; ++i) inner = &inner->at(0);
  EXPECT_EQ(inner->size(), 1000u);  // the first of the 300 aliases: the list
}

TEST(Hostile, SmallAliasExpansionIsFine) {
  const json doc = decode(laughs(3, 3), Format::Yaml);
  EXPECT_EQ(doc.at("l3").size(), 3u);
  EXPECT_EQ(doc.at("l3")[2][2][2], "lol");
}

TEST(Hostile, ValueLimitAppliesToBothFormats) {
  const DecodeLimits limits{128, 10};
  std::string many = "[";
  for (int i = 0; i < 20; ++i) many += (i ? ",1" : "1");
  many += "]";
  decode_error(many, Format::Json, limits);
  decode_error(many, Format::Yaml, limits);
  EXPECT_NO_THROW(decode("[1,2,3,4,5]", Format::Json, limits));
  EXPECT_NO_THROW(decode("[1,2,3,4,5]", Format::Yaml, limits));
}

std::string nested_arrays(size_t depth, const std::string &inner = "1") {
  return repeat("[", depth) + inner + repeat("]", depth);
}

TEST(Hostile, DepthLimitIsTheSameForJsonAndYaml) {
  // The default limit: a scalar inside 128 arrays is fine, inside 129 it is not.
  for (Format f : {Format::Json, Format::Yaml}) {
    json doc;
    ASSERT_NO_THROW(doc = decode(nested_arrays(128), f));
    for (int i = 0; i < 128; ++i) doc = doc.at(0);
    EXPECT_EQ(doc, 1);
    const std::string message = decode_error(nested_arrays(129), f);
    EXPECT_NE(message.find("128"), std::string::npos) << message;
  }
  const DecodeLimits shallow{4, 1000};
  for (Format f : {Format::Json, Format::Yaml}) {
    EXPECT_NO_THROW(decode(nested_arrays(4), f, shallow));
    decode_error(nested_arrays(5), f, shallow);
    decode_error("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}", f, shallow);
  }
}

TEST(Hostile, JsonNestedHundredThousandLevels) {
  decode_error(nested_arrays(100000), Format::Json);
  decode_error(repeat("[", 100000), Format::Json);  // never closed
  decode_error(repeat("{\"a\":", 100000) + "1" + repeat("}", 100000), Format::Json);
  decode_error(repeat("[{\"a\":", 50000) + "1" + repeat("}]", 50000), Format::Json);
}

TEST(Hostile, YamlFlowNestedHundredThousandLevels) {
  decode_error(nested_arrays(100000), Format::Yaml);
  decode_error(repeat("[", 100000), Format::Yaml);
  decode_error(repeat("{a: ", 100000) + "1" + repeat("}", 100000), Format::Yaml);
  decode_error("k: " + repeat("[{a: ", 50000) + "1" + repeat("}]", 50000), Format::Yaml);
}

TEST(Hostile, YamlBlockNestedHundredThousandLevels) {
  // "- - - - x": one block sequence per dash, 100,000 deep, on one line.
  decode_error(repeat("- ", 100000) + "x\n", Format::Yaml);
  // Block mappings by indentation: line i is indented i spaces (2,000 levels, 2 MB).
  std::string doc;
  for (size_t i = 0; i < 2000; ++i) doc += std::string(i, ' ') + "k:\n";
  doc += std::string(2000, ' ') + "v\n";
  decode_error(doc, Format::Yaml);
  // Block sequences by indentation.
  std::string seq;
  for (size_t i = 0; i < 2000; ++i) seq += std::string(i, ' ') + "-\n";
  seq += std::string(2000, ' ') + "x\n";
  decode_error(seq, Format::Yaml);
}

const std::vector<std::string> &invalid_utf8() {
  static const std::vector<std::string> bytes = {
      "\xff",             // never valid
      "\xfe\xff",         // never valid (a UTF-16 BOM is not UTF-8)
      "\xc0\xaf",         // overlong '/'
      "\xe0\x80\xaf",     // overlong '/'
      "\xed\xa0\x80",     // UTF-16 surrogate U+D800
      "\xe2\x82",         // truncated
      "\x80",             // lone continuation byte
      "\xf4\x90\x80\x80"  // above U+10FFFF
  };
  return bytes;
}

TEST(Hostile, InvalidUtf8InJsonIsRejected) {
  for (const auto &bad : invalid_utf8()) {
    SCOPED_TRACE(testing::PrintToString(bad));
    decode_error("{\"a\":\"x" + bad + "y\"}", Format::Json);
    decode_error("{\"k" + bad + "\":1}", Format::Json);
  }
  decode_error(R"({"a":"\ud800"})", Format::Json);        // lone surrogate escape
  decode_error(R"({"a":"\udc00\ud800"})", Format::Json);  // reversed pair
}

// YAML readers may take bytes that are not UTF-8; the bridge must then refuse the body, or at the
// least never pass the bytes on.
void expect_rejected_or_clean(const std::string &body) {
  json doc;
  try {
    doc = decode(body, Format::Yaml);
  } catch (const DecodeError &) {
    return;
  } catch (const std::exception &e) {
    ADD_FAILURE() << "threw something other than DecodeError: " << e.what();
    return;
  }
  EXPECT_TRUE(is_valid_utf8(encode(doc, Format::Json)));
  EXPECT_TRUE(is_valid_utf8(encode(doc, Format::Yaml)));
  EXPECT_NO_THROW((void)doc.dump());  // strict: throws on invalid UTF-8 in the tree
}

TEST(Hostile, InvalidUtf8InYamlIsRejectedOrNeverPassedOn) {
  for (const auto &bad : invalid_utf8()) {
    SCOPED_TRACE(testing::PrintToString(bad));
    expect_rejected_or_clean("a: x" + bad + "y\n");
    expect_rejected_or_clean("a: 'x" + bad + "y'\n");
    expect_rejected_or_clean("a: \"x" + bad + "y\"\n");
    expect_rejected_or_clean("a: |\n  x" + bad + "y\n");
    expect_rejected_or_clean("k" + bad + ": 1\n");
    expect_rejected_or_clean("- [x" + bad + "]\n");
  }
  expect_rejected_or_clean("a: \"\\ud800\"\n");  // a surrogate by escape
  expect_rejected_or_clean("a: \"\\U00110000\"\n");
  // libyaml's reader refuses input that is not UTF-8, wherever it is.
  decode_error("a: x\xff" "y\n", Format::Yaml);
  decode_error("k\xc3: 1\n", Format::Yaml);
}

TEST(Hostile, MalformedJsonSaysWhere) {
  for (const std::string body : {"{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "nul", "'x'", "{} {}", "[1 2]",
                                 "{\"a\":1,}", "\"unterminated", "01", "1.", "-", "[\"\\x\"]", "\"a\nb\"",
                                 "/* c */ {}", "NaN", "Infinity"}) {
    SCOPED_TRACE(body);
    const std::string message = decode_error(body, Format::Json);
    EXPECT_NE(message.find("JSON"), std::string::npos) << message;
    EXPECT_NE(message.find("line"), std::string::npos) << message;
  }
}

TEST(Hostile, EmptyJsonBodyIsAnError) {
  decode_error("", Format::Json);
  decode_error("   \n\t ", Format::Json);
}

TEST(Hostile, JsonNumbersOutOfRangeAreDecodeErrors) {
  for (const std::string body : {"1e400", "-1e400", "[1e999]", "{\"a\":123456789e999999}"}) {
    SCOPED_TRACE(body);
    decode_error(body, Format::Json);
  }
  // Integers beyond 64 bits are read as floats, not refused.
  EXPECT_TRUE(decode("18446744073709551616", Format::Json).is_number_float());
}

TEST(Hostile, MalformedYamlSaysWhere) {
  for (const std::string body : {"a: [1, 2\n", "a: {b: 1\n", "a: b: c\n", "a: *undefined\n",
                                 "a: &x\n  - *x\n  b: 1\n", "key: value\n  bad indent: 1\n", "[a, b]]\n",
                                 "a: \"\\q\"\n", "!<tag\n"}) {
    SCOPED_TRACE(body);
    const std::string message = decode_error(body, Format::Yaml);
    EXPECT_NE(message.find("YAML"), std::string::npos) << message;
  }
}

// Not YAML, and refused: an unterminated quoted scalar at the end of the body, and content after a
// top-level block sequence (yaml-cpp, which the bridge read YAML with before libyaml, accepted
// these and silently dropped the rest).
TEST(Hostile, YamlThatIsNotYamlAtTheEnd) {
  for (const std::string body : {"a: 'unterminated\n", "a: \"unterminated\n", "- a\nb: c\n",
                                 "- awf.task/poll\nmethod: awf.task/fail\n"}) {
    SCOPED_TRACE(body);
    decode_error(body, Format::Yaml);
  }
}

TEST(Hostile, MalformedYamlMessageHasAPosition) {
  const std::string message = decode_error("a: [1, 2\n", Format::Yaml);
  EXPECT_NE(message.find("line"), std::string::npos) << message;
}

// Mutations of the seed examples: decode() either succeeds or throws DecodeError — nothing else —
// and whatever it returns encodes to valid UTF-8 and survives a YAML round trip.
void fuzz(Format format, unsigned seed, int rounds) {
  std::mt19937 rng(seed);
  const std::string interesting = "[]{}:-,&*!|>'\"\\#%@`? \t\n\r~0123456789.eE+";
  std::vector<std::string> corpus;
  for (const auto &example : kSeedExamples)
    corpus.push_back(format == Format::Yaml ? example.yaml : json::parse(example.json).dump());
  int decoded = 0;
  for (int round = 0; round < rounds; ++round) {
    std::string body = corpus[rng() % corpus.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const size_t at = rng() % body.size();
      switch (rng() % 6) {
        case 0: body[at] = interesting[rng() % interesting.size()]; break;
        case 1: body.insert(at, 1, interesting[rng() % interesting.size()]); break;
        case 2: body[at] = static_cast<char>(rng() % 256); break;
        case 3: body.erase(at, 1 + rng() % 8); break;
        case 4: body.insert(at, body.substr(rng() % body.size(), 1 + rng() % 16)); break;
        case 5: body.resize(at); break;
      }
    }
    json doc;
    try {
      doc = decode(body, format);
    } catch (const DecodeError &) {
      continue;
    } catch (const std::exception &e) {
      ADD_FAILURE() << "round " << round << ": " << e.what() << "\nbody: " << testing::PrintToString(body);
      continue;
    }
    ++decoded;
    const std::string as_json = encode(doc, Format::Json), as_yaml = encode(doc, Format::Yaml);
    ASSERT_TRUE(is_valid_utf8(as_json)) << testing::PrintToString(body);
    ASSERT_TRUE(is_valid_utf8(as_yaml)) << testing::PrintToString(body);
    json back;
    ASSERT_NO_THROW(back = decode(as_yaml, Format::Yaml))
        << "body: " << testing::PrintToString(body) << "\nemitted:\n" << as_yaml;
    EXPECT_TRUE(SameTypedJson(doc, back)) << "body: " << testing::PrintToString(body) << "\nemitted:\n" << as_yaml;
    EXPECT_TRUE(SameTypedJson(doc, decode(as_json, Format::Json)));
  }
  ::testing::Test::RecordProperty(format == Format::Json ? "json_decoded" : "yaml_decoded", decoded);
  EXPECT_GT(decoded, 0);
}

TEST(Hostile, MutatedJsonSeedsDecodeOrFailCleanly) { fuzz(Format::Json, 20230504, 4000); }
TEST(Hostile, MutatedYamlSeedsDecodeOrFailCleanly) { fuzz(Format::Yaml, 20230505, 4000); }

}  // namespace
}  // namespace awf::bridge::test
