#include "filters/retry/retry_filter.h"

#include <string>
#include <utility>

#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/state/process_state.h"
#include "filters/retry/backoff.h"

namespace sluice::filters::retry {
namespace {

using filter::AttemptDecision;
using filter::RequestContext;
using filter::RequestStatus;

// One request's bookkeeping with the process-wide retry budget. Lives in the request's arena.
//   counted_         — on_request ran: this request is one of the budget's active requests
//                      until on_complete (a filter before this one may answer first, and then
//                      on_request never runs but on_complete still does).
//   retry_in_flight_ — this request holds one retry slot: taken when a Retry/Fallback is
//                      decided, given back when the attempt it asked for ends (the next
//                      on_attempt_done) or the request ends before that (on_complete).
class RetryFilter final : public filter::Filter {
 public:
  explicit RetryFilter(const RetryFactory& factory) : factory_(factory) {}

  RequestStatus on_request(RequestContext&) override {
    factory_.budget().request_started();
    counted_ = true;
    return RequestStatus::Continue;
  }

  AttemptDecision on_attempt_done(RequestContext& ctx,
                                  const filter::AttemptOutcome& outcome) override {
    release_retry_slot();
    if (outcome.result == filter::AttemptResult::Success) return AttemptDecision::Default;
    const RetryPolicy& policy = factory_.policy();
    Verdict verdict = judge(policy, outcome, thread_random());
    if (verdict.decision != AttemptDecision::Retry &&
        verdict.decision != AttemptDecision::Fallback) {
      return verdict.decision;
    }
    if (!factory_.budget().try_start_retry(policy.budget_ratio, policy.budget_min_retries)) {
      return AttemptDecision::GiveUp;
    }
    retry_in_flight_ = true;
    ctx.retry_delay = verdict.delay;
    const config::Provider* provider =
        outcome.candidate != nullptr ? outcome.candidate->provider : nullptr;
    if (prometheus::Counter* counter = factory_.retries_counter(provider, *verdict.reason)) {
      counter->Increment();
    }
    return verdict.decision;
  }

  void on_complete(RequestContext&) override {
    release_retry_slot();
    if (counted_) factory_.budget().request_finished();
    counted_ = false;
  }

 private:
  void release_retry_slot() {
    if (!retry_in_flight_) return;
    retry_in_flight_ = false;
    factory_.budget().retry_finished();
  }

  const RetryFactory& factory_;
  bool counted_ = false;
  bool retry_in_flight_ = false;
};

std::unique_ptr<filter::FilterFactory> build_retry(config::NodeReader& reader,
                                                   const config::Config& config) {
  RetryPolicy policy = parse_retry_policy(reader);
  return std::make_unique<RetryFactory>(policy, config, metrics::Metrics::process(),
                                        state::ProcessState::process().retry_budget());
}

const filter::FilterRegistrar kRegisterRetry{"retry", &build_retry};

}  // namespace

RetryFactory::RetryFactory(RetryPolicy policy, const config::Config& config,
                           metrics::Metrics& metrics, state::RetryBudget& budget)
    : policy_(std::move(policy)), budget_(budget) {
  for (const auto& [name, provider] : config.providers) {
    std::array<prometheus::Counter*, kReasonCount>& row = counters_[&provider];
    for (size_t i = 0; i < kReasonCount; ++i) {
      row[i] = nullptr;
      if (!policy_.retry_on[i]) continue;
      row[i] = &metrics.retries_total.Add(
          {{"provider", name}, {"reason", std::string(to_string(static_cast<Reason>(i)))}});
    }
  }
}

filter::Filter* RetryFactory::create(RequestContext& ctx) const {
  return ctx.arena_make<RetryFilter>(*this);
}

prometheus::Counter* RetryFactory::retries_counter(const config::Provider* provider,
                                                   Reason reason) const {
  auto it = counters_.find(provider);
  if (it == counters_.end()) return nullptr;
  return it->second[static_cast<size_t>(reason)];
}

}  // namespace sluice::filters::retry
