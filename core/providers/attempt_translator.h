// AttemptTranslator: runs one attempt's translations (translation.h) between a backend and the
// proxy session. It builds the upstream request from the client's, then stands in as the
// backend's ResponseSink and hands the session an answer in the client's shape, as if the
// provider had spoken it:
//
//   client ──(client API?)──(provider codec?)──▶ upstream request
//   session ◀──(client API?)──(provider codec?)── upstream answer
//
// A whole answer (any status, or a 2xx that is not a stream) is held — at most kMaxWholeBytes
// — and translated when it ended, then handed on with its Content-Length. A stream (a 2xx of
// text/event-stream or application/x-ndjson) is cut into events and each is translated as it
// arrives, so a stream stays a stream and memory stays bounded. When a translation fails the
// upstream exchange is aborted (nothing of it reaches the session afterwards) and the session
// gets a protocol failure whose detail names the translator: 502 upstream_error, or an error
// event once the stream started.
//
// State machine, per attempt:
//   Idle      — prepare() not called, or the attempt ended (done, failure, abort).
//   Head      — the request went out; waiting for the answer's head.
//   Whole     — holding a whole answer.
//   Streaming — translating events; the translated head went to the session.
//   Failed    — a translation failed and the exchange was aborted; everything is ignored.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/providers/event_splitter.h"
#include "core/providers/translation.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::providers {

class ProviderBackend;
class AttemptHandle;

class AttemptTranslator final : public upstream::ResponseSink {
 public:
  static constexpr size_t kMaxWholeBytes = 64u << 20;

  // Whether an attempt needs translating: a client API, or a provider codec that translates
  // (a provider serving the endpoint natively needs none).
  static bool needed(const ProviderCodec* provider, const ClientApiCodec* client,
                     filter::Endpoint endpoint);

  // Translates the request for one attempt. `provider` is null for a built-in provider type
  // (the request is OpenAI chat, sent to "/chat/completions"); `client` is null unless the
  // client's API is not the provider's. On Ok, request() is what to send.
  TranslateStatus prepare(const ProviderCodec* provider, const ClientApiCodec* client,
                          unsigned worker, const TranslateInput& in,
                          upstream::ResponseSink* session);
  const TranslatedRequest& request() const { return request_; }
  // Whether the answer goes through a translation (else the endpoint was native to the
  // provider and only the request was shaped: path and headers).
  bool translates_answer() const { return provider_ != nullptr || client_ != nullptr; }
  // Why prepare() returned Invalid or Failed ("plugin anthropic: messages[1]...").
  const std::string& message() const { return message_; }

  // The exchange the request went out on: aborted if a translation fails mid-answer.
  void attach(ProviderBackend* backend, AttemptHandle* attempt);
  // The attempt ended without this object's help (the session aborted it): forget it.
  void reset();
  // Usage the answer reported through the translation; source None when it reported none.
  const usage::Usage& reported_usage() const { return usage_; }
  // Whether the answer has reported usage so far (Anthropic's does in its first event): the
  // session then stops scanning the translated bytes for a usage it would throw away.
  bool usage_reported() const {
    return provider_ ? provider_->usage().known() : client_ && client_->usage().known();
  }

  // ResponseSink (from the backend)
  void on_upstream_head(int status, std::span<const upstream::ResponseHeader> headers,
                        std::optional<uint64_t> content_length) override;
  void on_upstream_body(const char* data, size_t len) override;
  void on_upstream_done() override;
  void on_upstream_failure(const upstream::Failure& failure) override;

 private:
  enum class State : uint8_t { Idle, Head, Whole, Streaming, Failed };

  // The steps of the answer, last stage first (provider codec, then client API).
  bool translate_whole(int& status, std::string& out);
  bool translate_event(std::string_view name, std::string_view data);
  bool translate_client_event(std::string_view name, std::string_view data);
  bool translate_end();
  void collect_usage();
  // A translation failed: abort the exchange, tell the session.
  void fail(const Translation& who, const std::string& codec_name);
  void fail_with(std::string detail);
  void send_head(int status, std::optional<uint64_t> content_length, std::string_view type);
  void flush_out();

  State state_ = State::Idle;
  upstream::ResponseSink* session_ = nullptr;
  ProviderBackend* backend_ = nullptr;
  AttemptHandle* attempt_ = nullptr;
  const ProviderCodec* provider_codec_ = nullptr;
  const ClientApiCodec* client_codec_ = nullptr;
  std::unique_ptr<Translation> provider_;  // null when the provider's answer needs none
  std::unique_ptr<Translation> client_;    // null without a client API
  TranslatedRequest request_;
  std::string message_;
  usage::Usage usage_;

  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;  // kept upstream headers
  std::string whole_;                                         // the held whole answer
  EventSplitter upstream_events_;
  EventSplitter provider_output_;  // the provider codec's output, re-cut for the client API
  std::string stage_;              // the provider codec's output of one step
  std::string out_;                // what goes to the session next
  std::string detail_;             // the failure detail handed to the session (kept for its call)
};

}  // namespace sluice::providers
