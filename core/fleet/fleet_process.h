// FleetProcess: what the workers of one sluice process share about the fleet (DESIGN §3,
// docs/fleet.md): who this process is to Redis, the fleet's size as the last heartbeats saw
// it, each worker's mode, and the metrics sluice_redis_up / sluice_redis_errors_total.
//
// Identities:
//   instance — this process: host name, pid and a random suffix (a restart is a new one).
//   member   — one worker: "INSTANCE/w<index>". Leases, slots and budget holdings are per
//              member, so a worker never waits for another worker's Redis call.
//   spender  — whose spend a budget's spend hash records. With a ledger it is derived from the
//              host name and the ledger's path, so a restarted sidecar that rebuilt its spend
//              from its ledger writes the same entry again instead of counting it twice; without
//              a ledger it is the instance.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/config/redis_url.h"

namespace sluice::metrics {
class Metrics;
}

namespace sluice::fleet {

class FleetProcess {
 public:
  // `metrics` may be null (unit tests).
  FleetProcess(config::StateSettings::Redis settings, const std::string& ledger_path,
               unsigned workers, metrics::Metrics* metrics);
  FleetProcess(const FleetProcess&) = delete;
  FleetProcess& operator=(const FleetProcess&) = delete;

  const config::StateSettings::Redis& settings() const { return settings_; }
  const config::RedisUrl& url() const { return url_; }
  const std::string& instance() const { return instance_; }
  const std::string& spender() const { return spender_; }
  std::string member(unsigned worker) const;

  // The last heartbeat's count of live members (workers) and instances (processes), ≥ 1.
  void set_fleet_size(uint32_t members, uint32_t instances);
  uint32_t members() const { return members_.load(std::memory_order_relaxed); }
  uint32_t instances() const { return instances_.load(std::memory_order_relaxed); }

  // A worker's mode changed (shared: its steps use Redis; otherwise on_failure applies).
  void set_worker_shared(unsigned worker, bool shared, std::string_view last_error);
  bool all_shared() const;
  unsigned workers_shared() const;
  unsigned workers() const { return workers_; }
  std::string last_error() const;
  void count_error(std::string_view kind);

 private:
  config::StateSettings::Redis settings_;
  config::RedisUrl url_;
  std::string instance_;
  std::string spender_;
  unsigned workers_;
  std::atomic<uint32_t> members_{1};
  std::atomic<uint32_t> instances_{1};
  std::unique_ptr<std::atomic<bool>[]> shared_;  // per worker
  mutable std::mutex mutex_;                     // guards last_error_ and errors_
  std::string last_error_;
  metrics::Metrics* metrics_;
  prometheus::Gauge* up_ = nullptr;
  std::vector<std::pair<std::string, prometheus::Counter*>> errors_;
};

}  // namespace sluice::fleet
