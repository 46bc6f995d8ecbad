// load_config_file / load_config_text: YAML text → immutable Config (DESIGN §4).
// Order: parse → ${VAR} substitution over the whole document → top-level keys checked for
// typos first (so `provders:` is reported as a typo, not as "no providers") → each section →
// cross-references. Everything here may throw ConfigError; nothing here runs per request.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/config/load_steps.h"
#include "core/config/loader.h"
#include "core/config/redis_url.h"

namespace sluice::config {
namespace {

constexpr const char* kTopLevelKeys[] = {
    "listen",           "admin",  "admin_token", "workers", "drain_timeout", "limits", "providers",
    "default_provider", "models", "agents",      "filters", "plugins",       "tools",  "state",
    "access_log"};

HostPort host_port_at(NodeReader& reader, const YAML::Node& node, const std::string& path) {
  std::string error;
  if (!node.IsScalar()) {
    throw ConfigError(mark_of_node(node, reader.file()), path,
                      "expected host:port like 127.0.0.1:8080");
  }
  auto address = parse_host_port(node.Scalar(), error);
  if (!address) throw ConfigError(mark_of_node(node, reader.file()), path, error);
  return *address;
}

void read_listen(NodeReader& root, Config& config) {
  const YAML::Node listen = root.raw("listen");
  if (listen.IsScalar()) {
    config.listen.push_back(host_port_at(root, listen, "listen"));
  } else if (listen.IsSequence()) {
    for (size_t i = 0; i < listen.size(); ++i) {
      config.listen.push_back(host_port_at(root, listen[i], load::item_path(root, "listen", i)));
      for (size_t j = 0; j < i; ++j) {
        if (config.listen[j].to_string() == config.listen[i].to_string() && config.listen[i].port) {
          throw ConfigError(load::item_mark(root, "listen", i), load::item_path(root, "listen", i),
                            config.listen[i].to_string() + " is listed twice");
        }
      }
    }
  } else if (listen.IsMap()) {
    root.fail("listen", "expected host:port or a list of them, got a mapping");
  }
  if (config.listen.empty()) {
    root.fail("listen", "required: the address agents connect to, e.g. listen: 127.0.0.1:8080");
  }
}

void read_admin(NodeReader& root, Config& config) {
  if (root.has("admin")) {
    const YAML::Node admin = root.raw("admin");
    if (!admin.IsNull()) config.admin = host_port_at(root, admin, "admin");
  }
  config.admin_token = root.string("admin_token").value_or("");
  for (const HostPort& listen : config.listen) {
    if (listen.port != 0 && listen.to_string() == config.admin.to_string()) {
      root.fail("admin", "uses the same address as listen (" + listen.to_string() + ")");
    }
  }
}

void read_workers(NodeReader& root, Config& config) {
  const std::string text = root.string("workers").value_or("auto");
  if (text == "auto") {
    config.workers = std::max(1u, std::thread::hardware_concurrency());
    return;
  }
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || stop != end || value < 1 || value > 1024) {
    root.fail("workers",
              "expected auto or a number of worker loops from 1 to 1024, got \"" + text + "\"");
  }
  config.workers = value;
}

void read_limits(NodeReader& root, Config& config) {
  NodeReader limits = root.child("limits");
  Limits& l = config.limits;
  if (auto v = limits.size("max_request_body")) {
    if (*v == 0) limits.fail("max_request_body", "must be greater than 0");
    l.max_request_body = *v;
  }
  if (auto v = limits.size("max_header_bytes")) {
    if (*v < 1024 || *v > (1ull << 30)) {
      limits.fail("max_header_bytes", "must be from 1KiB to 1GiB");
    }
    l.max_header_bytes = static_cast<uint32_t>(*v);
  }
  if (auto v = limits.integer("max_headers", 1, 10'000)) l.max_headers = static_cast<uint32_t>(*v);
  if (auto v = load::positive_duration(limits, "header_timeout")) l.header_timeout = *v;
  if (auto v = load::positive_duration(limits, "idle_timeout")) l.idle_timeout = *v;
  if (auto v = limits.integer("max_connections", 1, 10'000'000)) {
    l.max_connections = static_cast<uint32_t>(*v);
  }
  limits.finish();
}

void read_default_provider(NodeReader& root, Config& config) {
  auto name = root.string("default_provider");
  if (!name || name->empty()) {  // "" (e.g. from ${VAR:-}) is the same as not set
    // With a single provider there is nothing to choose: requests that model_alias does not
    // resolve (or every request, without model_alias) go there.
    if (config.providers.size() == 1) config.default_provider = config.providers.begin()->first;
    return;
  }
  if (!config.providers.count(*name)) {
    std::vector<std::string> known;
    for (const auto& [n, p] : config.providers) known.push_back(n);
    root.fail("default_provider",
              "unknown provider \"" + *name + "\"" + load::unknown_name_hint(*name, known));
  }
  config.default_provider = *name;
}

void read_redis(NodeReader& state, Config& config) {
  NodeReader reader = state.child("redis");
  StateSettings::Redis redis;
  redis.url = reader.string("url").value_or("");
  redis.mark = reader.mark_of("url");
  if (redis.url.empty()) {
    reader.fail("url", "required: the Redis every sidecar shares, e.g. redis://127.0.0.1:6379/0");
  }
  std::string error;
  if (!parse_redis_url(redis.url, error)) reader.fail("url", error);
  if (auto prefix = reader.string("key_prefix")) redis.key_prefix = *prefix;
  if (auto v = load::positive_duration(reader, "timeout")) redis.timeout = *v;
  if (auto v = reader.one_of("on_failure", {"local", "deny"})) {
    redis.on_failure = *v == "deny" ? StateSettings::Redis::OnFailure::Deny
                                    : StateSettings::Redis::OnFailure::Local;
  }
  reader.finish();
  config.state.redis = std::move(redis);
}

void read_state(NodeReader& root, Config& config) {
  NodeReader state = root.child("state");
  if (auto ledger = state.string("ledger")) config.state.ledger = *ledger;
  if (auto v = load::positive_duration(state, "flush_interval")) config.state.flush_interval = *v;
  if (state.has("retention")) {
    if (state.string("retention") == "forever") {
      config.state.retention = Duration(0);
    } else if (auto v = load::positive_duration(state, "retention")) {
      if (*v < std::chrono::hours(1)) {
        state.fail("retention", "at least 1h (rows are rolled up by day), or `forever`");
      }
      config.state.retention = *v;
    }
  }
  if (state.has("redis")) read_redis(state, config);
  state.finish();
  if (!config.state.ledger.empty()) {
    config.state.ledger = load::resolve_path(config, config.state.ledger);
  }
}

constexpr uint64_t kMinRotateSize = 1024;

void read_access_log(NodeReader& root, Config& config) {
  NodeReader log = root.child("access_log");
  if (auto path = log.string("path")) config.access_log.path = *path;
  if (auto format = log.one_of("format", {"json"})) config.access_log.format = *format;
  // Size rotation (a file path only; read for stdout too, where it does nothing, so DESIGN's
  // `{path: stdout, max_size: 100MiB, keep: 5}` stays valid when the path changes).
  if (auto max_size = log.size("max_size")) {
    if (*max_size != 0 && *max_size < kMinRotateSize) {
      log.fail("max_size", "must be 0 (no size rotation) or at least 1KiB, got " +
                               std::to_string(*max_size) +
                               " bytes: smaller would rotate at almost every line");
    }
    config.access_log.max_size = *max_size;
  }
  if (auto keep = log.integer("keep", 0, AccessLogSettings::kMaxKeep)) {
    config.access_log.keep = static_cast<unsigned>(*keep);
  }
  log.finish();
  const std::string& path = config.access_log.path;
  if (!path.empty() && path != "stdout") {
    config.access_log.path = load::resolve_path(config, path);
  }
}

std::shared_ptr<const Config> build(YAML::Node document, const std::string& path,
                                    const EnvLookup& env) {
  auto config = std::make_shared<Config>();
  if (path.empty()) {  // text that came from no file: relative paths are relative to the cwd
    config->base_dir = std::filesystem::current_path().string();
  } else {
    const std::filesystem::path absolute = std::filesystem::absolute(path).lexically_normal();
    config->source_path = absolute.string();
    config->base_dir = absolute.parent_path().string();
  }

  load::substitute_env_in_document(document, env, path);
  NodeReader root(document, "", path);
  if (root.node().size() == 0) {
    root.fail_here(
        "the config is empty; it needs at least listen, providers (see conf/sluice.yaml)");
  }
  for (const char* key : kTopLevelKeys) root.raw(key);  // declares the schema's top level
  root.finish();

  read_listen(root, *config);
  read_admin(root, *config);
  read_workers(root, *config);
  if (auto v = root.duration("drain_timeout")) config->drain_timeout = *v;
  read_limits(root, *config);
  load::read_providers(root, *config, env);
  read_default_provider(root, *config);
  load::read_tools(root, *config);
  load::read_models(root, *config);
  load::read_agents(root, *config);
  load::read_filters(root, *config);
  load::check_budgets_have_cost_filter(root, *config);
  load::read_plugins(root, *config);
  read_state(root, *config);
  read_access_log(root, *config);
  config->raw = document;
  return config;
}

}  // namespace

std::shared_ptr<const Config> load_config_text(const std::string& text, const std::string& path,
                                               const EnvLookup& env) {
  YAML::Node document;
  try {
    document = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    SourceMark mark{path, e.mark.is_null() ? 0 : e.mark.line + 1,
                    e.mark.is_null() ? 0 : e.mark.column + 1};
    throw ConfigError(mark, "", "invalid YAML: " + e.msg);
  }
  return build(document, path, env);
}

std::shared_ptr<const Config> load_config_file(const std::string& path, const EnvLookup& env) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw ConfigError(SourceMark{path, 0, 0}, "", "cannot read the config file: it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(SourceMark{path, 0, 0}, "",
                      std::string("cannot read the config file: ") + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw ConfigError(SourceMark{path, 0, 0}, "",
                      std::string("cannot read the config file: ") + std::strerror(errno));
  }
  return load_config_text(text.str(), path, env);
}

}  // namespace sluice::config
