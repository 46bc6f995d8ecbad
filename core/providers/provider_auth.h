// How a provider's API wants to be authenticated — the one thing besides the path that differs
// between the HTTP provider types sluice speaks:
//   openai    - "Authorization: Bearer <api_key>" (OpenAI and every OpenAI-compatible server);
//   anthropic - "x-api-key: <api_key>" and "anthropic-version: 2023-06-01" (Anthropic rejects
//               a request without a version; 2023-06-01 is the current one for /v1/messages).
// A header the provider config sets itself (headers:) wins: it is left out here, so
// `headers: {anthropic-version: ...}` or a custom Authorization scheme replace the default.
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

inline constexpr std::string_view kAnthropicVersion = "2023-06-01";

// (name, value) pairs to send on every request to `provider`, in order.
inline std::vector<std::pair<std::string, std::string>> provider_auth_headers(
    const config::Provider& provider) {
  auto configured = [&](std::string_view name) {
    return std::any_of(provider.headers.begin(), provider.headers.end(),
                       [&](const auto& h) { return http::iequals(h.first, name); });
  };
  std::vector<std::pair<std::string, std::string>> out;
  if (provider.type == "anthropic") {
    if (!provider.api_key.empty() && !configured("x-api-key")) {
      out.emplace_back("x-api-key", provider.api_key);
    }
    if (!configured("anthropic-version")) {
      out.emplace_back("anthropic-version", std::string(kAnthropicVersion));
    }
  } else if (!provider.api_key.empty() && !configured("authorization")) {
    out.emplace_back("Authorization", "Bearer " + provider.api_key);
  }
  return out;
}

}  // namespace sluice::providers
