// Content-Type and Accept: which format a body is read in and which one the answer is written in.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "codec.hpp"

namespace awf::bridge::test {
namespace {

using F = std::optional<Format>;

TEST(ContentType, Json) {
  EXPECT_EQ(format_of_content_type("application/json"), F(Format::Json));
  EXPECT_EQ(format_of_content_type("application/json; charset=utf-8"), F(Format::Json));
  EXPECT_EQ(format_of_content_type("application/json;charset=UTF-8"), F(Format::Json));
  EXPECT_EQ(format_of_content_type("APPLICATION/JSON"), F(Format::Json));
  EXPECT_EQ(format_of_content_type("Application/Json; Charset=utf-8"), F(Format::Json));
  EXPECT_EQ(format_of_content_type("  application/json  "), F(Format::Json));
  EXPECT_EQ(format_of_content_type("application/json ; charset=utf-8"), F(Format::Json));
}

TEST(ContentType, Yaml) {
  for (const char *type : {"text/yaml", "application/yaml", "application/x-yaml", "text/x-yaml",
                           "TEXT/YAML", "text/yaml; charset=utf-8", "Application/X-YAML;charset=utf-8"}) {
    EXPECT_EQ(format_of_content_type(type), F(Format::Yaml)) << type;
  }
}

TEST(ContentType, AbsentMeansJson) {
  EXPECT_EQ(format_of_content_type(""), F(Format::Json));
  EXPECT_EQ(format_of_content_type("   "), F(Format::Json));
}

TEST(ContentType, UnsupportedIsNullopt) {
  for (const char *type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                           "application/xml", "text/html", "application/jsonx", "application/json-patch+json",
                           "json", "yaml", "application/", "*/*", "text/yaml2", "application/octet-stream"}) {
    EXPECT_EQ(format_of_content_type(type), std::nullopt) << type;
  }
}

TEST(Accept, AbsentOrAnythingMeansTheRequestFormat) {
  for (Format fallback : {Format::Json, Format::Yaml}) {
    EXPECT_EQ(format_for_accept("", fallback), F(fallback));
    EXPECT_EQ(format_for_accept("  ", fallback), F(fallback));
    EXPECT_EQ(format_for_accept("*/*", fallback), F(fallback));
    EXPECT_EQ(format_for_accept("*/*;q=0.8", fallback), F(fallback));
    // A browser's default Accept: only */* fits.
    EXPECT_EQ(format_for_accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", fallback),
              F(fallback));
  }
}

TEST(Accept, ExactTypes) {
  EXPECT_EQ(format_for_accept("application/json", Format::Yaml), F(Format::Json));
  EXPECT_EQ(format_for_accept("text/yaml", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept("application/yaml", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept("application/x-yaml", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept("text/x-yaml", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept("TEXT/YAML", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept("application/json; charset=utf-8", Format::Yaml), F(Format::Json));
}

TEST(Accept, QValuesPickTheBest) {
  EXPECT_EQ(format_for_accept("text/yaml;q=0.5, application/json", Format::Yaml), F(Format::Json));
  EXPECT_EQ(format_for_accept("application/json;q=0.5, text/yaml", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept("application/json; q=0.2, text/yaml; q=0.9", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept(" text/yaml ; Q=0.9 , application/json;q=0.8", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept("text/html, */*;q=0.1", Format::Yaml), F(Format::Yaml));
  EXPECT_EQ(format_for_accept("*/*;q=0.1, application/json", Format::Yaml), F(Format::Json));
  EXPECT_EQ(format_for_accept("application/json;charset=utf-8;q=0.3, text/yaml;q=0.4", Format::Json),
            F(Format::Yaml));
}

TEST(Accept, TiesGoToTheFirstListed) {
  EXPECT_EQ(format_for_accept("text/yaml, application/json", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept("application/json, text/yaml", Format::Yaml), F(Format::Json));
  EXPECT_EQ(format_for_accept("text/yaml;q=0.5, application/json;q=0.5", Format::Json), F(Format::Yaml));
}

TEST(Accept, Wildcards) {
  EXPECT_EQ(format_for_accept("application/*", Format::Yaml), F(Format::Json));
  EXPECT_EQ(format_for_accept("text/*", Format::Json), F(Format::Yaml));
}

TEST(Accept, NothingAcceptable) {
  EXPECT_EQ(format_for_accept("text/html", Format::Json), std::nullopt);
  EXPECT_EQ(format_for_accept("text/html, image/png", Format::Yaml), std::nullopt);
  EXPECT_EQ(format_for_accept("application/xml;q=0.9, text/plain", Format::Json), std::nullopt);
  // q=0 means "not acceptable" (RFC 9110 12.4.2).
  EXPECT_EQ(format_for_accept("application/json;q=0", Format::Json), std::nullopt);
  EXPECT_EQ(format_for_accept("text/yaml;q=0, */*;q=0", Format::Yaml), std::nullopt);
  EXPECT_EQ(format_for_accept("application/json;q=0, text/yaml", Format::Json), F(Format::Yaml));
  EXPECT_EQ(format_for_accept(",", Format::Json), std::nullopt);
}

TEST(MediaType, NamesAndRoundTrip) {
  EXPECT_EQ(media_type(Format::Json), "application/json");
  EXPECT_EQ(media_type(Format::Yaml), "text/yaml");
  for (Format f : {Format::Json, Format::Yaml}) {
    EXPECT_EQ(format_of_content_type(media_type(f)), F(f));
    EXPECT_EQ(format_for_accept(media_type(f), f == Format::Json ? Format::Yaml : Format::Json), F(f));
  }
}

}  // namespace
}  // namespace awf::bridge::test
