// Which providers run on this machine, so their models cost nothing by default: type `mock`
// (sluice's built-in offline provider), or an openai-type provider whose base_url host is a
// loopback address — 127.0.0.0/8, ::1 or localhost (Ollama, vLLM, llama.cpp on the same host).
// The cost filter prices such a provider's models at 0 when the price table does not list them,
// without the "unpriced" warning; a listed model is still charged its price.
#pragma once

#include <string_view>

#include "core/config/config.h"

namespace sluice::filters::cost {

bool is_loopback_host(std::string_view host);
bool is_local_provider(const config::Provider& provider);

}  // namespace sluice::filters::cost
