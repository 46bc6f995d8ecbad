// state.redis.url as an operator writes it: what parse_redis_url accepts (schemes, userinfo
// with percent-encoding, names, IPv4 and bracketed IPv6 hosts, ports, db numbers), the errors a
// user gets for everything else — none of which ever shows the password — and redacted().
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/config/redis_url.h"

namespace sluice::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RedisUrl parse_ok(const std::string& text) {
  std::string error;
  auto url = parse_redis_url(text, error);
  EXPECT_TRUE(url.has_value()) << text << ": " << error;
  return url.value_or(RedisUrl{});
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto url = parse_redis_url(text, error);
  EXPECT_FALSE(url.has_value()) << text << " was accepted";
  EXPECT_FALSE(error.empty()) << text;
  return error;
}

TEST(RedisUrl, HostAloneGetsTheDefaults) {
  RedisUrl u = parse_ok("redis://cache.internal");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "cache.internal");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.username, "");
  EXPECT_EQ(u.password, "");
  EXPECT_EQ(u.db, 0u);
}

TEST(RedisUrl, EveryPart) {
  RedisUrl u = parse_ok("rediss://fleet:s3cret@10.0.0.7:6380/3");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "10.0.0.7");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.username, "fleet");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.db, 3u);
}

TEST(RedisUrl, PasswordWithoutUser) {
  RedisUrl u = parse_ok("redis://:hunter2@localhost/0");
  EXPECT_EQ(u.username, "");
  EXPECT_EQ(u.password, "hunter2");
  EXPECT_EQ(u.host, "localhost");
}

TEST(RedisUrl, PercentEncodedCredentialsAreDecoded) {
  RedisUrl u = parse_ok("redis://us%40er:p%3Aw%2Fd%25@h:1");
  EXPECT_EQ(u.username, "us@er");
  EXPECT_EQ(u.password, "p:w/d%");
  EXPECT_EQ(u.port, 1);
}

TEST(RedisUrl, AnUnencodedAtInThePasswordStillWorks) {
  RedisUrl u = parse_ok("redis://:a@b@host");
  EXPECT_EQ(u.password, "a@b");
  EXPECT_EQ(u.host, "host");
}

TEST(RedisUrl, BracketedIpv6) {
  RedisUrl u = parse_ok("redis://[::1]:7000/2");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.db, 2u);
  EXPECT_EQ(parse_ok("redis://[fe80::1]").port, 6379);
}

TEST(RedisUrl, SchemeIsCaseInsensitiveAndTrailingSlashMeansDbZero) {
  EXPECT_TRUE(parse_ok("REDISS://h/").tls);
  EXPECT_EQ(parse_ok("redis://h/").db, 0u);
}

TEST(RedisUrl, LargestDbAndPort) {
  RedisUrl u = parse_ok("redis://h:65535/1000000");
  EXPECT_EQ(u.port, 65535);
  EXPECT_EQ(u.db, 1000000u);
}

TEST(RedisUrl, OtherSchemesShowTheExpectedShape) {
  EXPECT_EQ(parse_error("http://x"),
            "expected redis://[user:password@]host[:port][/db] or "
            "rediss://[user:password@]host[:port][/db], got \"http://x\"");
  EXPECT_THAT(parse_error(""), HasSubstr("expected redis://"));
  EXPECT_THAT(parse_error("localhost:6379"), HasSubstr("got \"localhost:6379\""));
}

TEST(RedisUrl, ClearErrors) {
  EXPECT_THAT(parse_error("redis://h?db=2"), HasSubstr("query parameters are not accepted"));
  EXPECT_THAT(parse_error("redis://h/0#x"), HasSubstr("query parameters are not accepted"));
  EXPECT_THAT(parse_error("redis://"), HasSubstr("the host is empty"));
  EXPECT_THAT(parse_error("redis://:6379"), HasSubstr("the host is empty"));
  EXPECT_THAT(parse_error("redis://:pw@/1"), HasSubstr("the host is empty"));
  EXPECT_THAT(parse_error("redis://h:0"), HasSubstr("port must be a number from 1 to 65535"));
  EXPECT_THAT(parse_error("redis://h:65536"), HasSubstr("port must be a number from 1 to 65535"));
  EXPECT_THAT(parse_error("redis://h:-1"), HasSubstr("port must be a number from 1 to 65535"));
  EXPECT_THAT(parse_error("redis://h:63x"), HasSubstr("port must be a number from 1 to 65535"));
  EXPECT_THAT(parse_error("redis://h:"), HasSubstr("empty port"));
  EXPECT_THAT(parse_error("redis://h/1000001"), HasSubstr("database number from 0 to 1000000"));
  EXPECT_THAT(parse_error("redis://h/two"), HasSubstr("database number"));
  EXPECT_THAT(parse_error("redis://h/1/2"), HasSubstr("database number"));
  EXPECT_THAT(parse_error("redis://::1:6379"),
              HasSubstr("IPv6 address must be written in brackets"));
  EXPECT_THAT(parse_error("redis://[::1"), HasSubstr("closing ']'"));
  EXPECT_THAT(parse_error("redis://[nope]:1"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(parse_error("redis://[::1]x"), HasSubstr("expected ':port'"));
  EXPECT_THAT(parse_error("redis://ho st"), HasSubstr("the host may only hold"));
  EXPECT_THAT(parse_error("redis://user:@h"), HasSubstr("a user name needs a password"));
}

TEST(RedisUrl, ErrorsNeverShowThePassword) {
  const std::string secret = "TopSecret99";
  for (const std::string& bad : {
           "http://user:" + secret + "@h", "redis://user:" + secret + "@h:99999",
           "redis://user:" + secret + "@h?x=1", "redis://user:" + secret + "@/0",
           "redis://user:" + secret + "%zz@h",
           "redis://" + secret + "@h",  // no ':': the whole userinfo may be a password
       }) {
    std::string error = parse_error(bad);
    EXPECT_THAT(error, Not(HasSubstr(secret))) << error;
    EXPECT_THAT(error, HasSubstr("***")) << error;
  }
  EXPECT_THAT(parse_error("redis://user:" + secret + "%zz@h"),
              HasSubstr("malformed percent-encoding (%XX) in the password"));
}

TEST(RedisUrl, RedactedHidesThePasswordOnly) {
  EXPECT_EQ(redacted(parse_ok("redis://fleet:s3cret@h:6380/3")), "redis://fleet:***@h:6380/3");
  EXPECT_EQ(redacted(parse_ok("redis://:s3cret@h")), "redis://:***@h:6379/0");
  EXPECT_EQ(redacted(parse_ok("rediss://h")), "rediss://h:6379/0");
  EXPECT_EQ(redacted(parse_ok("redis://[::1]:7000")), "redis://[::1]:7000/0");
}

}  // namespace
}  // namespace sluice::config
