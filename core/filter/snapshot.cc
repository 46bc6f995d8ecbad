#include "core/filter/snapshot.h"

#include <algorithm>
#include <atomic>

#include "core/config/node_reader.h"
#include "core/config/proxy_url.h"
#include "core/filter/registry.h"

namespace sluice::filter {
namespace {

// Every group's GroupRoute: first the entries themselves (targets resolved to Candidates),
// then, once no entry moves any more, each one's breadth-first fallback plan.
void build_group_routes(const config::Config& config, const ConfigSnapshot& snapshot,
                        std::unordered_map<const config::ModelGroup*, GroupRoute>& routes) {
  for (const auto& [name, group] : config.models) {
    GroupRoute& route = routes[&group];
    route.group = &group;
    route.strategy = strategy_from_string(group.strategy).value_or(Strategy::Priority);
    route.cursor = snapshot.group_cursor(group);
    std::vector<uint32_t> weights;
    for (const auto& target : group.targets) {
      auto it = config.providers.find(target.provider);
      if (it == config.providers.end()) continue;  // the loader rejects this; be safe anyway
      route.targets.push_back(Candidate{&group, &target, &it->second, target.model,
                                        snapshot.provider_state(it->second)});
      weights.push_back(target.weight);
    }
    if (route.strategy == Strategy::Weighted) {
      route.weighted_sequence = smooth_weighted_sequence(weights);
    }
  }
  for (auto& [group, route] : routes) {
    route.plan.push_back(&route);
    for (size_t i = 0; i < route.plan.size(); ++i) {
      for (const auto& name : route.plan[i]->group->fallbacks) {
        auto it = config.models.find(name);
        if (it == config.models.end()) continue;
        const GroupRoute* next = &routes.at(&it->second);
        if (std::find(route.plan.begin(), route.plan.end(), next) == route.plan.end()) {
          route.plan.push_back(next);
        }
      }
    }
    for (const GroupRoute* r : route.plan) route.plan_candidates += r->targets.size();
  }
}

bool is_builtin_type(const std::string& type) {
  return type == "openai" || type == "mock";
}

// What a provider of a plugin's type gets from its plugin: a default base_url when it has
// none, and the headers the plugin adds to every request (its auth: the health probe sends
// them too). The config a snapshot serves is then a copy with those filled in (the loaded one
// is shared and const); nullptr when no provider has a plugin's type.
std::shared_ptr<config::Config> copy_for_plugin_types(
    const std::shared_ptr<const config::Config>& config) {
  for (const auto& [name, provider] : config->providers) {
    if (!is_builtin_type(provider.type)) return std::make_shared<config::Config>(*config);
  }
  return nullptr;
}

void apply_default_base_urls(
    config::Config& config,
    const std::vector<std::shared_ptr<const providers::ProviderTypeSource>>& sources) {
  for (auto& [name, p] : config.providers) {
    if (is_builtin_type(p.type) || !p.base_url.empty()) continue;
    std::string fallback;
    for (const auto& source : sources) {
      if (source && (fallback = source->default_base_url(p.type), !fallback.empty())) break;
    }
    if (fallback.empty()) continue;  // resolve_codecs says what is wrong with it
    std::string error;
    auto url = config::parse_url(fallback, error);
    if (!url) {
      throw config::ConfigError(p.mark, "providers." + name + ".base_url",
                                std::string("the default base_url of type ")
                                    .append(p.type)
                                    .append(" (")
                                    .append(fallback)
                                    .append(") is not a URL: ")
                                    .append(error));
    }
    p.base_url = fallback;
    p.url = *url;
    // The loader could not apply HTTPS_PROXY & co. without the URL: do it now.
    if (p.proxy_from_env) {
      error.clear();
      p.proxy = config::environment_proxy(p.url, config::process_env(), error);
      if (!error.empty()) throw config::ConfigError(p.mark, "providers." + name, error);
    }
  }
}

// The headers the codec's translation puts on a request (an innocuous one: the native
// endpoint's, else a one-message chat), for the health probe.
std::vector<std::pair<std::string, std::string>> headers_of(const providers::ProviderCodec& codec) {
  static constexpr std::string_view kProbeBody =
      R"({"model":"health-check","max_tokens":1,"messages":[{"role":"user","content":"ping"}]})";
  const Endpoint endpoint =
      codec.native(Endpoint::Messages) ? Endpoint::Messages : Endpoint::ChatCompletions;
  providers::TranslateInput in{endpoint, kProbeBody, "health-check", false, false, "health"};
  providers::TranslatedRequest out;
  auto translation = codec.begin(0);
  if (translation->request(in, out) != providers::TranslateStatus::Ok) return {};
  return std::move(out.headers);
}

// Every provider of a plugin type gets its codec; a type nobody registered refuses the load.
void resolve_codecs(
    config::Config& config,
    const std::vector<std::shared_ptr<const providers::ProviderTypeSource>>& sources,
    std::vector<
        std::pair<const config::Provider*, std::shared_ptr<const providers::ProviderCodec>>>& out) {
  for (auto& [name, provider] : config.providers) {
    if (is_builtin_type(provider.type)) continue;
    std::shared_ptr<const providers::ProviderCodec> codec;
    for (const auto& source : sources) {
      if (source && (codec = source->provider_codec(provider))) break;
    }
    if (!codec) {
      std::vector<std::string> types = {"openai", "mock"};
      for (const auto& source : sources) {
        if (source) source->provider_types(types);
      }
      std::string message = "unknown provider type \"" + provider.type + "\"";
      if (auto guess = config::did_you_mean(provider.type, types)) {
        message += " (did you mean \"" + *guess + "\"?)";
      }
      message += ": the types here are";
      for (size_t i = 0; i < types.size(); ++i) message += (i ? ", " : " ") + types[i];
      message +=
          " (a plugin's type needs its plugins: entry, or the shipped plugin "
          "libsluice_" +
          provider.type + ".so in sluice's plugin directory)";
      throw config::ConfigError(provider.mark, "providers." + name + ".type", message);
    }
    if (provider.base_url.empty()) {
      throw config::ConfigError(provider.mark, "providers." + name + ".base_url",
                                "required: type " + provider.type + " has no default base_url");
    }
    provider.plugin_headers = headers_of(*codec);
    out.emplace_back(&provider, std::move(codec));
  }
}

// Constant-initialized and trivially destructible: safe from any thread and at exit.
std::atomic<int64_t> g_snapshots_alive{0};

}  // namespace

ConfigSnapshot::ConfigSnapshot() {
  g_snapshots_alive.fetch_add(1, std::memory_order_relaxed);
}

ConfigSnapshot::~ConfigSnapshot() {
  g_snapshots_alive.fetch_sub(1, std::memory_order_relaxed);
}

int64_t ConfigSnapshot::alive() {
  return g_snapshots_alive.load(std::memory_order_relaxed);
}

std::shared_ptr<const ConfigSnapshot> ConfigSnapshot::build(
    std::shared_ptr<const config::Config> config, uint64_t generation) {
  auto snapshot = std::shared_ptr<ConfigSnapshot>(new ConfigSnapshot());
  snapshot->generation_ = generation;
  const auto& registry = FilterRegistry::global();
  // The plugins first: what they register decides which provider types exist.
  for (const SnapshotExtension& extension : registry.extensions()) {
    snapshot->extensions_.push_back(extension(*config));
  }
  if (auto copy = copy_for_plugin_types(config)) {
    apply_default_base_urls(*copy, snapshot->extensions_);
    resolve_codecs(*copy, snapshot->extensions_, snapshot->provider_codecs_);
    config = std::move(copy);
  }
  snapshot->config_ = config;
  for (const auto& source : snapshot->extensions_) {
    if (source && (snapshot->messages_api_ = source->client_api(Endpoint::Messages))) break;
  }
  state::ProcessState& process_state = state::ProcessState::process();
  for (const auto& [name, provider] : config->providers) {
    snapshot->provider_states_.emplace_back(&provider, process_state.provider(name));
  }
  for (const auto& [name, group] : config->models) {
    snapshot->group_cursors_.emplace_back(&group, process_state.group_cursor(name));
  }
  build_group_routes(*config, *snapshot, snapshot->group_routes_);
  if (registry.tool_set_builder()) {
    snapshot->tools_ = registry.tool_set_builder()(*config, snapshot->extensions_);
  }

  for (const auto& spec : config->filters) {
    const FilterBuilder* builder = registry.find(spec.type);
    if (builder == nullptr) {
      std::string message = "unknown filter type \"" + spec.type + "\"";
      if (auto guess = config::did_you_mean(spec.type, registry.names())) {
        message += " (did you mean \"" + *guess + "\"?)";
      }
      throw config::ConfigError(spec.mark, spec.key_path, message);
    }
    config::NodeReader reader(spec.config, spec.key_path, config->source_path);
    std::unique_ptr<FilterFactory> factory = (*builder)(reader, *config);
    reader.finish();
    snapshot->filters_.push_back(std::move(factory));
  }

  if (!config->default_provider.empty()) {
    auto it = config->providers.find(config->default_provider);
    if (it != config->providers.end()) snapshot->default_provider_ = &it->second;
  }
  // Without model_alias every request goes to default_provider unchanged (DESIGN §4), so a
  // config that has neither can never route anything: refuse it at load, not per request.
  if (!snapshot->has_filter("model_alias") && snapshot->default_provider_ == nullptr) {
    throw config::ConfigError(config::SourceMark{config->source_path, 1, 1}, "default_provider",
                              "no model_alias filter in the chain and no default_provider: "
                              "set default_provider, or add `- model_alias: {}` to filters");
  }
  return snapshot;
}

bool ConfigSnapshot::has_filter(std::string_view name) const {
  for (const auto& f : filters_) {
    if (f->name() == name) return true;
  }
  return false;
}

}  // namespace sluice::filter

namespace sluice::filter {

state::ProviderState* ConfigSnapshot::provider_state(const config::Provider& provider) const {
  for (const auto& [p, state] : provider_states_) {
    if (p == &provider) return state;
  }
  return state::ProcessState::process().provider(provider.name);  // not of this config: slow path
}

std::atomic<uint64_t>* ConfigSnapshot::group_cursor(const config::ModelGroup& group) const {
  for (const auto& [g, cursor] : group_cursors_) {
    if (g == &group) return cursor;
  }
  return state::ProcessState::process().group_cursor(group.name);
}

const providers::ProviderCodec* ConfigSnapshot::provider_codec(
    const config::Provider& provider) const {
  for (const auto& [p, codec] : provider_codecs_) {
    if (p == &provider) return codec.get();
  }
  return nullptr;
}

const providers::ClientApiCodec* ConfigSnapshot::client_api(Endpoint endpoint) const {
  return endpoint == Endpoint::Messages ? messages_api_.get() : nullptr;
}

const GroupRoute* ConfigSnapshot::group_route(const config::ModelGroup& group) const {
  auto it = group_routes_.find(&group);
  return it == group_routes_.end() ? nullptr : &it->second;
}

}  // namespace sluice::filter
