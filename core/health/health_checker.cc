#include "core/health/health_checker.h"

#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "core/health/provider_probe.h"
#include "core/log/log.h"
#include "core/state/process_state.h"

namespace sluice::health {
namespace {

// How long stop() waits for the health thread to close its probes and leave its loop. Closing
// is a few loop turns; only a DNS lookup in flight (not cancellable) can hold it up.
constexpr std::chrono::seconds kStopWait{5};

// Every type but the in-process mock is a network API (OpenAI-compatible ones and Anthropic's
// answer GET <base>/models; a plugin type's probe carries the provider's `headers:`).
bool probed(const config::Provider& p) {
  return p.health_check.has_value() && p.type != "mock";
}

// The health of a provider that is not probed (see the table in health_checker.h).
state::HealthStatus unprobed_health(const config::Provider& p) {
  return p.health_check.has_value() && p.type == "mock" ? state::HealthStatus::Ok
                                                        : state::HealthStatus::Unknown;
}

}  // namespace

struct HealthChecker::Shared {
  explicit Shared(state::ProcessState& s) : states(s) {}

  state::ProcessState& states;

  // ---- between threads, guarded by `mutex` ------------------------------------------------
  std::mutex mutex;
  std::condition_variable finished_cv;
  std::shared_ptr<const config::Config> pending;  // newest config the thread has not applied
  bool stop_requested = false;
  bool accepting = false;  // `async` is open: apply()/stop() may uv_async_send (under mutex)
  bool finished = false;   // the thread left its loop

  // ---- the health thread's own ---------------------------------------------------------
  uv_loop_t loop{};
  uv_async_t async{};
  std::map<std::string, std::unique_ptr<ProviderProbe>, std::less<>> probes;  // by provider
  std::vector<std::unique_ptr<ProviderProbe>> closing;  // retired, until their on_closed

  static void thread_main(std::shared_ptr<Shared> self);
  static void on_async(uv_async_t* handle);
  static void on_probe_closed(ProviderProbe* probe, void* arg);
  void reconcile(const config::Config& config);
  void retire(std::map<std::string, std::unique_ptr<ProviderProbe>, std::less<>>::iterator it);
  void close_everything();
};

void HealthChecker::Shared::thread_main(std::shared_ptr<Shared> self) {
  on_async(&self->async);  // the config start() left in `pending`
  uv_run(&self->loop, UV_RUN_DEFAULT);
  const int rc = uv_loop_close(&self->loop);
  if (rc != 0) log::warn(std::string("health: loop closed with open handles: ") + uv_strerror(rc));
  std::lock_guard lock(self->mutex);
  self->finished = true;
  self->finished_cv.notify_all();
}

void HealthChecker::Shared::on_async(uv_async_t* handle) {
  auto* self = static_cast<Shared*>(handle->data);
  std::shared_ptr<const config::Config> config;
  bool stop = false;
  {
    std::lock_guard lock(self->mutex);
    config = std::move(self->pending);
    self->pending.reset();
    stop = self->stop_requested;
    if (stop) self->accepting = false;  // nobody sends after this; the handle closes below
  }
  if (stop) {
    self->close_everything();
    return;
  }
  if (config) self->reconcile(*config);
}

void HealthChecker::Shared::reconcile(const config::Config& config) {
  for (const auto& [name, provider] : config.providers) {
    state::ProviderState* st = states.provider(name);
    auto it = probes.find(name);
    if (!probed(provider)) {
      if (it != probes.end()) retire(it);
      st->set_health(unprobed_health(provider));
      continue;
    }
    HealthTracker tracker;  // a new provider: no verdict yet
    if (it != probes.end()) {
      if (it->second->can_update_to(provider)) {
        it->second->update(provider);
        continue;
      }
      tracker = it->second->tracker();  // same provider, new URL/key/...: keep its history
      retire(it);
    }
    st->set_health(tracker.status());
    auto probe = std::make_unique<ProviderProbe>(&loop, provider, st, tracker);
    probe->start();
    probes.emplace(name, std::move(probe));
  }
  for (auto it = probes.begin(); it != probes.end();) {
    auto next = std::next(it);
    if (config.providers.find(it->first) == config.providers.end()) {
      states.provider(it->first)->set_health(state::HealthStatus::Unknown);
      retire(it);
    }
    it = next;
  }
}

void HealthChecker::Shared::retire(
    std::map<std::string, std::unique_ptr<ProviderProbe>, std::less<>>::iterator it) {
  ProviderProbe* probe = it->second.get();
  closing.push_back(std::move(it->second));
  probes.erase(it);
  probe->close(&Shared::on_probe_closed, this);  // may call on_probe_closed right away
}

void HealthChecker::Shared::on_probe_closed(ProviderProbe* probe, void* arg) {
  auto* self = static_cast<Shared*>(arg);
  std::erase_if(self->closing, [probe](const auto& p) { return p.get() == probe; });
}

void HealthChecker::Shared::close_everything() {
  while (!probes.empty()) retire(probes.begin());
  // The loop ends once the probes' handles and this one are closed.
  uv_close(reinterpret_cast<uv_handle_t*>(&async), nullptr);
}

HealthChecker::HealthChecker() : HealthChecker(state::ProcessState::process()) {}

HealthChecker::HealthChecker(state::ProcessState& states) : states_(states) {}

HealthChecker::~HealthChecker() {
  stop();
}

bool HealthChecker::start(std::shared_ptr<const config::Config> config) {
  if (shared_) return false;
  auto shared = std::make_shared<Shared>(states_);
  if (int rc = uv_loop_init(&shared->loop); rc != 0) {
    log::error(std::string("health: cannot create the health check loop: ") + uv_strerror(rc));
    return false;
  }
  uv_async_init(&shared->loop, &shared->async, &Shared::on_async);
  shared->async.data = shared.get();
  shared->pending = std::move(config);
  shared->accepting = true;
  try {
    thread_ = std::thread(&Shared::thread_main, shared);
  } catch (const std::system_error& e) {
    log::error(std::string("health: cannot start the health check thread: ") + e.what());
    uv_close(reinterpret_cast<uv_handle_t*>(&shared->async), nullptr);
    uv_run(&shared->loop, UV_RUN_DEFAULT);
    uv_loop_close(&shared->loop);
    return false;
  }
  shared_ = std::move(shared);
  return true;
}

void HealthChecker::apply(std::shared_ptr<const config::Config> config) {
  if (!shared_) return;
  std::lock_guard lock(shared_->mutex);
  if (!shared_->accepting || shared_->stop_requested) return;
  shared_->pending = std::move(config);
  uv_async_send(&shared_->async);
}

void HealthChecker::stop() {
  if (!shared_ || !thread_.joinable()) return;
  std::unique_lock lock(shared_->mutex);
  if (shared_->accepting && !shared_->stop_requested) {
    shared_->stop_requested = true;
    uv_async_send(&shared_->async);
  }
  const bool finished =
      shared_->finished_cv.wait_for(lock, kStopWait, [this] { return shared_->finished; });
  lock.unlock();
  if (finished) {
    thread_.join();
  } else {
    log::warn("health: the health check thread did not stop within " +
              std::to_string(kStopWait.count()) + "s; leaving it behind");
    thread_.detach();  // it owns a reference to `shared_`, so nothing it uses is freed
  }
}

}  // namespace sluice::health
