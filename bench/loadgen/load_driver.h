// LoadDriver: drives N keep-alive connections against one target, open or closed loop, and
// records latency the way a user would see it.
//
// Open loop (rate > 0): request i is due at t0 + i/rate whatever happened before — the schedule
// never waits for the server. A due request goes out on a free connection, or waits in a queue
// for one; its latency is measured from when it was DUE (intended), not from when it was sent,
// so a server stall shows up in every request it delayed (no coordinated omission). The due
// times are kept with a timerfd (ns resolution, timer slack set to 1 ns) rather than libuv's
// millisecond timers, which would add up to 1 ms of the generator's own lag.
// Closed loop (rate == 0): every connection sends its next request as soon as the previous
// answer is complete (c = 1 measures the bare round trip).
//
// Timeline: connect all → warm-up (sent, not recorded) → measured window (requests DUE in it
// are recorded; the proxy's CPU ticks are read at both edges) → drain (bounded wait for the
// requests still out; those that never finish count as incomplete).
#pragma once

#include <netinet/in.h>
#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/loadgen/client_connection.h"
#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/proc_stats.h"

namespace sluice::bench {

struct LoadOptions {
  sockaddr_in target{};
  std::string request;  // the whole HTTP request, sent as is every time
  uint32_t connections = 1;
  double rate = 0;  // requests per second over all connections; 0 = closed loop
  double warmup_s = 1;
  double duration_s = 5;         // the measured window
  double drain_s = 5;            // longest wait for requests still out after the window
  uint32_t expect_events = 0;    // > 0: a 2xx answer with fewer SSE events counts as short
  pid_t watch_pid = 0;           // > 0: read its CPU time and memory at the window's edges
  pid_t watch_upstream_pid = 0;  // > 0: also read this one's CPU time (the proxy's upstream)
};

struct ErrorCounts {
  uint64_t connect = 0;       // connect attempts that failed
  uint64_t lost = 0;          // requests whose connection broke before the answer completed
  uint64_t non_2xx = 0;       // answered, but not with 2xx (not in the latency histograms)
  uint64_t short_stream = 0;  // 2xx, but fewer SSE events than expected
  uint64_t incomplete = 0;    // due in the window, still unanswered when the drain ended
};

struct LoadReport {
  uint64_t recorded = 0;             // 2xx answers to requests due in the window
  uint64_t completed_in_window = 0;  // answers completed inside the window (for CPU/request)
  double window_s = 0;               // measured window, as actually timed
  ErrorCounts errors;
  LatencyHistogram latency;   // intended → last byte
  LatencyHistogram ttfb;      // intended → first byte
  LatencyHistogram send_lag;  // intended → written (queueing for a connection + generator lag)
  uint64_t max_in_flight = 0;
  uint64_t sse_events = 0;                     // over the recorded answers
  std::optional<uint64_t> cpu_ticks;           // of watch_pid over the window (/proc/PID/stat)
  std::optional<uint64_t> cpu_ns;              // the same from schedstat, at ns resolution
  std::optional<MemoryUse> memory;             // of watch_pid at the window's end
  std::optional<uint64_t> upstream_cpu_ticks;  // of watch_upstream_pid over the window
  std::optional<uint64_t> upstream_cpu_ns;
  // Every answer of the whole run (warm-up and drain included) and those not 2xx: what a
  // profile that counts the whole run divides by (bench/profile.sh).
  uint64_t responses_total = 0;
  uint64_t non_2xx_total = 0;
};

class LoadDriver final : public ConnectionEvents {
 public:
  LoadDriver(uv_loop_t* loop, LoadOptions options);
  ~LoadDriver() override;
  // Runs the whole timeline on `loop` (blocking); false if not even one connection came up.
  bool run(LoadReport* report);

 private:
  void on_idle(ClientConnection* c) override;
  void on_response(ClientConnection* c, const ResponseResult& r) override;
  void on_closed(ClientConnection* c, bool lost_request, int error) override;

  static void on_connect_deadline(uv_timer_t* t);
  static void on_window_start(uv_timer_t* t);
  static void on_window_end(uv_timer_t* t);
  static void on_drain_deadline(uv_timer_t* t);
  static void on_reconnect_tick(uv_timer_t* t);
  static void on_due(uv_poll_t* p, int status, int events);

  void begin_schedule();  // all connected (or the connect deadline passed): t0 is now
  void dispatch_due(uint64_t now);
  void arm_due_timer(uint64_t at_ns);
  void send_on(ClientConnection* c, uint64_t intended_ns);
  ClientConnection* take_idle();
  void maybe_finish();
  void finish();

  uv_loop_t* loop_;
  LoadOptions options_;
  LoadReport* report_ = nullptr;
  std::vector<std::unique_ptr<ClientConnection>> connections_;
  std::vector<ClientConnection*> idle_;
  std::deque<uint64_t> waiting_;  // due times of requests waiting for a free connection
  uint64_t period_ns_ = 0;        // open loop: 1e9 / rate
  uint64_t next_due_ns_ = 0;
  uint64_t window_start_ns_ = 0, window_end_ns_ = 0;
  bool started_ = false, in_window_ = false, sending_done_ = false, finished_ = false;
  uint64_t connected_ = 0;
  uint64_t in_flight_ = 0;
  std::optional<uint64_t> ticks_at_start_, ns_at_start_;
  std::optional<uint64_t> upstream_ticks_at_start_, upstream_ns_at_start_;
  int timer_fd_ = -1;
  uv_poll_t due_poll_;
  uv_timer_t connect_deadline_, window_start_timer_, window_end_timer_, drain_deadline_,
      reconnect_tick_;
};

}  // namespace sluice::bench
