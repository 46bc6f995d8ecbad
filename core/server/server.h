// Server: the process. Loads the config, opens the listeners, runs the workers, and on its
// own (main) loop the admin API, the config file watch and the signals: SIGTERM/SIGINT drain and
// exit 0, SIGHUP reloads. Reload triggers: a change of the file (ConfigWatcher, content-hash
// checked), SIGHUP, POST /reload. Every trigger goes through reload(): the whole file is read,
// parsed, validated and built into a snapshot before anything changes; a bad file is refused
// whole (old config keeps serving, error logged, shown in /status, counted in
// sluice_config_reloads_total{result="failure"}). An accepted snapshot is published to every
// worker; in-flight requests keep the snapshot they pinned (see worker.h for backends).
#pragma once

#include <uv.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/admin/admin_hooks.h"
#include "core/filter/snapshot.h"
#include "core/server/worker.h"

namespace sluice::log {
class AccessLog;
}
namespace sluice::admin {
class AdminServer;
}
namespace sluice::health {
class HealthChecker;
}
namespace sluice::ledger {
class LedgerWriter;
}

namespace sluice::server {

class ConfigWatcher;

class Server {
 public:
  explicit Server(std::string config_path);
  ~Server();

  // Runs until SIGTERM/SIGINT has drained everything. Returns the process exit code.
  int run();

 private:
  static void on_signal(uv_signal_t* handle, int signum);
  static void on_worker_exit(uv_async_t* handle);
  // `only_if_changed`: the file watch's no-op filter (same bytes as the last attempt → nothing).
  admin::ReloadResult reload(const char* trigger, bool only_if_changed = false);
  // `listen` changes on reload: new addresses are bound (every worker's socket) before the
  // snapshot is published — a failure rejects the reload — and handed to the workers, which
  // then close their listeners for addresses no longer configured.
  struct ListenerChanges {
    std::vector<std::vector<Worker::ListenFd>> fds_per_worker;
    std::vector<std::string> added, bound, removed, now_listening;
  };
  ListenerChanges open_changed_listeners(const config::Config& next);
  void apply_listener_changes(ListenerChanges changes);
  void begin_shutdown(const char* why);
  bool start_admin(const config::Config& config, std::string* error);
  void stop_admin();
  // Opens state.ledger's writer (none when ""); false (and why) when the file is unusable.
  bool open_ledger(const config::Config& config, std::string* error);
  // SIGUSR1: the access log's writer opens its file again (a no-op for stdout or off).
  void reopen_access_log();
  void finish_shutdown();

  std::string config_path_;
  uv_loop_t loop_;
  // SIGUSR1 reopens the access log (logrotate's postrotate; nginx's convention).
  uv_signal_t sigterm_, sigint_, sighup_, sigusr1_;
  uv_async_t worker_exit_;  // a worker thread finished its loop
  std::atomic<unsigned> workers_exited_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<log::AccessLog> access_log_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::unique_ptr<ConfigWatcher> watcher_;
  // Active health checks: its own thread, started after the first load, handed every accepted
  // reload, stopped once the workers are gone.
  std::unique_ptr<health::HealthChecker> health_;
  // The spend ledger's writer (null when state.ledger is ""): opened with the first config,
  // restart-only, stopped — flushing every row — after the workers finished their requests.
  std::unique_ptr<ledger::LedgerWriter> ledger_;
  std::unique_ptr<fleet::FleetProcess> fleet_;  // with state.redis; outlives the workers
  std::vector<std::string> listening_;  // `listen` addresses open now (HostPort::to_string())
  std::shared_ptr<const config::Config> startup_config_;    // restart-only keys stay as here
  uint64_t last_content_hash_ = 0;                          // of the last file content tried
  std::shared_ptr<const filter::ConfigSnapshot> snapshot_;  // main thread's view
  uint64_t generation_ = 0;
  admin::LastReload last_reload_;
  bool ready_ = false;
  bool shutting_down_ = false;
  int exit_code_ = 0;
};

}  // namespace sluice::server
