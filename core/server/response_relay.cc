// ProxySession, second half: relaying the upstream response downstream — the held head,
// framing (Content-Length, chunked, close-delimited), back-pressure, the decision after each
// attempt, the error event that ends a started stream, and sluice's own local replies.
#include <cstdio>

#include "core/http/response_builder.h"
#include "core/http/retry_after.h"
#include "core/server/downstream_connection.h"
#include "core/server/proxy_session.h"
#include "core/server/worker.h"
#include "core/state/provider_state.h"

namespace sluice::server {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Upstream response statuses an attempt may be retried on (once a retry filter asks).
bool is_retryable_status(int status) {
  return status >= 500 || status == 429;
}

filter::AttemptResult result_of(upstream::FailureKind kind) {
  switch (kind) {
    case upstream::FailureKind::ConnectFailure:
      return filter::AttemptResult::ConnectFailure;
    case upstream::FailureKind::Reset:
      return filter::AttemptResult::Reset;
    case upstream::FailureKind::Timeout:
      return filter::AttemptResult::Timeout;
    case upstream::FailureKind::Protocol:
      return filter::AttemptResult::Protocol;
    case upstream::FailureKind::Overloaded:
      return filter::AttemptResult::Overloaded;
  }
  return filter::AttemptResult::Protocol;
}

// Response headers sluice sets itself; the upstream's copies are dropped.
bool is_own_response_header(std::string_view name) {
  return http::iequals(name, "x-request-id") || http::iequals(name, "x-sluice-provider") ||
         http::iequals(name, "x-sluice-model") || http::iequals(name, "x-sluice-attempts");
}

// Writes "<hex size>\r\n" into out (at least 19 bytes); returns its length. (snprintf was a
// visible share of a streamed response's CPU.)
int chunk_size_line(char* out, size_t size) {
  static const char kHex[] = "0123456789abcdef";
  char digits[16];
  int n = 0;
  do {
    digits[n++] = kHex[size & 15];
    size >>= 4;
  } while (size != 0);
  for (int i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  out[n] = '\r';
  out[n + 1] = '\n';
  return n + 2;
}

}  // namespace

void ProxySession::on_upstream_head(int status, std::span<const upstream::ResponseHeader> headers,
                                    std::optional<uint64_t> content_length) {
  if (state_ != State::Upstream) return;
  upstream_status_ = status;
  upstream_length_ = content_length;
  const auto now = Clock::now();
  if (!ctx_.first_byte_at) ctx_.first_byte_at = now;
  // A 5xx/429 is held whole until the attempt is decided, so a retry filter can still try
  // elsewhere; a success is relayed as it arrives.
  buffering_error_ = is_retryable_status(status);
  if (!buffering_error_) {
    // Only answers feed the latency EWMA: a provider that fails fast must not look fast.
    candidate_->state->record_ttfb(
        std::chrono::duration_cast<std::chrono::microseconds>(now - attempt_started_));
  } else {
    for (const auto& h : headers) {
      if (http::iequals(h.name, "retry-after-ms")) {
        if (auto ms = http::parse_retry_after_ms(h.value)) upstream_retry_after_ = ms;
      } else if (http::iequals(h.name, "retry-after") && !upstream_retry_after_) {
        upstream_retry_after_ = http::parse_retry_after(h.value, std::chrono::system_clock::now());
      }
    }
  }
  error_body_.clear();
  event_stream_ = false;

  ctx_.upstream_response_headers = headers;
  for (filter::Filter* f : filters_) f->on_response_headers(ctx_, status);
  ctx_.upstream_response_headers = {};
  const bool edited = !ctx_.response_header_edits().empty();
  // A filter that rewrites the body makes the upstream's length meaningless: chunked it goes.
  if (ctx_.rewrites_response_body()) upstream_length_.reset();

  head_.clear();
  http::append_status_line(head_, status);
  for (const auto& h : headers) {
    if (is_own_response_header(h.name)) continue;
    if (edited && ctx_.response_header_edited(h.name)) continue;
    if (http::iequals(h.name, "content-type") && h.value.starts_with("text/event-stream")) {
      event_stream_ = true;
    }
    // Upstream headers were validated by the strict response parser (no CR/LF), so they are
    // copied as they are, without append_header's per-byte sanitising.
    head_.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  append_common_headers(head_);
  scanning_usage_ = !buffering_error_;
  if (scanning_usage_) {
    const bool strip = asked_stream_usage_ && event_stream_;
    // Taking the usage chunk out changes the body's length: such a stream goes out chunked
    // (or close-delimited to an HTTP/1.0 client), whatever length the provider announced.
    if (strip) upstream_length_.reset();
    usage_scanner_.begin(
        event_stream_ ? usage::UsageScanner::Kind::EventStream : usage::UsageScanner::Kind::Json,
        strip);
  }
}

void ProxySession::settle_usage() {
  // What the answering attempt used: as reported, else estimated — a request whose answer
  // started to arrive is never counted as free (DESIGN §8).
  if (!scanning_usage_) return;
  scanning_usage_ = false;
  ctx_.usage = usage_scanner_.finish();
  // A translated answer's usage as the provider reported it, in its own shape (cache writes
  // included), beats what the scanner read in the translated bytes.
  if (translating_ && translator_.reported_usage().known())
    ctx_.usage = translator_.reported_usage();
  if (ctx_.usage.source == usage::Usage::Source::None) {
    ctx_.usage.input_tokens = ctx_.prompt_tokens_estimate;
    ctx_.usage.output_tokens = usage::estimate_tokens_from_bytes(usage_scanner_.content_bytes());
    ctx_.usage.source = usage::Usage::Source::Estimated;
  }
}

void ProxySession::forward_body(const char* data, size_t len) {
  if (ctx_.rewrites_response_body()) {
    // Each filter sees what the one before it left: the chunk, or its replacement.
    std::string_view chunk(data, len);
    for (filter::Filter* f : filters_) {
      f->on_response_chunk(ctx_, chunk);
      if (ctx_.take_chunk_replacement(rewritten_chunk_)) {
        rewritten_chunk_.swap(rewritten_hold_);
        chunk = rewritten_hold_;
      }
    }
    data = chunk.data();
    len = chunk.size();
    // A chunk rewritten to nothing is not sent: an empty chunk would end the chunked body.
    if (len == 0) return;
  } else {
    for (filter::Filter* f : filters_) f->on_response_chunk(ctx_, std::string_view(data, len));
  }
  if (!downstream_started_) {
    flush_head(upstream_length_, data, len);
  } else {
    send_chunk(data, len);
  }
}

void ProxySession::append_common_headers(std::string& out) {
  // The request id is ours or a client's that acceptable_request_id() checked: no CR/LF.
  out.append("x-request-id: ").append(ctx_.request_id).append("\r\n");
  if (ctx_.attempts > 0 && ctx_.last_candidate.provider != nullptr) {
    http::append_header(out, "x-sluice-provider", ctx_.last_candidate.provider->name);
    http::append_header(out, "x-sluice-model", ctx_.last_candidate.physical_model);
    http::append_header(out, "x-sluice-attempts", static_cast<uint64_t>(ctx_.attempts));
  }
  out.append(ctx_.extra_response_headers());
  for (const auto& edit : ctx_.response_header_edits()) {
    if (edit.value) out.append(edit.name).append(": ").append(*edit.value).append("\r\n");
  }
}

void ProxySession::flush_head(std::optional<uint64_t> content_length, const char* body,
                              size_t body_len) {
  const bool keep_alive = connection_->keep_alive_allowed();
  if (content_length) {
    http::append_header(head_, "Content-Length", *content_length);
    chunked_ = false;
  } else if (request_->http_minor >= 1) {
    head_.append("Transfer-Encoding: chunked\r\n");
    chunked_ = true;
  } else {
    chunked_ = false;  // HTTP/1.0 without a length: the body ends when the connection closes
  }
  if (!keep_alive || (!content_length && !chunked_)) head_.append("Connection: close\r\n");
  head_.append("\r\n");
  downstream_started_ = true;
  state_ = State::Relaying;
  ctx_.response_status = upstream_status_;
  if (body_len == 0) {
    uv_buf_t buf = uv_buf_init(head_.data(), static_cast<unsigned>(head_.size()));
    connection_->send(&buf, 1);
    return;
  }
  if (chunked_) {
    char line[24];
    int n = chunk_size_line(line, body_len);
    uv_buf_t bufs[4] = {uv_buf_init(head_.data(), static_cast<unsigned>(head_.size())),
                        uv_buf_init(line, static_cast<unsigned>(n)),
                        uv_buf_init(const_cast<char*>(body), static_cast<unsigned>(body_len)),
                        uv_buf_init(const_cast<char*>("\r\n"), 2)};
    connection_->send(bufs, 4);
  } else {
    uv_buf_t bufs[2] = {uv_buf_init(head_.data(), static_cast<unsigned>(head_.size())),
                        uv_buf_init(const_cast<char*>(body), static_cast<unsigned>(body_len))};
    connection_->send(bufs, 2);
  }
  ctx_.bytes_out += body_len;
}

void ProxySession::send_chunk(const char* data, size_t len) {
  if (len == 0) return;
  if (chunked_) {
    char line[24];
    int n = chunk_size_line(line, len);
    uv_buf_t bufs[3] = {uv_buf_init(line, static_cast<unsigned>(n)),
                        uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len)),
                        uv_buf_init(const_cast<char*>("\r\n"), 2)};
    connection_->send(bufs, 3);
  } else {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
    connection_->send(&buf, 1);
  }
  ctx_.bytes_out += len;
}

void ProxySession::apply_backpressure() {
  if (!upstream_paused_ && attempt_ != nullptr &&
      connection_->queued_bytes() > kWriteHighWatermark) {
    upstream_paused_ = true;
    backend_->pause(attempt_);
  }
}

void ProxySession::on_downstream_drained() {
  if (upstream_paused_ && attempt_ != nullptr) {
    upstream_paused_ = false;
    backend_->resume(attempt_);
  }
}

void ProxySession::on_upstream_body(const char* data, size_t len) {
  if (state_ != State::Upstream && state_ != State::Relaying) return;
  if (buffering_error_) {
    // Error bodies are small JSON; past 1 MiB this is no error page but a real response.
    if (error_body_.size() + len <= (1u << 20)) {
      error_body_.append(data, len);
      return;
    }
    buffering_error_ = false;
    flush_head(upstream_length_, error_body_.data(), error_body_.size());
  }
  // A translated answer that reported its usage needs no scan: the report wins (settle_usage).
  if (scanning_usage_ && !(translating_ && translator_.usage_reported())) {
    for (const auto& piece : usage_scanner_.feed(std::string_view(data, len))) {
      forward_body(piece.data, piece.size);
    }
  } else {
    forward_body(data, len);
  }
  apply_backpressure();
}

void ProxySession::on_upstream_done() {
  if (state_ != State::Upstream && state_ != State::Relaying) return;
  attempt_ = nullptr;
  upstream_paused_ = false;
  upstream_seconds_ += seconds_between(attempt_started_, Clock::now());
  filter::AttemptOutcome outcome;
  outcome.status = upstream_status_;
  outcome.attempt = ctx_.attempts;
  outcome.candidate = candidate_;
  outcome.downstream_started = downstream_started_;
  outcome.result =
      buffering_error_ ? filter::AttemptResult::HttpError : filter::AttemptResult::Success;
  if (buffering_error_) outcome.retry_after = upstream_retry_after_;
  filter::AttemptDecision d = decide(outcome);
  if (buffering_error_) {
    buffering_error_ = false;
    std::string what = candidate_->provider->name;
    what.append(": HTTP ").append(std::to_string(upstream_status_));
    if (d == filter::AttemptDecision::Retry || d == filter::AttemptDecision::Fallback) {
      try_again(d, what);
      return;
    }
    if (!plan_.has_next() && (ctx_.attempts > 1 || skipped_ > 0)) {
      // Every candidate failed or was skipped: one answer that says so, not the last
      // provider's error as if it were the only one.
      route_notes_.append(what).append("; ");
      send_plan_exhausted();
      return;
    }
    // Given up: the provider's own error response goes to the client unchanged.
    flush_head(error_body_.size(), error_body_.data(), error_body_.size());
    finish(connection_->keep_alive_allowed());
    return;
  }
  if (scanning_usage_) {
    for (const auto& piece : usage_scanner_.flush()) forward_body(piece.data, piece.size);
  }
  settle_usage();
  if (!downstream_started_) {
    flush_head(upstream_length_ ? upstream_length_ : std::optional<uint64_t>(0), nullptr, 0);
  } else if (chunked_) {
    uv_buf_t end = uv_buf_init(const_cast<char*>("0\r\n\r\n"), 5);
    connection_->send(&end, 1);
  }
  // Close-delimited (HTTP/1.0 without a length) responses end by closing.
  finish(connection_->keep_alive_allowed() && (upstream_length_ || chunked_));
}

void ProxySession::on_upstream_failure(const upstream::Failure& failure) {
  if (state_ != State::Upstream && state_ != State::Relaying) return;
  attempt_ = nullptr;
  upstream_paused_ = false;
  const auto now = Clock::now();
  upstream_seconds_ += seconds_between(attempt_started_, now);
  if (failure.kind == upstream::FailureKind::Timeout && upstream_status_ == 0) {
    // A provider that does not answer in time is slow, as far as the latency strategy knows.
    candidate_->state->record_ttfb(
        std::chrono::duration_cast<std::chrono::microseconds>(now - attempt_started_));
  }
  filter::AttemptOutcome outcome;
  outcome.result = result_of(failure.kind);
  outcome.retry_after = upstream_retry_after_;
  outcome.status = upstream_status_;
  outcome.attempt = ctx_.attempts;
  outcome.candidate = candidate_;
  outcome.downstream_started = downstream_started_;
  filter::AttemptDecision d = decide(outcome);

  std::string what = candidate_->provider->name;
  what.append(": ").append(upstream::to_string(failure.kind));
  if (failure.detail != nullptr && failure.detail[0] != '\0') {
    what.append(" (").append(failure.detail).append(")");
  }

  if (!downstream_started_) {
    // An attempt that was sent and got no (whole) answer: a timeout or a reset may still have
    // been billed by the provider (it had the prompt), so the request is charged the prompt
    // estimate for it, whether or not another attempt follows. A connect failure or a full
    // pool never reached the provider: nothing is charged for it.
    const bool maybe_billed = failure.kind == upstream::FailureKind::Timeout ||
                              failure.kind == upstream::FailureKind::Reset;
    if (d == filter::AttemptDecision::Retry || d == filter::AttemptDecision::Fallback) {
      if (maybe_billed) retried_prompt_tokens_ += ctx_.prompt_tokens_estimate;
      try_again(d, what);
      return;
    }
    if (!scanning_usage_ && maybe_billed) estimate_unanswered_attempt();
    if (!plan_.has_next() && (ctx_.attempts > 1 || skipped_ > 0)) {
      route_notes_.append(what).append("; ");
      send_plan_exhausted();
      return;
    }
    switch (failure.kind) {
      case upstream::FailureKind::Timeout:
        send_error(504, "api_error", "upstream_timeout",
                   "The provider did not answer in time: " + what + ".");
        return;
      case upstream::FailureKind::ConnectFailure:
      case upstream::FailureKind::Overloaded:
        route_notes_.append(what);
        send_error(503, "api_error", "all_providers_unavailable",
                   "No provider could serve this request: " + route_notes_ + ".");
        return;
      case upstream::FailureKind::Reset:
      case upstream::FailureKind::Protocol:
        send_error(502, "api_error", "upstream_error",
                   "The provider failed to give a valid response: " + what + ".");
        return;
    }
    return;
  }
  // The first byte is out: no retry is possible. A stream gets an explicit error event and a
  // proper end; any other body can only be cut, which the client sees as a short read.
  const bool timeout = failure.kind == upstream::FailureKind::Timeout;
  broken_code_ = timeout ? "upstream_timeout" : "upstream_error";
  broken_message_ = "The provider stream failed after it started: " + what + ".";
  if (event_stream_ && chunked_) {
    end_stream_with_error(broken_code_, broken_message_);
    finish(connection_->keep_alive_allowed());
  } else {
    finish(false);
  }
}

void ProxySession::end_stream_with_error(std::string_view code, std::string_view message) {
  // In the stream's own dialect: Anthropic streams name their events (an `error` event, as
  // Anthropic sends one), OpenAI streams are data lines.
  if (ctx_.endpoint == filter::Endpoint::Messages) {
    scratch_.assign("event: error\ndata: ");
    scratch_.append(http::anthropic_error_body(message, "api_error")).append("\n\n");
  } else {
    scratch_.assign("data: ").append(http::openai_error_body(message, "api_error", code));
    scratch_.append("\n\n");
  }
  send_chunk(scratch_.data(), scratch_.size());
  uv_buf_t end = uv_buf_init(const_cast<char*>("0\r\n\r\n"), 5);
  connection_->send(&end, 1);
}

void ProxySession::send_error(int status, std::string_view type, std::string_view code,
                              std::string message) {
  ctx_.respond(status, type, code, std::move(message));
  send_local_reply();
}

void ProxySession::send_local_reply() {
  const filter::LocalReply& reply = ctx_.local_reply();
  std::string body;
  int status = reply.status;
  if (!reply.body.empty()) {
    body = reply.body;
  } else if (status == 202 && reply.type.empty()) {
    // An accepted MCP notification: no body at all.
  } else if (tools_.is_mcp()) {
    body = tools_.mcp_refusal_body(reply, &status);  // JSON-RPC, not OpenAI's shape
  } else if (ctx_.endpoint == filter::Endpoint::Messages) {
    // Anthropic's SDKs read {"type":"error","error":{"type","message"}}, with their own type
    // names (rate_limit_error, overloaded_error, ...), chosen by status.
    body = http::anthropic_error_body(reply.message, http::anthropic_error_type(reply.status));
  } else {
    body = http::openai_error_body(reply.message, reply.type, reply.code);
  }
  const bool keep_alive = connection_->keep_alive_allowed();
  head_.clear();
  http::append_status_line(head_, status);
  head_.append("Content-Type: application/json\r\n");
  append_common_headers(head_);
  http::append_header(head_, "Content-Length", static_cast<uint64_t>(body.size()));
  if (!keep_alive) head_.append("Connection: close\r\n");
  head_.append("\r\n");
  uv_buf_t bufs[2] = {
      uv_buf_init(head_.data(), static_cast<unsigned>(head_.size())),
      uv_buf_init(const_cast<char*>(body.data()), static_cast<unsigned>(body.size()))};
  connection_->send(bufs, 2);
  ctx_.response_status = status;
  ctx_.bytes_out = body.size();
  downstream_started_ = true;
  finish(keep_alive);
}

}  // namespace sluice::server
