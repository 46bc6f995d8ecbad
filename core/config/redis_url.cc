// state.redis.url: redis://[[user]:password@]host[:port][/db] and rediss:// (TLS).
//
// Errors say what is wrong and show the URL as the user wrote it, except for the password:
// the config loader prints them, and a config error must not leak a secret into a log.
#include <arpa/inet.h>

#include <cctype>
#include <charconv>

#include "core/config/redis_url.h"

namespace sluice::config {
namespace {

constexpr std::string_view kShape =
    "expected redis://[user:password@]host[:port][/db] or "
    "rediss://[user:password@]host[:port][/db]";
constexpr unsigned kMaxDb = 1'000'000;  // Redis's `databases` has no hard limit; this is sanity

// `url` with whatever could be a password replaced by ***: the part of the userinfo after its
// ':' (or all of it when it has no ':', as "redis://secret@host" may mean a password).
std::string redact_input(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string_view::npos) end = url.size();
  size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  std::string_view userinfo = url.substr(start, at - start);
  size_t colon = userinfo.find(':');
  std::string out(url.substr(0, start));
  if (colon != std::string_view::npos) {
    out += userinfo.substr(0, colon + 1);
  }
  out += "***";
  out += url.substr(at);
  return out;
}

bool fail(std::string* error, std::string_view what, std::string_view url) {
  if (error) *error = std::string(what) + ", got \"" + redact_input(url) + "\"";
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding; false on a malformed escape.
bool percent_decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_value(in[i + 1]);
    int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool parse_number(std::string_view text, unsigned long max, unsigned long* out) {
  if (text.empty() || text.size() > 10) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  unsigned long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > max) return false;
  *out = v;
  return true;
}

// A DNS name or an IPv4 literal: letters, digits, '-', '.', '_' (some internal names use it).
bool valid_host_name(std::string_view host) {
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<RedisUrl> parse_redis_url(std::string_view url, std::string& error_out) {
  std::string* error = &error_out;
  RedisUrl out;
  std::string_view rest;
  if (starts_with_nocase(url, "redis://")) {
    rest = url.substr(8);
  } else if (starts_with_nocase(url, "rediss://")) {
    out.tls = true;
    rest = url.substr(9);
  } else {
    fail(error, kShape, url);
    return std::nullopt;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    fail(error, "query parameters are not accepted (the db goes in the path: redis://host:6379/2)",
         url);
    return std::nullopt;
  }

  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  // The last '@' ends the userinfo, so an unencoded '@' in a password still works.
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      fail(error, "the part before '@' must be user:password or :password", url);
      return std::nullopt;
    }
    if (!percent_decode(userinfo.substr(0, colon), &out.username)) {
      fail(error, "malformed percent-encoding (%XX) in the user name", url);
      return std::nullopt;
    }
    if (!percent_decode(userinfo.substr(colon + 1), &out.password)) {
      fail(error, "malformed percent-encoding (%XX) in the password", url);
      return std::nullopt;
    }
    if (out.password.empty() && !out.username.empty()) {
      fail(error, "a user name needs a password (user:password@)", url);
      return std::nullopt;
    }
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      fail(error, "an IPv6 address needs its closing ']'", url);
      return std::nullopt;
    }
    out.host = std::string(authority.substr(1, close - 1));
    in6_addr ignored{};
    if (inet_pton(AF_INET6, out.host.c_str(), &ignored) != 1) {
      fail(error, "not an IPv6 address between '[' and ']'", url);
      return std::nullopt;
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        fail(error, "expected ':port' after the IPv6 address", url);
        return std::nullopt;
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        fail(error, "empty port after ':'", url);
        return std::nullopt;
      }
    }
  } else {
    size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.find(':') != std::string_view::npos) {
        fail(error, "an IPv6 address must be written in brackets, e.g. redis://[::1]:6379", url);
        return std::nullopt;
      }
      if (port_text.empty()) {
        fail(error, "empty port after ':'", url);
        return std::nullopt;
      }
    }
    if (!valid_host_name(out.host)) {
      fail(error, "the host may only hold letters, digits, '-', '.' and '_'", url);
      return std::nullopt;
    }
  }
  if (out.host.empty()) {
    fail(error, "the host is empty", url);
    return std::nullopt;
  }
  if (!port_text.empty()) {
    unsigned long port = 0;
    if (!parse_number(port_text, 65535, &port) || port == 0) {
      fail(error, "the port must be a number from 1 to 65535", url);
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(port);
  }
  if (!path.empty()) {
    unsigned long db = 0;
    if (!parse_number(path, kMaxDb, &db)) {
      fail(error, "the path must be a database number from 0 to 1000000, as in redis://host/2",
           url);
      return std::nullopt;
    }
    out.db = static_cast<unsigned>(db);
  }
  return out;
}

std::string redacted(const RedisUrl& url) {
  std::string out = url.tls ? "rediss://" : "redis://";
  if (!url.username.empty() || !url.password.empty()) {
    out += url.username;
    if (!url.password.empty()) out += ":***";
    out += "@";
  }
  bool v6 = url.host.find(':') != std::string::npos;
  out += v6 ? "[" + url.host + "]" : url.host;
  out += ":" + std::to_string(url.port) + "/" + std::to_string(url.db);
  return out;
}

}  // namespace sluice::config
