// parse_config(): flags, their ranges, the environment fallbacks, and the --help text.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.hpp"

namespace awf::bridge::test {
namespace {

using Args = std::vector<std::string>;

// Every test starts without AWF_BRIDGE_LISTEN / AWF_DATABASE_URL and leaves them as it found them.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char *name : kNames) {
      const char *value = std::getenv(name);
      saved_.push_back(value ? std::optional<std::string>(value) : std::nullopt);
      unsetenv(name);
    }
  }
  void TearDown() override {
    for (size_t i = 0; i < saved_.size(); ++i) {
      if (saved_[i]) setenv(kNames[i], saved_[i]->c_str(), 1);
      else unsetenv(kNames[i]);
    }
  }
  static constexpr const char *kNames[] = {"AWF_BRIDGE_LISTEN", "AWF_DATABASE_URL"};
  std::vector<std::optional<std::string>> saved_;
};

// The message of the std::invalid_argument parse_config throws ("" and a failure if none).
std::string error_of(const Args &args) {
  try {
    parse_config(args);
    ADD_FAILURE() << "accepted: " << testing::PrintToString(args);
  } catch (const std::invalid_argument &e) {
    return e.what();
  } catch (const std::exception &e) {
    ADD_FAILURE() << "threw something other than invalid_argument: " << e.what();
  }
  return {};
}

TEST_F(ConfigTest, Defaults) {
  const Config c = parse_config({});
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.db, "");
  EXPECT_EQ(c.pool_size, 8u);
  EXPECT_EQ(c.io_threads, 2u);
  EXPECT_EQ(c.lanes, 0u);  // the pool size
  EXPECT_EQ(c.group_limit, 32u);
  EXPECT_EQ(c.body_limit, 1u << 20);
  EXPECT_EQ(c.yaml_body_limit, 256u << 10);
  EXPECT_EQ(c.header_timeout_ms, 10000);
  EXPECT_EQ(c.idle_timeout_ms, 60000);
  EXPECT_EQ(c.max_connections, 4096u);
  EXPECT_EQ(c.long_poll_max_ms, 600000);
  EXPECT_EQ(c.auth_cache_ms, 60000);
  EXPECT_TRUE(c.require_auth);
  EXPECT_EQ(c.anonymous_role, "awf_admin");
  EXPECT_TRUE(c.log_requests);
}

TEST_F(ConfigTest, ListenHostAndPort) {
  Config c = parse_config({"--listen", "0.0.0.0:9000"});
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9000);
  c = parse_config({"--listen", "localhost:1"});
  EXPECT_EQ(c.listen_host, "localhost");
  EXPECT_EQ(c.listen_port, 1);
  c = parse_config({"--listen", "10.1.2.3:65535"});
  EXPECT_EQ(c.listen_host, "10.1.2.3");
  EXPECT_EQ(c.listen_port, 65535);
}

TEST_F(ConfigTest, ListenIpv6InBrackets) {
  Config c = parse_config({"--listen", "[::1]:8080"});
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 8080);
  c = parse_config({"--listen", "[::]:443"});
  EXPECT_EQ(c.listen_host, "::");
  EXPECT_EQ(c.listen_port, 443);
  c = parse_config({"--listen", "[fe80::1%eth0]:8081"});
  EXPECT_EQ(c.listen_host, "fe80::1%eth0");
  EXPECT_EQ(c.listen_port, 8081);
}

TEST_F(ConfigTest, BadListenValuesNameTheFlag) {
  for (const char *bad : {"", "localhost", "8080", ":8080", "host:", "host:0", "host:65536", "host:http",
                          "host:80x", "host:-1", "host: 80x", "[::1]", "host:99999999999999999999"}) {
    const std::string message = error_of({"--listen", bad});
    EXPECT_NE(message.find("--listen"), std::string::npos) << bad << ": " << message;
  }
}

TEST_F(ConfigTest, NumericFlagsSetTheirFields) {
  const Config c = parse_config({"--pool-size", "2", "--threads", "256", "--body-limit", "1024", "--header-timeout",
                                 "100", "--idle-timeout", "3600000", "--max-connections", "1", "--long-poll-max",
                                 "0", "--auth-cache", "0", "--yaml-body-limit", "1024", "--lanes", "1",
                                 "--group-limit", "1"});
  EXPECT_EQ(c.pool_size, 2u);
  EXPECT_EQ(c.lanes, 1u);
  EXPECT_EQ(c.group_limit, 1u);
  EXPECT_EQ(c.io_threads, 256u);
  EXPECT_EQ(c.body_limit, 1024u);
  EXPECT_EQ(c.yaml_body_limit, 1024u);
  EXPECT_EQ(c.header_timeout_ms, 100);
  EXPECT_EQ(c.idle_timeout_ms, 3600000);
  EXPECT_EQ(c.max_connections, 1u);
  EXPECT_EQ(c.long_poll_max_ms, 0);
  EXPECT_EQ(c.auth_cache_ms, 0);
  const Config d = parse_config({"--pool-size", "1000", "--threads", "1", "--body-limit", "1073741824",
                                 "--max-connections", "1000000", "--long-poll-max", "3600000", "--auth-cache",
                                 "3600000", "--header-timeout", "3600000", "--idle-timeout", "100"});
  EXPECT_EQ(d.pool_size, 1000u);
  EXPECT_EQ(d.io_threads, 1u);
  EXPECT_EQ(d.body_limit, size_t{1} << 30);
  EXPECT_EQ(d.max_connections, 1000000u);
  EXPECT_EQ(d.long_poll_max_ms, 3600000);
  EXPECT_EQ(d.auth_cache_ms, 3600000);
  EXPECT_EQ(d.header_timeout_ms, 3600000);
  EXPECT_EQ(d.idle_timeout_ms, 100);
}

TEST_F(ConfigTest, NumbersOutOfRangeNameTheFlag) {
  const std::vector<std::pair<std::string, std::string>> out_of_range = {
      {"--pool-size", "1"},          {"--pool-size", "1001"},         {"--threads", "0"},
      {"--threads", "257"},          {"--body-limit", "1023"},        {"--body-limit", "1073741825"},
      {"--header-timeout", "99"},    {"--header-timeout", "3600001"}, {"--idle-timeout", "99"},
      {"--idle-timeout", "3600001"}, {"--max-connections", "0"},      {"--max-connections", "1000001"},
      {"--long-poll-max", "-1"},     {"--long-poll-max", "3600001"},  {"--auth-cache", "-1"},
      {"--auth-cache", "3600001"},   {"--threads", "99999999999999999999999"}, {"--yaml-body-limit", "1023"},
      {"--yaml-body-limit", "1073741825"}, {"--lanes", "0"}, {"--lanes", "1001"}, {"--group-limit", "0"},
      {"--group-limit", "1001"}};
  for (const auto &[flag, value] : out_of_range) {
    const std::string message = error_of({flag, value});
    EXPECT_NE(message.find(flag), std::string::npos) << flag << " " << value << ": " << message;
    EXPECT_NE(message.find(value), std::string::npos) << flag << " " << value << ": " << message;
  }
}

TEST_F(ConfigTest, NonNumbersNameTheFlag) {
  for (const char *flag : {"--pool-size", "--threads", "--body-limit", "--yaml-body-limit", "--header-timeout",
                           "--idle-timeout", "--max-connections", "--long-poll-max", "--auth-cache", "--lanes",
                           "--group-limit"}) {
    for (const char *value : {"", "abc", "12abc", "1.5", "1e3", "0x10", "ten"}) {
      const std::string message = error_of({flag, value});
      EXPECT_NE(message.find(flag), std::string::npos) << flag << " " << value << ": " << message;
    }
  }
}

TEST_F(ConfigTest, MissingValueNamesTheFlag) {
  for (const char *flag : {"--listen", "--db", "--pool-size", "--threads", "--body-limit", "--yaml-body-limit",
                           "--header-timeout", "--idle-timeout", "--max-connections", "--long-poll-max",
                           "--auth-cache", "--anonymous-role"}) {
    const std::string message = error_of({flag});
    EXPECT_NE(message.find(flag), std::string::npos) << message;
    EXPECT_NE(message.find("value"), std::string::npos) << message;
  }
}

TEST_F(ConfigTest, UnknownFlagIsNamed) {
  for (const char *flag : {"--bogus", "-x", "serve", "--listen=127.0.0.1:80", "--NO-AUTH", "--"}) {
    const std::string message = error_of({flag});
    EXPECT_NE(message.find(flag), std::string::npos) << message;
  }
  const std::string message = error_of({"--quiet", "--bogus", "--no-auth"});
  EXPECT_NE(message.find("--bogus"), std::string::npos) << message;
}

TEST_F(ConfigTest, SwitchesAndStrings) {
  const Config c = parse_config({"--no-auth", "--quiet", "--anonymous-role", "awf_executor", "--db",
                                 "postgresql://u@h/db?sslmode=require"});
  EXPECT_FALSE(c.require_auth);
  EXPECT_FALSE(c.log_requests);
  EXPECT_EQ(c.anonymous_role, "awf_executor");
  EXPECT_EQ(c.db, "postgresql://u@h/db?sslmode=require");
  // A value is taken as is, even one that looks like a flag.
  EXPECT_EQ(parse_config({"--db", "--quiet"}).db, "--quiet");
  EXPECT_TRUE(parse_config({"--db", "--quiet"}).log_requests);
}

TEST_F(ConfigTest, LaterFlagsWin) {
  const Config c = parse_config({"--threads", "3", "--threads", "4", "--listen", "a:1", "--listen", "b:2"});
  EXPECT_EQ(c.io_threads, 4u);
  EXPECT_EQ(c.listen_host, "b");
  EXPECT_EQ(c.listen_port, 2);
}

TEST_F(ConfigTest, EnvironmentFallbacks) {
  setenv("AWF_BRIDGE_LISTEN", "0.0.0.0:9999", 1);
  setenv("AWF_DATABASE_URL", "postgresql:///awf", 1);
  Config c = parse_config({});
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9999);
  EXPECT_EQ(c.db, "postgresql:///awf");
  // Flags win over the environment.
  c = parse_config({"--listen", "[::1]:1234", "--db", "dbname=other"});
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 1234);
  EXPECT_EQ(c.db, "dbname=other");
}

TEST_F(ConfigTest, EmptyEnvironmentIsIgnored) {
  setenv("AWF_BRIDGE_LISTEN", "", 1);
  setenv("AWF_DATABASE_URL", "", 1);
  const Config c = parse_config({});
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.db, "");
}

TEST_F(ConfigTest, BadEnvironmentNamesTheVariable) {
  setenv("AWF_BRIDGE_LISTEN", "nonsense", 1);
  std::string message = error_of({});
  EXPECT_NE(message.find("AWF_BRIDGE_LISTEN"), std::string::npos) << message;
  setenv("AWF_BRIDGE_LISTEN", "host:123456", 1);
  message = error_of({});
  EXPECT_NE(message.find("AWF_BRIDGE_LISTEN"), std::string::npos) << message;
}

TEST_F(ConfigTest, EnvironmentIsRestoredBetweenTests) {
  EXPECT_EQ(std::getenv("AWF_BRIDGE_LISTEN"), nullptr);
  EXPECT_EQ(std::getenv("AWF_DATABASE_URL"), nullptr);
}

TEST(Usage, MentionsEveryFlagAndVariable) {
  const std::string text = usage();
  for (const char *flag : {"--listen", "--db", "--pool-size", "--threads", "--lanes", "--group-limit", "--body-limit",
                           "--yaml-body-limit", "--header-timeout",
                           "--idle-timeout", "--max-connections", "--long-poll-max", "--auth-cache", "--no-auth",
                           "--anonymous-role", "--quiet", "--help", "AWF_BRIDGE_LISTEN", "AWF_DATABASE_URL",
                           "client add"})
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
}

TEST(Usage, ShowsTheDefaults) {
  const std::string text = usage();
  const Config d;
  EXPECT_NE(text.find(d.listen_host + ":" + std::to_string(d.listen_port)), std::string::npos);
  for (const std::string &value :
       {std::to_string(d.pool_size), std::to_string(d.io_threads), std::to_string(d.group_limit),
        std::to_string(d.body_limit),
        std::to_string(d.yaml_body_limit),
        std::to_string(d.header_timeout_ms), std::to_string(d.idle_timeout_ms), std::to_string(d.max_connections),
        std::to_string(d.long_poll_max_ms), std::to_string(d.auth_cache_ms), d.anonymous_role})
    EXPECT_NE(text.find("[" + value + "]"), std::string::npos) << value;
}

// Every flag the usage text lists is one parse_config accepts (--help is handled by main()), and
// the default shown in brackets is a value the flag accepts.
TEST_F(ConfigTest, UsageListsOnlyAcceptedFlagsAndDefaults) {
  const std::string text = usage();
  size_t pos = text.find("Flags");
  ASSERT_NE(pos, std::string::npos);
  int checked = 0;
  while ((pos = text.find("\n  --", pos)) != std::string::npos) {
    pos += 3;
    const std::string line = text.substr(pos, text.find('\n', pos) - pos);
    const std::string flag = line.substr(0, line.find(' '));
    if (flag == "--help") continue;
    Args args = {flag};
    const bool takes_value = line.size() > flag.size() + 1 && line[flag.size() + 1] != ' ';
    if (takes_value) {
      const size_t open = line.find('['), close = line.find(']');
      ASSERT_NE(open, std::string::npos) << line;
      ASSERT_NE(close, std::string::npos) << line;
      const std::string shown = line.substr(open + 1, close - open - 1);
      args.push_back(flag == "--db" ? "dbname=x" : shown);
    }
    EXPECT_NO_THROW(parse_config(args)) << testing::PrintToString(args);
    ++checked;
  }
  EXPECT_EQ(checked, 16);
}

}  // namespace
}  // namespace awf::bridge::test
