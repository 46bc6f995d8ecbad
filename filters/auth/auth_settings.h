// The auth filter's YAML (DESIGN §4), parsed and checked at config load:
//   - auth: {modes: [api_key, jwt, header],
//            jwt: {...}                                  (jwt_settings.h)
//            header: {name: x-agent-id, allow_remote: false}}
// `modes` defaults to [api_key]; a block for a mode that is not listed is an error (it would
// silently do nothing).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/config/node_reader.h"
#include "filters/auth/jwt_settings.h"

namespace sluice::filters::auth {

// How a request can say which agent it is. Listed modes are tried in order; see
// multi_mode_filter.h for how a request's credentials are matched to them.
enum class AuthMode : uint8_t {
  ApiKey,  // a key from agents.*.keys, as "Authorization: Bearer <key>" or "x-api-key"
  Jwt,     // "Authorization: Bearer <jwt>" signed by the configured issuer
  Header,  // the agent's name in a header, trusted as is (loopback only by default)
};
const char* to_string(AuthMode mode);

struct HeaderSettings {
  std::string name = "x-agent-id";  // lowercase
  bool allow_remote = false;        // permit header mode on a non-loopback listen address
};

struct AuthSettings {
  std::vector<AuthMode> modes;           // non-empty, no repeats
  std::optional<JwtSettings> jwt;        // iff Jwt is listed
  std::optional<HeaderSettings> header;  // iff Header is listed
  bool lists(AuthMode mode) const;
  // The plain default: only api_key (the filter then runs its fast single-mode path).
  bool api_key_only() const { return modes.size() == 1 && modes[0] == AuthMode::ApiKey; }
};

// Reads the whole `auth:` mapping and calls finish() on it. Throws ConfigError.
AuthSettings parse_auth_settings(config::NodeReader& reader, const config::Config& config);

// 127.0.0.0/8, ::1 (and ::ffff:127.x.x.x), "localhost": addresses only this machine reaches.
bool is_loopback_host(std::string_view host);

}  // namespace sluice::filters::auth
