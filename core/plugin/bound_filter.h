// BoundFilter: one `- plugin: {name: X, config: {...}}` entry of one config — the filter a
// plugin registered, the per-config object its create_config built from `config`, and the
// library kept loaded beneath them. Immutable after create(); shared by every worker.
#pragma once

#include <prometheus/counter.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/plugin/plugin_set.h"
#include "sluice/plugin.h"

namespace sluice::plugin {

// The hooks of a filter, as sluice_plugin_errors_total{hook} names them.
enum class Hook : uint8_t { OnRequest, OnResponseHeaders, OnResponseChunk, OnComplete };
inline constexpr size_t kHookCount = 4;
const char* to_string(Hook hook);

class BoundFilter {
 public:
  // Calls the filter's create_config with `config_json`. When it refuses, throws
  // config::ConfigError at `config_mark` / `key_path` with the plugin's message.
  static std::unique_ptr<BoundFilter> create(FoundFilter found, const std::string& config_json,
                                             const config::SourceMark& config_mark,
                                             const std::string& key_path);
  ~BoundFilter();  // destroy_config, then the library may close
  BoundFilter(const BoundFilter&) = delete;
  BoundFilter& operator=(const BoundFilter&) = delete;

  const std::string& name() const { return registration_->name; }  // the filter's name
  const std::string& plugin_name() const { return library_->name(); }
  const sluice_filter_vtable& vtable() const { return registration_->vtable; }
  void* config() const { return config_; }
  // sluice_plugin_errors_total{plugin=<filter name>,hook}, looked up once here.
  prometheus::Counter& errors(Hook hook) const { return *errors_[static_cast<size_t>(hook)]; }

 private:
  BoundFilter() = default;

  std::shared_ptr<PluginLibrary> library_;
  const FilterRegistration* registration_ = nullptr;  // owned by library_
  void* config_ = nullptr;                            // owned by the plugin
  std::array<prometheus::Counter*, kHookCount> errors_{};
};

}  // namespace sluice::plugin
