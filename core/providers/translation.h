// Translation: how an attempt crosses from one API shape to another (DESIGN §9 "Providers and
// tools as plugins"). Two kinds of translators implement it, both supplied by plugins:
//
//   ProviderCodec  — a provider type (`type: anthropic`, `type: ollama_native`): the client's
//                    OpenAI-shaped request → the provider's request, and its answer back into
//                    OpenAI's shape with the usage it reports.
//   ClientApiCodec — a client API (Anthropic's /v1/messages): the client's request → OpenAI
//                    chat, so that any provider can answer it, and the answer back.
//
// A request may cross both (an Anthropic client asking a model served by a Lua provider): the
// client API's translation runs first on the request and last on the answer. Core keeps
// everything else — connection, pool, TLS, timeouts, retries, fallbacks, accounting.
//
// Threads: codecs are built on the main thread at config load and shared by every worker
// (const); a Translation belongs to one attempt on one worker.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/filter/request_context.h"
#include "core/usage/usage.h"

namespace sluice::tools {
class ToolSource;
}

namespace sluice::providers {

// How a provider frames a streamed answer (a 2xx of content type text/event-stream or
// application/x-ndjson): SSE events, or one JSON document per line.
enum class StreamFraming : uint8_t { Sse, Ndjson };

// What a translation step returns.
//   Ok      — go on.
//   Invalid — request() only: the client's request cannot be expressed for the target; the
//             client gets 400 invalid_request_error with message(), nothing is sent upstream.
//   Failed  — the translator could not do its job (plugin error, an answer it cannot read):
//             the attempt fails as a protocol error — 502 upstream_error naming the translator,
//             or an error event when the stream already started.
enum class TranslateStatus : uint8_t { Ok, Invalid, Failed };

// What request() reads.
struct TranslateInput {
  filter::Endpoint endpoint;    // the client's endpoint
  std::string_view body;        // the body to translate (client's, or the client API's output)
  std::string_view model;       // the target's physical model
  bool stream = false;          // the client asked for a stream
  bool stream_usage = false;    // ... and for the usage chunk (stream_options.include_usage)
  std::string_view request_id;  // x-request-id
};

// What request() writes. A provider sets path and headers, and a body unless the endpoint is
// native to it (then the client's body goes, with the model spliced). A client API sets body.
struct TranslatedRequest {
  std::string path;  // after the provider's base path, starts with '/'
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body;
};

class Translation {
 public:
  virtual ~Translation() = default;
  virtual TranslateStatus request(const TranslateInput& in, TranslatedRequest& out) = 0;
  // A whole answer (any status): `status` may be changed; the client's body goes into `out`.
  virtual TranslateStatus response(int& status, std::string_view body, std::string& out) = 0;
  // One stream event — SSE: its `event:` name and data lines joined by '\n'; NDJSON: one line,
  // empty name. Complete client events are appended to `out`.
  virtual TranslateStatus event(std::string_view name, std::string_view data, std::string& out) = 0;
  // The stream ended cleanly: what closes the client's stream is appended to `out`.
  virtual TranslateStatus end(std::string& out) = 0;
  // Usage the answer reported so far (source None when it reported none).
  virtual const usage::Usage& usage() const = 0;
  // Why the last step returned Invalid or Failed.
  virtual const std::string& message() const = 0;
};

class ProviderCodec {
 public:
  virtual ~ProviderCodec() = default;
  // Who translates, for messages: "plugin anthropic", "Lua plugin ollama_native".
  virtual const std::string& name() const = 0;
  // The endpoint goes upstream as the client sent it (model spliced) and comes back untouched.
  virtual bool native(filter::Endpoint endpoint) const = 0;
  // The endpoint (in OpenAI's shape) is translated both ways.
  virtual bool translates(filter::Endpoint endpoint) const = 0;
  virtual StreamFraming framing() const = 0;
  // A translation for one attempt on worker `worker` (never null).
  virtual std::unique_ptr<Translation> begin(unsigned worker) const = 0;
};

class ClientApiCodec {
 public:
  virtual ~ClientApiCodec() = default;
  virtual const std::string& name() const = 0;
  virtual filter::Endpoint endpoint() const = 0;
  virtual std::unique_ptr<Translation> begin(unsigned worker) const = 0;
};

// What a snapshot extension (the shared-object plugins, the Lua plugins) contributes to a
// config generation's providers. Asked at snapshot build, on the main thread.
class ProviderTypeSource {
 public:
  virtual ~ProviderTypeSource() = default;
  // The codec for `provider` when its type is one of this source's; nullptr when it is not.
  // Throws config::ConfigError when it is but the provider's entry is refused.
  virtual std::shared_ptr<const ProviderCodec> provider_codec(
      const config::Provider& provider) const = 0;
  // The default base_url of `type` ("" when none, or not one of this source's types).
  virtual std::string default_base_url(std::string_view type) const = 0;
  // The client API serving `endpoint`, or nullptr.
  virtual std::shared_ptr<const ClientApiCodec> client_api(filter::Endpoint endpoint) const = 0;
  // The provider types this source has, for "unknown type" messages.
  virtual void provider_types(std::vector<std::string>& out) const = 0;
  // The source of a `type: plugin` tools: entry whose plugin is one of this source's; nullptr
  // when it is not. Throws config::ConfigError when it is but has no such tool.
  virtual std::shared_ptr<tools::ToolSource> tool_source(const config::ToolSpec& spec) const {
    return nullptr;
  }
};

}  // namespace sluice::providers
