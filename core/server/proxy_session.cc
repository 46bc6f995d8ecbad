#include "core/server/proxy_session.h"

#include <cassert>
#include <cstdio>

#include "core/filter/internal_caller.h"
#include "core/http/response_builder.h"
#include "core/ledger/ledger_row.h"
#include "core/log/request_record.h"
#include "core/server/downstream_connection.h"
#include "core/server/worker.h"
#include "core/state/provider_state.h"

namespace sluice::server {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

bool is_model_endpoint(filter::Endpoint e) {
  return filter::goes_to_provider(e);
}

// OpenAI chat/completions and completions streams report usage only when the request says
// stream_options.include_usage: true (Responses and Anthropic streams always do).
bool asks_stream_usage(filter::Endpoint e, const json::RequestFields& fields) {
  return fields.stream && !fields.include_usage &&
         (e == filter::Endpoint::ChatCompletions || e == filter::Endpoint::Completions);
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

// The ledger's error_code for a tool call's outcome (tool_exchange.h lists them).
std::string_view tool_error_code(std::string_view outcome) {
  if (outcome == "error") return "tool_error";
  if (outcome == "timeout") return "tool_timeout";
  if (outcome == "unavailable") return "tool_unavailable";
  return outcome;  // invalid_arguments, client_gone
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
    case State::WaitingRetry:
      return "waiting_retry";
    case State::Relaying:
      return "relaying";
    case State::CallingTool:
      return "calling_tool";
  }
  return "?";
}

ProxySession::ProxySession(Worker& worker) : worker_(worker) {}

ProxySession::~ProxySession() = default;

void ProxySession::bind(DownstreamConnection* connection) {
  assert(state_ == State::Idle);
  connection_ = connection;
}

void ProxySession::trim_buffers(size_t max_bytes) {
  assert(state_ == State::Idle);
  for (std::string* s : {&route_notes_, &head_, &error_body_, &scratch_, &rewritten_chunk_,
                         &rewritten_hold_, &broken_message_}) {
    if (s->capacity() > max_bytes) std::string().swap(*s);
  }
}

void ProxySession::on_retry_timer_fired(uv_timer_t* timer) {
  static_cast<ProxySession*>(timer->data)->on_retry_timer();
}

void ProxySession::start(http::HttpRequest& request,
                         std::shared_ptr<const filter::ConfigSnapshot> snapshot) {
  assert(state_ == State::Idle);
  state_ = State::RunningChain;
  worker_.request_started();
  snapshot_ = std::move(snapshot);
  request_ = &request;
  ctx_.reset();
  ctx_.snapshot = snapshot_.get();
  ctx_.worker = worker_.filter_context();
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
  filter::take_internal_caller(request, ctx_);  // before anything reads the headers
  filters_.clear();
  next_filter_ = 0;
  route_notes_.clear();
  ignore_health_ = false;
  skipped_ = 0;
  skipped_overloaded_ = 0;
  last_result_ = filter::AttemptResult::Success;
  retry_candidate_ = nullptr;
  fallback_from_ = {};
  attempt_counted_ = false;
  upstream_retry_after_.reset();
  scanning_usage_ = false;
  translating_ = false;
  asked_stream_usage_ = false;
  broken_code_ = {};
  broken_message_.clear();
  retried_prompt_tokens_ = 0;
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

  path_ = request.path();  // scanned once; endpoint match, errors and the record reuse it
  ctx_.endpoint = filter::endpoint_of(request.method(), path_);
  if (ctx_.endpoint == filter::Endpoint::Unknown) {
    std::string message = "Unknown request URL: ";
    message.append(request.method()).append(" ").append(path_);
    message.append(
        ". sluice serves the OpenAI API under /v1 (chat/completions, completions, "
        "embeddings, responses, models), Anthropic's /v1/messages, tools at /v1/tools and "
        "MCP at /mcp.");
    send_error(404, "not_found_error", "unknown_url", std::move(message));
    return;
  }

  if (is_model_endpoint(ctx_.endpoint)) {
    json::ensure_padding(request.body);
    json::ParseResult parsed = json::parse_request_fields(request.body, &ctx_.fields);
    if (parsed.status != json::ParseStatus::Ok) {
      const char* code = parsed.status == json::ParseStatus::NotJson ||
                                 parsed.status == json::ParseStatus::NotAnObject
                             ? "invalid_json"
                             : "invalid_request_body";
      send_error(400, "invalid_request_error", code, json::error_message(parsed));
      return;
    }
    if (!ctx_.fields.has_model || ctx_.fields.model.empty()) {
      send_error(400, "invalid_request_error", "missing_model",
                 "You must provide a model parameter.");
      return;
    }
    ctx_.prompt_tokens_estimate = usage::estimate_tokens_from_bytes(request.body.size());
  } else if (filter::is_tool_endpoint(ctx_.endpoint)) {
    tools_.prepare(ctx_);
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
  if (filter::is_tool_endpoint(ctx_.endpoint)) {
    serve_tools();
    return;
  }
  route();
}

void ProxySession::serve_tools() {
  if (tools_.serve(ctx_, &retry_timer_) == ToolExchange::Step::Calling) {
    state_ = State::CallingTool;
    return;
  }
  send_local_reply();
}

void ProxySession::on_tool_reply() {
  if (state_ != State::CallingTool) return;
  send_local_reply();
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
  // Envoy's panic mode: when the health checker says every candidate is down, it is more
  // likely wrong (or everything is down anyway) than right, so they are all tried.
  ignore_health_ = plan_.all_down();
  next_attempt();
}

void ProxySession::next_attempt() {
  while (const filter::Candidate* c = plan_.next()) {
    if (may_try(*c)) {
      start_attempt(*c);
      return;
    }
  }
  send_plan_exhausted();
}

bool ProxySession::may_try(const filter::Candidate& c) {
  if (!dialect_of(c).speaks) {
    ++skipped_;
    route_notes_.append(c.provider->name).append(": skipped (");
    route_notes_.append(providers::why_not_spoken(*c.provider, ctx_.endpoint)).append("); ");
    return false;
  }
  if (!ignore_health_ && !c.state->routable()) {
    ++skipped_;
    route_notes_.append(c.provider->name).append(": skipped (down: failing health checks); ");
    return false;
  }
  std::string_view veto_reason;
  filter::PickStatus pick = filter::PickStatus::Allow;
  for (filter::Filter* f : filters_) {
    pick = f->on_upstream_pick(ctx_, c, &veto_reason);
    if (pick != filter::PickStatus::Allow) break;
  }
  if (pick == filter::PickStatus::Allow) return true;
  ++skipped_;
  if (pick == filter::PickStatus::Overloaded) ++skipped_overloaded_;
  route_notes_.append(c.provider->name).append(": skipped (").append(veto_reason).append("); ");
  return false;
}

void ProxySession::send_plan_exhausted() {
  std::string notes = route_notes_;
  if (notes.size() >= 2) notes.resize(notes.size() - 2);  // the last "; "
  if (ctx_.attempts > 0 && last_result_ == filter::AttemptResult::Timeout) {
    send_error(504, "api_error", "upstream_timeout",
               "No provider answered in time: " + notes + ".");
    return;
  }
  std::string message = "No provider could serve this request";
  message.append(notes.empty() ? ": no target is configured for it" : ": " + notes).append(".");
  if (ctx_.attempts == 0 && skipped_ > 0 && skipped_overloaded_ == skipped_) {
    // Every candidate is at its concurrency cap: nothing is broken, the client should back off.
    ctx_.add_response_header("x-sluice-overloaded", "true");
  }
  send_error(503, "api_error", "all_providers_unavailable", std::move(message));
}

providers::Dialect ProxySession::dialect_of(const filter::Candidate& c) const {
  return providers::dialect_for(*c.provider, snapshot_->provider_codec(*c.provider),
                                snapshot_->client_api(ctx_.endpoint), ctx_.endpoint);
}

bool ProxySession::prepare_translation(const filter::Candidate& candidate) {
  translating_ = false;
  const providers::Dialect dialect = dialect_of(candidate);
  if (dialect.provider == nullptr && dialect.client == nullptr) return true;
  providers::TranslateInput in{ctx_.endpoint,
                               request_->body,
                               candidate.physical_model,
                               ctx_.fields.stream,
                               ctx_.fields.stream && ctx_.fields.include_usage,
                               ctx_.request_id};
  switch (translator_.prepare(dialect.provider, dialect.client, worker_.index(), in, this)) {
    case providers::TranslateStatus::Ok:
      translating_ = true;
      return true;
    case providers::TranslateStatus::Invalid:
      // The client's request cannot be said in the target's API: no target of another API
      // would do better on a request this one refuses, so the client hears it now.
      send_error(400, "invalid_request_error", "unsupported_for_target", translator_.message());
      return false;
    case providers::TranslateStatus::Failed:
      break;
  }
  send_error(502, "api_error", "upstream_error",
             "The provider plugin failed to translate the request for " + candidate.provider->name +
                 ": " + translator_.message() + ".");
  return false;
}

void ProxySession::start_attempt(const filter::Candidate& candidate) {
  providers::ProviderBackend* backend = worker_.backend_for(*candidate.provider);
  if (backend == nullptr) {
    route_notes_.append(candidate.provider->name).append(": provider type \"");
    route_notes_.append(candidate.provider->type).append("\" has no backend; ");
    next_attempt();
    return;
  }
  if (!prepare_translation(candidate)) return;
  state_ = State::Upstream;
  if (!fallback_from_.empty() && fallback_from_ != candidate.provider->name) {
    worker_.count_fallback(fallback_from_, candidate.provider->name);
  }
  fallback_from_ = {};
  retry_candidate_ = nullptr;
  candidate_ = &candidate;
  ctx_.last_candidate = candidate;
  ++ctx_.attempts;
  backend_ = backend;
  upstream_status_ = 0;
  buffering_error_ = false;
  upstream_retry_after_.reset();
  upstream_length_.reset();
  scanning_usage_ = false;  // a new attempt: only the answering one's usage counts
  candidate.state->attempt_started();
  attempt_counted_ = true;
  attempt_started_ = Clock::now();
  if (!ctx_.upstream_sent_at) ctx_.upstream_sent_at = attempt_started_;
  providers::AttemptRequest req{ctx_.endpoint, request_, &ctx_.fields, candidate.physical_model,
                                ctx_.request_id};
  // OpenAI streams carry usage only when asked (stream_options.include_usage): sluice asks, so
  // a stream is charged what it used, and hides the answer from a client that did not.
  // A translated attempt's body is the translation's, which asks for what it needs itself.
  req.ask_stream_usage = !translating_ && asks_stream_usage(ctx_.endpoint, ctx_.fields);
  asked_stream_usage_ = req.ask_stream_usage;
  if (!translating_) {
    attempt_ = backend->start(req, this);
    return;
  }
  req.translated = &translator_.request();
  if (!translator_.translates_answer()) {
    attempt_ = backend->start(req, this);  // a native endpoint: the answer needs nothing
    return;
  }
  attempt_ = backend->start(req, &translator_);
  translator_.attach(backend, attempt_);
}

void ProxySession::end_attempt_accounting() {
  if (!attempt_counted_) return;
  attempt_counted_ = false;
  candidate_->state->attempt_finished();
}

filter::AttemptDecision ProxySession::decide(filter::AttemptOutcome& outcome) {
  end_attempt_accounting();
  last_result_ = outcome.result;
  outcome.more_candidates = plan_.has_next();
  ctx_.retry_delay = std::chrono::milliseconds(0);
  // Every filter hears about every attempt (a circuit breaker records it whatever the retry
  // filter decides); the first decision that is not Default wins.
  filter::AttemptDecision decision = filter::AttemptDecision::Default;
  for (filter::Filter* f : filters_) {
    filter::AttemptDecision d = f->on_attempt_done(ctx_, outcome);
    if (decision == filter::AttemptDecision::Default) decision = d;
  }
  if (decision == filter::AttemptDecision::Default) decision = filter::AttemptDecision::GiveUp;
  if (outcome.downstream_started) decision = filter::AttemptDecision::GiveUp;
  return decision;
}

void ProxySession::try_again(filter::AttemptDecision decision, std::string_view failure) {
  route_notes_.append(failure).append("; ");
  worker_.count_failed_attempt(candidate_->provider->name, failure);
  if (decision == filter::AttemptDecision::Retry) {
    retry_candidate_ = candidate_;
  } else {
    retry_candidate_ = nullptr;
    fallback_from_ = candidate_->provider->name;
  }
  if (ctx_.retry_delay.count() > 0) {
    state_ = State::WaitingRetry;
    uv_timer_start(&retry_timer_, &ProxySession::on_retry_timer_fired,
                   static_cast<uint64_t>(ctx_.retry_delay.count()), 0);
    return;
  }
  run_next_attempt();
}

void ProxySession::on_retry_timer() {
  if (state_ == State::CallingTool) {
    tools_.on_deadline();
    return;
  }
  if (state_ != State::WaitingRetry) return;
  run_next_attempt();
}

void ProxySession::run_next_attempt() {
  // A retry of the same candidate asks the pick filters again: its circuit may have opened
  // (or it reached its concurrency cap) while this request waited.
  const filter::Candidate* again = retry_candidate_;
  retry_candidate_ = nullptr;
  if (again != nullptr && may_try(*again)) {
    start_attempt(*again);
    return;
  }
  next_attempt();
}

void ProxySession::client_gone() {
  if (state_ == State::Idle) return;
  ctx_.client_gone = true;
  if (state_ == State::WaitingRetry) uv_timer_stop(&retry_timer_);
  if (state_ == State::CallingTool) tools_.cancel();
  if (attempt_ != nullptr) {
    upstream_seconds_ += seconds_between(attempt_started_, Clock::now());
    backend_->abort(attempt_);
    translator_.reset();
    attempt_ = nullptr;
    // The provider got the prompt and may be generating: it bills that, so sluice does too.
    if (!scanning_usage_) estimate_unanswered_attempt();
  }
  end_attempt_accounting();
  settle_usage();
  add_retried_attempts_estimate();
  if (ctx_.response_status == 0) {
    // Nothing reached the client; 499 is the conventional "client closed request" status.
    ctx_.response_status = 499;
  }
  for (filter::Filter* f : filters_) f->on_complete(ctx_);
  for (filter::Filter* f : filters_) f->on_log(ctx_);
  record();
  tools_.reset();
  filters_.clear();
  ctx_.reset();
  snapshot_.reset();
  state_ = State::Idle;
  worker_.request_finished();
}

void ProxySession::estimate_unanswered_attempt() {
  ctx_.usage = usage::Usage{};
  ctx_.usage.input_tokens = ctx_.prompt_tokens_estimate;
  ctx_.usage.source = usage::Usage::Source::Estimated;
}

void ProxySession::add_retried_attempts_estimate() {
  if (retried_prompt_tokens_ == 0) return;
  ctx_.usage.input_tokens += retried_prompt_tokens_;
  ctx_.usage.source = usage::Usage::Source::Estimated;  // part of the charge is a guess
  retried_prompt_tokens_ = 0;
}

void ProxySession::finish(bool keep_alive) {
  settle_usage();
  add_retried_attempts_estimate();
  for (filter::Filter* f : filters_) f->on_complete(ctx_);
  for (filter::Filter* f : filters_) f->on_log(ctx_);
  record();
  tools_.reset();
  filters_.clear();
  ctx_.reset();  // destroys arena-allocated filters before the snapshot that built them goes
  snapshot_.reset();
  state_ = State::Idle;
  worker_.request_finished();
  connection_->on_session_done(keep_alive);
}

void ProxySession::record() {
  const auto now = Clock::now();
  log::RequestRecord r;
  r.time = std::chrono::system_clock::now() -
           std::chrono::duration_cast<std::chrono::system_clock::duration>(now - ctx_.started_at);
  r.request_id = ctx_.request_id;
  r.method = request_->method();
  r.path = path_;
  r.endpoint = filter::to_string(ctx_.endpoint);
  r.agent = ctx_.agent != nullptr ? std::string_view(ctx_.agent->name) : std::string_view();
  r.model = ctx_.fields.model;
  r.model_known = ctx_.model_group != nullptr;
  if (ctx_.last_candidate.provider != nullptr) {
    r.provider = ctx_.last_candidate.provider->name;
    r.physical_model = ctx_.last_candidate.physical_model;
  }
  r.status = ctx_.response_status;
  r.error_code = ctx_.has_local_reply() ? std::string_view(ctx_.local_reply().code) : broken_code_;
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
  r.input_tokens = ctx_.usage.input_tokens;
  r.output_tokens = ctx_.usage.output_tokens;
  r.cached_tokens = ctx_.usage.cached_input_tokens;
  r.usage_estimated = ctx_.usage.source == usage::Usage::Source::Estimated;
  r.cost_usd = ctx_.cost_usd;
  r.unpriced = ctx_.unpriced;
  r.tool = tools_.tool();
  r.tool_outcome = tools_.outcome();
  worker_.record(r);

  // The spend ledger (core/ledger/ledger_row.h): every request that reached a provider, and an
  // authenticated agent's local 429/503 refusals (limits, budget, no provider left) at cost 0.
  const bool refused = ctx_.attempts == 0 && ctx_.agent != nullptr &&
                       (ctx_.response_status == 429 || ctx_.response_status == 503);
  const bool tool_call = tools_.found_tool();  // one row per call of a tool (DESIGN §5)
  if (!worker_.ledger_enabled() || (ctx_.attempts == 0 && !refused && !tool_call)) return;
  ledger::LedgerRow row;
  row.request_id = ctx_.request_id;
  row.time_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(r.time.time_since_epoch()).count();
  row.agent = r.agent;
  row.model = ctx_.fields.model;
  row.physical_model = r.physical_model;
  row.provider = r.provider;
  row.status = ctx_.response_status;
  row.input_tokens = ctx_.usage.input_tokens;
  row.output_tokens = ctx_.usage.output_tokens;
  row.cached_tokens = ctx_.usage.cached_input_tokens;
  row.cache_write_tokens = ctx_.usage.cache_write_tokens;
  row.cost_usd = ctx_.cost_usd;
  row.estimated = ctx_.usage.source == usage::Usage::Source::Estimated;
  row.latency_s = r.duration;
  if (r.time_to_first_token >= 0) row.ttft_s = r.time_to_first_token;
  row.attempts = ctx_.attempts;
  row.error_code = r.error_code;
  if (tool_call) {
    row.tool = r.tool;
    // A call that reached the tool answers 200 on /mcp whatever happened: its outcome is what
    // the row keeps ("" = ok).
    if (row.error_code.empty() && r.tool_outcome != "ok")
      row.error_code = tool_error_code(r.tool_outcome);
  }
  if (row.error_code.empty() && ctx_.client_gone) row.error_code = "client_closed";
  const std::string_view error =
      ctx_.has_local_reply() ? std::string_view(ctx_.local_reply().message) : broken_message_;
  row.error = error.substr(0, ledger::LedgerRow::kMaxErrorBytes);
  worker_.record_ledger(std::move(row));
}

}  // namespace sluice::server
