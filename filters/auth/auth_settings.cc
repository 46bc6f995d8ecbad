#include "filters/auth/auth_settings.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "core/http/request.h"

namespace sluice::filters::auth {

namespace {

const std::vector<std::string> kModeNames = {"api_key", "jwt", "header"};

std::optional<AuthMode> mode_named(std::string_view name) {
  if (name == "api_key") return AuthMode::ApiKey;
  if (name == "jwt") return AuthMode::Jwt;
  if (name == "header") return AuthMode::Header;
  return std::nullopt;
}

// RFC 9110 §5.6.2 token characters: what a header name may be made of.
bool is_header_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::vector<AuthMode> parse_modes(config::NodeReader& reader) {
  std::vector<std::string> names = reader.string_list("modes", /*allow_scalar=*/true)
                                       .value_or(std::vector<std::string>{"api_key"});
  if (names.empty()) reader.fail("modes", "at least one mode is required (api_key, jwt, header)");
  std::vector<AuthMode> modes;
  for (const std::string& name : names) {
    std::optional<AuthMode> mode = mode_named(name);
    if (!mode) {
      std::string message = "unknown mode \"" + name + "\"";
      if (auto guess = config::did_you_mean(name, kModeNames))
        message += " (did you mean \"" + *guess + "\"?)";
      reader.fail("modes", message + "; modes are api_key, jwt, header");
    }
    if (std::find(modes.begin(), modes.end(), *mode) != modes.end())
      reader.fail("modes", "mode \"" + name + "\" is listed twice");
    modes.push_back(*mode);
  }
  return modes;
}

HeaderSettings parse_header_settings(config::NodeReader& reader) {
  HeaderSettings settings;
  std::optional<std::string> name = reader.string("name");
  std::optional<bool> allow_remote = reader.boolean("allow_remote");
  reader.finish();
  if (name) {
    if (!is_header_name(*name)) reader.fail("name", "\"" + *name + "\" is not a header name");
    settings.name = lowercase(*name);
    // These carry keys and tokens; an agent name there would be read as both.
    if (settings.name == "authorization" || settings.name == "x-api-key")
      reader.fail("name", "\"" + *name + "\" carries API keys and JWTs; use a header of its own");
  }
  settings.allow_remote = allow_remote.value_or(false);
  return settings;
}

// Header mode believes whatever name a client sends, so only clients on this machine (the
// agents this sidecar sits beside) may reach it, unless the operator says a trusted proxy in
// front sets the header.
void check_header_mode_is_local(config::NodeReader& reader, const config::Config& config,
                                const HeaderSettings& settings) {
  if (settings.allow_remote) return;
  for (const config::HostPort& address : config.listen) {
    if (is_loopback_host(address.host)) continue;
    std::string message = "mode \"header\" trusts the agent name any client sends in \"" +
                          settings.name + "\", and listen address " + address.to_string() +
                          " is not loopback, so any client that reaches it could claim to be "
                          "any agent. Listen on 127.0.0.1, ::1 or localhost only, or set "
                          "header.allow_remote: true if a trusted proxy in front sets the header";
    if (reader.has("header")) reader.fail("header", message);
    reader.fail("modes", message);
  }
}

}  // namespace

const char* to_string(AuthMode mode) {
  switch (mode) {
    case AuthMode::ApiKey:
      return "api_key";
    case AuthMode::Jwt:
      return "jwt";
    case AuthMode::Header:
      return "header";
  }
  return "?";
}

bool AuthSettings::lists(AuthMode mode) const {
  return std::find(modes.begin(), modes.end(), mode) != modes.end();
}

bool is_loopback_host(std::string_view host) {
  if (http::iequals(host, "localhost")) return true;
  std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

AuthSettings parse_auth_settings(config::NodeReader& reader, const config::Config& config) {
  AuthSettings settings;
  settings.modes = parse_modes(reader);
  // The blocks are read (so finish() knows them) before their modes are checked against them.
  const bool has_jwt = reader.has("jwt"), has_header = reader.has("header");
  config::NodeReader jwt = reader.child("jwt");
  config::NodeReader header = reader.child("header");
  reader.finish();

  for (auto [mode, present, key] : {std::tuple{AuthMode::Jwt, has_jwt, "jwt"},
                                    std::tuple{AuthMode::Header, has_header, "header"}}) {
    if (present && !settings.lists(mode)) {
      reader.fail(key, std::string("settings for mode \"") + key +
                           "\", which is not in modes; add it to modes or remove this block");
    }
  }
  if (settings.lists(AuthMode::Jwt)) {
    if (!has_jwt) {
      reader.fail("modes",
                  "mode \"jwt\" needs a jwt block: jwt: {hs256_secret: ...} or "
                  "jwt: {rs256_public_key_file: ...}");
    }
    settings.jwt = parse_jwt_settings(jwt, config);
  }
  if (settings.lists(AuthMode::Header)) {
    settings.header = parse_header_settings(header);
    check_header_mode_is_local(reader, config, *settings.header);
  }
  return settings;
}

}  // namespace sluice::filters::auth
