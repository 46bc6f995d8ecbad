// HealthChecker: the active health checks of the whole process (DESIGN §4,
// providers.*.health_check). One thread with its own libuv loop probes every provider that has
// a health_check — probes are per provider, not per worker, so N workers do not mean N times
// the probe traffic — and writes each verdict to the provider's process-wide ProviderState,
// which the router reads (Down providers are skipped) and /status and sluice_provider_up show.
//
// Which providers are probed, for each provider of the applied config:
//   type openai or anthropic + health_check → a ProviderProbe (provider_probe.h), authenticated
//                                  as the type's requests are (providers/provider_auth.h);
//   type mock + health_check    → no probe (nothing on the network to check): health Ok;
//   no health_check, or a type the checker cannot probe → health Unknown (treated as up).
// A provider that leaves the config stops being probed and goes back to Unknown (its state
// stays in ProcessState: it may come back).
//
// Threading: start(), apply() and stop() may be called from any thread (the server calls them
// from its main loop); everything else happens on the health thread.
#pragma once

#include <memory>
#include <thread>

#include "core/config/config.h"

namespace sluice::state {
class ProcessState;
}

namespace sluice::health {

class HealthChecker {
 public:
  // Verdicts go to `states` (the process registry by default).
  HealthChecker();
  explicit HealthChecker(state::ProcessState& states);
  ~HealthChecker();  // stop()
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Starts the health thread with `config`'s providers. Once; false if the thread or its loop
  // could not be created (logged; sluice then runs without active health checks).
  bool start(std::shared_ptr<const config::Config> config);
  // Hands a newer config to the health thread (a successful reload): added providers start
  // being probed, removed ones stop (→ Unknown), changed settings take effect (a changed URL,
  // key, headers, path or timeout replaces the probe; the verdict history is kept). Only the
  // newest config matters: several apply() before the thread wakes up collapse into one.
  // Ignored before start() and after stop().
  void apply(std::shared_ptr<const config::Config> config);
  // Closes every probe (in-flight probes are aborted) and joins the thread — waiting at most a
  // few seconds: a thread that does not finish by then is left behind (logged), since this
  // runs at process exit. Idempotent.
  void stop();

  // Shared by the caller and the health thread, so a thread left behind by stop() never
  // touches freed memory.
  struct Shared;

 private:
  state::ProcessState& states_;
  std::shared_ptr<Shared> shared_;  // null until start()
  std::thread thread_;
};

}  // namespace sluice::health
