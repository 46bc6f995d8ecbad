// providers.*: the physical upstreams (DESIGN §4). Built in: `openai` (any OpenAI-compatible
// API) and `mock` (in-process, offline). Any other type is a provider type a plugin registers
// (`anthropic` is plugins/anthropic): which plugin has it is known only once the plugins are
// loaded, so the snapshot build resolves it (core/filter/snapshot.cc) and refuses an unknown
// one there, at this entry's position. For such a type base_url may be left to the plugin's
// default, and `config:` is the plugin's own (handed to it as JSON).
#include <algorithm>
#include <string>

#include "core/config/load_steps.h"
#include "core/config/proxy_url.h"
#include "core/config/yaml_json.h"
#include "core/http/request.h"

namespace sluice::config::load {
namespace {

const std::vector<std::string> kBuiltinTypes = {"openai", "mock"};

void read_timeouts(NodeReader& provider, UpstreamTimeouts& out) {
  NodeReader timeouts = provider.child("timeouts");
  if (auto v = positive_duration(timeouts, "connect")) out.connect = *v;
  if (auto v = positive_duration(timeouts, "first_byte")) out.first_byte = *v;
  if (auto v = positive_duration(timeouts, "idle")) out.idle = *v;
  if (auto v = positive_duration(timeouts, "total")) out.total = *v;
  timeouts.finish();
}

HealthCheck read_health_check(NodeReader reader) {
  HealthCheck check;
  if (auto path = reader.string("path")) {
    if (path->empty() || path->front() != '/') reader.fail("path", "must start with '/'");
    check.path = *path;
  }
  if (auto v = positive_duration(reader, "interval")) check.interval = *v;
  if (auto v = positive_duration(reader, "timeout")) check.timeout = *v;
  if (auto v = reader.integer("unhealthy_after", 1, 1000))
    check.unhealthy_after = static_cast<uint32_t>(*v);
  if (auto v = reader.integer("healthy_after", 1, 1000))
    check.healthy_after = static_cast<uint32_t>(*v);
  if (auto v = positive_duration(reader, "slow_after")) check.slow_after = *v;
  reader.finish();
  return check;
}

CircuitBreakerSettings read_circuit_breaker(NodeReader reader) {
  CircuitBreakerSettings breaker;
  if (auto v = reader.integer("max_concurrent", 1, 1'000'000)) {
    breaker.max_concurrent = static_cast<uint32_t>(*v);
  }
  if (auto v = reader.integer("consecutive_failures", 1, 1000)) {
    breaker.consecutive_failures = static_cast<uint32_t>(*v);
  }
  if (auto v = positive_duration(reader, "open_for")) breaker.open_for = *v;
  if (auto v = positive_duration(reader, "max_open_for")) breaker.max_open_for = *v;
  reader.finish();
  if (breaker.max_open_for < breaker.open_for) {
    reader.fail("max_open_for", "must not be shorter than open_for");
  }
  return breaker;
}

MockSettings read_mock(NodeReader reader) {
  MockSettings mock;
  if (auto mode = reader.one_of("mode", {"echo", "canned"})) {
    mock.mode = *mode == "echo" ? MockSettings::Mode::Echo : MockSettings::Mode::Canned;
  }
  if (auto reply = reader.string("reply")) mock.reply = *reply;
  if (auto v = reader.duration("latency")) mock.latency = *v;
  if (auto v = reader.duration("chunk_delay")) mock.chunk_delay = *v;
  if (auto v = reader.integer("stream_chunks", 0, 100'000))
    mock.stream_chunks = static_cast<uint32_t>(*v);
  reader.finish();
  return mock;
}

void apply_env_proxy(NodeReader& reader, Provider& provider, const EnvLookup& env) {
  std::string error;
  provider.proxy = environment_proxy(provider.url, env, error);
  if (!error.empty()) reader.fail_here(error);
}

Provider read_provider(const std::string& name, NodeReader& reader, const Config& config,
                       const EnvLookup& env) {
  Provider provider;
  provider.name = name;
  provider.mark = reader.mark();
  auto type = reader.string("type");
  auto base_url = reader.string("base_url");
  provider.api_key = reader.string("api_key").value_or("");
  provider.headers = read_headers(reader);
  read_timeouts(reader, provider.timeouts);
  if (auto v = reader.integer("max_connections", 1, 1'000'000)) {
    provider.max_connections = static_cast<uint32_t>(*v);
  }
  const bool has_health_check = reader.has("health_check");
  NodeReader health_check = reader.child("health_check");
  if (has_health_check) provider.health_check = read_health_check(health_check);
  provider.circuit_breaker = read_circuit_breaker(reader.child("circuit_breaker"));
  provider.tls_verify = reader.boolean("tls_verify").value_or(true);
  const bool has_tls = reader.has("tls");
  provider.tls = read_provider_tls(reader.child("tls"), config);
  const bool has_proxy = reader.has("proxy");
  provider.proxy_from_env = !has_proxy;
  auto proxy = reader.string("proxy");
  const bool has_mock = reader.has("mock");
  provider.mock = read_mock(reader.child("mock"));
  const bool has_config = reader.has("config");
  if (has_config) {
    provider.config = reader.child("config").node();
    provider.config_mark = reader.mark_of("config");
    provider.config_json = yaml_to_json(provider.config);
  }
  reader.finish();

  if (!type || type->empty()) {
    reader.fail("type", "required: openai, mock, or a type a plugin registers (anthropic, ...)");
  }
  provider.type = *type;
  if (!follows(provider.type, NameRule::Identifier)) {
    reader.fail("type", "\"" + provider.type + "\" is not a type name (letters, digits, _ and -)");
  }
  const bool builtin =
      std::find(kBuiltinTypes.begin(), kBuiltinTypes.end(), *type) != kBuiltinTypes.end();
  if (has_mock && provider.type != "mock") {
    reader.fail("mock", "only applies to providers of type: mock");
  }
  if (has_config && builtin) {
    reader.fail("config", "only applies to provider types a plugin registers");
  }
  if (provider.type == "mock" && (has_tls || has_proxy)) {
    reader.fail(has_tls ? "tls" : "proxy", "does not apply to providers of type: mock");
  }
  if (proxy && !proxy->empty()) {
    std::string error;
    provider.proxy = parse_proxy_url(*proxy, error);
    if (!provider.proxy) reader.fail("proxy", error);
  }
  if (provider.type == "mock") {
    if (base_url) provider.base_url = *base_url;  // kept as written; the mock runs in-process
    return provider;
  }
  if (!base_url || base_url->empty()) {
    // A plugin's type may have a default (the snapshot applies it); openai has none.
    if (provider.type == "openai") {
      reader.fail("base_url", "required for type openai, e.g. https://api.openai.com/v1");
    }
    return provider;
  }
  std::string error;
  auto url = parse_url(*base_url, error);
  if (!url) reader.fail("base_url", error);
  provider.base_url = *base_url;
  provider.url = *url;
  if (has_tls && !provider.url.tls) reader.fail("tls", "only applies to an https base_url");
  // No `proxy` key: the environment decides (an explicit `proxy: ""` means direct).
  if (!has_proxy) apply_env_proxy(reader, provider, env);
  return provider;
}

}  // namespace

void read_providers(NodeReader& root, Config& config, const EnvLookup& env) {
  for (auto& [name, reader] : named_entries(root, "providers", NameRule::Identifier)) {
    config.providers.emplace(name, read_provider(name, reader, config, env));
  }
  if (config.providers.empty()) {
    root.fail("providers", "required: at least one provider (e.g. demo: {type: mock})");
  }
}

}  // namespace sluice::config::load
