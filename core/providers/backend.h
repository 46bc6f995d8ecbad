// ProviderBackend: how one attempt reaches a provider. One backend per (worker, provider);
// the proxy session does not care whether the answer comes from a socket (openai) or is made
// in-process (mock): both report through the same upstream::ResponseSink callbacks, with the
// same rules (never synchronously from start(); exactly one of on_done/on_failure; nothing
// after abort()).
#pragma once

#include <memory>
#include <string_view>

#include "core/config/config.h"
#include "core/filter/request_context.h"
#include "core/http/request.h"
#include "core/json/request_fields.h"
#include "core/providers/translation.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::providers {

// What one attempt sends. Everything is borrowed from the request, which outlives the attempt.
struct AttemptRequest {
  filter::Endpoint endpoint;
  const http::HttpRequest* request;   // downstream head + body
  const json::RequestFields* fields;  // model offsets for the splice
  std::string_view physical_model;    // value to splice into "model"
  std::string_view request_id;
  // Ask the provider to report usage in the stream (stream_options.include_usage: true, for
  // OpenAI-type chat/completions streams whose client did not ask: DESIGN §8). The session
  // sets it; the openai backend splices it into the body, the mock backend answers as if it
  // had been sent. The session then removes the extra usage chunk before the client sees it.
  bool ask_stream_usage = false;
  // Set when a translation built the upstream request (attempt_translator.h): its path
  // replaces the client's, its headers are added (the provider's own `headers:` still win),
  // and its body, when set, is sent as it is instead of the client's — with none of the
  // client's headers, which belong to another API. Borrowed for start() only.
  const TranslatedRequest* translated = nullptr;
};

class AttemptHandle;  // opaque, owned by the backend

class ProviderBackend {
 public:
  virtual ~ProviderBackend() = default;
  virtual AttemptHandle* start(const AttemptRequest& request, upstream::ResponseSink* sink) = 0;
  virtual void abort(AttemptHandle* attempt) = 0;
  virtual void pause(AttemptHandle* attempt) = 0;
  virtual void resume(AttemptHandle* attempt) = 0;
  // Close everything; `done(arg)` once every libuv handle is closed.
  virtual void shutdown(void (*done)(void* arg), void* arg) = 0;
};

// Makes the backend for a provider: the in-process mock for type mock, else the HTTP backend
// (openai, and every type a plugin registers: its codec translates, the HTTP is the same).
std::unique_ptr<ProviderBackend> make_backend(uv_loop_t* loop, const config::Provider& provider);

}  // namespace sluice::providers
