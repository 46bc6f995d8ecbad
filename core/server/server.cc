#include "core/server/server.h"
#include "core/config/redis_url.h"
#include "core/fleet/fleet_process.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>

#include "core/admin/admin_server.h"
#include "core/config/loader.h"
#include "core/config/node_reader.h"
#include "core/filter/internal_caller.h"
#include "core/health/health_checker.h"
#include "core/ledger/ledger_writer.h"
#include "core/log/access_log.h"
#include "core/log/log.h"
#include "core/mcp/upstream_registry.h"
#include "core/metrics/metrics.h"
#include "core/server/config_watcher.h"
#include "core/server/listen_socket.h"
#include "core/server/reload_diff.h"
#include "core/server/spend_rebuild.h"
#include "core/server/worker.h"
#include "sluice_version.h"

namespace sluice::server {

Server::Server(std::string config_path) : config_path_(std::move(config_path)) {}

Server::~Server() = default;

int Server::run() {
  // logrotate's SIGUSR1 may come at any time; its default action ends the process. Until the
  // loop's handler is installed (below), and again once it is closed (the last writes of
  // the shutdown), it is ignored rather than fatal.
  ::signal(SIGUSR1, SIG_IGN);
  std::shared_ptr<const config::Config> config;
  try {
    std::string text, read_error;
    if (!read_whole_file(config_path_, text, read_error)) {
      config = config::load_config_file(config_path_);  // throws the loader's own message
    } else {
      last_content_hash_ = content_hash(text);
      config = config::load_config_text(text, config_path_);
    }
    snapshot_ = filter::ConfigSnapshot::build(config, ++generation_);
  } catch (const std::exception& e) {
    metrics::Metrics::process().record_config_reload(false);
    log::error(std::string("config rejected: ") + e.what());
    return 1;
  }
  metrics::Metrics::process().record_config_reload(true);
  startup_config_ = config;
  ::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error code on write, never a signal
  // A file-size limit (ulimit -f, a container's RLIMIT_FSIZE) reached by the access log or the
  // ledger must be a failed write (EFBIG), which they count and survive like a full disk —
  // not SIGXFSZ, whose default action kills the whole gateway over one log line.
  ::signal(SIGXFSZ, SIG_IGN);

  std::string error;
  access_log_ = log::AccessLog::open(config->access_log, &error);
  if (!access_log_) {
    log::error("access_log: " + error);
    return 1;
  }
  // Budgets: seed each agent's spend from the ledger before any worker serves a request (and
  // before the writer opens the file). An unreadable ledger is a warning, never a failed start.
  rebuild_spend_from_ledger(*config, state::ProcessState::process(), state::wall_now());
  if (!open_ledger(*config, &error)) {
    log::error("state.ledger: " + error);
    return 1;
  }

  const unsigned workers = config->workers == 0 ? 1 : config->workers;
  std::vector<std::vector<Worker::ListenFd>> fds_per_worker(workers);
  for (const auto& address : config->listen) {
    std::vector<int> fds;
    BoundAddress bound;
    if (!open_listen_sockets(address, workers, &fds, &bound, &error)) {
      log::error("cannot listen on " + address.to_string() + ": " + error);
      return 1;
    }
    for (unsigned w = 0; w < workers; ++w)
      fds_per_worker[w].push_back(Worker::ListenFd{address.to_string(), fds[w]});
    listening_.push_back(address.to_string());
    log::info("listening on " + bound.host + ":" + std::to_string(bound.port));
    // Plugins' model calls (host->call_model) come back in through the first listener.
    if (&address == &config->listen.front()) {
      filter::set_internal_caller_origin(address.to_string(), bound.host, bound.port);
    }
  }

  uv_loop_init(&loop_);
  uv_async_init(&loop_, &worker_exit_, &Server::on_worker_exit);
  worker_exit_.data = this;
  for (uv_signal_t* s : {&sigterm_, &sigint_, &sighup_, &sigusr1_}) {
    uv_signal_init(&loop_, s);
    s->data = this;
  }
  uv_signal_start(&sigterm_, &Server::on_signal, SIGTERM);
  uv_signal_start(&sigint_, &Server::on_signal, SIGINT);
  uv_signal_start(&sighup_, &Server::on_signal, SIGHUP);
  uv_signal_start(&sigusr1_, &Server::on_signal, SIGUSR1);

  watcher_ = std::make_unique<ConfigWatcher>(&loop_, config_path_,
                                             [this] { reload("file change", true); });
  if (int rc = watcher_->start(); rc != 0) {
    log::warn("cannot watch " + watcher_->directory() + " for config changes (" + uv_strerror(rc) +
              "): reload with SIGHUP or POST /reload");
  }

  // Probes run on their own thread, so their first verdicts are under way while the workers
  // start; until a verdict, a provider's health is Unknown, which routes like up.
  health_ = std::make_unique<health::HealthChecker>();
  health_->start(snapshot_->config_ptr());  // with plugin types' default base_urls

  WorkerServices services;
  services.access_log = access_log_.get();
  services.ledger = ledger_.get();
  if (config->state.redis) {
    fleet_ = std::make_unique<fleet::FleetProcess>(*config->state.redis, config->state.ledger,
                                                   workers, &metrics::Metrics::process());
    services.fleet = fleet_.get();
    log::info("state.redis: limits and budgets shared through " + config::redacted(fleet_->url()) +
              " as " + fleet_->instance() + " (on_failure: " +
              (config->state.redis->on_failure == config::StateSettings::Redis::OnFailure::Deny
                   ? "deny"
                   : "local") +
              ")");
  }
  services.on_exit = [](void* arg) {
    auto* self = static_cast<Server*>(arg);
    self->workers_exited_.fetch_add(1, std::memory_order_acq_rel);
    uv_async_send(&self->worker_exit_);
  };
  services.on_exit_arg = this;
  for (unsigned w = 0; w < workers; ++w) {
    workers_.push_back(std::make_unique<Worker>(w, snapshot_, fds_per_worker[w], services));
  }
  for (auto& w : workers_) w->start();

  if (!start_admin(*config, &error)) {
    log::error("admin: " + error);
    exit_code_ = 1;
    begin_shutdown("admin listener failed");
  } else {
    ready_ = true;
    log::info(std::string("sluice ") + SLUICE_VERSION + " ready: " + std::to_string(workers) +
              " worker(s), config generation " + std::to_string(generation_) + " from " +
              config->source_path);
  }

  uv_run(&loop_, UV_RUN_DEFAULT);
  ::signal(SIGUSR1, SIG_IGN);  // closing the uv_signal handle restored the default action
  health_->stop();             // the workers are gone: nobody reads health any more
  mcp::UpstreamRegistry::process().stop();  // nor tool lists; upstream sessions are ended
  watcher_.reset();                         // its handles closed in finish_shutdown()
  for (auto& w : workers_) w->join();
  workers_.clear();
  uv_loop_close(&loop_);
  access_log_.reset();           // flushes what the workers handed over
  if (ledger_) ledger_->stop();  // the workers are gone: every row is queued; write them all
  log::info("sluice stopped");
  return exit_code_;
}

void Server::on_signal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<Server*>(handle->data);
  if (signum == SIGHUP) {
    self->reload("SIGHUP");
    return;
  }
  if (signum == SIGUSR1) {
    self->reopen_access_log();
    return;
  }
  if (self->shutting_down_) {
    // A second SIGINT/SIGTERM while draining: the operator wants out now.
    log::warn("second stop signal: exiting without waiting for the drain");
    ::_exit(1);
  }
  self->begin_shutdown(signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

admin::ReloadResult Server::reload(const char* trigger, bool only_if_changed) {
  admin::ReloadResult result;
  if (shutting_down_) {
    result.ok = false;
    result.generation = generation_;
    result.error = "sluice is shutting down";
    return result;
  }
  std::string text, read_error;
  const bool readable = read_whole_file(config_path_, text, read_error);
  const uint64_t hash = readable ? content_hash(text) : 0;
  if (only_if_changed && readable && hash == last_content_hash_) {
    // A touch, a chmod, or an editor's rename of identical bytes: nothing to do (and nothing to
    // count — no reload was attempted).
    result.ok = true;
    result.generation = generation_;
    return result;
  }
  if (readable) last_content_hash_ = hash;
  last_reload_.at = std::chrono::system_clock::now();
  try {
    if (!readable) throw std::runtime_error(read_error);
    auto config = config::load_config_text(text, config_path_);
    auto next = filter::ConfigSnapshot::build(config, generation_ + 1);
    std::vector<std::string> restart_pending = restart_only_changes(*startup_config_, *config);
    for (const std::string& change : restart_pending) {
      log::warn("config reload (" + std::string(trigger) + "): " + change);
    }
    ListenerChanges listeners = open_changed_listeners(*config);  // throws: nothing changed
    last_reload_.restart_pending = std::move(restart_pending);
    ++generation_;
    snapshot_ = next;
    for (auto& w : workers_) w->publish(next);
    apply_listener_changes(std::move(listeners));
    if (health_) health_->apply(next->config_ptr());  // plugin types' base_url defaults in
    result.ok = true;
    log::info(std::string("config reloaded (") + trigger + "): generation " +
              std::to_string(generation_));
  } catch (const std::exception& e) {
    result.ok = false;
    result.error = e.what();
    log::error(std::string("config reload (") + trigger + ") rejected, still serving generation " +
               std::to_string(generation_) + ": " + e.what());
  }
  metrics::Metrics::process().record_config_reload(result.ok);
  result.generation = generation_;
  last_reload_.ok = result.ok;
  last_reload_.error = result.error;
  last_reload_.generation = generation_;
  return result;
}

Server::ListenerChanges Server::open_changed_listeners(const config::Config& next) {
  ListenerChanges changes;
  changes.fds_per_worker.resize(workers_.size());
  std::vector<std::string> wanted;
  for (const auto& address : next.listen) {
    const std::string name = address.to_string();
    if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) continue;
    wanted.push_back(name);
    if (std::find(listening_.begin(), listening_.end(), name) != listening_.end()) continue;
    std::vector<int> fds;
    BoundAddress bound;
    std::string error;
    if (!open_listen_sockets(address, static_cast<unsigned>(workers_.size()), &fds, &bound,
                             &error)) {
      for (const auto& per_worker : changes.fds_per_worker)
        for (const auto& f : per_worker) ::close(f.fd);
      throw std::runtime_error(next.source_path + ": listen: cannot listen on " + name + ": " +
                               error);
    }
    for (size_t w = 0; w < workers_.size(); ++w)
      changes.fds_per_worker[w].push_back(Worker::ListenFd{name, fds[w]});
    changes.added.push_back(name);
    changes.bound.push_back(bound.host + ":" + std::to_string(bound.port));
  }
  for (const auto& name : listening_) {
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end())
      changes.removed.push_back(name);
  }
  changes.now_listening = std::move(wanted);
  return changes;
}

void Server::apply_listener_changes(ListenerChanges changes) {
  if (changes.added.empty() && changes.removed.empty()) return;
  for (size_t w = 0; w < workers_.size(); ++w) {
    workers_[w]->publish_listeners(std::move(changes.fds_per_worker[w]), changes.removed);
  }
  for (const auto& b : changes.bound) log::info("listening on " + b);
  // The listener plugins' model calls use was removed: they use the first new one instead.
  const std::string internal = filter::internal_caller_listen();
  if (!changes.bound.empty() && std::find(changes.removed.begin(), changes.removed.end(),
                                          internal) != changes.removed.end()) {
    const std::string& b = changes.bound.front();  // "host:port"
    const size_t colon = b.rfind(':');
    filter::set_internal_caller_origin(changes.added.front(), b.substr(0, colon),
                                       static_cast<uint16_t>(std::stoi(b.substr(colon + 1))));
  }
  for (const auto& r : changes.removed) log::info("no longer listening on " + r);
  listening_ = std::move(changes.now_listening);
}

void Server::begin_shutdown(const char* why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  ready_ = false;
  log::info(std::string(why) + ": draining (up to " +
            std::to_string(snapshot_->config().drain_timeout.count()) + "ms)");
  for (auto& w : workers_) w->request_drain();
  if (workers_.empty()) finish_shutdown();
}

void Server::on_worker_exit(uv_async_t* handle) {
  auto* self = static_cast<Server*>(handle->data);
  if (self->workers_exited_.load(std::memory_order_acquire) == self->workers_.size()) {
    self->finish_shutdown();
  }
}

void Server::finish_shutdown() {
  stop_admin();
  if (watcher_) watcher_->close([] {});
  for (uv_signal_t* s : {&sigterm_, &sigint_, &sighup_, &sigusr1_}) {
    uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&worker_exit_), nullptr);
}

}  // namespace sluice::server

// --- admin wiring --------------------------------------------------------------------------
namespace sluice::server {

bool Server::start_admin(const config::Config& config, std::string* error) {
  admin::AdminHooks hooks;
  hooks.current_config = [this] {
    return admin::ConfigView{snapshot_->config_ptr(), snapshot_->generation(),
                             filter::ConfigSnapshot::alive()};
  };
  hooks.ready = [this] { return ready_; };
  hooks.reload = [this] { return reload("POST /reload"); };
  hooks.last_reload = [this] { return last_reload_; };
  hooks.ledger_path = [this] { return ledger_ ? ledger_->path() : std::string(); };
  hooks.fleet = [this]() -> std::optional<admin::FleetView> {
    if (!fleet_) return std::nullopt;
    admin::FleetView v;
    v.url = config::redacted(fleet_->url());
    v.key_prefix = fleet_->settings().key_prefix;
    v.on_failure = fleet_->settings().on_failure == config::StateSettings::Redis::OnFailure::Deny
                       ? "deny"
                       : "local";
    v.workers = fleet_->workers();
    v.workers_shared = fleet_->workers_shared();
    v.members = fleet_->members();
    v.instances = fleet_->instances();
    v.last_error = fleet_->last_error();
    return v;
  };
  hooks.request_slots = [this] {
    admin::RequestSlotCounts counts;
    for (const auto& worker : workers_) {
      counts.in_use += worker->request_slots_in_use();
      counts.free += worker->request_slots_free();
    }
    return counts;
  };
  admin_ =
      std::make_unique<admin::AdminServer>(&loop_, std::move(hooks), metrics::Metrics::process());
  int rc = admin_->start(config.admin);
  if (rc != 0) {
    *error = "cannot listen on " + config.admin.to_string() + ": " + uv_strerror(rc);
    return false;
  }
  return true;
}

void Server::stop_admin() {
  if (admin_) admin_->close([] {});
}

void Server::reopen_access_log() {
  // The writer thread reopens between two buffers and logs "access log reopened"; a signal
  // handler on the main loop must not touch the file itself.
  if (access_log_ && access_log_->reopen()) return;
  log::info("SIGUSR1: the access log is not a file (stdout or off): nothing to reopen");
}

// --- spend ledger ----------------------------------------------------------------------------
bool Server::open_ledger(const config::Config& config, std::string* error) {
  if (config.state.ledger.empty()) {
    log::info("ledger off (state.ledger is \"\"): spend is not recorded");
    return true;
  }
  ledger::LedgerWriter::Options options;
  options.path = config.state.ledger;
  options.flush_interval = config.state.flush_interval;
  options.retention = config.state.retention;
  ledger_ = ledger::LedgerWriter::open(std::move(options), error);
  if (!ledger_) return false;
  log::info("ledger: " + config.state.ledger + " (written every " +
            std::to_string(config.state.flush_interval.count()) + "ms)");
  return true;
}

}  // namespace sluice::server
