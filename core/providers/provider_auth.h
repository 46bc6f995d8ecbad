// How a built-in provider type wants to be authenticated: `openai` sends
// "Authorization: Bearer <api_key>" (OpenAI and every OpenAI-compatible server). A header the
// provider config sets itself (headers:) wins: a custom Authorization scheme replaces the
// default. Provider types of plugins add their own auth headers when they translate the
// request (plugins/anthropic: x-api-key and anthropic-version), so nothing is added for them.
// Header-only so both the attempt path (core/providers) and the health probe (core/health)
// use the same rule without a library dependency between them.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/config.h"
#include "core/http/request.h"

namespace sluice::providers {

// (name, value) pairs to send on every request to `provider`, in order.
inline std::vector<std::pair<std::string, std::string>> provider_auth_headers(
    const config::Provider& provider) {
  auto configured = [&](std::string_view name) {
    return std::any_of(provider.headers.begin(), provider.headers.end(),
                       [&](const auto& h) { return http::iequals(h.first, name); });
  };
  std::vector<std::pair<std::string, std::string>> out;
  if (provider.type == "openai" && !provider.api_key.empty() && !configured("authorization")) {
    out.emplace_back("Authorization", "Bearer " + provider.api_key);
  }
  return out;
}

}  // namespace sluice::providers
