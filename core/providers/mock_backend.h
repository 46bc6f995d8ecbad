// MockBackend: the built-in offline provider (type: mock). Answers in-process — no socket —
// with OpenAI-shaped completions, and Anthropic-shaped messages on /v1/messages (echo of the
// last user message, or a canned reply), SSE streaming, usage, and the configured latency and
// inter-chunk delay. It goes through the same
// ResponseSink path as a real provider, so everything downstream (headers, streaming,
// back-pressure, metrics) behaves exactly as it would against a network upstream.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/providers/backend.h"

namespace sluice::providers {

// The response a mock attempt plays back: a status, a content type, and the body split into
// the pieces that are delivered one timer tick apart (one piece for non-stream responses).
struct MockScript {
  int status = 200;
  const char* content_type = "application/json";
  bool streamed = false;
  std::vector<std::string> pieces;
};

// Builds the script for a request (exposed for unit tests).
void build_mock_script(const config::MockSettings& settings, const AttemptRequest& request,
                       uint64_t sequence, MockScript& out);

class MockBackend final : public ProviderBackend {
 public:
  MockBackend(uv_loop_t* loop, const config::Provider& provider);
  ~MockBackend() override;

  AttemptHandle* start(const AttemptRequest& request, upstream::ResponseSink* sink) override;
  void abort(AttemptHandle* attempt) override;
  void pause(AttemptHandle* attempt) override;
  void resume(AttemptHandle* attempt) override;
  void shutdown(void (*done)(void* arg), void* arg) override;

 private:
  struct Attempt;
  static void on_timer(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);
  void step(Attempt* attempt);
  void schedule(Attempt* attempt, uint64_t delay_ms);
  void finish(Attempt* attempt);

  uv_loop_t* loop_;
  config::MockSettings settings_;
  uint64_t sequence_ = 0;
  std::vector<std::unique_ptr<Attempt>> attempts_;  // timers live as long as the backend
  std::vector<Attempt*> free_;
  size_t open_handles_ = 0;
  void (*shutdown_done_)(void*) = nullptr;
  void* shutdown_arg_ = nullptr;
};

}  // namespace sluice::providers
