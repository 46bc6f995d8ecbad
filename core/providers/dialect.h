// Dialect: whether a provider can answer a client's endpoint, and which translations it takes
// (DESIGN §9). The rules, by provider:
//   mock              — speaks every endpoint itself (OpenAI's and Anthropic's shapes).
//   openai (built in) — the OpenAI endpoints natively; /v1/messages only through the client
//                       API a plugin registers for it (plugins/anthropic), as OpenAI chat.
//   a plugin's type   — the endpoints its codec serves natively pass through; the ones it
//                       translates (OpenAI chat) go through its codec; /v1/messages, when it
//                       neither serves nor translates it, goes through the client API first
//                       and then through the codec as OpenAI chat.
// Anything else is skipped by the router with the reason `why` gives.
#pragma once

#include <string>

#include "core/config/config.h"
#include "core/providers/translation.h"

namespace sluice::providers {

struct Dialect {
  bool speaks = false;
  const ProviderCodec* provider = nullptr;  // the provider's codec (null: built-in type)
  const ClientApiCodec* client = nullptr;   // set when the client's API must be translated
};

// `codec`: the provider's (null for built-in types); `client_api`: the client API of
// `endpoint`, when a plugin registered one.
inline Dialect dialect_for(const config::Provider& provider, const ProviderCodec* codec,
                           const ClientApiCodec* client_api, filter::Endpoint endpoint) {
  if (provider.type == "mock") return Dialect{true, nullptr, nullptr};
  const bool messages = endpoint == filter::Endpoint::Messages;
  if (codec == nullptr) {  // openai
    if (!messages) return Dialect{true, nullptr, nullptr};
    return Dialect{client_api != nullptr, nullptr, client_api};
  }
  if (codec->native(endpoint) || codec->translates(endpoint)) return Dialect{true, codec, nullptr};
  if (messages && client_api != nullptr && codec->translates(filter::Endpoint::ChatCompletions)) {
    return Dialect{true, codec, client_api};
  }
  return Dialect{};
}

// Why a provider that does not speak `endpoint` was skipped (for the 503's message).
inline std::string why_not_spoken(const config::Provider& provider, filter::Endpoint endpoint) {
  if (endpoint == filter::Endpoint::Messages) {
    return "type " + provider.type +
           " does not speak the Anthropic Messages API, and no plugin translates it (the "
           "anthropic plugin does: plugins: {anthropic: {file: .../libsluice_anthropic.so}})";
  }
  return std::string("type ") + provider.type + " does not serve the " +
         filter::to_string(endpoint) + " endpoint";
}

}  // namespace sluice::providers
