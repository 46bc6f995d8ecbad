#include "filters/rate_limit/fleet_rate_limit_filter.h"

#include <algorithm>
#include <string>

#include "core/filter/worker_context.h"
#include "core/fleet/fleet_worker.h"
#include "filters/rate_limit/rate_limit_headers.h"

namespace sluice::filters::rate_limit {

namespace {

using filter::RequestContext;
using filter::RequestStatus;
using fleet::FleetStep;
using fleet::Where;
using std::chrono::milliseconds;

std::string unavailable_message(const LimitedAgent& agent, const fleet::FleetWorker& fleet) {
  return "The limits of agent \"" + agent.agent->name +
         "\" are shared by the fleet through Redis, which cannot answer (" +
         fleet.failure_reason() +
         "); state.redis.on_failure is deny, so its requests are refused until Redis answers "
         "again. Try again in 1s.";
}

class FleetRateLimitFilter final : public filter::Filter, public fleet::FleetWaiter {
 public:
  explicit FleetRateLimitFilter(const Shared& shared) : shared_(shared) {}

  RequestStatus on_request(RequestContext& ctx) override {
    if (ctx.agent == nullptr) return RequestStatus::Continue;
    agent_ = shared_.index.find(ctx.agent);
    if (agent_ == nullptr) {
      if (!has_limits(ctx.agent->limits)) return RequestStatus::Continue;
      fallback_ = LimitedAgent{ctx.agent, shared_.states.agent(ctx.agent->name), ctx.agent->limits};
      agent_ = &fallback_;
    }
    ctx_ = &ctx;
    fleet_ = ctx.worker->fleet;
    shares_ = &fleet_->agent(agent_->agent->name, agent_->state);
    const config::AgentLimits& limits = agent_->limits;
    if (ctx.endpoint == filter::Endpoint::ToolCall) {
      // A tool call takes one request of the rpm (DESIGN §5), no tokens and no slot.
      if (!limits.rpm) return RequestStatus::Continue;
      step_ = Step::Rpm;
      tool_call_ = true;
      return advance();
    }
    if (!filter::goes_to_provider(ctx.endpoint)) {  // answered locally: counts against nothing
      if (limits.rpm) add_bucket_headers(ctx, BucketKind::Requests, shares_->rpm.peek(*limits.rpm));
      if (limits.tpm) add_bucket_headers(ctx, BucketKind::Tokens, shares_->tpm.peek(*limits.tpm));
      return RequestStatus::Continue;
    }
    step_ = Step::Concurrent;
    return advance();
  }

  // The call a step waited for answered: that step decides now (or waits once more).
  void on_fleet_answer() override {
    waiting_ = false;
    const RequestStatus status = advance();
    if (status != RequestStatus::Stop) ctx_->resume_chain();
  }

  void on_complete(RequestContext& ctx) override {
    if (waiting_) cancel_wait();  // the client left while the request waited for Redis
    leave_gate();
    if (tpm_where_ == Where::Nowhere) return;
    const Where where = tpm_where_;
    tpm_where_ = Where::Nowhere;  // settled once, whatever happens below
    int64_t delta = 0;
    if (ctx.attempts == 0) {
      delta = -static_cast<int64_t>(reserved_);
    } else if (ctx.usage.known()) {
      const uint64_t used = std::min<uint64_t>(ctx.usage.total(), kMaxChargedTokens);
      delta = static_cast<int64_t>(used) - static_cast<int64_t>(reserved_);
    } else {
      return;  // sent, but how much it used is unknown: keep the reservation
    }
    shares_->tpm.adjust(delta, where, *agent_->limits.tpm, reserved_at_);
  }

 private:
  // The admission's next step (the rules of rate_limit_filter.cc, in its order).
  enum class Step : uint8_t { Concurrent, Rpm, Tpm, Done };

  // Runs the steps from step_ on. Stop: a step waits for Redis (on_fleet_answer follows).
  RequestStatus advance() {
    const config::AgentLimits& limits = agent_->limits;
    RequestContext& ctx = *ctx_;
    while (true) {
      switch (step_) {
        case Step::Concurrent: {
          if (!limits.concurrent) break;
          const FleetStep s = shares_->concurrent.enter(*limits.concurrent, this);
          if (s == FleetStep::Wait) return wait();
          if (s == FleetStep::Refused) return refuse(Limit::Concurrent, kConcurrencyRetry);
          if (s == FleetStep::Unavailable) return unavailable();
          gate_where_ = fleet::where_of(s);
          break;
        }
        case Step::Rpm: {
          if (!limits.rpm) break;
          const FleetStep s = shares_->rpm.take(1, *limits.rpm, this, &requests_);
          if (s == FleetStep::Wait) return wait();
          if (s == FleetStep::Refused) return refuse(Limit::Rpm, requests_.retry_after);
          if (s == FleetStep::Unavailable) return unavailable();
          rpm_where_ = fleet::where_of(s);
          if (tool_call_) {
            add_bucket_headers(ctx, BucketKind::Requests, requests_);
            step_ = Step::Done;
            return RequestStatus::Continue;
          }
          break;
        }
        case Step::Tpm: {
          if (!limits.tpm) break;
          want_ = reservation_of(ctx, shared_.settings.default_max_tokens);
          const uint64_t cost = std::min<uint64_t>(want_.total(), *limits.tpm);
          const FleetStep s = shares_->tpm.take(cost, *limits.tpm, this, &tokens_);
          if (s == FleetStep::Wait) return wait();
          if (s == FleetStep::Refused) return refuse(Limit::Tpm, tokens_.retry_after, cost);
          if (s == FleetStep::Unavailable) return unavailable();
          tpm_where_ = fleet::where_of(s);
          reserved_ = cost;
          reserved_at_ = shared_.clock();
          break;
        }
        case Step::Done:
          if (limits.rpm) add_bucket_headers(ctx, BucketKind::Requests, requests_);
          if (limits.tpm) add_bucket_headers(ctx, BucketKind::Tokens, tokens_);
          return RequestStatus::Continue;
      }
      step_ = static_cast<Step>(static_cast<uint8_t>(step_) + 1);
    }
  }

  RequestStatus wait() {
    waiting_ = true;
    return RequestStatus::Stop;
  }

  void cancel_wait() {
    waiting_ = false;
    switch (step_) {
      case Step::Concurrent:
        shares_->concurrent.cancel(this);
        break;
      case Step::Rpm:
        shares_->rpm.cancel(this);
        break;
      case Step::Tpm:
        shares_->tpm.cancel(this);
        break;
      case Step::Done:
        break;
    }
  }

  void leave_gate() {
    if (shares_ != nullptr) shares_->concurrent.leave(gate_where_);
    gate_where_ = Where::Nowhere;
  }

  // Gives back what the earlier steps took (the request never goes out).
  void undo() {
    leave_gate();
    if (rpm_where_ != Where::Nowhere) {
      shares_->rpm.give_back(1, rpm_where_, *agent_->limits.rpm);
      rpm_where_ = Where::Nowhere;
    }
  }

  RequestStatus refuse(Limit limit, milliseconds retry_after, uint64_t reserved = 0) {
    undo();
    RequestContext& ctx = *ctx_;
    const config::AgentLimits& limits = agent_->limits;
    count_refusal(*agent_, limit);
    if (limits.rpm) {
      add_bucket_headers(ctx, BucketKind::Requests,
                         limit == Limit::Rpm ? requests_ : shares_->rpm.peek(*limits.rpm));
    }
    if (limits.tpm) {
      if (limit != Limit::Tpm) tokens_ = shares_->tpm.peek(*limits.tpm);
      add_bucket_headers(ctx, BucketKind::Tokens, tokens_);
    }
    add_retry_after_headers(ctx, retry_after);
    ctx.respond(429, "rate_limit_error", "rate_limit_exceeded",
                refusal_message(*agent_, limit, retry_after, &want_, reserved, &tokens_));
    step_ = Step::Done;
    return RequestStatus::Respond;
  }

  RequestStatus unavailable() {
    undo();
    add_retry_after_headers(*ctx_, milliseconds(1000));
    ctx_->respond(503, "api_error", "fleet_state_unavailable",
                  unavailable_message(*agent_, *fleet_));
    step_ = Step::Done;
    return RequestStatus::Respond;
  }

  const Shared& shared_;
  const LimitedAgent* agent_ = nullptr;
  LimitedAgent fallback_;
  RequestContext* ctx_ = nullptr;
  fleet::FleetWorker* fleet_ = nullptr;
  fleet::FleetAgent* shares_ = nullptr;  // this agent's shares in this worker
  Step step_ = Step::Done;
  bool waiting_ = false;    // a step waits for a Redis call (on_fleet_answer follows)
  bool tool_call_ = false;  // rpm only
  Where gate_where_ = Where::Nowhere;
  Where rpm_where_ = Where::Nowhere;
  Where tpm_where_ = Where::Nowhere;  // where the tpm reservation awaits its reconcile
  Reservation want_;
  uint64_t reserved_ = 0;
  state::SteadyTime reserved_at_;
  state::BucketReading requests_;
  state::BucketReading tokens_;
};

}  // namespace

filter::Filter* make_fleet_rate_limit_filter(RequestContext& ctx, const Shared& shared) {
  return ctx.arena_make<FleetRateLimitFilter>(shared);
}

}  // namespace sluice::filters::rate_limit
