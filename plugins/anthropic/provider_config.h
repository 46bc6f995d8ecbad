// The `anthropic` provider entry, read once at config load (create_config) and then only read
// by every worker at once.
//
//   providers:
//     claude:
//       type: anthropic
//       api_key: ${ANTHROPIC_API_KEY}
//       config: {version: "2023-06-01", max_tokens: 4096, beta: "prompt-caching-2024-07-31"}
//
// sluice hands the entry over as JSON:
//   {"name":"claude","type":"anthropic","base_url":"...","api_key":"...","config":{...}|null}
// Only `api_key` and `config` matter here (base_url is sluice's business). Keys of `config`:
//   version     the anthropic-version header (default "2023-06-01", the version the
//               translators are written against);
//   max_tokens  what an OpenAI request that sets no max_tokens gets (Anthropic requires one);
//               default 4096 (kDefaultMaxTokens says why);
//   beta        the anthropic-beta header: a string, or a list of strings joined with ","
//               (default: none).
// Any other key is refused with a message naming it, as sluice refuses unknown YAML keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "anthropic/outcome.h"

namespace anthropic {

// Anthropic requires max_tokens and OpenAI clients usually send none. 4096 is the largest
// output every Claude model accepts (the Claude 3 Haiku / Opus generation stops there; newer
// models allow more), so the default never turns a request into a 400; and sluice reserves
// budget and TPM for prompt + max_tokens at admission (DESIGN §8), so a large default would
// make every such request reserve far more than it will spend.
inline constexpr uint64_t kDefaultMaxTokens = 4096;
inline constexpr std::string_view kDefaultVersion = "2023-06-01";

struct ProviderConfig {
  std::string api_key;                   // "" → no x-api-key (a proxy in front adds auth)
  std::string version{kDefaultVersion};  // anthropic-version
  std::string beta;                      // anthropic-beta; "" → not sent
  uint64_t default_max_tokens = kDefaultMaxTokens;
};

// Reads the provider entry into `out`. Error (with a message naming the key) for JSON that is
// not an object, a `config` that is neither an object nor null, an unknown key in it, a value
// of the wrong type, or a header value with CR, LF or NUL in it.
Outcome parse_provider_config(std::string_view provider_json, ProviderConfig& out);

}  // namespace anthropic
