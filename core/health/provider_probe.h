// ProviderProbe: the active health check of one provider, on the health checker's loop. Every
// `interval` it sends GET <base_url path><health_check.path> — with the provider's api_key
// (Authorization: Bearer) and configured headers, as a request would carry them — through its
// own UpstreamPool (one connection, kept alive between probes; TLS, DNS cache and timeouts as
// for requests, every timeout set to health_check.timeout), classifies the answer
// (probe_verdict.h), feeds the HealthTracker and writes a changed status to the provider's
// ProviderState (which also sets sluice_provider_up).
//
// Not thread-safe: every call, and every callback, is on the loop's thread.
#pragma once

#include <uv.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>

#include "core/config/config.h"
#include "core/health/health_tracker.h"
#include "core/health/probe_verdict.h"
#include "core/state/provider_state.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::health {

class ProviderProbe final : public upstream::ResponseSink {
 public:
  // Where the probe is. Rules:
  //   Idle     — constructed, start() not called yet; nothing runs.
  //   Waiting  — the timer counts down to the next probe; no exchange.
  //   Probing  — exactly one exchange in flight; the timer is its watchdog (timeout + a grace
  //              period), which ends the probe as a failure if the pool's own timeouts did not.
  //   Closing  — close() was called: the exchange (if any) was aborted without a verdict and
  //              the timer and the pool are closing; no status is written any more. `on_closed`
  //              runs once both have finished — after it the probe may be deleted.
  enum class State : uint8_t { Idle, Waiting, Probing, Closing };
  static const char* to_string(State s);

  using ClosedCallback = void (*)(ProviderProbe* probe, void* arg);

  // `provider` must be of a network type with a health_check. `tracker` carries the verdict
  // history over when a probe replaces another for the same provider (a reload that changed
  // its URL or key): the provider's health does not restart from Unknown.
  ProviderProbe(uv_loop_t* loop, const config::Provider& provider, state::ProviderState* state,
                HealthTracker tracker);
  ~ProviderProbe() override;  // only when Idle, or after on_closed ran
  ProviderProbe(const ProviderProbe&) = delete;
  ProviderProbe& operator=(const ProviderProbe&) = delete;

  // Idle → Waiting; the first probe goes out on the next loop turn.
  void start();
  // True when `next` can be applied with update() — only interval, the thresholds or
  // slow_after differ; otherwise (URL, key, headers, TLS, path, timeout) the probe must be
  // replaced, because its pool and request were built from them.
  bool can_update_to(const config::Provider& next) const;
  // New interval / unhealthy_after / healthy_after / slow_after; a changed interval restarts
  // the wait from now. Must satisfy can_update_to().
  void update(const config::Provider& next);
  // Any state but Closing → Closing; `on_closed(this, arg)` later, from a loop callback.
  void close(ClosedCallback on_closed, void* arg);

  State state() const { return state_; }
  const std::string& provider_name() const { return provider_.name; }
  const HealthTracker& tracker() const { return tracker_; }

  // upstream::ResponseSink
  void on_upstream_head(int status, std::span<const upstream::ResponseHeader> headers,
                        std::optional<uint64_t> content_length) override;
  void on_upstream_body(const char* data, size_t len) override {}  // not read: status only
  void on_upstream_done() override;
  void on_upstream_failure(const upstream::Failure& failure) override;

 private:
  static void on_timer(uv_timer_t* timer);
  static void on_timer_closed(uv_handle_t* handle);
  static void on_pool_shut_down(void* arg);

  void send_probe();
  void finish(ProbeResult result);
  void report(const ProbeResult& result, HealthTracker::Transition t);
  void part_closed();

  uv_loop_t* loop_;
  config::Provider provider_;             // a copy: the config snapshot may go away on reload
  config::HealthCheck settings_;          // provider_.health_check, unwrapped
  state::ProviderState* provider_state_;  // process-wide, never freed
  HealthTracker tracker_;
  std::unique_ptr<upstream::UpstreamPool> pool_;
  std::string request_;  // the whole probe request, built once
  uv_buf_t request_buf_{};
  uv_timer_t timer_{};
  upstream::Exchange* exchange_ = nullptr;  // while Probing, until done/failure/abort
  std::chrono::steady_clock::time_point sent_at_{};
  int answer_status_ = 0;                        // from on_upstream_head; 0 = none yet
  std::chrono::milliseconds answer_latency_{0};  // sent → response head
  State state_ = State::Idle;
  int closing_parts_ = 0;  // while Closing: timer and pool still to finish closing
  ClosedCallback on_closed_ = nullptr;
  void* on_closed_arg_ = nullptr;
};

}  // namespace sluice::health
