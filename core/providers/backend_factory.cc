#include "core/providers/backend.h"
#include "core/providers/http_backend.h"
#include "core/providers/mock_backend.h"

namespace sluice::providers {

std::unique_ptr<ProviderBackend> make_backend(uv_loop_t* loop, const config::Provider& provider) {
  if (provider.type == "mock") return std::make_unique<MockBackend>(loop, provider);
  if (provider.base_url.empty()) return nullptr;  // a plugin type whose codec was not resolved
  return std::make_unique<HttpBackend>(loop, provider);
}

}  // namespace sluice::providers
