#include "core/server/worker.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <random>

#include "core/fleet/fleet_worker.h"
#include "core/ledger/ledger_writer.h"
#include "core/log/access_log.h"
#include "core/log/log.h"
#include "core/metrics/metrics.h"
#include "core/metrics/request_metrics.h"
#include "core/plugin/http_caller.h"
#include "core/plugin/worker_mailbox.h"
#include "core/server/downstream_connection.h"
#include "core/server/reload_fingerprint.h"
#include "core/server/request_slot.h"

namespace sluice::server {
namespace {

// The snapshot under a control block of this worker's own. Every worker (and the server) shares
// the published shared_ptr, so its use_count() can never tell one worker that its own
// connections and requests are done with a snapshot: with two workers each one's retired copy
// counted the other's, and no generation was ever freed. The aliasing pointer counts only the
// copies this worker hands out (connections, sessions); it keeps the shared snapshot alive
// through `holder`, which the worker releases once its own count drops back to one.
std::shared_ptr<const filter::ConfigSnapshot> pin_for_worker(
    std::shared_ptr<const filter::ConfigSnapshot> shared) {
  auto holder = std::make_shared<std::shared_ptr<const filter::ConfigSnapshot>>(std::move(shared));
  const filter::ConfigSnapshot* raw = holder->get();
  return std::shared_ptr<const filter::ConfigSnapshot>(std::move(holder), raw);
}

}  // namespace

Worker::Worker(unsigned index, std::shared_ptr<const filter::ConfigSnapshot> snapshot,
               std::vector<ListenFd> listen_fds, WorkerServices services)
    : index_(index),
      listen_fds_(std::move(listen_fds)),
      current_(pin_for_worker(std::move(snapshot))),
      read_buffer_(new char[kReadBufferSize]),
      request_slots_(std::make_unique<RequestSlotPool>(*this)),
      services_(services) {
  uv_loop_init(&loop_);
  // The async handle must exist before any other thread may call uv_async_send on it.
  uv_async_init(&loop_, &async_, &Worker::on_async);
  async_.data = this;
  uv_timer_init(&loop_, &drain_timer_);
  drain_timer_.data = this;
  uv_timer_init(&loop_, &retire_timer_);
  retire_timer_.data = this;
  open_handles_ = 3;
  std::random_device rd;
  id_seed_ = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ (static_cast<uint64_t>(index) << 56);
  const auto& config = current_->config();
  const unsigned workers = config.workers == 0 ? 1 : config.workers;
  max_connections_ = (config.limits.max_connections + workers - 1) / workers;
  metrics_ = std::make_unique<metrics::RequestMetrics>(metrics::Metrics::process());
  http_caller_ = std::make_unique<plugin::HttpCaller>(&loop_);
  mailbox_ = std::make_unique<plugin::WorkerMailbox>(&loop_);
  filter_context_ = filter::WorkerContext{index_, &loop_, http_caller_.get(), mailbox_.get()};
  if (services_.access_log != nullptr && services_.access_log->enabled()) {
    access_log_ = std::make_unique<log::AccessLogBuffer>(&loop_, *services_.access_log);
    ++open_handles_;  // its flush timer
  }
}

Worker::~Worker() {
  assert(state_ == State::Stopped || !thread_.joinable());
  if (thread_.joinable()) thread_.join();
}

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::request_drain() {
  drain_requested_.store(true, std::memory_order_release);
  uv_async_send(&async_);
}

void Worker::publish(std::shared_ptr<const filter::ConfigSnapshot> snapshot) {
  {
    std::lock_guard<std::mutex> lock(publish_mutex_);
    published_ = std::move(snapshot);
  }
  uv_async_send(&async_);
}

void Worker::publish_listeners(std::vector<ListenFd> added, std::vector<std::string> removed) {
  {
    std::lock_guard<std::mutex> lock(publish_mutex_);
    for (auto& a : added) added_listeners_.push_back(std::move(a));
    for (auto& r : removed) removed_listeners_.push_back(std::move(r));
  }
  uv_async_send(&async_);
}

void Worker::open_listener(const ListenFd& listen_fd) {
  auto tcp = std::make_unique<uv_tcp_t>();
  uv_tcp_init(&loop_, tcp.get());
  tcp->data = this;
  int rc = uv_tcp_open(tcp.get(), listen_fd.fd);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp.get()), 1024, &Worker::on_connection);
  if (rc != 0) log::error(std::string("worker listen failed: ") + uv_strerror(rc));
  ++open_handles_;
  listeners_.push_back(Listener{listen_fd.address, std::move(tcp)});
}

void Worker::apply_listener_changes() {
  std::vector<ListenFd> added;
  std::vector<std::string> removed;
  {
    std::lock_guard<std::mutex> lock(publish_mutex_);
    added.swap(added_listeners_);
    removed.swap(removed_listeners_);
  }
  if (state_ != State::Running) {
    for (const auto& a : added) ::close(a.fd);  // draining: nothing new is accepted
    return;
  }
  // New ones first, so an address that moved is never unserved in between.
  for (const auto& a : added) open_listener(a);
  for (const auto& address : removed) {
    for (size_t i = 0; i < listeners_.size();) {
      if (listeners_[i].address != address) {
        ++i;
        continue;
      }
      uv_close(reinterpret_cast<uv_handle_t*>(listeners_[i].tcp.get()), &Worker::on_handle_closed);
      closed_listeners_.push_back(std::move(listeners_[i].tcp));
      listeners_.erase(listeners_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

void Worker::run() {
  if (services_.fleet != nullptr) {
    // On the worker thread: its connection's handles belong to this loop from the start.
    fleet_ = std::make_unique<fleet::FleetWorker>(&loop_, index_, *services_.fleet);
    filter_context_.fleet = fleet_.get();
  }
  for (const auto& listen_fd : listen_fds_) open_listener(listen_fd);
  listen_fds_.clear();
  uv_run(&loop_, UV_RUN_DEFAULT);
  state_ = State::Stopped;
  int rc = uv_loop_close(&loop_);
  if (rc != 0) log::warn(std::string("worker loop closed with open handles: ") + uv_strerror(rc));
  if (services_.on_exit != nullptr) services_.on_exit(services_.on_exit_arg);
}

void Worker::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<Worker*>(server->data);
  if (status < 0 || self->state_ != State::Running) return;
  auto* conn = new DownstreamConnection(*self, self->current_);
  self->connections_.insert(conn);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(conn->tcp())) != 0) {
    conn->close();
    return;
  }
  if (self->connections_.size() > self->max_connections_) {
    // Over limits.max_connections: refuse by closing at once, before reading anything.
    conn->close();
    return;
  }
  conn->start();
}

void Worker::connection_closed(DownstreamConnection* connection) {
  connections_.erase(connection);
  delete connection;
  if (state_ == State::Draining) maybe_finish_drain();
}

size_t Worker::request_slots_in_use() const {
  return request_slots_->in_use();
}

size_t Worker::request_slots_free() const {
  return request_slots_->free_count();
}

void Worker::on_async(uv_async_t* handle) {
  auto* self = static_cast<Worker*>(handle->data);
  {
    std::shared_ptr<const filter::ConfigSnapshot> next;
    {
      std::lock_guard<std::mutex> lock(self->publish_mutex_);
      next = std::move(self->published_);
    }
    if (next) self->adopt(std::move(next));
  }
  self->apply_listener_changes();
  if (self->drain_requested_.load(std::memory_order_acquire) && self->state_ == State::Running) {
    self->begin_drain();
  }
}

void Worker::begin_drain() {
  state_ = State::Draining;
  for (auto& l : listeners_)
    uv_close(reinterpret_cast<uv_handle_t*>(l.tcp.get()), &Worker::on_handle_closed);
  // Copy: begin_drain() may close (and erase) connections while we iterate.
  std::vector<DownstreamConnection*> conns(connections_.begin(), connections_.end());
  for (DownstreamConnection* c : conns) c->begin_drain();
  uv_timer_start(&drain_timer_, &Worker::on_drain_timeout,
                 static_cast<uint64_t>(current_->config().drain_timeout.count()), 0);
  maybe_finish_drain();
}

void Worker::on_drain_timeout(uv_timer_t* timer) {
  auto* self = static_cast<Worker*>(timer->data);
  if (!self->connections_.empty()) {
    log::warn("drain_timeout reached: closing " + std::to_string(self->connections_.size()) +
              " connection(s) still open on worker " + std::to_string(self->index_));
  }
  std::vector<DownstreamConnection*> conns(self->connections_.begin(), self->connections_.end());
  for (DownstreamConnection* c : conns) c->close();
}

void Worker::maybe_finish_drain() {
  if (state_ != State::Draining || !connections_.empty()) return;
  close_everything();
}

void Worker::close_everything() {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&async_))) return;
  uv_timer_stop(&drain_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&drain_timer_), &Worker::on_handle_closed);
  uv_timer_stop(&retire_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&retire_timer_), &Worker::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), &Worker::on_handle_closed);
  // Every connection is gone, so every slot is back in the pool: their retry timers close now
  // and the slots are freed in the close callbacks, before the loop ends.
  request_slots_->close_all();
  if (access_log_) {
    access_log_->close([this] { --open_handles_; });
  }
  // Every connection is gone, so no request uses any backend: active and retired ones alike
  // close now (retiring_ ones are already closing). The loop ends when their handles are closed.
  // Plugins' outgoing calls go the same way (a call not yet cancelled fails with "worker
  // shutting down"); counted like a backend.
  ++backends_shutting_down_;
  http_caller_->shutdown([](void* arg) { --static_cast<Worker*>(arg)->backends_shutting_down_; },
                         this);
  // Tool calls a plugin finishes from its own thread: waited for (bounded), then closed.
  ++backends_shutting_down_;
  mailbox_->shutdown([](void* arg) { --static_cast<Worker*>(arg)->backends_shutting_down_; }, this);
  if (fleet_) {  // leaves the fleet and closes its Redis connection
    ++backends_shutting_down_;
    fleet_->close([this] { --backends_shutting_down_; });
  }
  for (auto& entry : backends_) {
    ++backends_shutting_down_;
    entry->backend->shutdown(
        [](void* arg) { --static_cast<Worker*>(arg)->backends_shutting_down_; }, this);
  }
}

void Worker::on_handle_closed(uv_handle_t* handle) {
  // Listeners, the async handle and the drain timer all carry the worker in data.
  auto* self = static_cast<Worker*>(handle->data);
  --self->open_handles_;
}

providers::ProviderBackend* Worker::backend_for(const config::Provider& provider) {
  for (const auto& [p, backend] : provider_map_) {
    if (p == &provider) return backend;
  }
  // First use of this provider object on this worker (at start, or after a reload). An active
  // backend with the same settings — same name, URL, key, headers, timeouts... — is reused, so
  // a reload keeps warm upstream connections of the providers it did not change.
  std::string fingerprint = provider_fingerprint(provider);
  providers::ProviderBackend* found = nullptr;
  for (const auto& entry : backends_) {
    if (entry->retired_at == 0 && entry->fingerprint == fingerprint) {
      found = entry->backend.get();
      break;
    }
  }
  if (found == nullptr) {
    auto backend = providers::make_backend(&loop_, provider);
    if (!backend) return nullptr;
    auto entry = std::make_unique<BackendEntry>();
    entry->fingerprint = std::move(fingerprint);
    entry->name = provider.name;
    entry->backend = std::move(backend);
    // A provider of an older snapshot that the current one changed or removed (first used by
    // a request still pinned to that snapshot): born retired, so it closes with that snapshot.
    const auto& current = current_->config().providers;
    auto it = current.find(provider.name);
    const bool serves_current =
        it != current.end() &&
        (&it->second == &provider || provider_fingerprint(it->second) == entry->fingerprint);
    if (!serves_current) {
      entry->retired_at = current_->generation();
      start_retire_timer();
    }
    found = entry->backend.get();
    backends_.push_back(std::move(entry));
  }
  provider_map_.emplace_back(&provider, found);
  return found;
}

void Worker::adopt(std::shared_ptr<const filter::ConfigSnapshot> next) {
  previous_.push_back(std::move(current_));
  current_ = pin_for_worker(std::move(next));
  std::vector<std::string> wanted;
  wanted.reserve(current_->config().providers.size());
  for (const auto& [name, provider] : current_->config().providers) {
    wanted.push_back(provider_fingerprint(provider));
  }
  for (auto& entry : backends_) {
    if (entry->retired_at != 0) continue;
    if (std::find(wanted.begin(), wanted.end(), entry->fingerprint) == wanted.end()) {
      entry->retired_at = current_->generation();
      log::debug("worker " + std::to_string(index_) + ": provider " + entry->name +
                 " changed or removed: its backend is retired, closing when unused");
    }
  }
  // What no request or connection of this worker pins goes now, not at the next tick: a burst
  // of reloads must not pile generations up in memory (each holds its parsed YAML, filter
  // factories and routes). The tick collects the rest as their requests end.
  start_retire_timer();
  collect_retired();
}

void Worker::start_retire_timer() {
  if (retire_timer_running_ || state_ == State::Stopped ||
      uv_is_closing(reinterpret_cast<uv_handle_t*>(&retire_timer_)))
    return;
  retire_timer_running_ = true;
  uv_timer_start(&retire_timer_, &Worker::on_retire_tick, kRetireCheckMs, kRetireCheckMs);
}

void Worker::on_retire_tick(uv_timer_t* timer) {
  static_cast<Worker*>(timer->data)->collect_retired();
}

void Worker::collect_retired() {
  // 1. Snapshots nobody but this worker holds any more: forget their provider objects first
  //    (their addresses may be reused once the snapshot is freed), then free them.
  for (size_t i = 0; i < previous_.size();) {
    if (previous_[i].use_count() > 1) {
      ++i;
      continue;
    }
    const auto& providers = previous_[i]->config().providers;
    std::erase_if(provider_map_, [&](const auto& item) {
      auto it = providers.find(item.first->name);
      return it != providers.end() && &it->second == item.first;
    });
    previous_.erase(previous_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  // 2. A backend retired by generation N serves only snapshots older than N.
  uint64_t oldest_live = current_->generation();
  for (const auto& s : previous_) oldest_live = std::min(oldest_live, s->generation());
  for (size_t i = 0; i < backends_.size();) {
    BackendEntry& entry = *backends_[i];
    if (entry.retired_at == 0 || oldest_live < entry.retired_at) {
      ++i;
      continue;
    }
    providers::ProviderBackend* backend = entry.backend.get();
    std::erase_if(provider_map_, [&](const auto& item) { return item.second == backend; });
    retiring_.push_back(std::move(backends_[i]));
    backends_.erase(backends_.begin() + static_cast<std::ptrdiff_t>(i));
    BackendEntry* moved = retiring_.back().get();
    ++backends_shutting_down_;
    backend->shutdown(
        [](void* arg) {
          auto* e = static_cast<BackendEntry*>(arg);
          e->done = true;
        },
        moved);
  }
  // 3. Backends whose shutdown finished on an earlier tick (never freed inside their callback).
  for (size_t i = 0; i < retiring_.size();) {
    if (retiring_[i]->done) {
      --backends_shutting_down_;
      retiring_.erase(retiring_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  bool retired_left = std::any_of(backends_.begin(), backends_.end(),
                                  [](const auto& e) { return e->retired_at != 0; });
  if (previous_.empty() && retiring_.empty() && !retired_left && retire_timer_running_) {
    uv_timer_stop(&retire_timer_);
    retire_timer_running_ = false;
  }
}

void Worker::record(const log::RequestRecord& r) {
  if (access_log_) access_log_->record(r);
  if (r.model_known) {
    metrics_->record(r);
  } else {
    // Neither the requested nor (routed unchanged to default_provider) the physical model is
    // a configured name: the client chose them, so they do not become label values.
    log::RequestRecord labelled = r;
    labelled.model = {};
    labelled.physical_model = {};
    metrics_->record(labelled);
  }
}

void Worker::record_ledger(ledger::LedgerRow&& row) {
  if (services_.ledger != nullptr) services_.ledger->enqueue(std::move(row));
}

void Worker::request_started() {
  metrics_->active_inc();
}

void Worker::request_finished() {
  metrics_->active_dec();
}

void Worker::count_fallback(std::string_view from, std::string_view to) {
  metrics_->count_fallback(from, to);
}

void Worker::count_failed_attempt(std::string_view provider, std::string_view error) {
  metrics_->count_failed_attempt(provider, error);
}

void Worker::count_rejected(int status) {
  log::RequestRecord r;
  r.time = std::chrono::system_clock::now();
  r.status = status;
  metrics_->record(r);
}

void Worker::next_request_id(std::string& out) {
  // splitmix64: unique per worker (seeded randomly) and cheap; not a security token.
  uint64_t z = (id_seed_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  // "req_" + 16 hex digits of z + 4 of a counter, written by hand: snprintf cost ~1.5k
  // instructions per request (bench/profile.sh).
  static const char kHex[] = "0123456789abcdef";
  const uint64_t counter = ++request_counter_ & 0xffff;
  char buf[24] = {'r', 'e', 'q', '_'};
  for (int i = 0; i < 16; ++i) buf[4 + i] = kHex[(z >> (60 - 4 * i)) & 15];
  for (int i = 0; i < 4; ++i) buf[20 + i] = kHex[(counter >> (12 - 4 * i)) & 15];
  out.assign(buf, sizeof buf);
}

}  // namespace sluice::server
