// FleetWorker: one worker's membership of the fleet (DESIGN §3, docs/fleet.md) — its Redis
// connection, its heartbeat, and the share of each agent's limits it holds (FleetAgent).
//
// Its mode (the rules):
//   Joining — not connected yet, or connected but the first heartbeat has not answered.
//   Shared  — connected and heartbeats answer: every step uses the fleet's allowance.
//   Failing — the connection is down, or the last call timed out or failed: on_failure
//             applies (local: this process's own state at limit / instances; deny: 503).
//             The next answered heartbeat (every second while Failing) makes it Shared again,
//             and what was taken locally is pushed to Redis with the next calls.
// Joining counts as Failing for a request: no request waits for a connection to come up.
//
// Lives on its worker's loop; closed (close()) before the loop ends.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/fleet/fleet_budget.h"
#include "core/fleet/fleet_gate.h"
#include "core/fleet/lease_bucket.h"

namespace sluice::state {
class AgentState;
}

namespace sluice::fleet {

class FleetProcess;

// One agent's shares in one worker. Created on first use, kept for the worker's life (a
// reload keeps what the worker holds; the limits are passed in by each step).
struct FleetAgent {
  FleetAgent(FleetWorker& worker, std::string_view name, state::AgentState* local);
  LeaseBucket rpm;
  LeaseBucket tpm;
  FleetGate concurrent;
  FleetBudget budget;
};

class FleetWorker {
 public:
  enum class Mode : uint8_t { Joining, Shared, Failing };

  FleetWorker(uv_loop_t* loop, unsigned index, FleetProcess& process);
  ~FleetWorker();  // only after close()'s callback (or if the loop never ran)
  FleetWorker(const FleetWorker&) = delete;
  FleetWorker& operator=(const FleetWorker&) = delete;

  // `local` is the agent's process-wide state (ProcessState::agent), used in on_failure: local.
  FleetAgent& agent(std::string_view name, state::AgentState* local);

  Mode mode() const { return mode_; }
  bool shared() const { return mode_ == Mode::Shared; }
  bool deny_on_failure() const;
  // Why Redis cannot answer, for a 503's message ("" while Shared).
  const std::string& failure_reason() const { return failure_reason_; }
  FleetProcess& process() { return process_; }
  redis::RedisClient& client() { return *client_; }
  const std::string& member() const { return member_; }
  std::string key(std::string_view kind, std::string_view agent) const;
  std::chrono::steady_clock::time_point now() const;

  // A step's Redis call answered (ok) or failed (status, and the error kind for the metric).
  void call_answered();
  void call_failed(const redis::RedisResult& result);
  // Something waits to be sent (a refund, a release, an idle lease): flush within `delay`.
  void want_flush(std::chrono::milliseconds delay);

  // Leaves the fleet (best effort), closes the connection and timers, then calls `done`.
  void close(std::function<void()> done);

 private:
  void beat();
  void set_mode(Mode mode, std::string reason);
  static void on_beat_timer(uv_timer_t* t);
  static void on_flush_timer(uv_timer_t* t);
  void flush();
  void maybe_done();

  uv_loop_t* loop_;
  unsigned index_;
  FleetProcess& process_;
  std::string member_;
  std::unique_ptr<redis::RedisClient> client_;
  Mode mode_ = Mode::Joining;
  std::string failure_reason_ = "not connected to Redis yet";
  bool beating_ = false;  // a heartbeat call is unanswered
  // uv_timer_t are freed only in their close callbacks: held by pointer.
  uv_timer_t* beat_timer_ = nullptr;
  uv_timer_t* flush_timer_ = nullptr;
  // Looked up per request by the agent's name without building a std::string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<FleetAgent>, NameHash, std::equal_to<>> agents_;
  // close(): handles and the client still closing, and what to call when all are closed.
  int closing_ = 0;
  std::function<void()> on_closed_;
};

}  // namespace sluice::fleet
