// OpenAiBackend: any OpenAI-compatible HTTP API (OpenAI, DeepSeek, vLLM, Ollama, llama.cpp…),
// and Anthropic's Messages API (type anthropic): the two differ only in the auth headers
// (provider_auth.h) — the path is the client's own after /v1 (/v1/messages → <base>/messages).
// Builds the upstream request head once per attempt into a reused buffer, sends the body as
// borrowed pieces around the spliced values — the physical model, and include_usage when the
// session asks for stream usage (upstream_body.h) — with no body copy, no re-serialisation;
// injects the provider's api_key and headers, never forwards the agent's credentials.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/providers/backend.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::providers {

class OpenAiBackend final : public ProviderBackend {
 public:
  OpenAiBackend(uv_loop_t* loop, const config::Provider& provider);
  ~OpenAiBackend() override;

  AttemptHandle* start(const AttemptRequest& request, upstream::ResponseSink* sink) override;
  void abort(AttemptHandle* attempt) override;
  void pause(AttemptHandle* attempt) override;
  void resume(AttemptHandle* attempt) override;
  void shutdown(void (*done)(void* arg), void* arg) override;

  // The request head for one attempt (exposed for unit tests).
  void build_head(const AttemptRequest& request, size_t body_length, std::string& out) const;

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
