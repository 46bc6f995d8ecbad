// Egress proxies for providers: the `proxy:` URL, and the curl/Go conventions for taking one
// from the environment (HTTPS_PROXY / HTTP_PROXY, excluded by NO_PROXY). Pure functions, run
// at config load only: a worker never reads the environment.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.h"
#include "core/config/loader.h"

namespace sluice::config {

// "http://[user:password@]host[:port][/]" or "host:port" (http assumed, as curl does). The
// port defaults to 80 as for any http URL. userinfo may be percent-encoded. https:// (TLS to
// the proxy itself) is refused: only plain HTTP CONNECT proxies are supported. On failure
// returns nullopt and sets `error` (which never repeats the password).
std::optional<ProxyUrl> parse_proxy_url(std::string_view text, std::string& error);

// Whether NO_PROXY-style `list` excludes `host`:`port`: comma-separated entries, each `*`
// (everything), a host name matching itself and its subdomains (a leading "." or "*." is
// ignored: ".corp" and "corp" both match "api.corp"), an IP literal matching itself, and any
// of these with ":port" to match that port only. Case-insensitive. No CIDR ranges.
bool no_proxy_excludes(std::string_view list, std::string_view host, uint16_t port);

// localhost, *.localhost, 127.0.0.0/8 and ::1: never sent through an environment proxy.
bool is_loopback_host(std::string_view host);

// The proxy the environment gives for `target` (an https URL: HTTPS_PROXY then https_proxy;
// http: HTTP_PROXY then http_proxy), unless the value is empty, the target is loopback or
// NO_PROXY / no_proxy excludes it. `name` is set to the variable the value came from.
struct EnvProxy {
  std::string name;
  std::string value;
};
std::optional<EnvProxy> proxy_from_environment(const Url& target, const EnvLookup& env);

// The same, parsed into a ProxyUrl (source: the variable's name). A value that is not a proxy
// URL sets `error` (naming the variable) and returns nullopt; none applying leaves it empty.
std::optional<ProxyUrl> environment_proxy(const Url& target, const EnvLookup& env,
                                          std::string& error);

}  // namespace sluice::config
