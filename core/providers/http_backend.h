// HttpBackend: a provider reached over HTTP — any OpenAI-compatible API (type openai: OpenAI,
// DeepSeek, vLLM, Ollama, llama.cpp…) and every provider type a plugin registers (its codec
// has already translated the request: AttemptRequest::translated).
// Untranslated, the path is the client's own after /v1 and the body goes as borrowed pieces
// around the spliced values — the physical model, and include_usage when the session asks for
// stream usage (upstream_body.h) — with no body copy, no re-serialisation. Translated, the
// path, headers and body are the translation's. Either way the head is built once per attempt
// into a reused buffer, the provider's api_key (openai) and headers are injected, and the
// agent's credentials are never forwarded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/providers/backend.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::providers {

class HttpBackend final : public ProviderBackend {
 public:
  HttpBackend(uv_loop_t* loop, const config::Provider& provider);
  ~HttpBackend() override;

  AttemptHandle* start(const AttemptRequest& request, upstream::ResponseSink* sink) override;
  void abort(AttemptHandle* attempt) override;
  void pause(AttemptHandle* attempt) override;
  void resume(AttemptHandle* attempt) override;
  void shutdown(void (*done)(void* arg), void* arg) override;

  // The request head for one attempt (exposed for unit tests).
  void build_head(const AttemptRequest& request, size_t body_length, std::string& out) const;

  // Whether a header named `name` is one the provider's config sets (those win).
  bool provider_sets(std::string_view name) const;

 private:
  struct Attempt;
  Attempt* acquire_attempt();
  void recycle(Attempt* attempt);

  upstream::UpstreamPool pool_;
  std::string path_prefix_;                    // "/v1"
  std::string fixed_headers_;                  // Host, auth headers, provider headers, Content-Type
  std::vector<std::string> own_header_names_;  // lowercase names the provider config sets
  std::vector<std::unique_ptr<Attempt>> attempts_;  // owned; free ones are in free_
  std::vector<Attempt*> free_;
};

}  // namespace sluice::providers
