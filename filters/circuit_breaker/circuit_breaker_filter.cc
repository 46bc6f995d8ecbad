// filters: - circuit_breaker: {}   (no keys: the settings are per provider, in
//                                    providers.*.circuit_breaker)
//
// Both halves of a circuit breaker, per provider (DESIGN §4, issue 5):
//  - a concurrency cap: a candidate whose provider already has max_concurrent attempts in
//    flight (counted by the session around every attempt) is skipped as Overloaded; when every
//    candidate is, the 503 carries `x-sluice-overloaded: true`;
//  - outlier ejection: consecutive failed attempts open the provider's circuit; while open its
//    candidates are vetoed ("circuit open"); after open_for one request probes it, and the
//    probe's verdict closes or re-opens the circuit. The state machine is
//    state::ProviderState's (core/state/provider_state.h), shared by every worker and kept
//    across reloads.
// This filter only decides about picks and reports verdicts; whether a failed attempt is
// retried or falls back is the retry filter's business, so on_attempt_done always says Default.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/config/node_reader.h"
#include "core/filter/filter.h"
#include "core/filter/registry.h"
#include "core/state/provider_state.h"
#include "filters/circuit_breaker/attempt_verdict.h"

namespace sluice::filters::circuit_breaker {
namespace {

using filter::AttemptDecision;
using filter::Candidate;
using filter::PickStatus;
using filter::RequestContext;
using Clock = std::chrono::steady_clock;

// Per request, in the request's arena. Its one piece of state is the half-open probe this
// request holds, if any: the provider whose probe slot circuit_pick() handed to it, until the
// probe attempt's verdict is recorded (or the slot is handed back).
class CircuitBreakerFilter final : public filter::Filter {
 public:
  PickStatus on_upstream_pick(RequestContext&, const Candidate& candidate,
                              std::string_view* reason) override {
    state::ProviderState* provider = candidate.state;
    if (provider == nullptr || candidate.provider == nullptr) return PickStatus::Allow;
    // Every attempt reports on_attempt_done before the next pick. A probe still held here was
    // granted on an earlier pick whose attempt never started (a later filter vetoed it, the
    // provider had no backend): hand it back so another request can probe.
    if (probe_ != nullptr) abandon_probe();

    const config::CircuitBreakerSettings& settings = candidate.provider->circuit_breaker;
    if (provider->in_flight() >= settings.max_concurrent) {
      *reason = overloaded_reason(settings.max_concurrent);
      return PickStatus::Overloaded;
    }
    if (provider->circuit_closed()) return PickStatus::Allow;  // the fast path

    const Clock::time_point now = Clock::now();
    switch (provider->circuit_pick(now)) {
      case state::CircuitPick::Allow:
        return PickStatus::Allow;
      case state::CircuitPick::Probe:
        probe_ = provider;
        return PickStatus::Allow;
      case state::CircuitPick::RefuseOpen:
        *reason = provider->circuit(now) == state::CircuitState::HalfOpen
                      ? std::string_view("circuit half-open, probe in flight")
                      : std::string_view("circuit open");
        return PickStatus::Veto;
    }
    return PickStatus::Allow;
  }

  AttemptDecision on_attempt_done(RequestContext&, const filter::AttemptOutcome& outcome) override {
    const Candidate* candidate = outcome.candidate;
    if (candidate == nullptr || candidate->state == nullptr || candidate->provider == nullptr) {
      return AttemptDecision::Default;
    }
    state::ProviderState* provider = candidate->state;
    const bool is_probe = provider == probe_;
    if (is_probe) probe_ = nullptr;

    const Verdict verdict = verdict_of(outcome);
    if (verdict == Verdict::NoVerdict) {
      if (is_probe) provider->release_probe();
      return AttemptDecision::Default;
    }
    const bool failed = verdict == Verdict::Failed;
    const config::CircuitBreakerSettings& settings = candidate->provider->circuit_breaker;
    if (is_probe) {
      provider->record_probe(failed, settings, Clock::now());
    } else {
      provider->record_outcome(failed, settings, Clock::now());
    }
    return AttemptDecision::Default;
  }

  // The probe ended without a verdict (client gone mid-attempt, local reply, ...).
  void on_complete(RequestContext&) override {
    if (probe_ != nullptr) abandon_probe();
  }

 private:
  void abandon_probe() {
    probe_->release_probe();
    probe_ = nullptr;
  }

  // "at max_concurrent (<n>)", written into this request's own buffer (the session copies the
  // reason into its 503 message before the next pick can overwrite it).
  std::string_view overloaded_reason(uint32_t max_concurrent) {
    constexpr std::string_view kPrefix = "at max_concurrent (";
    char* out = reason_buffer_;
    out = std::copy(kPrefix.begin(), kPrefix.end(), out);
    out = std::to_chars(out, reason_buffer_ + sizeof reason_buffer_ - 1, max_concurrent).ptr;
    *out++ = ')';
    return {reason_buffer_, static_cast<size_t>(out - reason_buffer_)};
  }

  state::ProviderState* probe_ = nullptr;
  char reason_buffer_[40];  // "at max_concurrent (" + up to 10 digits + ")"
};

class CircuitBreakerFactory final : public filter::FilterFactory {
 public:
  std::string_view name() const override { return "circuit_breaker"; }
  filter::Filter* create(RequestContext& ctx) const override {
    return ctx.arena_make<CircuitBreakerFilter>();
  }
};

std::unique_ptr<filter::FilterFactory> build_circuit_breaker(config::NodeReader& reader,
                                                             const config::Config&) {
  // No keys here. A provider setting written on the filter is the likely mistake: say where
  // it belongs rather than only "unknown key".
  for (const char* key : {"max_concurrent", "consecutive_failures", "open_for", "max_open_for"}) {
    if (reader.has(key)) {
      reader.fail(key, std::string("unknown key \"") + key +
                           "\": the circuit breaker's settings are per provider, under "
                           "providers.<name>.circuit_breaker; the filter takes no keys");
    }
  }
  reader.finish();
  return std::make_unique<CircuitBreakerFactory>();
}

const filter::FilterRegistrar kRegisterCircuitBreaker{"circuit_breaker", &build_circuit_breaker};

}  // namespace
}  // namespace sluice::filters::circuit_breaker
