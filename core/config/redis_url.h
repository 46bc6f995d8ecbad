// state.redis.url: redis://[[user]:password@]host[:port][/db], or rediss:// for TLS. Parsed at
// load, so `sluice validate` and a reload refuse a bad URL before anything connects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::config {

struct RedisUrl {
  bool tls = false;      // rediss://
  std::string host;      // a name, an IPv4 literal or an IPv6 literal (brackets removed)
  uint16_t port = 6379;  // explicit or Redis's default
  std::string username;  // empty: AUTH with the password alone (the default user)
  std::string password;  // empty: no AUTH; percent-decoded
  unsigned db = 0;       // SELECTed after connecting when not 0
};

// nullopt with `error` set to a sentence for the user (which never repeats the password).
std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& error);
// For logs and /status: the URL with "***" for the password.
std::string redacted(const RedisUrl& url);

}  // namespace sluice::config
