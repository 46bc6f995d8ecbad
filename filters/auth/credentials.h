// Where a request carries its credentials: "Authorization: Bearer <token>" (OpenAI SDKs, and
// JWTs) and "x-api-key: <key>" (Anthropic SDKs). Inline: api_key mode runs this on every
// request of the default chain.
#pragma once

#include <string_view>

#include "core/http/request.h"

namespace sluice::filters::auth {

// What the Authorization header holds.
enum class AuthorizationKind : uint8_t {
  None,         // no Authorization header, an empty one, or "Bearer" without a token
  Bearer,       // "Bearer <token>" (scheme case-insensitive, spaces/tabs before the token)
  OtherScheme,  // Basic, Digest, ...: not a credential sluice reads
};

inline bool is_auth_space(char c) {
  return c == ' ' || c == '\t';
}

inline AuthorizationKind authorization_of(const http::HttpRequest& request,
                                          std::string_view* token) {
  auto authorization = request.header("authorization");
  if (!authorization) return AuthorizationKind::None;
  std::string_view value = *authorization;
  constexpr std::string_view kBearer = "bearer";
  if (value.size() > kBearer.size() && http::iequals(value.substr(0, kBearer.size()), kBearer) &&
      is_auth_space(value[kBearer.size()])) {
    std::string_view rest = value.substr(kBearer.size());
    while (!rest.empty() && is_auth_space(rest.front())) rest.remove_prefix(1);
    if (rest.empty()) return AuthorizationKind::None;
    *token = rest;
    return AuthorizationKind::Bearer;
  }
  if (value.empty() || http::iequals(value, kBearer)) return AuthorizationKind::None;
  return AuthorizationKind::OtherScheme;
}

// x-api-key, when present and non-empty.
inline bool x_api_key_of(const http::HttpRequest& request, std::string_view* key) {
  auto api_key = request.header("x-api-key");
  if (!api_key || api_key->empty()) return false;
  *key = *api_key;
  return true;
}

}  // namespace sluice::filters::auth
