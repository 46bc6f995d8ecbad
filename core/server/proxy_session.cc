#include "core/server/proxy_session.h"

#include <cassert>
#include <cstdio>

#include "core/http/response_builder.h"
#include "core/log/request_record.h"
#include "core/server/downstream_connection.h"
#include "core/server/worker.h"

namespace sluice::server {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

bool is_model_endpoint(filter::Endpoint e) {
  return e == filter::Endpoint::ChatCompletions || e == filter::Endpoint::Completions ||
         e == filter::Endpoint::Embeddings || e == filter::Endpoint::Responses;
}

// A client-supplied request id is kept when it is short and printable, so it can be logged
// and echoed safely; anything else is replaced.
bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
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

}  // namespace

const char* ProxySession::to_string(State s) {
  switch (s) {
    case State::Idle:
      return "idle";
    case State::RunningChain:
      return "running_chain";
    case State::WaitingFilter:
      return "waiting_filter";
    case State::Upstream:
      return "upstream";
    case State::Relaying:
      return "relaying";
  }
  return "?";
}

ProxySession::ProxySession(Worker& worker, DownstreamConnection& connection)
    : worker_(worker), connection_(connection) {}

ProxySession::~ProxySession() = default;

void ProxySession::start(http::HttpRequest& request,
                         std::shared_ptr<const filter::ConfigSnapshot> snapshot) {
  assert(state_ == State::Idle);
  state_ = State::RunningChain;
  worker_.request_started();
  snapshot_ = std::move(snapshot);
  request_ = &request;
  ctx_.reset();
  ctx_.snapshot = snapshot_.get();
  ctx_.config = &snapshot_->config();
  ctx_.request = &request;
  ctx_.started_at = Clock::now();
  ctx_.bytes_in = request.body.size();
  ctx_.set_resumer(this);
  if (auto id = request.header("x-request-id"); id && acceptable_request_id(*id)) {
    ctx_.request_id.assign(*id);
  } else {
    worker_.next_request_id(ctx_.request_id);
  }
  filters_.clear();
  next_filter_ = 0;
  route_notes_.clear();
  candidate_ = nullptr;
  backend_ = nullptr;
  attempt_ = nullptr;
  upstream_seconds_ = 0;
  upstream_status_ = 0;
  buffering_error_ = false;
  upstream_paused_ = false;
  chunked_ = false;
  downstream_started_ = false;
  event_stream_ = false;
  upstream_length_.reset();

  ctx_.endpoint = filter::endpoint_of(request.method(), request.path());
  if (ctx_.endpoint == filter::Endpoint::Unknown || ctx_.endpoint == filter::Endpoint::Messages) {
    std::string message = "Unknown request URL: ";
    message.append(request.method()).append(" ").append(request.path());
    message.append(
        ". sluice serves the OpenAI API under /v1 (chat/completions, completions, "
        "embeddings, responses, models).");
    send_error(404, "not_found_error", "unknown_url", std::move(message));
    return;
  }

  if (is_model_endpoint(ctx_.endpoint)) {
    json::ensure_padding(request.body);
    json::ParseResult parsed = json::parse_request_fields(request.body, &ctx_.fields);
    switch (parsed.status) {
      case json::ParseStatus::Ok:
        break;
      case json::ParseStatus::NotJson:
        send_error(400, "invalid_request_error", "invalid_json",
                   "We could not parse the JSON body of your request. The body must be a JSON "
                   "object (Content-Type: application/json).");
        return;
      case json::ParseStatus::NotAnObject:
        send_error(400, "invalid_request_error", "invalid_json",
                   "The request body must be a JSON object.");
        return;
      case json::ParseStatus::BadFieldType:
        send_error(400, "invalid_request_error", "invalid_type",
                   std::string("Invalid type for '") + parsed.error_field + "'.");
        return;
    }
    if (!ctx_.fields.has_model || ctx_.fields.model.empty()) {
      send_error(400, "invalid_request_error", "missing_model",
                 "You must provide a model parameter.");
      return;
    }
  }

  for (const auto& factory : snapshot_->filters()) filters_.push_back(factory->create(ctx_));
  run_chain();
}

void ProxySession::run_chain() {
  state_ = State::RunningChain;
  while (next_filter_ < filters_.size()) {
    filter::Filter* f = filters_[next_filter_++];
    switch (f->on_request(ctx_)) {
      case filter::RequestStatus::Continue:
        continue;
      case filter::RequestStatus::Respond:
        send_local_reply();
        return;
      case filter::RequestStatus::Stop:
        state_ = State::WaitingFilter;
        return;
    }
  }
  if (ctx_.endpoint == filter::Endpoint::Models) {
    answer_models();
    return;
  }
  route();
}

void ProxySession::resume_chain() {
  if (state_ != State::WaitingFilter) return;  // cancelled, or a filter resumed twice
  if (ctx_.has_local_reply()) {
    send_local_reply();
    return;
  }
  run_chain();
}

void ProxySession::answer_models() {
  // The logical models this agent may use, in the OpenAI list shape.
  std::string body = "{\"object\":\"list\",\"data\":[";
  bool first = true;
  auto add = [&](const std::string& name) {
    if (!first) body.push_back(',');
    first = false;
    body.append("{\"id\":\"");
    http::append_json_escaped(body, name);
    body.append("\",\"object\":\"model\",\"created\":0,\"owned_by\":\"sluice\"}");
  };
  const auto& models = ctx_.config->models;
  if (ctx_.agent != nullptr && ctx_.agent->models) {
    for (const auto& name : *ctx_.agent->models) {
      if (models.count(name)) add(name);
    }
  } else {
    for (const auto& [name, group] : models) add(name);
  }
  body.append("]}");
  ctx_.respond_json(200, std::move(body));
  send_local_reply();
}

void ProxySession::route() {
  plan_.init(ctx_, *snapshot_);
  next_attempt();
}

void ProxySession::next_attempt() {
  while (const filter::Candidate* c = plan_.next()) {
    std::string_view veto_reason;
    bool vetoed = false;
    for (filter::Filter* f : filters_) {
      if (f->on_upstream_pick(ctx_, *c, &veto_reason) == filter::PickStatus::Veto) {
        vetoed = true;
        break;
      }
    }
    if (vetoed) {
      route_notes_.append(c->provider->name)
          .append(": skipped (")
          .append(veto_reason)
          .append("); ");
      continue;
    }
    start_attempt(*c);
    return;
  }
  std::string message = "No provider could serve this request";
  if (!route_notes_.empty()) {
    route_notes_.resize(route_notes_.size() - 2);
    message.append(": ").append(route_notes_);
  } else {
    message.append(": no target is configured for it");
  }
  message.append(".");
  send_error(503, "api_error", "all_providers_unavailable", std::move(message));
}

void ProxySession::start_attempt(const filter::Candidate& candidate) {
  providers::ProviderBackend* backend = worker_.backend_for(*candidate.provider);
  if (backend == nullptr) {
    route_notes_.append(candidate.provider->name).append(": provider type \"");
    route_notes_.append(candidate.provider->type).append("\" has no backend; ");
    next_attempt();
    return;
  }
  state_ = State::Upstream;
  candidate_ = &candidate;
  ctx_.last_candidate = candidate;
  ++ctx_.attempts;
  backend_ = backend;
  upstream_status_ = 0;
  buffering_error_ = false;
  upstream_length_.reset();
  attempt_started_ = Clock::now();
  if (!ctx_.upstream_sent_at) ctx_.upstream_sent_at = attempt_started_;
  providers::AttemptRequest req{ctx_.endpoint, request_, &ctx_.fields, candidate.physical_model,
                                ctx_.request_id};
  attempt_ = backend->start(req, this);
}

filter::AttemptDecision ProxySession::decide(const filter::AttemptOutcome& outcome) {
  for (filter::Filter* f : filters_) {
    filter::AttemptDecision d = f->on_attempt_done(ctx_, outcome);
    if (d != filter::AttemptDecision::Default) return d;
  }
  return filter::AttemptDecision::GiveUp;
}

void ProxySession::on_upstream_head(int status, std::span<const upstream::ResponseHeader> headers,
                                    std::optional<uint64_t> content_length) {
  if (state_ != State::Upstream) return;
  upstream_status_ = status;
  upstream_length_ = content_length;
  if (!ctx_.first_byte_at) ctx_.first_byte_at = Clock::now();
  // A 5xx/429 is held whole until the attempt is decided, so a retry filter can still try
  // elsewhere; a success is relayed as it arrives.
  buffering_error_ = is_retryable_status(status);
  error_body_.clear();
  event_stream_ = false;

  for (filter::Filter* f : filters_) f->on_response_headers(ctx_, status);

  head_.clear();
  http::append_status_line(head_, status);
  for (const auto& h : headers) {
    if (is_own_response_header(h.name)) continue;
    if (http::iequals(h.name, "content-type") && h.value.starts_with("text/event-stream")) {
      event_stream_ = true;
    }
    http::append_header(head_, h.name, h.value);
  }
  append_common_headers(head_);
}

void ProxySession::append_common_headers(std::string& out) {
  http::append_header(out, "x-request-id", ctx_.request_id);
  if (ctx_.attempts > 0 && ctx_.last_candidate.provider != nullptr) {
    http::append_header(out, "x-sluice-provider", ctx_.last_candidate.provider->name);
    http::append_header(out, "x-sluice-model", ctx_.last_candidate.physical_model);
    http::append_header(out, "x-sluice-attempts", static_cast<uint64_t>(ctx_.attempts));
  }
  out.append(ctx_.extra_response_headers());
}

void ProxySession::flush_head(std::optional<uint64_t> content_length, const char* body,
                              size_t body_len) {
  const bool keep_alive = connection_.keep_alive_allowed();
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
    connection_.send(&buf, 1);
    return;
  }
  if (chunked_) {
    char line[24];
    int n = std::snprintf(line, sizeof line, "%zx\r\n", body_len);
    uv_buf_t bufs[4] = {uv_buf_init(head_.data(), static_cast<unsigned>(head_.size())),
                        uv_buf_init(line, static_cast<unsigned>(n)),
                        uv_buf_init(const_cast<char*>(body), static_cast<unsigned>(body_len)),
                        uv_buf_init(const_cast<char*>("\r\n"), 2)};
    connection_.send(bufs, 4);
  } else {
    uv_buf_t bufs[2] = {uv_buf_init(head_.data(), static_cast<unsigned>(head_.size())),
                        uv_buf_init(const_cast<char*>(body), static_cast<unsigned>(body_len))};
    connection_.send(bufs, 2);
  }
  ctx_.bytes_out += body_len;
}

void ProxySession::send_chunk(const char* data, size_t len) {
  if (len == 0) return;
  if (chunked_) {
    char line[24];
    int n = std::snprintf(line, sizeof line, "%zx\r\n", len);
    uv_buf_t bufs[3] = {uv_buf_init(line, static_cast<unsigned>(n)),
                        uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len)),
                        uv_buf_init(const_cast<char*>("\r\n"), 2)};
    connection_.send(bufs, 3);
  } else {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
    connection_.send(&buf, 1);
  }
  ctx_.bytes_out += len;
}

void ProxySession::apply_backpressure() {
  if (!upstream_paused_ && attempt_ != nullptr &&
      connection_.queued_bytes() > kWriteHighWatermark) {
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
  for (filter::Filter* f : filters_) f->on_response_chunk(ctx_, std::string_view(data, len));
  if (!downstream_started_) {
    flush_head(upstream_length_, data, len);
  } else {
    send_chunk(data, len);
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
  filter::AttemptDecision d = decide(outcome);
  if (buffering_error_) {
    buffering_error_ = false;
    if (d == filter::AttemptDecision::Retry || d == filter::AttemptDecision::Fallback) {
      route_notes_.append(candidate_->provider->name).append(": HTTP ");
      route_notes_.append(std::to_string(upstream_status_)).append("; ");
      if (d == filter::AttemptDecision::Retry) {
        start_attempt(*candidate_);
      } else {
        next_attempt();
      }
      return;
    }
    // Given up: the provider's own error response goes to the client unchanged.
    flush_head(error_body_.size(), error_body_.data(), error_body_.size());
    finish(connection_.keep_alive_allowed());
    return;
  }
  if (!downstream_started_) {
    flush_head(upstream_length_ ? upstream_length_ : std::optional<uint64_t>(0), nullptr, 0);
  } else if (chunked_) {
    uv_buf_t end = uv_buf_init(const_cast<char*>("0\r\n\r\n"), 5);
    connection_.send(&end, 1);
  }
  // Close-delimited (HTTP/1.0 without a length) responses end by closing.
  finish(connection_.keep_alive_allowed() && (upstream_length_ || chunked_));
}

void ProxySession::on_upstream_failure(const upstream::Failure& failure) {
  if (state_ != State::Upstream && state_ != State::Relaying) return;
  attempt_ = nullptr;
  upstream_paused_ = false;
  upstream_seconds_ += seconds_between(attempt_started_, Clock::now());
  filter::AttemptOutcome outcome;
  outcome.result = result_of(failure.kind);
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
    if (d == filter::AttemptDecision::Retry || d == filter::AttemptDecision::Fallback) {
      route_notes_.append(what).append("; ");
      if (d == filter::AttemptDecision::Retry) {
        start_attempt(*candidate_);
      } else {
        next_attempt();
      }
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
  if (event_stream_ && chunked_) {
    end_stream_with_error(timeout ? "upstream_timeout" : "upstream_error",
                          "The provider stream failed after it started: " + what + ".");
    finish(connection_.keep_alive_allowed());
  } else {
    finish(false);
  }
}

void ProxySession::end_stream_with_error(std::string_view code, std::string_view message) {
  std::string body = http::openai_error_body(message, "api_error", code);
  scratch_.assign("data: ").append(body).append("\n\n");
  send_chunk(scratch_.data(), scratch_.size());
  uv_buf_t end = uv_buf_init(const_cast<char*>("0\r\n\r\n"), 5);
  connection_.send(&end, 1);
}

void ProxySession::send_error(int status, std::string_view type, std::string_view code,
                              std::string message) {
  ctx_.respond(status, type, code, std::move(message));
  send_local_reply();
}

void ProxySession::send_local_reply() {
  const filter::LocalReply& reply = ctx_.local_reply();
  const std::string body = reply.body.empty()
                               ? http::openai_error_body(reply.message, reply.type, reply.code)
                               : reply.body;
  const bool keep_alive = connection_.keep_alive_allowed();
  head_.clear();
  http::append_status_line(head_, reply.status);
  head_.append("Content-Type: application/json\r\n");
  append_common_headers(head_);
  http::append_header(head_, "Content-Length", static_cast<uint64_t>(body.size()));
  if (!keep_alive) head_.append("Connection: close\r\n");
  head_.append("\r\n");
  uv_buf_t bufs[2] = {
      uv_buf_init(head_.data(), static_cast<unsigned>(head_.size())),
      uv_buf_init(const_cast<char*>(body.data()), static_cast<unsigned>(body.size()))};
  connection_.send(bufs, 2);
  ctx_.response_status = reply.status;
  ctx_.bytes_out = body.size();
  downstream_started_ = true;
  finish(keep_alive);
}

void ProxySession::client_gone() {
  if (state_ == State::Idle) return;
  ctx_.client_gone = true;
  if (attempt_ != nullptr) {
    upstream_seconds_ += seconds_between(attempt_started_, Clock::now());
    backend_->abort(attempt_);
    attempt_ = nullptr;
  }
  if (ctx_.response_status == 0) {
    // Nothing reached the client; 499 is the conventional "client closed request" status.
    ctx_.response_status = 499;
  }
  for (filter::Filter* f : filters_) f->on_complete(ctx_);
  record();
  filters_.clear();
  ctx_.reset();
  snapshot_.reset();
  state_ = State::Idle;
  worker_.request_finished();
}

void ProxySession::finish(bool keep_alive) {
  for (filter::Filter* f : filters_) f->on_complete(ctx_);
  record();
  filters_.clear();
  ctx_.reset();  // destroys arena-allocated filters before the snapshot that built them goes
  snapshot_.reset();
  state_ = State::Idle;
  worker_.request_finished();
  connection_.on_session_done(keep_alive);
}

void ProxySession::record() {
  const auto now = Clock::now();
  log::RequestRecord r;
  r.time = std::chrono::system_clock::now() -
           std::chrono::duration_cast<std::chrono::system_clock::duration>(now - ctx_.started_at);
  r.request_id = ctx_.request_id;
  r.method = request_->method();
  r.path = request_->path();
  r.endpoint = filter::to_string(ctx_.endpoint);
  r.agent = ctx_.agent != nullptr ? std::string_view(ctx_.agent->name) : std::string_view();
  r.model = ctx_.fields.model;
  r.model_known = ctx_.model_group != nullptr;
  if (ctx_.last_candidate.provider != nullptr) {
    r.provider = ctx_.last_candidate.provider->name;
    r.physical_model = ctx_.last_candidate.physical_model;
  }
  r.status = ctx_.response_status;
  r.error_code = ctx_.local_reply().code;
  r.stream = ctx_.fields.stream;
  r.attempts = ctx_.attempts;
  r.bytes_in = ctx_.bytes_in;
  r.bytes_out = ctx_.bytes_out;
  r.client_gone = ctx_.client_gone;
  r.duration = seconds_between(ctx_.started_at, now);
  if (ctx_.attempts > 0) r.upstream = upstream_seconds_;
  if (ctx_.first_byte_at)
    r.time_to_first_token = seconds_between(ctx_.started_at, *ctx_.first_byte_at);
  r.overhead = r.duration - upstream_seconds_;
  if (r.overhead < 0) r.overhead = 0;
  worker_.record(r);
}

}  // namespace sluice::server
