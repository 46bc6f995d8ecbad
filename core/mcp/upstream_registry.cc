#include "core/mcp/upstream_registry.h"

#include <uv.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <system_error>
#include <vector>

#include "core/log/log.h"

namespace sluice::mcp {
namespace {

// How long stop() (and a new thread replacing one that left) waits for the upstream thread.
// Leaving takes the retired keepers' DELETEs (bounded by their 2s timeout) and a few loop turns.
constexpr std::chrono::seconds kStopWait{5};
// While leaving, how often the thread looks whether its last requests (DELETEs) finished.
constexpr uint64_t kLingerPollMs = 20;

// name, url and headers: what makes two entries the same upstream. Headers in order, values
// included (a new token is a new upstream: its session was opened with the old one).
std::string identity_of(const McpEndpoint& endpoint) {
  std::string key = endpoint.name + '\n' + endpoint.url + '\n';
  for (const auto& [name, value] : endpoint.headers) key += name + ": " + value + '\n';
  return key;
}

}  // namespace

struct UpstreamRegistry::Shared {
  explicit Shared(KeeperOptions o) : options(o) {}

  const KeeperOptions options;

  // ---- between threads, guarded by `mutex` ------------------------------------------------
  std::mutex mutex;
  std::condition_variable finished_cv;
  std::vector<std::shared_ptr<Upstream>> adopt;   // leased: start a keeper
  std::vector<std::shared_ptr<Upstream>> retire;  // no lease left: retire its keeper
  bool stop_requested = false;
  bool accepting = false;   // `async` is open and the thread stays: others may send (under mutex)
  bool finished = false;    // the thread left its loop
  size_t keeper_count = 0;  // keepers alive (closing ones included), for tests

  // ---- the upstream thread's own ------------------------------------------------------------
  uv_loop_t loop{};
  uv_async_t async{};
  uv_timer_t linger{};  // leaving: waits for the last requests before the HttpCaller shuts down
  std::unique_ptr<plugin::HttpCaller> http;
  std::vector<std::unique_ptr<UpstreamKeeper>> keepers;
  std::vector<std::unique_ptr<UpstreamKeeper>> closing;
  bool leaving = false;

  // Any thread: wakes the upstream thread (a refresh was requested).
  void wake() {
    std::lock_guard lock(mutex);
    if (accepting) uv_async_send(&async);
  }

  static void thread_main(std::shared_ptr<Shared> self);
  static void on_async(uv_async_t* handle);
  static void on_keeper_closed(UpstreamKeeper* keeper, void* arg);
  static void on_linger(uv_timer_t* timer);
  static void on_http_closed(void* arg);
  void retire_keeper(const std::shared_ptr<Upstream>& upstream);
  void count_keepers();
  void maybe_leave();
};

void UpstreamRegistry::Shared::thread_main(std::shared_ptr<Shared> self) {
  self->http = std::make_unique<plugin::HttpCaller>(&self->loop);
  on_async(&self->async);  // what acquire() queued before the thread ran
  uv_run(&self->loop, UV_RUN_DEFAULT);
  self->http.reset();  // its shutdown finished: every handle of it is closed
  const int rc = uv_loop_close(&self->loop);
  if (rc != 0)
    log::warn(std::string("mcp: upstream loop closed with open handles: ") + uv_strerror(rc));
  std::lock_guard lock(self->mutex);
  self->finished = true;
  self->finished_cv.notify_all();
}

void UpstreamRegistry::Shared::on_async(uv_async_t* handle) {
  auto* self = static_cast<Shared*>(handle->data);
  std::vector<std::shared_ptr<Upstream>> adopt, retire;
  bool stop = false;
  {
    std::lock_guard lock(self->mutex);
    adopt.swap(self->adopt);
    retire.swap(self->retire);
    stop = self->stop_requested;
    if (stop) self->accepting = false;  // nobody sends after this; the handle closes when leaving
  }
  if (self->leaving) return;
  for (auto& upstream : adopt) {
    auto keeper =
        std::make_unique<UpstreamKeeper>(&self->loop, self->http.get(), upstream, self->options);
    UpstreamKeeper* k = keeper.get();
    self->keepers.push_back(std::move(keeper));
    k->start();
  }
  for (auto& upstream : retire) self->retire_keeper(upstream);
  if (stop) {
    while (!self->keepers.empty()) self->retire_keeper(self->keepers.front()->upstream());
  }
  for (auto& keeper : self->keepers) keeper->wake();
  self->count_keepers();
  // Leaving for want of keepers is decided when the last one closes (on_keeper_closed): a
  // thread never leaves just because it woke up with nothing to do.
  if (stop) self->maybe_leave();
}

void UpstreamRegistry::Shared::retire_keeper(const std::shared_ptr<Upstream>& upstream) {
  auto it = std::find_if(keepers.begin(), keepers.end(),
                         [&](const auto& k) { return k->upstream() == upstream; });
  if (it == keepers.end()) return;
  std::unique_ptr<UpstreamKeeper> keeper = std::move(*it);
  keepers.erase(it);
  UpstreamKeeper* k = keeper.get();
  closing.push_back(std::move(keeper));
  k->close(&Shared::on_keeper_closed, this);
}

void UpstreamRegistry::Shared::on_keeper_closed(UpstreamKeeper* keeper, void* arg) {
  auto* self = static_cast<Shared*>(arg);
  // Deleting it here is safe: this is the last close callback of its handles and stream.
  std::erase_if(self->closing, [keeper](const auto& k) { return k.get() == keeper; });
  self->count_keepers();
  self->maybe_leave();
}

void UpstreamRegistry::Shared::count_keepers() {
  std::lock_guard lock(mutex);
  keeper_count = keepers.size() + closing.size();
}

// The thread leaves its loop when it was told to stop, or when it keeps nothing any more and
// nothing new was queued (then acquire() starts a new thread). Its last requests (DELETEs of
// retired sessions) are let finish first — each is bounded by its own timeout.
void UpstreamRegistry::Shared::maybe_leave() {
  if (leaving || !keepers.empty() || !closing.empty()) return;
  {
    std::lock_guard lock(mutex);
    if (!stop_requested && !adopt.empty()) return;  // on_async comes next and adopts them
    accepting = false;
  }
  leaving = true;
  uv_timer_start(&linger, &Shared::on_linger, 0, kLingerPollMs);
}

void UpstreamRegistry::Shared::on_linger(uv_timer_t* timer) {
  auto* self = static_cast<Shared*>(timer->data);
  if (self->http->calls_in_flight() > 0) return;
  uv_timer_stop(timer);
  self->http->shutdown(&Shared::on_http_closed, self);
}

void UpstreamRegistry::Shared::on_http_closed(void* arg) {
  auto* self = static_cast<Shared*>(arg);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->linger), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->async), nullptr);
}

// ---- UpstreamRegistry ---------------------------------------------------------------------------

UpstreamRegistry::UpstreamRegistry(KeeperOptions options) : options_(options) {}

UpstreamRegistry::~UpstreamRegistry() {
  stop();
}

UpstreamRegistry& UpstreamRegistry::process() {
  static UpstreamRegistry registry;
  return registry;
}

namespace {

// Waits (bounded) for a thread that was told to leave, then joins it — or leaves it behind.
void reap(std::thread& thread, UpstreamRegistry::Shared& shared) {
  if (!thread.joinable()) return;
  std::unique_lock lock(shared.mutex);
  const bool done = shared.finished_cv.wait_for(lock, kStopWait, [&] { return shared.finished; });
  lock.unlock();
  if (done) {
    thread.join();
  } else {
    log::warn("mcp: the upstream thread did not stop within " + std::to_string(kStopWait.count()) +
              "s; leaving it behind");
    thread.detach();  // it owns a reference to its Shared, so nothing it uses is freed
  }
}

}  // namespace

namespace {

// How request_refresh() wakes the thread that keeps `upstream`.
void wake_through(Upstream& upstream, const std::shared_ptr<UpstreamRegistry::Shared>& shared) {
  std::weak_ptr<UpstreamRegistry::Shared> weak = shared;
  upstream.set_wake([weak] {
    if (auto s = weak.lock()) s->wake();
  });
}

}  // namespace

bool UpstreamRegistry::hand_to_thread(const std::shared_ptr<Upstream>& upstream) {
  if (shared_) {
    std::lock_guard lock(shared_->mutex);
    if (shared_->accepting) {
      wake_through(*upstream, shared_);
      shared_->adopt.push_back(upstream);
      uv_async_send(&shared_->async);
      return true;
    }
  }
  // No thread, or the last one is leaving (it had nothing left to keep): wait for it, then
  // start a new one that has `upstream` queued before it runs.
  if (shared_) reap(thread_, *shared_);
  auto shared = std::make_shared<Shared>(options_);
  if (int rc = uv_loop_init(&shared->loop); rc != 0) {
    log::error(std::string("mcp: cannot create the upstream loop: ") + uv_strerror(rc));
    return false;
  }
  uv_async_init(&shared->loop, &shared->async, &Shared::on_async);
  shared->async.data = shared.get();
  uv_timer_init(&shared->loop, &shared->linger);
  shared->linger.data = shared.get();
  shared->accepting = true;
  wake_through(*upstream, shared);
  shared->adopt.push_back(upstream);
  try {
    thread_ = std::thread(&Shared::thread_main, shared);
  } catch (const std::system_error& e) {
    log::error(std::string("mcp: cannot start the upstream thread: ") + e.what());
    shared->adopt.clear();
    uv_close(reinterpret_cast<uv_handle_t*>(&shared->async), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&shared->linger), nullptr);
    uv_run(&shared->loop, UV_RUN_DEFAULT);
    uv_loop_close(&shared->loop);
    shared_.reset();
    return false;
  }
  shared_ = std::move(shared);
  return true;
}

std::shared_ptr<UpstreamLease> UpstreamRegistry::acquire(const McpEndpoint& endpoint) {
  std::lock_guard lock(mutex_);
  // Stopped (shutting down, or `sluice validate`, which contacts no server): an upstream that is
  // never fetched, so a snapshot can still be built.
  if (stopped_) {
    return std::make_shared<UpstreamLease>(std::make_shared<Upstream>(endpoint), nullptr);
  }
  const std::string key = identity_of(endpoint);
  if (auto it = leases_.find(key); it != leases_.end()) {
    if (auto lease = it->second.lock()) return lease;
    leases_.erase(it);
  }
  auto upstream = std::make_shared<Upstream>(endpoint);
  if (!hand_to_thread(upstream)) {
    log::error("mcp upstream \"" + endpoint.name +
               "\": no upstream thread: its tools are not offered");
    return std::make_shared<UpstreamLease>(std::move(upstream), nullptr);
  }
  auto lease = std::make_shared<UpstreamLease>(std::move(upstream), shared_);
  leases_[key] = lease;
  std::erase_if(leases_, [](const auto& entry) { return entry.second.expired(); });
  return lease;
}

void UpstreamRegistry::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  if (!shared_) return;
  {
    std::lock_guard shared_lock(shared_->mutex);
    if (shared_->accepting && !shared_->stop_requested) {
      shared_->stop_requested = true;
      uv_async_send(&shared_->async);
    }
  }
  reap(thread_, *shared_);
}

size_t UpstreamRegistry::keepers() const {
  std::lock_guard lock(mutex_);
  if (!shared_) return 0;
  std::lock_guard shared_lock(shared_->mutex);
  return shared_->finished ? 0 : shared_->keeper_count;
}

bool UpstreamRegistry::thread_running() const {
  std::lock_guard lock(mutex_);
  if (!shared_) return false;
  std::lock_guard shared_lock(shared_->mutex);
  return !shared_->finished;
}

// ---- UpstreamLease ------------------------------------------------------------------------------

UpstreamLease::UpstreamLease(std::shared_ptr<Upstream> upstream,
                             std::shared_ptr<UpstreamRegistry::Shared> by)
    : upstream_(std::move(upstream)), shared_(std::move(by)) {}

UpstreamLease::~UpstreamLease() {
  if (!shared_) return;  // inert: no keeper was started
  std::lock_guard lock(shared_->mutex);
  if (!shared_->accepting) return;  // stopped: the keeper is gone or going anyway
  shared_->retire.push_back(upstream_);
  uv_async_send(&shared_->async);
}

}  // namespace sluice::mcp
