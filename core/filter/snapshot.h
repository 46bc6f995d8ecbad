// ConfigSnapshot: one loaded config plus everything built from it (filter factories). Immutable;
// a request pins it (std::shared_ptr<const ConfigSnapshot>) from arrival to on_complete, so a
// reload never changes what an in-flight request sees (DESIGN §2).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/config/config.h"
#include "core/filter/filter.h"
#include "core/filter/group_route.h"
#include "core/providers/translation.h"
#include "core/state/process_state.h"

namespace sluice::tools {
class ToolSet;
}

namespace sluice::filter {

class ConfigSnapshot {
 public:
  // Builds every filter of config.filters through the registry. Throws config::ConfigError
  // (unknown filter type with did-you-mean, or the filter's own validation error).
  static std::shared_ptr<const ConfigSnapshot> build(std::shared_ptr<const config::Config> config,
                                                     uint64_t generation);

  ~ConfigSnapshot();
  ConfigSnapshot(const ConfigSnapshot&) = delete;
  ConfigSnapshot& operator=(const ConfigSnapshot&) = delete;

  // Snapshots built (including ones whose build failed part-way: they die at once) and not yet
  // destroyed, process-wide: the serving one plus those still pinned by in-flight requests or
  // connections, or held by a worker until its retire tick. sluice_config_generations_alive
  // and /status report it; steady growth means a generation outlives its requests.
  static int64_t alive();

  const config::Config& config() const { return *config_; }
  const std::shared_ptr<const config::Config>& config_ptr() const { return config_; }
  std::span<const std::unique_ptr<FilterFactory>> filters() const { return filters_; }
  uint64_t generation() const { return generation_; }
  // The provider used when no model_alias filter resolved a group (null if none configured).
  const config::Provider* default_provider() const { return default_provider_; }
  bool has_filter(std::string_view name) const;

  // Process-wide state of a provider / the weighted round-robin cursor of a model group of
  // this config (resolved at build, so the request path never locks the registry). Never null
  // for a provider or group of this snapshot's config.
  state::ProviderState* provider_state(const config::Provider& provider) const;
  std::atomic<uint64_t>* group_cursor(const config::ModelGroup& group) const;
  // The router's precomputed view of a group of this config (strategy, resolved targets,
  // fallback order, weighted sequence); null for a group that is not of this config.
  const GroupRoute* group_route(const config::ModelGroup& group) const;

  // The codec of a provider whose type a plugin registers (resolved at build); null for the
  // built-in types (openai, mock).
  const providers::ProviderCodec* provider_codec(const config::Provider& provider) const;
  // The client API that turns `endpoint`'s requests into OpenAI chat (a plugin's: Anthropic's
  // /v1/messages from plugins/anthropic), or null.
  const providers::ClientApiCodec* client_api(Endpoint endpoint) const;
  // The tools of this config (null when the binary has no tools support linked in).
  const tools::ToolSet* tools() const { return tools_.get(); }

 private:
  ConfigSnapshot();

  std::shared_ptr<const config::Config> config_;
  // What the registry's snapshot extensions built (the plugin set): held as long as the
  // snapshot, and declared before filters_ so the filters go first.
  std::vector<std::shared_ptr<const providers::ProviderTypeSource>> extensions_;
  std::vector<std::unique_ptr<FilterFactory>> filters_;
  // After extensions_: a plugin tool's executor lives in its plugin set.
  std::shared_ptr<const tools::ToolSet> tools_;
  uint64_t generation_ = 0;
  const config::Provider* default_provider_ = nullptr;
  std::vector<std::pair<const config::Provider*, state::ProviderState*>> provider_states_;
  std::vector<std::pair<const config::ModelGroup*, std::atomic<uint64_t>*>> group_cursors_;
  std::vector<std::pair<const config::Provider*, std::shared_ptr<const providers::ProviderCodec>>>
      provider_codecs_;
  std::shared_ptr<const providers::ClientApiCodec> messages_api_;
  // Node-based: GroupRoute::plan points at other entries, which must not move.
  std::unordered_map<const config::ModelGroup*, GroupRoute> group_routes_;
};

}  // namespace sluice::filter
