#include "core/config/proxy_url.h"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace sluice::config {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]);
    int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

// "host", "host:port", "[v6]", "[v6]:port" → host (no brackets) and port (or `fallback`).
bool split_host_port(std::string_view s, uint16_t fallback, std::string& host, uint16_t& port) {
  port = fallback;
  std::string_view port_text;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(s.substr(1, close - 1));
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = s.rfind(':');
    if (colon != std::string_view::npos && s.find(':') == colon) {
      host = std::string(s.substr(0, colon));
      port_text = s.substr(colon + 1);
    } else {
      host = std::string(s);  // no port, or a bare IPv6 literal
    }
  }
  if (host.empty()) return false;
  if (port_text.empty()) return true;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
      value > 65535) {
    return false;
  }
  port = static_cast<uint16_t>(value);
  return true;
}

bool host_matches(const std::string& host, std::string_view pattern) {
  if (pattern.substr(0, 2) == "*.") pattern.remove_prefix(2);
  if (!pattern.empty() && pattern.front() == '.') pattern.remove_prefix(1);
  if (pattern.empty()) return false;
  if (host == pattern) return true;
  return host.size() > pattern.size() && host.ends_with(pattern) &&
         host[host.size() - pattern.size() - 1] == '.';
}

}  // namespace

std::optional<ProxyUrl> parse_proxy_url(std::string_view text, std::string& error) {
  text = trim(text);
  std::string_view rest = text;
  const size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string scheme = lower(rest.substr(0, scheme_end));
    if (scheme != "http") {
      error = "proxy scheme \"" + scheme +
              "\" is not supported: use http://host:port (an HTTP CONNECT proxy)";
      return std::nullopt;
    }
    rest.remove_prefix(scheme_end + 3);
  }
  // Tolerate a trailing "/" (HTTPS_PROXY=http://proxy:3128/ is common); nothing else.
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    if (slash + 1 != rest.size()) {
      error = "a proxy URL has no path: use http://[user:password@]host:port";
      return std::nullopt;
    }
    rest.remove_suffix(1);
  }
  ProxyUrl proxy;
  std::string shown = "http://";
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const size_t colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = colon == std::string_view::npos ? std::optional<std::string>("")
                                                    : percent_decode(userinfo.substr(colon + 1));
    if (!user || !password) {
      error = "the proxy URL's user or password has a bad %-escape";
      return std::nullopt;
    }
    proxy.authorization = "Basic " + base64(*user + ":" + *password);
    shown += std::string(userinfo.substr(0, colon)) + ":[redacted]@";
  }
  if (!split_host_port(rest, 80, proxy.host, proxy.port)) {
    error = "expected http://[user:password@]host:port for the proxy";
    return std::nullopt;
  }
  for (char c : proxy.host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '@' || c == '/') {
      error = "the proxy host \"" + proxy.host + "\" is not a host name or IP address";
      return std::nullopt;
    }
  }
  const bool v6 = proxy.host.find(':') != std::string::npos;
  shown += (v6 ? "[" + proxy.host + "]" : proxy.host) + ":" + std::to_string(proxy.port);
  proxy.redacted = shown;
  proxy.source = "proxy";
  return proxy;
}

bool no_proxy_excludes(std::string_view list, std::string_view host_in, uint16_t port) {
  const std::string host = lower(host_in);
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string entry = lower(trim(list.substr(start, comma - start)));
    start = comma + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    std::string pattern;
    uint16_t entry_port = 0;
    // A bare IPv6 literal has several colons and no port; split_host_port keeps it whole.
    if (!split_host_port(entry, 0, pattern, entry_port)) continue;
    if (entry_port != 0 && entry_port != port) continue;
    if (host_matches(host, pattern)) return true;
  }
  return false;
}

bool is_loopback_host(std::string_view host_in) {
  const std::string host = lower(host_in);
  if (host == "localhost" || host.ends_with(".localhost")) return true;
  unsigned char addr[16];
  if (inet_pton(AF_INET, host.c_str(), addr) == 1) return addr[0] == 127;
  if (inet_pton(AF_INET6, host.c_str(), addr) == 1) {
    static const unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::equal(addr, addr + 16, kLoopback6);
  }
  return false;
}

std::optional<EnvProxy> proxy_from_environment(const Url& target, const EnvLookup& env) {
  if (target.host.empty() || is_loopback_host(target.host)) return std::nullopt;
  std::optional<EnvProxy> found;
  // Upper case first, as Go's net/http does (curl reads only http_proxy in lower case).
  static const std::array<const char*, 2> kHttps = {"HTTPS_PROXY", "https_proxy"};
  static const std::array<const char*, 2> kHttp = {"HTTP_PROXY", "http_proxy"};
  for (const char* name : target.tls ? kHttps : kHttp) {
    if (auto v = env(name); v && !trim(*v).empty()) {
      found = EnvProxy{name, std::string(trim(*v))};
      break;
    }
  }
  if (!found) return std::nullopt;
  for (const char* name : {"NO_PROXY", "no_proxy"}) {
    if (auto v = env(name); v && !trim(*v).empty()) {
      if (no_proxy_excludes(*v, target.host, target.port)) return std::nullopt;
      break;
    }
  }
  return found;
}

std::optional<ProxyUrl> environment_proxy(const Url& target, const EnvLookup& env,
                                          std::string& error) {
  auto from_env = proxy_from_environment(target, env);
  if (!from_env) return std::nullopt;
  auto proxy = parse_proxy_url(from_env->value, error);
  if (!proxy) {
    error = "the " + from_env->name + " environment variable: " + error +
            " (set proxy: \"\" on this provider to bypass it)";
    return std::nullopt;
  }
  proxy->source = from_env->name;
  return proxy;
}

}  // namespace sluice::config
