// Addresses in the config: `listen`/`admin` (host:port) and provider base URLs. Both are split
// once at load so the request path never parses them. Hosts are IPv4 literals, IPv6 literals in
// brackets, or DNS names (resolved later, off the request path).
#include <arpa/inet.h>

#include <charconv>
#include <string>

#include "core/config/node_reader.h"

namespace sluice::config {
namespace {

bool is_ipv6_literal(const std::string& host) {
  in6_addr address;
  return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// A DNS name or an IPv4 literal: dot-separated labels of letters, digits, '-' and '_'.
// Something made only of digits and dots must be a real IPv4 address (not "300.1.1.1").
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    in_addr address;
    return inet_pton(AF_INET, std::string(host).c_str(), &address) == 1;
  }
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || stop != end || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

// Splits "host:port" / "[v6]:port" / "host" (when `port_required` is false). `host` comes back
// without brackets; `port_text` is empty when there was no port.
bool split_authority(std::string_view text, std::string& host, std::string_view& port_text,
                     std::string& error) {
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      error = "missing ']' after the IPv6 address";
      return false;
    }
    host = std::string(text.substr(1, close - 1));
    if (!is_ipv6_literal(host)) {
      error = "\"" + host + "\" is not an IPv6 address";
      return false;
    }
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      error = "expected ':' and a port after ']'";
      return false;
    }
    port_text = rest.empty() ? rest : rest.substr(1);
    if (!rest.empty() && port_text.empty()) {
      error = "missing port after ':'";
      return false;
    }
    return true;
  }
  const size_t colon = text.rfind(':');
  if (colon != std::string_view::npos && text.find(':') != colon) {
    error = "IPv6 addresses need brackets, e.g. [::1]:8080";
    return false;
  }
  host = std::string(text.substr(0, colon));
  port_text = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (colon != std::string_view::npos && port_text.empty()) {
    error = "missing port after ':'";
    return false;
  }
  if (host.empty()) {
    error = "missing host (use 0.0.0.0 to listen on every interface)";
    return false;
  }
  if (!is_host_name(host)) {
    error = "\"" + host + "\" is not a valid host name or IP address";
    return false;
  }
  return true;
}

}  // namespace

std::string HostPort::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<HostPort> parse_host_port(std::string_view text, std::string& error) {
  HostPort result;
  std::string_view port_text;
  if (!split_authority(text, result.host, port_text, error)) {
    error = "expected host:port like 127.0.0.1:8080 or [::1]:8080, got \"" + std::string(text) +
            "\": " + error;
    return std::nullopt;
  }
  auto port = parse_port(port_text);
  if (port_text.empty() || !port) {
    error = "expected host:port like 127.0.0.1:8080 or [::1]:8080, got \"" + std::string(text) +
            "\": " + (port_text.empty() ? "the port is missing" : "the port must be 0 to 65535");
    return std::nullopt;
  }
  result.port = *port;
  return result;
}

std::optional<Url> parse_url(std::string_view text, std::string& error) {
  auto fail = [&](const std::string& why) {
    error =
        "expected a URL like https://api.openai.com/v1, got \"" + std::string(text) + "\": " + why;
    return std::nullopt;
  };
  Url url;
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return fail("missing http:// or https://");
  std::string scheme(text.substr(0, scheme_end));
  for (char& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (scheme == "https") {
    url.tls = true;
  } else if (scheme != "http") {
    return fail("the scheme must be http or https");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return fail("a query or fragment is not allowed");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return fail("credentials in the URL are not supported (use api_key or headers)");
  }
  if (authority.empty()) return fail("missing host");
  std::string_view port_text;
  std::string why;
  if (!split_authority(authority, url.host, port_text, why)) return fail(why);
  const uint16_t default_port = url.tls ? 443 : 80;
  url.port = default_port;
  if (!port_text.empty()) {
    auto port = parse_port(port_text);
    if (!port || *port == 0) return fail("the port must be 1 to 65535");
    url.port = *port;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.find_first_of(" \t\r\n") != std::string_view::npos) return fail("spaces in the path");
  url.path_prefix = std::string(path);
  const bool v6 = url.host.find(':') != std::string::npos;
  url.host_header = v6 ? "[" + url.host + "]" : url.host;
  if (url.port != default_port) url.host_header += ":" + std::to_string(url.port);
  return url;
}

}  // namespace sluice::config
