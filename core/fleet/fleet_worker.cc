#include "core/fleet/fleet_worker.h"

#include <algorithm>
#include <charconv>

#include "core/fleet/fleet_process.h"
#include "core/fleet/fleet_scripts.h"
#include "core/log/log.h"
#include "core/state/agent_state.h"

namespace sluice::fleet {

namespace {

using std::chrono::milliseconds;

// A member is alive for kMemberTtl after its last heartbeat; one beats every kBeatEvery
// (every kBeatWhileFailing while Redis does not answer, to notice recovery soon).
constexpr milliseconds kMemberTtl{10'000};
constexpr milliseconds kBeatEvery{2'000};
constexpr milliseconds kBeatWhileFailing{1'000};

}  // namespace

FleetAgent::FleetAgent(FleetWorker& worker, std::string_view name, state::AgentState* local)
    : rpm(worker, worker.key("rate", name) + ":rpm", local ? &local->requests() : nullptr),
      tpm(worker, worker.key("rate", name) + ":tpm", local ? &local->tokens() : nullptr),
      concurrent(worker, worker.key("inflight", name), local ? &local->in_flight() : nullptr),
      budget(worker, std::string(name), local) {}

FleetWorker::FleetWorker(uv_loop_t* loop, unsigned index, FleetProcess& process)
    : loop_(loop), index_(index), process_(process), member_(process.member(index)) {
  redis::RedisClient::Options options;
  const config::RedisUrl& url = process.url();
  options.url = redis::RedisUrl{url.tls, url.host, url.port, url.username, url.password, url.db};
  options.timeout = process.settings().timeout;
  redis::RedisClient::Observer observer;
  observer.on_state = [this](redis::RedisClient::State s) {
    if (s == redis::RedisClient::State::Ready) {
      beat();  // Shared once the fleet knows this member
    } else if (s == redis::RedisClient::State::Down && mode_ != Mode::Failing) {
      set_mode(Mode::Failing, "Redis connection down: " + client_->last_error());
    }
  };
  observer.on_error = [this](std::string_view kind) { process_.count_error(kind); };
  client_ = std::make_unique<redis::RedisClient>(loop, std::move(options), std::move(observer));
  beat_timer_ = new uv_timer_t;
  uv_timer_init(loop, beat_timer_);
  beat_timer_->data = this;
  uv_timer_start(beat_timer_, &FleetWorker::on_beat_timer, kBeatWhileFailing.count(),
                 kBeatWhileFailing.count());
  flush_timer_ = new uv_timer_t;
  uv_timer_init(loop, flush_timer_);
  flush_timer_->data = this;
}

FleetWorker::~FleetWorker() = default;

FleetAgent& FleetWorker::agent(std::string_view name, state::AgentState* local) {
  auto it = agents_.find(name);
  if (it != agents_.end()) return *it->second;
  auto made = std::make_unique<FleetAgent>(*this, name, local);
  FleetAgent& ref = *made;
  agents_.emplace(std::string(name), std::move(made));
  return ref;
}

bool FleetWorker::deny_on_failure() const {
  return process_.settings().on_failure == config::StateSettings::Redis::OnFailure::Deny;
}

std::string FleetWorker::key(std::string_view kind, std::string_view agent) const {
  std::string k = process_.settings().key_prefix;
  k += kind;
  if (!agent.empty()) {
    k += ':';
    k += agent;
  }
  return k;
}

std::chrono::steady_clock::time_point FleetWorker::now() const {
  return std::chrono::steady_clock::now();
}

void FleetWorker::set_mode(Mode mode, std::string reason) {
  if (mode == mode_) return;
  const Mode before = mode_;
  mode_ = mode;
  failure_reason_ = mode == Mode::Shared ? std::string() : std::move(reason);
  process_.set_worker_shared(index_, mode == Mode::Shared, failure_reason_);
  if (mode == Mode::Shared) {
    log::info("worker " + std::to_string(index_) + ": sharing limits through Redis at " +
              config::redacted(process_.url()));
    uv_timer_set_repeat(beat_timer_, kBeatEvery.count());
    want_flush(milliseconds(0));  // what was taken locally goes to Redis now
  } else if (before == Mode::Shared) {
    log::warn("worker " + std::to_string(index_) + ": " + failure_reason_ + "; on_failure: " +
              (deny_on_failure()
                   ? "deny (limited agents get 503)"
                   : "local (limits / " + std::to_string(process_.instances()) + " sidecars)"));
    uv_timer_set_repeat(beat_timer_, kBeatWhileFailing.count());
  }
}

void FleetWorker::call_answered() {
  if (mode_ == Mode::Failing && !beating_) beat();  // confirm the recovery with a heartbeat
}

void FleetWorker::call_failed(const redis::RedisResult& result) {
  std::string reason;
  switch (result.status) {
    case redis::RedisResult::Status::Timeout:
      reason = "Redis did not answer within state.redis.timeout (" +
               std::to_string(process_.settings().timeout.count()) + "ms)";
      process_.count_error("timeout");
      break;
    case redis::RedisResult::Status::Ok:
      reason = "Redis answered an error: " + result.reply.str;
      process_.count_error("reply");
      break;
    case redis::RedisResult::Status::Closed:
      return;  // shutting down
    default:
      reason = "Redis is unreachable: " + client_->last_error();
      break;
  }
  set_mode(Mode::Failing, std::move(reason));
}

void FleetWorker::beat() {
  if (beating_ || closing_ > 0) return;
  beating_ = true;
  const std::string members = key("members", "");
  const std::string instances = key("instances", "");
  char ttl[24];
  auto [end, ec] = std::to_chars(ttl, ttl + sizeof(ttl), kMemberTtl.count());
  const std::string_view keys[] = {members, instances};
  const std::string_view args[] = {member_, process_.instance(),
                                   std::string_view(ttl, static_cast<size_t>(end - ttl))};
  client_->eval(scripts::beat(), keys, args, [this](redis::RedisResult&& r) {
    beating_ = false;
    const auto& e = r.reply.elements;
    if (r.ok() && e.size() == 2) {
      process_.set_fleet_size(static_cast<uint32_t>(e[0].integer),
                              static_cast<uint32_t>(e[1].integer));
      set_mode(Mode::Shared, "");
    } else {
      call_failed(r);
    }
  });
}

void FleetWorker::on_beat_timer(uv_timer_t* t) {
  auto* self = static_cast<FleetWorker*>(t->data);
  if (self->client_->state() == redis::RedisClient::State::Ready) self->beat();
}

void FleetWorker::want_flush(milliseconds delay) {
  if (closing_ > 0) return;
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(flush_timer_)) &&
      uv_timer_get_due_in(flush_timer_) <= static_cast<uint64_t>(delay.count())) {
    return;  // due soon enough already
  }
  uv_timer_start(flush_timer_, &FleetWorker::on_flush_timer, delay.count(), 0);
}

void FleetWorker::on_flush_timer(uv_timer_t* t) {
  static_cast<FleetWorker*>(t->data)->flush();
}

void FleetWorker::flush() {
  const auto t = now();
  bool pending = false;
  for (auto& [name, agent] : agents_) {
    pending |= agent->rpm.flush(t);
    pending |= agent->tpm.flush(t);
    pending |= agent->concurrent.flush();
    pending |= agent->budget.flush(t);
  }
  // Again later while something waits (an idle block's second, Redis coming back).
  if (pending) want_flush(milliseconds(100));
}

void FleetWorker::close(std::function<void()> done) {
  on_closed_ = std::move(done);
  // Steps decide without Redis from now on: a waiter woken by a call failing with Closed must
  // not start another call.
  mode_ = Mode::Failing;
  failure_reason_ = "sluice is shutting down";
  closing_ = 3;  // two timers and the client
  auto closed = [](uv_handle_t* h) {
    auto* self = static_cast<FleetWorker*>(h->data);
    delete reinterpret_cast<uv_timer_t*>(h);
    self->maybe_done();
  };
  uv_close(reinterpret_cast<uv_handle_t*>(beat_timer_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(flush_timer_), closed);
  beat_timer_ = flush_timer_ = nullptr;
  auto shut = [this] { client_->close([this] { maybe_done(); }); };
  if (client_->state() == redis::RedisClient::State::Ready) {
    // Leave the fleet at once rather than when the heartbeat expires (best effort).
    const std::string members = key("members", "");
    const std::string instances = key("instances", "");
    const std::string_view keys[] = {members, instances};
    const std::string_view args[] = {member_,
                                     index_ == 0 ? std::string_view(process_.instance()) : ""};
    client_->eval(scripts::leave(), keys, args, [shut](redis::RedisResult&&) { shut(); });
  } else {
    shut();
  }
}

void FleetWorker::maybe_done() {
  if (--closing_ > 0) return;
  if (on_closed_) {
    auto done = std::move(on_closed_);
    done();
  }
}

}  // namespace sluice::fleet
