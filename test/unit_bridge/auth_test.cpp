// Credentials: the Authorization header, secrets and their yescrypt hashes, the credential cache.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth.hpp"

namespace awf::bridge::test {
namespace {

using namespace std::chrono_literals;

std::string base64(const std::string &in) {
  static const char *chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t chunk = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) chunk |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) chunk |= static_cast<unsigned char>(in[i + 2]);
    out += chars[(chunk >> 18) & 63];
    out += chars[(chunk >> 12) & 63];
    out += i + 1 < in.size() ? chars[(chunk >> 6) & 63] : '=';
    out += i + 2 < in.size() ? chars[chunk & 63] : '=';
  }
  return out;
}

void expect_credential(const std::string &header, const std::string &id, const std::string &secret) {
  const auto c = parse_authorization(header);
  ASSERT_TRUE(c.has_value()) << header;
  EXPECT_EQ(c->client_id, id) << header;
  EXPECT_EQ(c->secret, secret) << header;
}

TEST(TestBase64, KnownVectors) {  // the helper above, against RFC 4648 section 10
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

TEST(ParseAuthorization, Basic) {
  expect_credential("Basic Y2xpZW50OnNlY3JldA==", "client", "secret");  // client:secret
  expect_credential("Basic " + base64("executor-1:s3cr3t"), "executor-1", "s3cr3t");
  expect_credential("Basic " + base64("a:b"), "a", "b");
  expect_credential("Basic " + base64("ab:c"), "ab", "c");      // one '=' of padding
  expect_credential("Basic " + base64("abc:de"), "abc", "de");  // none
}

TEST(ParseAuthorization, BasicSecretMayHoldColonsAndDots) {
  // RFC 7617: the user-id ends at the first colon; the password may contain more.
  expect_credential("Basic " + base64("id:pa:ss:word"), "id", "pa:ss:word");
  expect_credential("Basic " + base64("my.client:x.y"), "my.client", "x.y");
}

TEST(ParseAuthorization, BasicUtf8) {
  expect_credential("Basic " + base64("\xc3\xbcser:s\xc3\xa9" "cret"), "\xc3\xbcser", "s\xc3\xa9" "cret");
}

TEST(ParseAuthorization, BasicRejectsMalformed) {
  for (const std::string &header : std::vector<std::string>{
           "Basic !!!!", "Basic Y2xp ZW50OnNlY3JldA==", "Basic Y2xpZW50OnNlY3JldA==YQ", std::string("Basic Y2xp\0ZW50", 15),
        "Basic Y2xpZW50OnNlY3JldA===", "Basic " + base64("nocolon"), "Basic " + base64(":secret"),
        "Basic " + base64(""), "Basic ", "Basic", "Basic Y2xpZW50-nNlY3JldA==", "Basic Y2xpZW50_nNlY3JldA=="}) {
    EXPECT_FALSE(parse_authorization(header).has_value()) << testing::PrintToString(header);
  }
}

TEST(ParseAuthorization, Bearer) {
  expect_credential("Bearer client.SECRET", "client", "SECRET");
  // The id may contain dots; the secret (base64url) never does: split at the last dot.
  expect_credential("Bearer my.client.SECRET", "my.client", "SECRET");
  expect_credential("Bearer a.b.c.d", "a.b.c", "d");
  expect_credential("Bearer id.Ab-_09", "id", "Ab-_09");
}

TEST(ParseAuthorization, BearerRejectsMalformed) {
  for (const std::string header : {"Bearer nodot", "Bearer .secret", "Bearer id.", "Bearer .", "Bearer ",
                                   "Bearer", "Bearer ..."}) {
    EXPECT_FALSE(parse_authorization(header).has_value()) << header;
  }
}

TEST(ParseAuthorization, SchemeIsCaseInsensitive) {
  for (const std::string scheme : {"basic", "BASIC", "bAsIc"})
    expect_credential(scheme + " " + base64("id:pw"), "id", "pw");
  for (const std::string scheme : {"bearer", "BEARER", "bEaReR"}) expect_credential(scheme + " id.pw", "id", "pw");
}

TEST(ParseAuthorization, LeadingSpacesAreSkipped) {
  expect_credential("  Basic " + base64("id:pw"), "id", "pw");
  expect_credential(" Bearer id.pw", "id", "pw");
}

TEST(ParseAuthorization, GarbageIsNullopt) {
  for (const std::string &header : std::vector<std::string>{
           "", " ", "garbage", "Digest username=\"x\"", "Token id.secret", "Basicabc", "Bearerid.secret",
        "Negotiate abc", "id:secret", "id.secret", base64("id:secret"), "Basic:" + base64("id:secret"),
        std::string("\0\0\0", 3)}) {
    EXPECT_FALSE(parse_authorization(header).has_value()) << testing::PrintToString(header);
  }
}

TEST(Secrets, NewSecretsAreLongRandomBase64url) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string s = new_secret();
    EXPECT_EQ(s.size(), 43u) << s;  // 256 bits, unpadded
    EXPECT_EQ(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << s;
    EXPECT_TRUE(seen.insert(s).second) << "repeated secret " << s;
  }
}

TEST(Secrets, NewSecretWorksAsABearerToken) {
  const std::string s = new_secret();
  expect_credential("Bearer my.client." + s, "my.client", s);
}

TEST(Secrets, HashIsYescryptAndMatchesOnlyTheSecret) {
  const std::string secret = new_secret();
  const std::string hash = hash_secret(secret);
  EXPECT_EQ(hash.rfind("$y$", 0), 0u) << hash;
  EXPECT_EQ(hash.find(secret), std::string::npos);
  EXPECT_TRUE(secret_matches(secret, hash));
  EXPECT_FALSE(secret_matches(secret + "x", hash));
  EXPECT_FALSE(secret_matches(secret.substr(0, secret.size() - 1), hash));
  EXPECT_FALSE(secret_matches("", hash));
  std::string flipped = secret;
  flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(secret_matches(flipped, hash));
}

TEST(Secrets, HashesAreSalted) {
  const std::string h1 = hash_secret("same secret"), h2 = hash_secret("same secret");
  EXPECT_NE(h1, h2);
  EXPECT_TRUE(secret_matches("same secret", h1));
  EXPECT_TRUE(secret_matches("same secret", h2));
  EXPECT_FALSE(secret_matches("same secreT", h1));
}

TEST(Secrets, EmptyAndUnusualSecretsHash) {
  for (const std::string &s : std::vector<std::string>{"", "x", "p\xc3\xa4ss w\xc3\xb6rd", std::string(200, 'z')}) {
    const std::string hash = hash_secret(s);
    EXPECT_TRUE(secret_matches(s, hash)) << s;
    EXPECT_FALSE(secret_matches(s + "!", hash)) << s;
  }
}

TEST(Secrets, MalformedStoredHashesNeverMatch) {
  for (const std::string stored : {"", "*", "*0", "$y$", "$y$j9T$", "plaintext", "secret", "$1$", "$6$x$"}) {
    EXPECT_FALSE(secret_matches("secret", stored)) << stored;
    EXPECT_FALSE(secret_matches("", stored)) << stored;
  }
}

TEST(ConstantTimeEqual, Basics) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "xbc"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_FALSE(constant_time_equal("a", ""));
  EXPECT_TRUE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0", 2), std::string_view("a", 1)));
  // Bytes that differ only in the high bit.
  EXPECT_FALSE(constant_time_equal("\x01", "\x81"));
}

TEST(CredentialCache, RemembersExactlyTheCredential) {
  CredentialCache cache(60s);
  const Credential c{"client", "secret"};
  EXPECT_EQ(cache.role_of(c), std::nullopt);
  cache.remember(c, "awf_executor");
  EXPECT_EQ(cache.role_of(c), std::optional<std::string>("awf_executor"));
  EXPECT_EQ(cache.role_of(Credential{"client", "secreT"}), std::nullopt);
  EXPECT_EQ(cache.role_of(Credential{"client", ""}), std::nullopt);
  EXPECT_EQ(cache.role_of(Credential{"other", "secret"}), std::nullopt);
  // The id/secret boundary is part of the key: "ab"+"c" is not "a"+"bc".
  cache.remember(Credential{"ab", "c"}, "awf_user");
  EXPECT_EQ(cache.role_of(Credential{"a", "bc"}), std::nullopt);
  EXPECT_EQ(cache.role_of(Credential{"ab", "c"}), std::optional<std::string>("awf_user"));
}

TEST(CredentialCache, RememberAgainReplacesTheRole) {
  CredentialCache cache(60s);
  const Credential c{"client", "secret"};
  cache.remember(c, "awf_executor");
  cache.remember(c, "awf_admin");
  EXPECT_EQ(cache.role_of(c), std::optional<std::string>("awf_admin"));
}

TEST(CredentialCache, Expires) {
  CredentialCache cache(30ms);
  const Credential c{"client", "secret"};
  cache.remember(c, "awf_executor");
  EXPECT_EQ(cache.role_of(c), std::optional<std::string>("awf_executor"));
  std::this_thread::sleep_for(80ms);
  EXPECT_EQ(cache.role_of(c), std::nullopt);
  EXPECT_EQ(cache.role_of(c), std::nullopt);  // stays gone
  cache.remember(c, "awf_user");               // and can be remembered again
  EXPECT_EQ(cache.role_of(c), std::optional<std::string>("awf_user"));
}

TEST(CredentialCache, ZeroTtlDisablesIt) {
  CredentialCache cache(0ms);
  const Credential c{"client", "secret"};
  cache.remember(c, "awf_executor");
  EXPECT_EQ(cache.role_of(c), std::nullopt);
}

TEST(CredentialCache, StaysBoundedAndUsable) {
  CredentialCache cache(60s);
  for (int i = 0; i < 25000; ++i) cache.remember(Credential{"client" + std::to_string(i), "s"}, "r");
  const Credential last{"client24999", "s"};
  EXPECT_EQ(cache.role_of(last), std::optional<std::string>("r"));
  cache.remember(Credential{"fresh", "s"}, "awf_user");
  EXPECT_EQ(cache.role_of(Credential{"fresh", "s"}), std::optional<std::string>("awf_user"));
}

TEST(CredentialCache, ConcurrentUse) {
  CredentialCache cache(60s);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, &wrong, t] {
      for (int i = 0; i < 2000; ++i) {
        const Credential c{"client" + std::to_string(t), std::to_string(i % 50)};
        cache.remember(c, "role" + std::to_string(t));
        const auto role = cache.role_of(c);
        if (role && *role != "role" + std::to_string(t)) ++wrong;
      }
    });
  }
  for (auto &thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(cache.role_of(Credential{"client3", "49"}), std::optional<std::string>("role3"));
}

}  // namespace
}  // namespace awf::bridge::test

namespace awf::bridge {
namespace {
// crypt(3) stops at NUL: "secret\0junk" would check as "secret". Control characters never reach it.
TEST(ParseAuthorizationControl, ControlCharactersAreRefused) {
  // base64("id:sec\0ret") and base64("i\x01d:secret")
  EXPECT_FALSE(parse_authorization("Basic aWQ6c2VjAHJldA=="));
  EXPECT_FALSE(parse_authorization("Basic aQFkOnNlY3JldA=="));
  EXPECT_FALSE(parse_authorization(std::string("Bearer id.sec\x7fret")));
  EXPECT_TRUE(parse_authorization("Basic aWQ6c2VjcmV0"));  // id:secret
}
}  // namespace
}  // namespace awf::bridge

// The bridge assumes only awf's client roles, whatever a row of awf.client says.
TEST(ClientRoles, OnlyAwfRoles) {
  for (const char *role : {"awf_executor", "awf_user", "awf_admin"}) EXPECT_TRUE(awf::bridge::is_client_role(role)) << role;
  for (const char *role : {"postgres", "pg_read_server_files", "awf_admin ", "AWF_ADMIN", "awf", "", "awf_executor\n"})
    EXPECT_FALSE(awf::bridge::is_client_role(role)) << role;
}
