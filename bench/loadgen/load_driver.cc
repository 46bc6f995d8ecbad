#include "bench/loadgen/load_driver.h"

#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sluice::bench {
namespace {

constexpr uint64_t kNsPerSec = 1'000'000'000ull;

uint64_t ms_ceil(uint64_t ns) {
  return (ns + 999'999) / 1'000'000;
}

uint64_t seconds_to_ns(double s) {
  return static_cast<uint64_t>(std::llround(s * 1e9));
}

}  // namespace

LoadDriver::LoadDriver(uv_loop_t* loop, LoadOptions options)
    : loop_(loop), options_(std::move(options)) {
  // Timers of ordinary threads may fire up to 50 µs late (the default timer slack); the due
  // times are what latency is measured from, so ask for none.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  for (uv_timer_t* t : {&connect_deadline_, &window_start_timer_, &window_end_timer_,
                        &drain_deadline_, &reconnect_tick_}) {
    uv_timer_init(loop_, t);
    t->data = this;
  }
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  uv_poll_init(loop_, &due_poll_, timer_fd_);
  due_poll_.data = this;
  for (uint32_t i = 0; i < options_.connections; ++i) {
    connections_.push_back(
        std::make_unique<ClientConnection>(loop_, options_.target, &options_.request, this));
  }
}

LoadDriver::~LoadDriver() {
  if (timer_fd_ >= 0) ::close(timer_fd_);
}

bool LoadDriver::run(LoadReport* report) {
  report_ = report;
  if (options_.rate > 0) period_ns_ = static_cast<uint64_t>(std::llround(1e9 / options_.rate));
  for (auto& c : connections_) c->connect();
  uv_timer_start(&connect_deadline_, &on_connect_deadline, 5000, 0);
  uv_timer_start(&reconnect_tick_, &on_reconnect_tick, 10, 10);
  uv_run(loop_, UV_RUN_DEFAULT);
  return started_ && connected_ > 0;
}

void LoadDriver::on_connect_deadline(uv_timer_t* t) {
  auto* self = static_cast<LoadDriver*>(t->data);
  if (self->started_) return;
  if (self->connected_ == 0) {
    std::fprintf(stderr, "bench_loadgen: no connection came up within 5 s\n");
    self->finish();
    return;
  }
  self->begin_schedule();
}

void LoadDriver::begin_schedule() {
  started_ = true;
  uv_timer_stop(&connect_deadline_);
  uint64_t t0 = uv_hrtime();
  window_start_ns_ = t0 + seconds_to_ns(options_.warmup_s);
  window_end_ns_ = window_start_ns_ + seconds_to_ns(options_.duration_s);
  uv_update_time(loop_);
  uv_timer_start(&window_start_timer_, &on_window_start, ms_ceil(window_start_ns_ - t0), 0);
  uv_timer_start(&window_end_timer_, &on_window_end, ms_ceil(window_end_ns_ - t0), 0);
  if (period_ns_ > 0) {
    next_due_ns_ = t0;
    uv_poll_start(&due_poll_, UV_READABLE, &on_due);
    dispatch_due(uv_hrtime());
  } else {
    // Closed loop: every idle connection starts now; each answer triggers the next request.
    std::vector<ClientConnection*> ready;
    ready.swap(idle_);
    for (ClientConnection* c : ready) {
      if (c->state() == ClientConnection::State::Idle) send_on(c, uv_hrtime());
    }
  }
}

void LoadDriver::on_due(uv_poll_t* p, int status, int events) {
  auto* self = static_cast<LoadDriver*>(p->data);
  uint64_t expirations = 0;
  ssize_t n = ::read(self->timer_fd_, &expirations, sizeof expirations);
  (void)n;
  self->dispatch_due(uv_hrtime());
}

void LoadDriver::dispatch_due(uint64_t now) {
  while (!sending_done_ && next_due_ns_ <= now && next_due_ns_ < window_end_ns_) {
    if (ClientConnection* c = take_idle()) {
      send_on(c, next_due_ns_);
    } else {
      waiting_.push_back(next_due_ns_);
    }
    next_due_ns_ += period_ns_;
  }
  if (next_due_ns_ < window_end_ns_ && !sending_done_) arm_due_timer(next_due_ns_);
}

void LoadDriver::arm_due_timer(uint64_t at_ns) {
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(at_ns / kNsPerSec);
  spec.it_value.tv_nsec = static_cast<long>(at_ns % kNsPerSec);
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

ClientConnection* LoadDriver::take_idle() {
  while (!idle_.empty()) {
    ClientConnection* c = idle_.back();
    idle_.pop_back();
    if (c->state() == ClientConnection::State::Idle) return c;
  }
  return nullptr;
}

void LoadDriver::send_on(ClientConnection* c, uint64_t intended_ns) {
  ++in_flight_;
  report_->max_in_flight = std::max(report_->max_in_flight, in_flight_);
  c->send(intended_ns);
}

void LoadDriver::on_idle(ClientConnection* c) {
  if (!started_) {
    idle_.push_back(c);
    if (++connected_ == connections_.size()) begin_schedule();
    return;
  }
  if (!waiting_.empty()) {
    uint64_t due = waiting_.front();
    waiting_.pop_front();
    send_on(c, due);
    return;
  }
  if (period_ns_ == 0 && !sending_done_) {
    send_on(c, uv_hrtime());
    return;
  }
  idle_.push_back(c);
  maybe_finish();
}

void LoadDriver::on_response(ClientConnection* c, const ResponseResult& r) {
  --in_flight_;
  if (in_window_) ++report_->completed_in_window;
  ++report_->responses_total;
  if (r.status < 200 || r.status > 299) ++report_->non_2xx_total;
  bool due_in_window = r.intended_ns >= window_start_ns_ && r.intended_ns < window_end_ns_;
  if (!due_in_window) return;
  if (r.status < 200 || r.status > 299) {
    ++report_->errors.non_2xx;
    return;
  }
  if (options_.expect_events > 0 && r.sse_events < options_.expect_events) {
    ++report_->errors.short_stream;
  }
  ++report_->recorded;
  report_->sse_events += r.sse_events;
  report_->latency.record(r.done_ns - r.intended_ns);
  report_->ttfb.record(r.first_byte_ns - r.intended_ns);
  report_->send_lag.record(r.sent_ns - r.intended_ns);
}

void LoadDriver::on_closed(ClientConnection* c, bool lost_request, int error) {
  if (lost_request) {
    --in_flight_;
    ++report_->errors.lost;
  } else if (error != 0 && !started_) {
    ++report_->errors.connect;
  }
  maybe_finish();  // reconnect_tick_ brings it back while the run goes on
}

void LoadDriver::on_reconnect_tick(uv_timer_t* t) {
  auto* self = static_cast<LoadDriver*>(t->data);
  if (self->finished_ || self->sending_done_) return;
  for (auto& c : self->connections_) {
    if (c->state() == ClientConnection::State::Closed) c->connect();
  }
}

void LoadDriver::on_window_start(uv_timer_t* t) {
  auto* self = static_cast<LoadDriver*>(t->data);
  self->in_window_ = true;
  self->report_->completed_in_window = 0;
  if (self->options_.watch_pid > 0) {
    self->ticks_at_start_ = cpu_ticks_of(self->options_.watch_pid);
    self->ns_at_start_ = cpu_ns_of(self->options_.watch_pid);
  }
  if (self->options_.watch_upstream_pid > 0) {
    self->upstream_ticks_at_start_ = cpu_ticks_of(self->options_.watch_upstream_pid);
    self->upstream_ns_at_start_ = cpu_ns_of(self->options_.watch_upstream_pid);
  }
}

void LoadDriver::on_window_end(uv_timer_t* t) {
  auto* self = static_cast<LoadDriver*>(t->data);
  self->in_window_ = false;
  self->sending_done_ = true;
  self->report_->window_s =
      static_cast<double>(self->window_end_ns_ - self->window_start_ns_) / 1e9;
  pid_t pid = self->options_.watch_pid;
  if (pid > 0) {
    auto ticks = cpu_ticks_of(pid);
    if (ticks && self->ticks_at_start_) self->report_->cpu_ticks = *ticks - *self->ticks_at_start_;
    auto ns = cpu_ns_of(pid);
    if (ns && self->ns_at_start_ && *ns >= *self->ns_at_start_) {
      self->report_->cpu_ns = *ns - *self->ns_at_start_;
    }
    self->report_->memory = memory_of(pid);
  }
  if (pid_t up = self->options_.watch_upstream_pid; up > 0) {
    auto ticks = cpu_ticks_of(up);
    if (ticks && self->upstream_ticks_at_start_) {
      self->report_->upstream_cpu_ticks = *ticks - *self->upstream_ticks_at_start_;
    }
    auto ns = cpu_ns_of(up);
    if (ns && self->upstream_ns_at_start_ && *ns >= *self->upstream_ns_at_start_) {
      self->report_->upstream_cpu_ns = *ns - *self->upstream_ns_at_start_;
    }
  }
  // Requests still due in the window but not sent yet (the timer fires on a ms boundary).
  if (self->period_ns_ > 0) {
    uint64_t now = uv_hrtime();
    self->sending_done_ = false;
    self->dispatch_due(std::min(now, self->window_end_ns_ - 1));
    self->sending_done_ = true;
  }
  uv_poll_stop(&self->due_poll_);
  uv_timer_start(&self->drain_deadline_, &on_drain_deadline,
                 static_cast<uint64_t>(self->options_.drain_s * 1000), 0);
  self->maybe_finish();
}

void LoadDriver::on_drain_deadline(uv_timer_t* t) {
  auto* self = static_cast<LoadDriver*>(t->data);
  self->report_->errors.incomplete = self->in_flight_ + self->waiting_.size();
  self->finish();
}

void LoadDriver::maybe_finish() {
  if (sending_done_ && in_flight_ == 0 && waiting_.empty()) finish();
}

void LoadDriver::finish() {
  if (finished_) return;
  finished_ = true;
  uv_stop(loop_);  // the process exits after the report; open sockets go with it
}

}  // namespace sluice::bench
