#include "core/config/redis_url.h"

#include <charconv>

namespace sluice::config {

namespace {

constexpr const char* kShape =
    "expected redis://[user:password@]host[:port][/db] or rediss://… (TLS)";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding of the user-info part (a password may hold '@', ':' or '/').
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;  // "%" or "%4" at the end
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& error) {
  RedisUrl url;
  std::string_view rest;
  if (text.starts_with("redis://")) {
    rest = text.substr(8);
  } else if (text.starts_with("rediss://")) {
    url.tls = true;
    rest = text.substr(9);
  } else {
    // The scheme alone is safe to quote: no password comes before "://".
    const size_t scheme = text.find("://");
    error = scheme == std::string_view::npos ? std::string(kShape) + ", got no scheme"
                                             : std::string(kShape) + ", got scheme \"" +
                                                   std::string(text.substr(0, scheme)) + "\"";
    return std::nullopt;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    error = std::string(kShape) + ": query parameters and fragments are not accepted";
    return std::nullopt;
  }
  // user-info ends at the last '@' before the path (a password may be percent-encoded).
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view info = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = info.find(':');
    auto user = percent_decode(info.substr(0, colon));
    auto password = colon == std::string_view::npos ? std::optional<std::string>("")
                                                    : percent_decode(info.substr(colon + 1));
    if (!user || !password) {
      error = std::string(kShape) + ": a bad %-escape in the user name or password";
      return std::nullopt;
    }
    // redis://secret@host is the password alone (as redis-cli -u reads it).
    if (colon == std::string_view::npos) {
      url.password = std::move(*user);
    } else {
      url.username = std::move(*user);
      url.password = std::move(*password);
    }
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = std::string(kShape) + ": an IPv6 address without its closing ']'";
      return std::nullopt;
    }
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        error = std::string(kShape) + ": unexpected text after the IPv6 address";
        return std::nullopt;
      }
      port_text = after.substr(1);
      if (port_text.empty()) port_text = "x";  // "host:" is an error below
    }
  } else {
    const size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) port_text = "x";
    }
  }
  if (url.host.empty()) {
    error = std::string(kShape) + ": the host is missing";
    return std::nullopt;
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    if (!parse_number(port_text, port) || port == 0 || port > 65535) {
      error = std::string(kShape) + ": the port must be a number from 1 to 65535, got \"" +
              std::string(port_text) + "\"";
      return std::nullopt;
    }
    url.port = static_cast<uint16_t>(port);
  }
  if (!path.empty()) {
    unsigned db = 0;
    if (!parse_number(path, db) || db > 1'000'000) {
      error = std::string(kShape) + ": the database after '/' must be a number, got \"" +
              std::string(path) + "\"";
      return std::nullopt;
    }
    url.db = db;
  }
  return url;
}

std::string redacted(const RedisUrl& url) {
  std::string out = url.tls ? "rediss://" : "redis://";
  if (!url.username.empty() || !url.password.empty()) {
    out += url.username;
    if (!url.password.empty()) out += ":***";
    out += '@';
  }
  const bool v6 = url.host.find(':') != std::string::npos;
  out += v6 ? "[" + url.host + "]" : url.host;
  out += ':' + std::to_string(url.port);
  out += '/' + std::to_string(url.db);
  return out;
}

}  // namespace sluice::config
