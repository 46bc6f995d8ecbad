#include "core/health/provider_probe.h"

#include <algorithm>

#include "core/http/request.h"
#include "core/log/log.h"
#include "core/providers/provider_auth.h"
#include "sluice_version.h"

namespace sluice::health {
namespace {

// The watchdog's margin over health_check.timeout: the pool's own timeouts (all set to
// health_check.timeout) normally end a silent probe first; the watchdog is the bound that
// holds even if they did not.
constexpr std::chrono::milliseconds kWatchdogGrace{1'000};

uint64_t ms(std::chrono::milliseconds d) {
  return d.count() > 0 ? static_cast<uint64_t>(d.count()) : 0;
}

// The provider as the probe's pool sees it: one connection, and every timeout no longer than
// health_check.timeout, so a probe never waits longer than that for anything.
config::Provider pool_settings(const config::Provider& provider) {
  config::Provider p = provider;
  const config::Duration timeout = provider.health_check->timeout;
  p.timeouts.connect = std::min(p.timeouts.connect, timeout);
  p.timeouts.first_byte = timeout;
  p.timeouts.idle = timeout;
  p.timeouts.total = timeout;
  p.max_connections = 1;
  return p;
}

std::string probe_request(const config::Provider& provider) {
  std::string out;
  out.append("GET ")
      .append(provider.url.path_prefix)
      .append(provider.health_check->path)
      .append(" HTTP/1.1\r\nHost: ")
      .append(provider.url.host_header)
      .append("\r\n");
  // Authenticated as the provider's requests are (Bearer; a plugin type's own headers, e.g.
  // x-api-key + anthropic-version):
  // a probe refused with 401 would count as healthy but prove little.
  for (const auto& [name, value] : providers::provider_auth_headers(provider)) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  for (const auto& [name, value] : provider.plugin_headers) {
    const bool overridden =
        std::any_of(provider.headers.begin(), provider.headers.end(),
                    [&](const auto& h) { return http::iequals(h.first, name); });
    if (!overridden) out.append(name).append(": ").append(value).append("\r\n");
  }
  for (const auto& [name, value] : provider.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  out.append("User-Agent: sluice-health-check/").append(SLUICE_VERSION).append("\r\n");
  out.append("Accept: application/json\r\n\r\n");
  return out;
}

bool same_proxy(const std::optional<config::ProxyUrl>& a,
                const std::optional<config::ProxyUrl>& b) {
  if (!a || !b) return !a && !b;
  return a->host == b->host && a->port == b->port && a->authorization == b->authorization;
}

// Everything the pool and the request were built from. Two providers with equal keys can
// share a probe (update()); any difference needs a new one.
bool same_connection(const config::Provider& a, const config::Provider& b) {
  const config::Url& x = a.url;
  const config::Url& y = b.url;
  return a.type == b.type && x.tls == y.tls && x.host == y.host && x.port == y.port &&
         x.path_prefix == y.path_prefix && x.host_header == y.host_header &&
         a.api_key == b.api_key && a.headers == b.headers && a.tls_verify == b.tls_verify &&
         a.tls.identity == b.tls.identity && same_proxy(a.proxy, b.proxy) &&
         a.timeouts.connect == b.timeouts.connect && a.health_check && b.health_check &&
         a.health_check->path == b.health_check->path &&
         a.health_check->timeout == b.health_check->timeout;
}

}  // namespace

const char* ProviderProbe::to_string(State s) {
  switch (s) {
    case State::Idle:
      return "idle";
    case State::Waiting:
      return "waiting";
    case State::Probing:
      return "probing";
    case State::Closing:
      return "closing";
  }
  return "?";
}

ProviderProbe::ProviderProbe(uv_loop_t* loop, const config::Provider& provider,
                             state::ProviderState* state, HealthTracker tracker)
    : loop_(loop),
      provider_(provider),
      settings_(*provider.health_check),
      provider_state_(state),
      tracker_(tracker),
      request_(probe_request(provider)) {
  request_buf_ = uv_buf_init(request_.data(), static_cast<unsigned>(request_.size()));
}

ProviderProbe::~ProviderProbe() = default;

void ProviderProbe::start() {
  if (state_ != State::Idle) return;
  // The pool is made here, not in the constructor, so an Idle probe owns no libuv handle.
  pool_ = std::make_unique<upstream::UpstreamPool>(loop_, pool_settings(provider_));
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  state_ = State::Waiting;
  uv_timer_start(&timer_, &ProviderProbe::on_timer, 0, 0);
}

bool ProviderProbe::can_update_to(const config::Provider& next) const {
  return same_connection(provider_, next);
}

void ProviderProbe::update(const config::Provider& next) {
  const config::HealthCheck& hc = *next.health_check;
  const bool interval_changed = hc.interval != settings_.interval;
  settings_ = hc;
  provider_.health_check = hc;
  if (interval_changed && state_ == State::Waiting) {
    uv_timer_start(&timer_, &ProviderProbe::on_timer, ms(settings_.interval), 0);
  }
}

void ProviderProbe::close(ClosedCallback on_closed, void* arg) {
  if (state_ == State::Closing) return;
  on_closed_ = on_closed;
  on_closed_arg_ = arg;
  if (state_ == State::Idle) {  // nothing was opened
    state_ = State::Closing;
    on_closed_(this, on_closed_arg_);
    return;
  }
  state_ = State::Closing;
  if (exchange_ != nullptr) {
    pool_->abort(exchange_);  // no verdict: the probe was cut short, not answered
    exchange_ = nullptr;
  }
  closing_parts_ = 2;
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &ProviderProbe::on_timer_closed);
  pool_->shutdown(&ProviderProbe::on_pool_shut_down, this);
}

void ProviderProbe::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<ProviderProbe*>(timer->data);
  switch (self->state_) {
    case State::Waiting:
      self->send_probe();
      return;
    case State::Probing: {
      // The watchdog: the pool did not end the exchange in time. Give up on it.
      self->pool_->abort(self->exchange_);
      self->exchange_ = nullptr;
      ProbeResult result;
      result.error = "timeout: no answer within " +
                     std::to_string(self->settings_.timeout.count()) + "ms (watchdog)";
      self->finish(std::move(result));
      return;
    }
    case State::Idle:
    case State::Closing:
      return;
  }
}

void ProviderProbe::send_probe() {
  state_ = State::Probing;
  answer_status_ = 0;
  answer_latency_ = std::chrono::milliseconds(0);
  sent_at_ = std::chrono::steady_clock::now();
  uv_timer_start(&timer_, &ProviderProbe::on_timer, ms(settings_.timeout + kWatchdogGrace), 0);
  // The pool never calls the sink from inside start(): a failure arrives on a later turn.
  exchange_ = pool_->start(std::span<const uv_buf_t>(&request_buf_, 1), this);
}

void ProviderProbe::on_upstream_head(int status, std::span<const upstream::ResponseHeader>,
                                     std::optional<uint64_t>) {
  answer_status_ = status;
  answer_latency_ = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - sent_at_);
}

void ProviderProbe::on_upstream_done() {
  exchange_ = nullptr;
  if (state_ != State::Probing) return;
  ProbeResult result;
  result.answered = true;
  result.http_status = answer_status_;
  result.latency = answer_latency_;
  finish(std::move(result));
}

void ProviderProbe::on_upstream_failure(const upstream::Failure& failure) {
  exchange_ = nullptr;
  if (state_ != State::Probing) return;
  ProbeResult result;
  result.error = upstream::to_string(failure.kind);
  if (failure.timeout != upstream::TimeoutKind::None) {
    result.error.append(" (").append(upstream::to_string(failure.timeout)).append(")");
  }
  if (failure.detail != nullptr && failure.detail[0] != '\0') {
    result.error.append(": ").append(failure.detail);
  }
  finish(std::move(result));
}

void ProviderProbe::finish(ProbeResult result) {
  const ProbeVerdict verdict = classify(result, settings_);
  const HealthTracker::Transition t = tracker_.record(verdict, settings_);
  if (t.changed()) provider_state_->set_health(t.to);
  provider_state_->record_health_probe(
      result.answered ? std::optional(result.latency) : std::nullopt,
      std::chrono::system_clock::now());
  report(result, t);
  state_ = State::Waiting;
  uv_timer_start(&timer_, &ProviderProbe::on_timer, ms(settings_.interval), 0);
}

void ProviderProbe::report(const ProbeResult& result, HealthTracker::Transition t) {
  using state::HealthStatus;
  const std::string who = "health: provider \"" + provider_.name + "\" ";
  if (!t.changed()) {
    // A failure that did not (yet) change anything is worth a line: it is the early warning.
    if (classify(result, settings_) == ProbeVerdict::Failure && t.to != HealthStatus::Down) {
      log::warn(who + "probe failed (" + std::to_string(tracker_.consecutive_failures()) + " of " +
                std::to_string(settings_.unhealthy_after) + " before down): " + describe(result));
    }
    return;
  }
  if (t.to == HealthStatus::Down) {
    log::warn(who + "is down after " + std::to_string(tracker_.consecutive_failures()) +
              " consecutive failed probe(s); last: " + describe(result));
  } else if (t.from == HealthStatus::Down) {
    log::info(who + "is back up (" + state::to_string(t.to) + ") after " +
              std::to_string(tracker_.consecutive_successes()) +
              " consecutive successful probe(s); last: " + describe(result));
  } else if (t.to == HealthStatus::Slow) {
    log::warn(who + "is slow: " + describe(result) + " (slow_after " +
              std::to_string(settings_.slow_after.count()) + "ms)");
  } else {
    log::info(who + "is " + state::to_string(t.to) + ": " + describe(result));
  }
}

void ProviderProbe::on_timer_closed(uv_handle_t* handle) {
  static_cast<ProviderProbe*>(handle->data)->part_closed();
}

void ProviderProbe::on_pool_shut_down(void* arg) {
  static_cast<ProviderProbe*>(arg)->part_closed();
}

void ProviderProbe::part_closed() {
  if (--closing_parts_ > 0) return;
  on_closed_(this, on_closed_arg_);  // may delete this (and the pool, whose done we are in)
}

}  // namespace sluice::health
