#include "core/fleet/fleet_process.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <random>

#include "core/metrics/metrics.h"

namespace sluice::fleet {

namespace {

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "host";
  return name;
}

std::string hex_prefix(const unsigned char* bytes, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

// Short and stable: the first 8 bytes of SHA-256(text) in hex.
std::string digest(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  return hex_prefix(md, 8);
}

}  // namespace

FleetProcess::FleetProcess(config::StateSettings::Redis settings, const std::string& ledger_path,
                           unsigned workers, metrics::Metrics* metrics)
    : settings_(std::move(settings)),
      workers_(workers == 0 ? 1 : workers),
      shared_(new std::atomic<bool>[workers_]),
      metrics_(metrics) {
  std::string error;
  url_ = config::parse_redis_url(settings_.url, error).value_or(config::RedisUrl{});
  std::random_device random;
  const uint32_t suffix = random();
  unsigned char suffix_bytes[3] = {static_cast<unsigned char>(suffix),
                                   static_cast<unsigned char>(suffix >> 8),
                                   static_cast<unsigned char>(suffix >> 16)};
  const std::string host = host_name();
  instance_ = host + ":" + std::to_string(getpid()) + ":" + hex_prefix(suffix_bytes, 3);
  spender_ = ledger_path.empty() ? instance_ : host + ":ledger:" + digest(ledger_path);
  for (unsigned i = 0; i < workers_; ++i) shared_[i].store(false, std::memory_order_relaxed);
  if (metrics_ != nullptr) {
    up_ = &metrics_->redis_up.Add({});
    up_->Set(0);
  }
}

std::string FleetProcess::member(unsigned worker) const {
  return instance_ + "/w" + std::to_string(worker);
}

void FleetProcess::set_fleet_size(uint32_t members, uint32_t instances) {
  members_.store(members == 0 ? 1 : members, std::memory_order_relaxed);
  instances_.store(instances == 0 ? 1 : instances, std::memory_order_relaxed);
}

void FleetProcess::set_worker_shared(unsigned worker, bool shared, std::string_view last_error) {
  if (worker >= workers_) return;
  shared_[worker].store(shared, std::memory_order_relaxed);
  if (!last_error.empty()) {
    std::lock_guard lock(mutex_);
    last_error_ = std::string(last_error);
  }
  if (up_ != nullptr) up_->Set(all_shared() ? 1 : 0);
}

bool FleetProcess::all_shared() const {
  return workers_shared() == workers_;
}

unsigned FleetProcess::workers_shared() const {
  unsigned n = 0;
  for (unsigned i = 0; i < workers_; ++i) n += shared_[i].load(std::memory_order_relaxed) ? 1 : 0;
  return n;
}

std::string FleetProcess::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void FleetProcess::count_error(std::string_view kind) {
  if (metrics_ == nullptr) return;
  prometheus::Counter* counter = nullptr;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, c] : errors_) {
      if (name == kind) counter = c;
    }
    if (counter == nullptr) {
      counter = &metrics_->redis_errors_total.Add({{"kind", std::string(kind)}});
      errors_.emplace_back(std::string(kind), counter);
    }
  }
  counter->Increment();
}

}  // namespace sluice::fleet
