#include "core/providers/backend.h"
#include "core/providers/mock_backend.h"
#include "core/providers/openai_backend.h"

namespace sluice::providers {

std::unique_ptr<ProviderBackend> make_backend(uv_loop_t* loop, const config::Provider& provider) {
  if (provider.type == "mock") return std::make_unique<MockBackend>(loop, provider);
  // Anthropic's API takes the same HTTP machinery; only its auth headers differ.
  if (provider.type == "openai" || provider.type == "anthropic") {
    return std::make_unique<OpenAiBackend>(loop, provider);
  }
  return nullptr;
}

bool speaks(const config::Provider& provider, filter::Endpoint endpoint) {
  if (provider.type == "mock") return true;
  const bool messages = endpoint == filter::Endpoint::Messages;
  return provider.type == "anthropic" ? messages : !messages;
}

}  // namespace sluice::providers
