// Server: the process. Loads the config, opens the listeners, runs the workers, and on its
// own (main) loop the admin API and the signals: SIGTERM/SIGINT drain and exit 0, SIGHUP
// reloads. Reload here validates the whole file and builds the snapshot before anything
// changes, then publishes it to every worker; in-flight requests keep the snapshot they pinned.
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

namespace sluice::log {
class AccessLog;
}
namespace sluice::admin {
class AdminServer;
}

namespace sluice::server {

class Worker;

class Server {
 public:
  explicit Server(std::string config_path);
  ~Server();

  // Runs until SIGTERM/SIGINT has drained everything. Returns the process exit code.
  int run();

 private:
  static void on_signal(uv_signal_t* handle, int signum);
  static void on_worker_exit(uv_async_t* handle);
  admin::ReloadResult reload(const char* trigger);
  void begin_shutdown(const char* why);
  bool start_admin(const config::Config& config, std::string* error);
  void stop_admin();
  void finish_shutdown();

  std::string config_path_;
  uv_loop_t loop_;
  uv_signal_t sigterm_, sigint_, sighup_;
  uv_async_t worker_exit_;  // a worker thread finished its loop
  std::atomic<unsigned> workers_exited_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<log::AccessLog> access_log_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::shared_ptr<const filter::ConfigSnapshot> snapshot_;  // main thread's view
  uint64_t generation_ = 0;
  admin::LastReload last_reload_;
  bool ready_ = false;
  bool shutting_down_ = false;
  int exit_code_ = 0;
};

}  // namespace sluice::server
