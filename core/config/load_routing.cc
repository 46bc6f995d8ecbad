// models.* (logical names → provider targets, strategy, fallbacks) and agents.* (keys,
// allow-lists, limits, budget). Every name one section uses from another is checked here, at
// the entry that uses it, so the error points at the line to fix.
#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "core/config/load_steps.h"
#include "core/config/name_glob.h"

namespace sluice::config::load {
namespace {

const std::vector<std::string> kStrategies = {"priority", "weighted", "least_busy", "latency"};

template <typename Map>
std::vector<std::string> names_of(const Map& map) {
  std::vector<std::string> names;
  for (const auto& entry : map) names.push_back(entry.first);
  return names;
}

Target read_target(NodeReader& group, const YAML::Node& node, size_t index, const Config& config) {
  NodeReader reader(node, item_path(group, "targets", index), group.file());
  Target target;
  auto provider = reader.string("provider");
  auto model = reader.string("model");
  if (auto weight = reader.integer("weight", 1, 1'000'000))
    target.weight = static_cast<uint32_t>(*weight);
  reader.finish();
  if (!provider) reader.fail("provider", "required: the name of an entry of providers");
  if (!config.providers.count(*provider)) {
    reader.fail("provider", "unknown provider \"" + *provider + "\"" +
                                unknown_name_hint(*provider, names_of(config.providers)));
  }
  if (!model || model->empty()) {
    reader.fail("model", "required: the model name the provider knows, e.g. gpt-4o-mini");
  }
  target.provider = *provider;
  target.model = *model;
  return target;
}

// Fallback chains must end: a → b → a would send a failing request round in circles.
void check_fallback_cycles(const Config& config, const std::map<std::string, SourceMark>& marks) {
  for (const auto& entry : config.models) {
    // Not a structured binding: clang before 16 cannot capture one in the lambda below.
    const std::string& start = entry.first;
    std::vector<std::string> chain{start};
    std::set<std::string> on_chain{start};
    // Depth-first over fallbacks; `chain` is the current path from `start`.
    std::function<void(const ModelGroup&)> visit = [&](const ModelGroup& g) {
      for (const std::string& next : g.fallbacks) {
        if (next == start) {
          std::string text;
          for (const std::string& step : chain) text += step + " → ";
          throw ConfigError(marks.at(start), "models." + start + ".fallbacks",
                            "fallback cycle: " + text + start);
        }
        if (!on_chain.insert(next).second) continue;  // reached another way; checked from there
        chain.push_back(next);
        visit(config.models.at(next));
        chain.pop_back();
      }
    };
    visit(entry.second);
  }
}

void read_agent_keys(NodeReader& reader, Agent& agent,
                     std::map<std::array<unsigned char, 32>, std::string>& owners) {
  auto keys = reader.string_list("keys", true);
  if (!keys) return;
  for (size_t i = 0; i < keys->size(); ++i) {
    const std::string& key = (*keys)[i];
    const SourceMark mark = item_mark(reader, "keys", i);
    const std::string path = item_path(reader, "keys", i);
    if (key.empty()) {
      throw ConfigError(mark, path,
                        "empty key (if it comes from ${VAR}, that variable is set but empty)");
    }
    KeyDigest digest;
    if (key.rfind("sha256:", 0) == 0) {
      auto parsed = parse_key_digest(key);
      if (!parsed) {
        throw ConfigError(mark, path,
                          "bad key digest: expected \"sha256:\" and 64 hex digits, as printed by "
                          "`sluice hash-key`");
      }
      digest = *parsed;
    } else {
      digest = digest_of(key);  // a plain key (usually from ${ENV}); only its hash is kept
    }
    auto [it, inserted] = owners.emplace(digest.bytes, agent.name);
    if (!inserted) {
      throw ConfigError(mark, path,
                        it->second == agent.name
                            ? "this key is listed twice"
                            : "this key is already a key of agent \"" + it->second + "\"");
    }
    agent.keys.push_back(digest);
  }
}

// models: / tools: allow-lists must name things that exist.
std::optional<std::vector<std::string>> read_allow_list(NodeReader& reader, std::string_view key,
                                                        const std::vector<std::string>& known,
                                                        const char* what) {
  auto names = reader.string_list(key, true);
  if (!names) return std::nullopt;
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw ConfigError(
          item_mark(reader, key, i), item_path(reader, key, i),
          std::string("unknown ") + what + " \"" + name + "\"" + unknown_name_hint(name, known));
    }
  }
  return names;
}

// tools: allow-lists: a tool's name, "<mcp entry>.<its tool>" (an upstream MCP server's tools
// are only known at run time), or a glob that can match one of those ("memory.*", "github.*").
std::vector<std::string> read_tool_allow_list(NodeReader& reader, const Config& config) {
  auto names = reader.string_list("tools", true);
  if (!names) return {};
  std::vector<std::string> known;
  for (const auto& [name, tool] : config.tools) known.push_back(name);
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& pattern = (*names)[i];
    bool ok = false;
    for (const auto& [name, tool] : config.tools) {
      if (tool.type == "mcp") {
        // Everything before the first wildcard must fit "<name>.": "github.*", "git*", "*".
        const std::string prefix = name + ".";
        const std::string_view literal =
            std::string_view(pattern).substr(0, pattern.find_first_of("*?"));
        const bool wild = is_glob(pattern);
        ok = wild ? (literal.starts_with(prefix) || prefix.starts_with(literal))
                  : (pattern.size() > prefix.size() && pattern.starts_with(prefix));
      } else {
        ok = glob_match(pattern, name);
      }
      if (ok) break;
    }
    if (!ok) {
      throw ConfigError(
          item_mark(reader, "tools", i), item_path(reader, "tools", i),
          "\"" + pattern + "\" " +
              (is_glob(pattern) ? std::string("matches no tool")
                                : "is not a tool" + unknown_name_hint(pattern, known)) +
              " (tools: names each entry; an mcp entry's tools are "
              "\"<entry>.<tool>\")");
    }
  }
  return *names;
}

AgentLimits read_agent_limits(NodeReader reader) {
  AgentLimits limits;
  if (auto v = reader.integer("rpm", 1, 1'000'000'000)) limits.rpm = static_cast<uint32_t>(*v);
  if (auto v = reader.integer("tpm", 1, 1'000'000'000'000)) limits.tpm = static_cast<uint64_t>(*v);
  if (auto v = reader.integer("concurrent", 1, 1'000'000))
    limits.concurrent = static_cast<uint32_t>(*v);
  reader.finish();
  return limits;
}

Budget read_budget(NodeReader reader) {
  Budget budget;
  auto usd = reader.number("usd", 0, 1e12);
  if (auto per = reader.one_of("per", {"day", "month", "total"})) budget.per = *per;
  reader.finish();
  if (!usd) reader.fail("usd", "required: the amount in US dollars, e.g. usd: 5.00");
  budget.usd = *usd;
  return budget;
}

}  // namespace

void read_models(NodeReader& root, Config& config) {
  auto entries = named_entries(root, "models", NameRule::AnyText);
  std::vector<std::string> group_names;
  for (const auto& entry : entries) group_names.push_back(entry.first);
  std::map<std::string, SourceMark> marks;

  for (auto& [name, reader] : entries) {
    ModelGroup group;
    group.name = name;
    group.mark = reader.mark();
    marks[name] = group.mark;
    if (auto strategy = reader.one_of("strategy", kStrategies)) group.strategy = *strategy;
    const YAML::Node targets = reader.raw("targets");
    auto fallbacks = reader.string_list("fallbacks", true);
    reader.finish();

    if (!targets.IsSequence() || targets.size() == 0) {
      reader.fail("targets",
                  "required: a non-empty list like [{provider: demo, model: mock-fast}]");
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      group.targets.push_back(read_target(reader, targets[i], i, config));
    }
    for (size_t i = 0; fallbacks && i < fallbacks->size(); ++i) {
      const std::string& next = (*fallbacks)[i];
      const SourceMark mark = item_mark(reader, "fallbacks", i);
      const std::string path = item_path(reader, "fallbacks", i);
      if (next == name) throw ConfigError(mark, path, "a model group cannot fall back to itself");
      if (std::find(group_names.begin(), group_names.end(), next) == group_names.end()) {
        throw ConfigError(mark, path,
                          "unknown model \"" + next + "\"" + unknown_name_hint(next, group_names));
      }
      if (std::find(group.fallbacks.begin(), group.fallbacks.end(), next) !=
          group.fallbacks.end()) {
        throw ConfigError(mark, path, "\"" + next + "\" is listed twice");
      }
      group.fallbacks.push_back(next);
    }
    config.models.emplace(name, std::move(group));
  }
  check_fallback_cycles(config, marks);
}

void read_agents(NodeReader& root, Config& config) {
  const std::vector<std::string> models = names_of(config.models);
  std::map<std::array<unsigned char, 32>, std::string> key_owners;
  for (auto& [name, reader] : named_entries(root, "agents", NameRule::Identifier)) {
    Agent agent;
    agent.name = name;
    read_agent_keys(reader, agent, key_owners);
    agent.models = read_allow_list(reader, "models", models, "model");  // absent = all
    agent.tools = read_tool_allow_list(reader, config);
    agent.limits = read_agent_limits(reader.child("limits"));
    const bool has_budget = reader.has("budget");
    NodeReader budget = reader.child("budget");
    if (has_budget) agent.budget = read_budget(budget);
    reader.finish();
    config.agents.emplace(name, std::move(agent));
  }
}

}  // namespace sluice::config::load
