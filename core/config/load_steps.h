// The steps of load_config_text, one per section of the schema (DESIGN §4). Private to
// core/config: other code uses loader.h. Each step reads its section through NodeReader (which
// rejects unknown keys) and checks the references it can check with what is already loaded,
// so the order in loader.cc matters: providers → tools → models → agents.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/config.h"
#include "core/config/loader.h"
#include "core/config/node_reader.h"

namespace sluice::config::load {

// ${VAR} substitution over every scalar value of the document, in place.
void substitute_env_in_document(YAML::Node root, const EnvLookup& env, const std::string& file);

// HTTPS_PROXY & co. come from `env`, like ${VAR} values.
void read_providers(NodeReader& root, Config& config, const EnvLookup& env);
void read_tools(NodeReader& root, Config& config);
void read_models(NodeReader& root, Config& config);  // needs providers
void read_agents(NodeReader& root, Config& config);  // needs models and tools
void read_filters(NodeReader& root, Config& config);
// An agent with a budget needs the cost filter in the chain (it is what enforces budgets).
void check_budgets_have_cost_filter(const NodeReader& root,
                                    const Config& config);  // needs agents and filters
void read_plugins(NodeReader& root, Config& config);

// How the names of a keyed section may be spelled.
enum class NameRule {
  Identifier,  // letters, digits, '_', '-', '.': providers, agents, tools, plugins (they end up
               // in headers, metric labels and MCP tool names)
  AnyText,     // any non-empty text without spaces: model names agents ask for ("qwen3:8b")
};

// Whether `name` is spelled as `rule` wants.
bool follows(const std::string& name, NameRule rule);

// The entries of a mapping keyed by names the user chooses (providers.*, models.*, ...), each
// with a reader over its value. Duplicate names are rejected.
std::vector<std::pair<std::string, NodeReader>> named_entries(NodeReader& root,
                                                              std::string_view key, NameRule rule);

// A duration that must be above zero (timeouts, intervals); nullopt when absent.
std::optional<Duration> positive_duration(NodeReader& reader, std::string_view key);

// The mark of item `index` of the list under `key` (for errors about one list entry).
SourceMark item_mark(NodeReader& reader, std::string_view key, size_t index);
std::string item_path(const NodeReader& reader, std::string_view key, size_t index);

// " (did you mean "x"?)" or " (known: a, b)" for a reference to a name that does not exist.
std::string unknown_name_hint(const std::string& name, const std::vector<std::string>& known);

// Relative paths resolve against the config file's directory.
std::string resolve_path(const Config& config, const std::string& path);
// `headers: {Name: value}` of a provider or tool entry: checked names (not the ones sluice sets
// itself), values without line breaks.
std::vector<std::pair<std::string, std::string>> read_headers(NodeReader& entry);
// providers.*.tls (load_provider_tls.cc): reads and checks the files it names.
ProviderTls read_provider_tls(NodeReader reader, const Config& config);

}  // namespace sluice::config::load
