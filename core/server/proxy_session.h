// ProxySession: one request's way through sluice (DESIGN §2), from the parsed request to the
// last byte downstream: endpoint match and body fields, the request filters (with Stop/resume
// and local replies), the route plan, upstream attempts, and the relay of the response —
// holding the response head until the first body byte so a failed attempt can still be
// retried or fall back, and ending a started stream with an explicit error event.
// A session lives in a RequestSlot (request_slot.h), reused request after request: bound to the
// connection that holds the slot while the request runs, unbound once it is given back.
#pragma once

#include <uv.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/filter/filter.h"
#include "core/filter/request_context.h"
#include "core/filter/snapshot.h"
#include "core/providers/attempt_translator.h"
#include "core/providers/backend.h"
#include "core/providers/dialect.h"
#include "core/server/router.h"
#include "core/server/tool_exchange.h"
#include "core/upstream/upstream_pool.h"
#include "core/usage/usage_scanner.h"

namespace sluice::server {

class DownstreamConnection;
class Worker;

class ProxySession final : public upstream::ResponseSink,
                           public filter::ChainResumer,
                           public ToolExchange::Listener {
 public:
  // Idle           — no request; start() is allowed.
  // RunningChain   — request filters are running (synchronously).
  // WaitingFilter  — a filter returned Stop; resume_chain() continues, client_gone() cancels.
  // Upstream       — an attempt is in flight and nothing went downstream yet.
  // WaitingRetry   — an attempt failed and a filter asked to try again after ctx.retry_delay:
  //                  the retry timer is armed; it starts the next attempt, client_gone() stops it.
  // Relaying       — the response head went downstream; retry is no longer possible.
  // CallingTool    — a tool call is in flight (ToolExchange); the retry timer holds its
  //                  deadline; its end (or the deadline) sends the reply, client_gone()
  //                  cancels it.
  // (Back to Idle once finish() handed the connection its keep-alive verdict.)
  enum class State : uint8_t {
    Idle,
    RunningChain,
    WaitingFilter,
    Upstream,
    WaitingRetry,
    Relaying,
    CallingTool
  };
  static const char* to_string(State s);

  explicit ProxySession(Worker& worker);
  ~ProxySession() override;

  // The connection whose request this is (set by the slot pool; null while pooled). Only
  // while Idle: a running session keeps its connection to the end.
  void bind(DownstreamConnection* connection);
  // Releases buffers whose capacity grew past max_bytes (the slot is going back to its pool).
  void trim_buffers(size_t max_bytes);

  // Takes the request the connection parsed; the snapshot is pinned until the request ends.
  void start(http::HttpRequest& request, std::shared_ptr<const filter::ConfigSnapshot> snapshot);
  // The client went away: abort the attempt, run on_complete, never touch the connection again.
  void client_gone();
  // The connection's write queue fell below the low watermark: resume a paused upstream.
  void on_downstream_drained();
  bool active() const { return state_ != State::Idle; }
  State state() const { return state_; }
  // The retry-delay timer: initialised and closed by the slot pool (its data points at this
  // session while the slot lives), so the slot is freed only after its close callback.
  uv_timer_t* retry_timer() { return &retry_timer_; }
  // The callback of retry_timer() (also a tool call's deadline).
  static void on_retry_timer_fired(uv_timer_t* timer);
  void on_retry_timer();

  // ChainResumer
  void resume_chain() override;
  // ToolExchange::Listener
  void on_tool_reply() override;

  // ResponseSink (the current attempt)
  void on_upstream_head(int status, std::span<const upstream::ResponseHeader> headers,
                        std::optional<uint64_t> content_length) override;
  void on_upstream_body(const char* data, size_t len) override;
  void on_upstream_done() override;
  void on_upstream_failure(const upstream::Failure& failure) override;

 private:
  void run_chain();
  void answer_models();
  // A tool endpoint after the chain: answered locally, or a call started (CallingTool).
  void serve_tools();
  void route();
  void next_attempt();
  void start_attempt(const filter::Candidate& candidate);
  // Whether and how the candidate's provider speaks the client's endpoint.
  providers::Dialect dialect_of(const filter::Candidate& c) const;
  // Translates the request when the candidate needs it; false when it answered the client
  // instead (400: the request cannot be expressed for the target; 502: the plugin failed).
  bool prepare_translation(const filter::Candidate& candidate);
  void end_attempt_accounting();
  filter::AttemptDecision decide(filter::AttemptOutcome& outcome);
  // After a failed attempt a filter decided Retry or Fallback: waits ctx.retry_delay, then
  // tries the same candidate (Retry) or the plan's next one (Fallback).
  void try_again(filter::AttemptDecision decision, std::string_view failure);
  void run_next_attempt();
  // Health and the pick filters (circuit, concurrency cap) on one candidate; a skip is noted.
  bool may_try(const filter::Candidate& c);
  // Every candidate failed or was skipped: 504 if a timeout ended the last attempt, else 503.
  void send_plan_exhausted();
  void send_error(int status, std::string_view type, std::string_view code, std::string message);
  void send_local_reply();
  void flush_head(std::optional<uint64_t> content_length, const char* body, size_t body_len);
  void send_chunk(const char* data, size_t len);
  // One piece of the response body downstream: response-chunk filters, then head or chunk.
  void forward_body(const char* data, size_t len);
  // Sets ctx_.usage from the answering attempt (reported, or estimated); once per request.
  void settle_usage();
  // The attempt was sent and ended with no answer in a way that may have cost (a timeout, a
  // reset, the client leaving): charge the prompt estimate, marked estimated (DESIGN §8).
  void estimate_unanswered_attempt();
  // Adds the prompt estimates of earlier attempts that were sent, then retried after a timeout
  // or reset (retried_prompt_tokens_), to ctx_.usage: the provider may have billed them too.
  void add_retried_attempts_estimate();
  void end_stream_with_error(std::string_view type, std::string_view message);
  void apply_backpressure();
  void append_common_headers(std::string& out);
  void finish(bool keep_alive);
  void record();

  Worker& worker_;
  DownstreamConnection* connection_ = nullptr;  // see bind()
  State state_ = State::Idle;
  std::shared_ptr<const filter::ConfigSnapshot> snapshot_;  // pinned for this request
  http::HttpRequest* request_ = nullptr;
  std::string_view path_;  // request_->path(), into the request's own storage
  filter::RequestContext ctx_;
  std::vector<filter::Filter*> filters_;  // per-request filter objects, in chain order
  size_t next_filter_ = 0;
  RoutePlan plan_;
  std::string route_notes_;          // "demo: connect_failure (…); " — for the 503 message
  bool ignore_health_ = false;       // every candidate is down: try them anyway (panic mode)
  uint32_t skipped_ = 0;             // candidates skipped (vetoed, overloaded, down)
  uint32_t skipped_overloaded_ = 0;  // of those, skipped at their concurrency cap
  filter::AttemptResult last_result_ = filter::AttemptResult::Success;
  const filter::Candidate* retry_candidate_ = nullptr;  // after Retry: try this one again
  std::string_view fallback_from_;  // after Fallback: the provider left (for fallbacks_total)
  uv_timer_t retry_timer_;
  // The attempt in flight.
  const filter::Candidate* candidate_ = nullptr;
  providers::ProviderBackend* backend_ = nullptr;
  providers::AttemptHandle* attempt_ = nullptr;
  std::chrono::steady_clock::time_point attempt_started_;
  bool attempt_counted_ = false;  // candidate_->state counts this attempt as in flight
  std::optional<std::chrono::milliseconds> upstream_retry_after_;  // of the held error reply
  double upstream_seconds_ = 0;  // time spent waiting on upstreams, all attempts

  // Response relay.
  int upstream_status_ = 0;
  bool buffering_error_ = false;  // holding a 5xx/429 body until the attempt is decided
  bool upstream_paused_ = false;
  bool chunked_ = false;  // downstream framing is chunked (else Content-Length/close)
  bool downstream_started_ = false;
  bool event_stream_ = false;  // text/event-stream: errors after the first byte are events
  std::optional<uint64_t> upstream_length_;
  std::string head_;                   // downstream head being built (without framing + final CRLF)
  std::string error_body_;             // buffered upstream error body
  std::string scratch_;                // chunk-size lines, error events
  std::string rewritten_chunk_;        // a filter's replacement of the chunk being forwarded
  std::string rewritten_hold_;         // the replacement later filters and the client see
  usage::UsageScanner usage_scanner_;  // reads usage from the answering attempt's body
  // The current attempt's translations, when its provider or the client's API needs them;
  // it reports the usage the translated answer carried, which wins over the scanner's.
  providers::AttemptTranslator translator_;
  ToolExchange tools_{*this};  // the tools side of /mcp and /v1/tools requests
  bool translating_ = false;
  bool scanning_usage_ = false;  // the current attempt's answer is being scanned
  // sluice asked the current attempt's provider for stream usage the client did not ask for
  // (AttemptRequest::ask_stream_usage): the usage-only chunk is taken out of the answer.
  bool asked_stream_usage_ = false;
  // An answer that broke after its first byte went downstream (status already sent as 200):
  // the error code and message the access log, metrics and ledger record for it.
  uint64_t retried_prompt_tokens_ = 0;
  std::string_view broken_code_;
  std::string broken_message_;
};

}  // namespace sluice::server
