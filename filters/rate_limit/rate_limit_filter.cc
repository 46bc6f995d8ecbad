// The rate_limit filter (see rate_limit_filter.h for what it enforces).
//
// on_request, for a request of an agent with limits that goes to a provider, admits in this
// order — cheapest to undo first:
//   1. concurrent: enter the agent's ConcurrencyGate;
//   2. rpm: take 1 from the requests bucket;
//   3. tpm: reserve prompt estimate + max_tokens from the tokens bucket. A reservation larger
//      than the whole tpm limit is clamped to the limit: such a request can never fit, so
//      unclamped it would be refused forever; clamped it passes when the agent is idle, and
//      the reconcile at completion charges what it really used (possibly putting the bucket
//      in debt, which later requests wait out).
// A refusal gives back what this request already took (leaves the gate, refunds the rpm
// token), counts sluice_rate_limited_total{agent,limit} and answers 429 rate_limit_exceeded
// with retry-after. Every response of a limited agent — admitted or refused — carries the
// x-ratelimit-* headers of its rpm/tpm buckets (rate_limit_headers.h).
//
// on_complete (always called, once) leaves the gate if this request entered it, and settles
// the tpm reservation exactly once:
//   no upstream attempt (refused later in the chain, client gone first)  → refund it all;
//   usage known (reported, or estimated from what was streamed)         → charge usage − reserved;
//   attempted but usage unknown                                          → keep the reservation
//                                                                          (conservative).
// Requests that never reach a provider (GET /v1/models) take nothing; they carry the headers.
#include "filters/rate_limit/rate_limit_filter.h"

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>

#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/filter/worker_context.h"
#include "core/log/log.h"
#include "core/usage/usage.h"
#include "filters/rate_limit/agent_limit_index.h"
#include "filters/rate_limit/fleet_rate_limit_filter.h"
#include "filters/rate_limit/rate_limit_headers.h"
#include "filters/rate_limit/rate_limit_rules.h"

namespace sluice::filters::rate_limit {

state::SteadyTime steady_now() {
  return std::chrono::steady_clock::now();
}

namespace {

using filter::Endpoint;
using filter::RequestContext;
using filter::RequestStatus;
using std::chrono::milliseconds;

// One request's view: what it took, so that a refusal and on_complete give back exactly that.
class RateLimitFilter final : public filter::Filter {
 public:
  explicit RateLimitFilter(const Shared& shared) : shared_(shared) {}

  RequestStatus on_request(RequestContext& ctx) override {
    if (ctx.agent == nullptr) return RequestStatus::Continue;  // anonymous: nothing to key on
    agent_ = shared_.index.find(ctx.agent);
    if (agent_ == nullptr) {
      if (!has_limits(ctx.agent->limits)) return RequestStatus::Continue;
      // An agent not of this snapshot's config (auth resolves from the same snapshot, so this
      // should not happen): resolve its state through the registry, which locks.
      fallback_ = LimitedAgent{ctx.agent, shared_.states.agent(ctx.agent->name), ctx.agent->limits};
      agent_ = &fallback_;
    }
    const config::AgentLimits& limits = agent_->limits;
    state::AgentState& state = *agent_->state;
    const state::SteadyTime now = shared_.clock();

    if (ctx.endpoint == filter::Endpoint::ToolCall && limits.rpm) {
      // A tool call takes one request of the agent's rpm (DESIGN §5); it uses no tokens and
      // does not hold a concurrency slot (it reaches no provider).
      state::BucketReading requests = state.requests().try_take(1, *limits.rpm, kPeriod, now);
      if (!requests.allowed) {
        return refuse(ctx, Limit::Rpm, requests.retry_after, now, &requests, nullptr, 0);
      }
      add_bucket_headers(ctx, BucketKind::Requests, requests);
      return RequestStatus::Continue;
    }
    if (!filter::goes_to_provider(ctx.endpoint)) {  // answered locally: counts against nothing
      if (limits.rpm) {
        add_bucket_headers(ctx, BucketKind::Requests,
                           state.requests().peek(*limits.rpm, kPeriod, now));
      }
      if (limits.tpm) {
        add_bucket_headers(ctx, BucketKind::Tokens, state.tokens().peek(*limits.tpm, kPeriod, now));
      }
      return RequestStatus::Continue;
    }

    if (limits.concurrent) {
      if (!state.in_flight().try_enter(*limits.concurrent)) {
        return refuse(ctx, Limit::Concurrent, kConcurrencyRetry, now, nullptr, nullptr, 0);
      }
      in_gate_ = true;
    }

    state::BucketReading requests;
    if (limits.rpm) {
      requests = state.requests().try_take(1, *limits.rpm, kPeriod, now);
      if (!requests.allowed) {
        leave_gate();
        return refuse(ctx, Limit::Rpm, requests.retry_after, now, &requests, nullptr, 0);
      }
    }

    state::BucketReading tokens;
    if (limits.tpm) {
      const Reservation want = reservation_of(ctx, shared_.settings.default_max_tokens);
      const uint64_t cost = std::min<uint64_t>(want.total(), *limits.tpm);
      tokens = state.tokens().try_take(cost, *limits.tpm, kPeriod, now);
      if (!tokens.allowed) {
        leave_gate();
        if (limits.rpm) state.requests().adjust(-1, *limits.rpm, kPeriod, now);
        return refuse(ctx, Limit::Tpm, tokens.retry_after, now, &tokens, &want, cost);
      }
      reserved_ = cost;
      reserved_at_ = now;
      reservation_open_ = true;
    }

    if (limits.rpm) add_bucket_headers(ctx, BucketKind::Requests, requests);
    if (limits.tpm) add_bucket_headers(ctx, BucketKind::Tokens, tokens);
    return RequestStatus::Continue;
  }

  void on_complete(RequestContext& ctx) override {
    leave_gate();
    if (!reservation_open_) return;
    reservation_open_ = false;  // settled once, whatever happens below
    int64_t delta = 0;
    if (ctx.attempts == 0) {
      delta = -static_cast<int64_t>(reserved_);  // no provider saw it: nothing was used
    } else if (ctx.usage.known()) {
      // Saturated: an absurd reported count must not wrap into a refund.
      const uint64_t used = std::min<uint64_t>(ctx.usage.total(), kMaxChargedTokens);
      delta = static_cast<int64_t>(used) - static_cast<int64_t>(reserved_);
    } else {
      return;  // sent, but how much it used is unknown: keep the reservation
    }
    // At the admission's time, not a fresh clock read: the bucket never rewinds, so the time
    // since then drains at the next call all the same.
    if (delta != 0)
      agent_->state->tokens().adjust(delta, *agent_->limits.tpm, kPeriod, reserved_at_);
  }

 private:
  void leave_gate() {
    if (!in_gate_) return;
    in_gate_ = false;
    agent_->state->in_flight().leave();
  }

  // `refused` is the reading of the bucket that refused (rpm or tpm), null for concurrency.
  RequestStatus refuse(RequestContext& ctx, Limit limit, milliseconds retry_after,
                       state::SteadyTime now, const state::BucketReading* refused,
                       const Reservation* reservation, uint64_t reserved) {
    const config::AgentLimits& limits = agent_->limits;
    state::AgentState& state = *agent_->state;
    count_refusal(*agent_, limit);

    // The buckets as they stand after the refusal was undone.
    if (limits.rpm) {
      add_bucket_headers(
          ctx, BucketKind::Requests,
          limit == Limit::Rpm ? *refused : state.requests().peek(*limits.rpm, kPeriod, now));
    }
    state::BucketReading tokens;
    if (limits.tpm) {
      tokens = limit == Limit::Tpm ? *refused : state.tokens().peek(*limits.tpm, kPeriod, now);
      add_bucket_headers(ctx, BucketKind::Tokens, tokens);
    }
    add_retry_after_headers(ctx, retry_after);
    ctx.respond(429, "rate_limit_error", "rate_limit_exceeded",
                refusal_message(*agent_, limit, retry_after, reservation, reserved, &tokens));
    return RequestStatus::Respond;
  }

  const Shared& shared_;
  const LimitedAgent* agent_ = nullptr;  // set by on_request for a limited agent
  LimitedAgent fallback_;                // agent_ points here on the registry path
  uint64_t reserved_ = 0;                // tokens taken from the tpm bucket
  state::SteadyTime reserved_at_;        // when (the reconcile is charged as of then)
  bool in_gate_ = false;                 // entered the ConcurrencyGate, not left yet
  bool reservation_open_ = false;        // reserved_ awaits its reconcile
};

class RateLimitFactory final : public filter::FilterFactory {
 public:
  RateLimitFactory(const config::Config& config, RateLimitSettings settings,
                   state::ProcessState& states, Clock clock)
      : shared_(config, settings, states, clock) {}

  std::string_view name() const override { return "rate_limit"; }
  filter::Filter* create(RequestContext& ctx) const override {
    if (ctx.worker != nullptr && ctx.worker->fleet != nullptr) {
      return make_fleet_rate_limit_filter(ctx, shared_);  // state.redis: the fleet's limits
    }
    return ctx.arena_make<RateLimitFilter>(shared_);
  }

 private:
  Shared shared_;
};

// Limits key off the agent auth identified; placed before auth (or without it) the filter
// sees only anonymous requests and limits nothing. A warning, not an error: a plugin filter
// may identify agents too.
void warn_if_no_auth_before(const config::NodeReader& reader, const config::Config& config) {
  bool any_limits = false;
  for (const auto& [name, agent] : config.agents) any_limits |= has_limits(agent.limits);
  if (!any_limits) return;
  for (const config::FilterSpec& spec : config.filters) {
    if (spec.key_path == reader.path()) break;  // this rate_limit: nothing identified before it
    if (spec.type == "auth") return;
  }
  std::string message;
  const config::SourceMark mark = reader.mark();
  if (!mark.file.empty()) {
    message += mark.file;
    if (mark.line > 0)
      message += ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
    message += ": ";
  }
  message += reader.path() +
             ": no auth filter before rate_limit in the chain, so requests reach it without an "
             "agent and agents.*.limits are not applied: put `- auth: {...}` first";
  log::warn(message);
}

std::unique_ptr<filter::FilterFactory> build_rate_limit(config::NodeReader& reader,
                                                        const config::Config& config) {
  RateLimitSettings settings;
  if (auto v = reader.integer("default_max_tokens", 0, 100'000'000)) {
    settings.default_max_tokens = static_cast<uint64_t>(*v);
  }
  reader.finish();  // the limits themselves are agents.*.limits
  warn_if_no_auth_before(reader, config);
  return make_rate_limit_factory(config, settings, state::ProcessState::process());
}

const filter::FilterRegistrar kRegisterRateLimit{"rate_limit", &build_rate_limit};

}  // namespace

std::unique_ptr<filter::FilterFactory> make_rate_limit_factory(const config::Config& config,
                                                               RateLimitSettings settings,
                                                               state::ProcessState& states,
                                                               Clock clock) {
  return std::make_unique<RateLimitFactory>(config, settings, states, clock);
}

}  // namespace sluice::filters::rate_limit
