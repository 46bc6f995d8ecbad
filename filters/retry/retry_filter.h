// filters: - retry: {attempts: 3, retry_on: [connect_failure, reset, timeout, 5xx, 429],
//                    backoff: {base: 100ms, max: 2s}, respect_retry_after: true,
//                    fallback: true, budget: {ratio: 0.2, min_retries: 3}}
//
// Decides, after each upstream attempt, whether the request tries again, elsewhere, or gives
// up (on_attempt_done). The session carries the decision out: it waits ctx.retry_delay, holds
// a response's head until its first body byte so a failure before the first token can still
// be retried, and maps a given-up failure to the client's error (DESIGN §2, §5).
//
// Rules, in order, for one finished attempt:
//  1. Success (or an HTTP status that is no failure) → Default: nothing to decide.
//  2. The failure's reason, in retry_on's words:
//       connect_failure — could not connect (DNS, refused, TLS), or sluice's own pool to the
//                         provider had no connection to give in time (AttemptResult::Overloaded);
//       reset           — connection lost mid-exchange, or an unparseable answer;
//       timeout         — a connect / first_byte / idle / total timeout;
//       5xx             — the provider answered 500–599;
//       429             — the provider answered 429.
//     A reason not in retry_on → GiveUp.
//  3. A byte already went to the client (outcome.downstream_started) → GiveUp: a started
//     response cannot be retried; the session ends a stream with an error event.
//  4. `attempts` is the most upstream attempts one request makes, the first included (Envoy's
//     num_retries + 1): outcome.attempt ≥ attempts → GiveUp. Candidates the router skipped
//     without contacting them (vetoed by a filter, health down) are not attempts.
//  5. respect_retry_after and the provider sent retry-after (or retry-after-ms) longer than
//     backoff.max → no waiting that long: Fallback if fallback is on and another candidate
//     remains, else GiveUp.
//  6. The retry budget: retries in flight, process-wide, may not exceed
//     max(budget.min_retries, budget.ratio × requests in flight through this filter). No slot
//     → GiveUp. A slot is held from the decision until the attempt it asked for ends.
//  7. fallback on and the route plan has untried candidates (other targets of the group, then
//     fallback groups) → Fallback, no delay: a different target needs no backoff and is not
//     bound by the failed one's retry-after.
//  8. Otherwise → Retry the same target after
//       - the provider's retry-after (respect_retry_after, ≤ backoff.max), or else
//       - full-jitter backoff: uniform random in [0, min(max, base × 2^n)] for the request's
//         n-th retry (n = attempts so far − 1, from 0),
//     and at least 1 ms either way.
// Every Retry and Fallback counts sluice_retries_total{provider=<the failed one>,reason}
// (sluice_fallbacks_total{from,to} is the session's: only it knows `to`).
//
// with fallback: false the filter never moves to another candidate: it retries the same
// target until attempts run out (or gives up at rule 5).
#pragma once

#include <prometheus/counter.h>

#include <array>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "core/config/config.h"
#include "core/filter/filter.h"
#include "core/metrics/metrics.h"
#include "core/state/retry_budget.h"
#include "filters/retry/retry_policy.h"

namespace sluice::filters::retry {

class RetryFactory final : public filter::FilterFactory {
 public:
  // The retries_total children of every provider of `config` × every reason in retry_on are
  // looked up here, once, so the request path never touches the metric family.
  RetryFactory(RetryPolicy policy, const config::Config& config, metrics::Metrics& metrics,
               state::RetryBudget& budget);

  std::string_view name() const override { return "retry"; }
  // A small per-request object in the request's arena (the budget bookkeeping).
  filter::Filter* create(filter::RequestContext& ctx) const override;

  const RetryPolicy& policy() const { return policy_; }
  state::RetryBudget& budget() const { return budget_; }
  // The retries_total child for (provider, reason); null for a provider not of this config or
  // a reason not in retry_on (never counted).
  prometheus::Counter* retries_counter(const config::Provider* provider, Reason reason) const;

 private:
  RetryPolicy policy_;
  state::RetryBudget& budget_;
  std::unordered_map<const config::Provider*, std::array<prometheus::Counter*, kReasonCount>>
      counters_;
};

}  // namespace sluice::filters::retry
