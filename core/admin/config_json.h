// The effective config as JSON for GET /config, with secrets redacted (DESIGN §6, §10).
//
// Redaction rules (a redacted value becomes "[redacted]"; a redacted list or map keeps its
// shape with every leaf "[redacted]", so an operator still sees how many keys an agent has;
// an empty value stays empty — it hides nothing):
//  1. any map key, anywhere, that names a credential: split into words on non-alphanumerics,
//     a word in {key, keys, apikey, token, secret, secrets, password, passwd, credential,
//     credentials, authorization, cookie}. Covers providers.*.api_key, admin_token,
//     agents.*.keys, filters' jwt hs256_secret, and plugin/lua configs that follow the same
//     naming;
//  2. under any `headers:` map, a header whose name contains "authorization", "key", "token",
//     "secret" or "cookie" (case-insensitive) — e.g. X-Api-Key, Proxy-Authorization;
//  3. in any string that is a URL, the password of its user-info (scheme://user:pass@host),
//     or the whole user-info when it has no password (scheme://token@host).
//
// YAML scalars become JSON by the YAML 1.2 core schema: quoted → string; plain null/~ → null,
// true/false → bool, decimal integers and floats → number; everything else → string.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

namespace sluice::admin {

inline constexpr std::string_view kRedacted = "[redacted]";

std::string redacted_config_json(const YAML::Node& raw);

// "https://user:pass@host/x" → "https://user:[redacted]@host/x", "https://tok@host" →
// "https://[redacted]@host"; strings that are not URLs with user-info are returned unchanged.
std::string redact_url_userinfo(std::string_view s);

}  // namespace sluice::admin
