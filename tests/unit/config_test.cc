// The config loader as a user meets it: a file goes in, and either a Config with the values
// (and defaults) of DESIGN §4 comes out, or one error line that says file:line:column, the key
// path, and what is wrong.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/config/loader.h"

namespace sluice::config {
namespace {

using namespace std::chrono_literals;

const char* const kFile = "conf/test.yaml";

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::shared_ptr<const Config> load(const std::string& text, EnvLookup env = env_of({})) {
  return load_config_text(text, kFile, env);
}

// The error line a user would see; empty (and a test failure) if the load succeeded.
std::string error_of(const std::string& text, EnvLookup env = env_of({})) {
  try {
    load_config_text(text, kFile, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return "";
}

std::filesystem::path source_dir() {
  // tests/unit/config_test.cc → the repository root.
  // absolute(): a compiler cache may make __FILE__ relative to the build directory, where the
  // tests run.
  return std::filesystem::absolute(__FILE__).parent_path().parent_path().parent_path();
}

const std::string kMinimal = R"(listen: 127.0.0.1:0
providers:
  demo: {type: mock}
models:
  fast:
    targets: [{provider: demo, model: mock-fast}]
filters: []
)";
// The same, for tests that append their own filters: (a key may appear only once).
const std::string kMinimalNoFilters = kMinimal.substr(0, kMinimal.find("filters:"));

TEST(ConfigLoad, MinimalConfigIsValidWithDefaults) {
  auto config = load(kMinimal);
  ASSERT_EQ(config->listen.size(), 1u);
  EXPECT_EQ(config->listen[0].host, "127.0.0.1");
  EXPECT_EQ(config->listen[0].port, 0);  // port 0: the kernel picks one (tests rely on it)
  EXPECT_EQ(config->admin.to_string(), "127.0.0.1:9901");
  EXPECT_EQ(config->admin_token, "");
  EXPECT_GE(config->workers, 1u);
  EXPECT_EQ(config->drain_timeout, 30s);
  EXPECT_EQ(config->limits.max_request_body, 32u << 20);
  EXPECT_EQ(config->limits.max_header_bytes, 64u << 10);
  EXPECT_EQ(config->limits.max_headers, 100u);
  EXPECT_EQ(config->limits.header_timeout, 10s);
  EXPECT_EQ(config->limits.idle_timeout, 60s);
  EXPECT_EQ(config->limits.max_connections, 10000u);

  ASSERT_EQ(config->providers.count("demo"), 1u);
  const Provider& demo = config->providers.at("demo");
  EXPECT_EQ(demo.type, "mock");
  EXPECT_EQ(demo.mock.mode, MockSettings::Mode::Echo);
  EXPECT_TRUE(demo.tls_verify);
  EXPECT_FALSE(demo.health_check.has_value());
  EXPECT_EQ(demo.timeouts.connect, 2s);
  EXPECT_EQ(demo.timeouts.first_byte, 60s);
  EXPECT_EQ(demo.timeouts.idle, 30s);
  EXPECT_EQ(demo.timeouts.total, 10min);
  EXPECT_EQ(demo.max_connections, 256u);
  EXPECT_EQ(demo.mark.line, 3);

  // One provider and no default_provider: that provider is the default.
  EXPECT_EQ(config->default_provider, "demo");

  ASSERT_EQ(config->models.count("fast"), 1u);
  const ModelGroup& fast = config->models.at("fast");
  EXPECT_EQ(fast.strategy, "priority");
  ASSERT_EQ(fast.targets.size(), 1u);
  EXPECT_EQ(fast.targets[0].provider, "demo");
  EXPECT_EQ(fast.targets[0].model, "mock-fast");
  EXPECT_EQ(fast.targets[0].weight, 1u);
  EXPECT_TRUE(fast.fallbacks.empty());

  EXPECT_TRUE(config->agents.empty());
  EXPECT_TRUE(config->filters.empty());
  EXPECT_TRUE(config->plugins.empty());
  EXPECT_TRUE(config->tools.empty());
  EXPECT_EQ(config->access_log.path, "stdout");
  EXPECT_EQ(config->access_log.format, "json");
  EXPECT_EQ(config->state.flush_interval, 50ms);

  const std::filesystem::path source(config->source_path);
  EXPECT_TRUE(source.is_absolute());
  EXPECT_EQ(source.filename(), "test.yaml");
  EXPECT_EQ(config->base_dir, source.parent_path().string());
  EXPECT_EQ(config->state.ledger, (source.parent_path() / "sluice-ledger.db").string());
  EXPECT_TRUE(config->raw.IsMap());
}

TEST(ConfigLoad, FullExampleLoads) {
  const auto path = source_dir() / "conf/examples/full.yaml";
  auto config = load_config_file(
      path.string(), env_of({{"OPENAI_API_KEY", "sk-test-openai"}, {"SOFIA_KEY", "sk-sofia"}}));

  ASSERT_EQ(config->listen.size(), 2u);
  EXPECT_EQ(config->listen[0].to_string(), "127.0.0.1:8080");
  EXPECT_EQ(config->listen[1].host, "::1");
  EXPECT_EQ(config->listen[1].to_string(), "[::1]:8080");
  EXPECT_EQ(config->drain_timeout, 30s);

  const Provider& openai = config->providers.at("openai");
  EXPECT_EQ(openai.type, "openai");
  EXPECT_EQ(openai.api_key, "sk-test-openai");
  EXPECT_EQ(openai.base_url, "https://api.openai.com/v1");
  EXPECT_TRUE(openai.url.tls);
  EXPECT_EQ(openai.url.host, "api.openai.com");
  EXPECT_EQ(openai.url.port, 443);
  EXPECT_EQ(openai.url.path_prefix, "/v1");
  EXPECT_EQ(openai.url.host_header, "api.openai.com");
  ASSERT_EQ(openai.headers.size(), 1u);
  EXPECT_EQ(openai.headers[0].first, "OpenAI-Organization");
  EXPECT_EQ(openai.headers[0].second, "org-123");
  EXPECT_EQ(openai.timeouts.total, 10min);
  ASSERT_TRUE(openai.health_check.has_value());
  EXPECT_EQ(openai.health_check->path, "/models");
  EXPECT_EQ(openai.health_check->slow_after, 2s);
  EXPECT_EQ(openai.circuit_breaker.max_open_for, 5min);

  const Provider& local = config->providers.at("local");
  EXPECT_FALSE(local.url.tls);
  EXPECT_EQ(local.url.port, 11434);
  EXPECT_EQ(local.url.host_header, "127.0.0.1:11434");
  EXPECT_EQ(local.timeouts.first_byte, 120s);
  EXPECT_EQ(local.timeouts.connect, 2s);  // the rest keep their defaults

  const Provider& demo = config->providers.at("demo");
  EXPECT_EQ(demo.mock.mode, MockSettings::Mode::Canned);
  EXPECT_EQ(demo.mock.reply, "This is a canned answer.");
  EXPECT_EQ(demo.mock.latency, 20ms);
  EXPECT_EQ(demo.mock.chunk_delay, 5ms);
  EXPECT_EQ(demo.mock.stream_chunks, 4u);

  EXPECT_EQ(config->default_provider, "openai");
  EXPECT_EQ(config->models.at("quality").strategy, "latency");
  EXPECT_EQ(config->models.at("quality").targets[0].weight, 2u);
  EXPECT_EQ(config->models.at("quality").fallbacks, std::vector<std::string>{"fast"});
  EXPECT_EQ(config->models.at("fast").targets[0].model, "qwen3:8b");

  const Agent& sofia = config->agents.at("sofia");
  ASSERT_EQ(sofia.keys.size(), 2u);
  EXPECT_EQ(sofia.keys[0].bytes, digest_of("sk-sofia").bytes);
  EXPECT_EQ(sofia.keys[1].bytes, digest_of("abc").bytes);
  ASSERT_TRUE(sofia.models.has_value());
  EXPECT_EQ(*sofia.models, (std::vector<std::string>{"fast", "quality", "embed"}));
  EXPECT_EQ(sofia.tools,
            (std::vector<std::string>{"projects.list", "github.*", "text.shout", "memory.*"}));
  EXPECT_EQ(sofia.limits.rpm, 60u);
  EXPECT_EQ(sofia.limits.tpm, 200000u);
  EXPECT_EQ(sofia.limits.concurrent, 4u);
  ASSERT_TRUE(sofia.budget.has_value());
  EXPECT_DOUBLE_EQ(sofia.budget->usd, 5.0);
  EXPECT_EQ(sofia.budget->per, "day");
  EXPECT_FALSE(config->agents.at("ci").models.has_value());  // omitted = all
  EXPECT_EQ(config->agents.at("ci").keys[0].bytes, digest_of("sk-ci-local").bytes);

  std::vector<std::string> chain;
  for (const FilterSpec& f : config->filters) chain.push_back(f.type);
  EXPECT_EQ(chain, (std::vector<std::string>{"auth", "rate_limit", "model_alias", "circuit_breaker",
                                             "cost", "retry"}));
  EXPECT_EQ(config->filters[5].key_path, "filters[5].retry");
  EXPECT_EQ(config->filters[5].config["attempts"].as<int>(), 3);
  EXPECT_GT(config->filters[0].mark.line, 0);

  const std::filesystem::path dir = path.parent_path();
  EXPECT_EQ(config->plugins.at("anthropic").file,
            (dir / "../../build/plugins/libsluice_anthropic.so").lexically_normal().string());
  const ToolSpec& tool = config->tools.at("projects.list");
  EXPECT_EQ(tool.type, "http");
  EXPECT_EQ(tool.method, "POST");
  EXPECT_EQ(tool.timeout, 5s);
  EXPECT_EQ(tool.input_schema_json.rfind("{\"type\":\"object\"", 0), 0u) << tool.input_schema_json;
  EXPECT_GT(tool.mark.line, 0);
  // ${VAR:-default} in a tool's header: the example validates without the variable.
  ASSERT_EQ(tool.headers.size(), 1u);
  EXPECT_EQ(tool.headers[0].second, "Bearer dev-projects-token");
  const ToolSpec& github = config->tools.at("github");
  EXPECT_EQ(github.type, "mcp");
  EXPECT_EQ(github.url, "http://127.0.0.1:7020/mcp");
  EXPECT_EQ(github.timeout, 30s);
  EXPECT_EQ(github.max_response, uint64_t{4} << 20);
  const ToolSpec& shout = config->tools.at("text.shout");
  EXPECT_EQ(shout.type, "lua");
  EXPECT_EQ(shout.max_memory, std::optional<uint64_t>(uint64_t{16} << 20));
  EXPECT_EQ(config->tools.at("memory.store").plugin, "memory");
  EXPECT_EQ(config->tools.at("memory.query").plugin, "memory");
  EXPECT_EQ(config->state.ledger, (dir / "sluice-ledger.db").lexically_normal().string());
  EXPECT_EQ(config->access_log.path, "stdout");

  // raw keeps the substituted document (the admin server redacts it, not the loader).
  EXPECT_EQ(config->raw["providers"]["openai"]["api_key"].as<std::string>(), "sk-test-openai");
}

TEST(ConfigLoad, DefaultConfigLoadsOfflineAsIs) {
  auto config = load_config_file((source_dir() / "conf/sluice.yaml").string(), env_of({}));
  EXPECT_EQ(config->listen[0].to_string(), "127.0.0.1:8080");
  EXPECT_EQ(config->admin.to_string(), "127.0.0.1:9901");
  EXPECT_EQ(config->admin_token, "");
  EXPECT_EQ(config->providers.at("demo").type, "mock");
  EXPECT_EQ(config->default_provider, "demo");
  EXPECT_EQ(config->models.at("fast").targets[0].model, "mock-fast");
  EXPECT_EQ(config->models.at("quality").targets[0].model, "mock-quality");
  EXPECT_EQ(config->agents.at("demo").keys[0].bytes, digest_of("sk-sluice-demo").bytes);
  // The DESIGN order of the chain: a Lua policy (keyword_guard) right after auth; cost admits
  // right after the model is resolved.
  ASSERT_EQ(config->filters.size(), 7u);
  EXPECT_EQ(config->filters[0].type, "auth");
  EXPECT_EQ(config->filters[1].type, "lua");
  EXPECT_EQ(config->filters[2].type, "rate_limit");
  EXPECT_EQ(config->filters[3].type, "model_alias");
  EXPECT_EQ(config->filters[4].type, "cost");
  EXPECT_EQ(config->filters[5].type, "circuit_breaker");
  EXPECT_EQ(config->filters[6].type, "retry");
  ASSERT_TRUE(config->agents.at("demo").limits.rpm.has_value());
  EXPECT_EQ(*config->agents.at("demo").limits.rpm, 600u);
  ASSERT_TRUE(config->agents.at("demo").budget.has_value());
  EXPECT_EQ(config->agents.at("demo").budget->usd, 5.0);
  EXPECT_EQ(config->agents.at("demo").budget->per, "day");
  EXPECT_TRUE(config->state.ledger.ends_with("/conf/sluice-ledger.db")) << config->state.ledger;
  EXPECT_EQ(config->access_log.path, "stdout");
}

TEST(ConfigLoad, DefaultConfigTakesTheDemoKeyFromTheEnvironment) {
  auto config =
      load_config_file((source_dir() / "conf/sluice.yaml").string(),
                       env_of({{"SLUICE_DEMO_KEY", "sk-mine"}, {"SLUICE_ADMIN_TOKEN", "t0k"}}));
  EXPECT_EQ(config->agents.at("demo").keys[0].bytes, digest_of("sk-mine").bytes);
  EXPECT_EQ(config->admin_token, "t0k");
}

// ---- errors: every class names file:line:column and the key path ------------------------

TEST(ConfigErrors, UnknownKeySuggestsTheClosestKnownKey) {
  EXPECT_EQ(error_of(R"(listen: 127.0.0.1:0
providers:
  demo:
    type: openai
    base_url: http://127.0.0.1:9/v1
    timeouts: {conect: 2s}
)"),
            "conf/test.yaml:6:16: providers.demo.timeouts.conect: unknown key \"conect\" "
            "(did you mean \"connect\"?)");
}

TEST(ConfigErrors, UnknownTopLevelKeyIsReportedBeforeWhatItsAbsenceWouldCause) {
  EXPECT_EQ(error_of("listen: 127.0.0.1:0\nprovders:\n  demo: {type: mock}\n"),
            "conf/test.yaml:2:1: provders: unknown key \"provders\" (did you mean \"providers\"?)");
}

TEST(ConfigErrors, UnknownKeyWithoutAPlausibleSuggestionListsTheValidOnes) {
  EXPECT_EQ(error_of(kMinimal + "access_log: {path: stdout, colour: red}\n"),
            "conf/test.yaml:8:28: access_log.colour: unknown key \"colour\" (expected one of: "
            "format, keep, max_size, path)");
}

TEST(ConfigValues, AccessLogRotationDefaultsFollowTheDesign) {
  // DESIGN §4: {path: stdout, format: json, max_size: 100MiB, keep: 5}.
  auto config = load(kMinimal + "access_log: {path: /var/log/sluice/access.log}\n");
  EXPECT_EQ(config->access_log.max_size, uint64_t{100} * 1024 * 1024);
  EXPECT_EQ(config->access_log.keep, 5u);
  // The design's own example line (stdout, where rotation does nothing) is valid as written.
  config = load(kMinimal + "access_log: {path: stdout, format: json, max_size: 100MiB, keep: 5}\n");
  EXPECT_EQ(config->access_log.path, "stdout");
  EXPECT_EQ(config->access_log.max_size, uint64_t{100} * 1024 * 1024);
}

TEST(ConfigValues, AccessLogRotationSettings) {
  auto config = load(kMinimal + "access_log: {path: /tmp/a.log, max_size: 2KiB, keep: 3}\n");
  EXPECT_EQ(config->access_log.max_size, 2048u);
  EXPECT_EQ(config->access_log.keep, 3u);
  config = load(kMinimal + "access_log: {path: /tmp/a.log, max_size: 0, keep: 0}\n");
  EXPECT_EQ(config->access_log.max_size, 0u);  // 0: size rotation off
  EXPECT_EQ(config->access_log.keep, 0u);
  config = load(kMinimal + "access_log: {path: /tmp/a.log, keep: 1000}\n");
  EXPECT_EQ(config->access_log.keep, 1000u);
}

TEST(ConfigErrors, AccessLogRotationErrorsNameTheKey) {
  EXPECT_EQ(error_of(kMinimal + "access_log: {path: /tmp/a.log, keep: 1001}\n"),
            "conf/test.yaml:8:38: access_log.keep: must be from 0 to 1000, got 1001");
  EXPECT_EQ(error_of(kMinimal + "access_log: {path: /tmp/a.log, keep: -1}\n"),
            "conf/test.yaml:8:38: access_log.keep: must be from 0 to 1000, got -1");
  EXPECT_EQ(error_of(kMinimal + "access_log: {path: /tmp/a.log, max_size: lots}\n"),
            "conf/test.yaml:8:42: access_log.max_size: expected a size like 64KiB, 32MiB, 1GiB "
            "(units: B, KiB, MiB, GiB, KB, MB, GB), got \"lots\"");
  EXPECT_EQ(error_of(kMinimal + "access_log: {path: /tmp/a.log, max_size: 100}\n"),
            "conf/test.yaml:8:42: access_log.max_size: must be 0 (no size rotation) or at least "
            "1KiB, got 100 bytes: smaller would rotate at almost every line");
  EXPECT_EQ(error_of(kMinimal + "access_log: {path: /tmp/a.log, max_sise: 1MiB}\n"),
            "conf/test.yaml:8:32: access_log.max_sise: unknown key \"max_sise\" (did you mean "
            "\"max_size\"?)");
  EXPECT_EQ(error_of(kMinimal + "access_log: {path: /tmp/a.log, keeep: 2}\n"),
            "conf/test.yaml:8:32: access_log.keeep: unknown key \"keeep\" (did you mean "
            "\"keep\"?)");
}

TEST(ConfigErrors, BadDuration) {
  EXPECT_EQ(error_of(kMinimal + "limits:\n  header_timeout: 10\n"),
            "conf/test.yaml:9:19: limits.header_timeout: expected a duration like 250ms, 2s, 1m "
            "(units: ms, s, m, h, d), got \"10\"");
}

TEST(ConfigErrors, BadSize) {
  EXPECT_EQ(error_of(kMinimal + "limits: {max_request_body: 32M}\n"),
            "conf/test.yaml:8:28: limits.max_request_body: expected a size like 64KiB, 32MiB, 1GiB "
            "(units: B, KiB, MiB, GiB, KB, MB, GB), got \"32M\"");
}

TEST(ConfigErrors, UnsetEnvironmentVariableNamesKeyAndVariable) {
  const std::string text = R"(listen: 127.0.0.1:0
providers:
  openai:
    type: openai
    base_url: https://api.openai.com/v1
    api_key: ${OPENAI_API_KEY}
)";
  EXPECT_EQ(error_of(text),
            "conf/test.yaml:6:14: providers.openai.api_key: environment variable OPENAI_API_KEY is "
            "not set (set it, or write ${OPENAI_API_KEY:-default} to give a default)");
  EXPECT_EQ(load(text, env_of({{"OPENAI_API_KEY", "sk-1"}}))->providers.at("openai").api_key,
            "sk-1");
}

TEST(ConfigErrors, UnknownProviderInTarget) {
  EXPECT_EQ(error_of(R"(listen: 127.0.0.1:0
providers:
  demo: {type: mock}
models:
  fast:
    targets:
      - {provider: demo, model: a}
      - {provider: dmeo, model: b}
)"),
            "conf/test.yaml:8:20: models.fast.targets[1].provider: unknown provider \"dmeo\" "
            "(did you mean \"demo\"?)");
}

TEST(ConfigErrors, BadStrategy) {
  EXPECT_EQ(error_of(R"(listen: 127.0.0.1:0
providers:
  demo: {type: mock}
models:
  fast:
    strategy: fastest
    targets: [{provider: demo, model: a}]
)"),
            "conf/test.yaml:6:15: models.fast.strategy: expected one of priority, weighted, "
            "least_busy, latency, got \"fastest\"");
}

TEST(ConfigErrors, BadBaseUrl) {
  EXPECT_EQ(error_of(R"(listen: 127.0.0.1:0
providers:
  up:
    type: openai
    base_url: ftp://example.com/v1
)"),
            "conf/test.yaml:5:15: providers.up.base_url: expected a URL like "
            "https://api.openai.com/v1, got \"ftp://example.com/v1\": the scheme must be http or "
            "https");
}

TEST(ConfigErrors, BadKeyDigest) {
  EXPECT_EQ(error_of(kMinimal + "agents:\n  bob:\n    keys: [\"sha256:abc\"]\n"),
            "conf/test.yaml:10:12: agents.bob.keys[0]: bad key digest: expected \"sha256:\" and 64 "
            "hex digits, as printed by `sluice hash-key`");
}

TEST(ConfigErrors, EmptyAgentKey) {
  EXPECT_EQ(error_of(kMinimal + "agents:\n  bob:\n    keys: [\"${BOB_KEY:-}\"]\n"),
            "conf/test.yaml:10:12: agents.bob.keys[0]: empty key (if it comes from ${VAR}, that "
            "variable is set but empty)");
}

TEST(ConfigErrors, InvalidYamlShowsWhere) {
  const std::string message = error_of("listen: [127.0.0.1:0\nproviders: {}\n");
  EXPECT_EQ(message.rfind("conf/test.yaml:", 0), 0u) << message;
  EXPECT_NE(message.find("invalid YAML"), std::string::npos) << message;
}

TEST(ConfigErrors, ProviderTypeIsRequiredAndANameAtLoad) {
  // Which plugin registers a type is known once plugins load (the snapshot build): the loader
  // only checks that there is one and that it is a name.
  EXPECT_EQ(error_of("listen: 127.0.0.1:0\nproviders:\n  g: {base_url: http://x/v1}\n"),
            "conf/test.yaml:3:6: providers.g.type: required: openai, mock, or a type a plugin "
            "registers (anthropic, ...)");
  EXPECT_EQ(error_of("listen: 127.0.0.1:0\nproviders:\n  g: {type: \"a b\"}\n"),
            "conf/test.yaml:3:13: providers.g.type: \"a b\" is not a type name (letters, "
            "digits, _ and -)");
}

TEST(ConfigLoad, APluginTypeMayLeaveBaseUrlToThePluginAndHasItsOwnConfig) {
  auto config = load(R"(listen: 127.0.0.1:0
providers:
  claude:
    type: anthropic
    api_key: sk-ant-test
    health_check: {}
    circuit_breaker: {consecutive_failures: 2}
    timeouts: {first_byte: 5s}
    config: {max_tokens: 1024, beta: "x,y"}
)");
  const Provider& claude = config->providers.at("claude");
  EXPECT_EQ(claude.type, "anthropic");
  EXPECT_EQ(claude.base_url, "");  // the plugin's default, applied by the snapshot
  EXPECT_EQ(claude.api_key, "sk-ant-test");
  EXPECT_EQ(claude.config_json, R"({"max_tokens":1024,"beta":"x,y"})");
  ASSERT_TRUE(claude.health_check.has_value());
  EXPECT_EQ(claude.circuit_breaker.consecutive_failures, 2u);
  EXPECT_EQ(claude.timeouts.first_byte, 5000ms);

  config = load(R"(listen: 127.0.0.1:0
providers:
  claude: {type: anthropic, base_url: "http://127.0.0.1:9/v1"}
)");
  EXPECT_EQ(config->providers.at("claude").url.host_header, "127.0.0.1:9");
  EXPECT_EQ(config->providers.at("claude").config_json, "null");
}

TEST(ConfigErrors, ABuiltInTypeTakesNoPluginConfig) {
  EXPECT_EQ(error_of("listen: 127.0.0.1:0\nproviders:\n  up:\n    type: openai\n"
                     "    base_url: http://x/v1\n    config: {a: 1}\n"),
            "conf/test.yaml:6:13: providers.up.config: only applies to provider types a plugin "
            "registers");
}

TEST(ConfigErrors, AnthropicProviderTakesNoMockSettings) {
  EXPECT_EQ(error_of("listen: 127.0.0.1:0\nproviders:\n  c:\n    type: anthropic\n"
                     "    mock: {reply: hi}\n"),
            "conf/test.yaml:5:11: providers.c.mock: only applies to providers of type: mock");
}

TEST(ConfigErrors, OpenAIProviderNeedsBaseUrl) {
  EXPECT_EQ(error_of("listen: 127.0.0.1:0\nproviders:\n  up:\n    type: openai\n"),
            "conf/test.yaml:4:5: providers.up.base_url: required for type openai, e.g. "
            "https://api.openai.com/v1");
}

TEST(ConfigErrors, ListenIsRequiredAndParsed) {
  EXPECT_EQ(error_of("providers:\n  demo: {type: mock}\n"),
            "conf/test.yaml:1:1: listen: required: the address agents connect to, e.g. listen: "
            "127.0.0.1:8080");
  EXPECT_EQ(error_of("listen: [127.0.0.1:0, ::1:80]\nproviders:\n  demo: {type: mock}\n"),
            "conf/test.yaml:1:23: listen[1]: expected host:port like 127.0.0.1:8080 or [::1]:8080, "
            "got \"::1:80\": IPv6 addresses need brackets, e.g. [::1]:8080");
  EXPECT_EQ(error_of("listen: localhost\nproviders:\n  demo: {type: mock}\n"),
            "conf/test.yaml:1:9: listen: expected host:port like 127.0.0.1:8080 or [::1]:8080, got "
            "\"localhost\": the port is missing");
}

TEST(ConfigErrors, FallbacksMustNameOtherExistingModels) {
  const std::string head = R"(listen: 127.0.0.1:0
providers:
  demo: {type: mock}
models:
  a:
    targets: [{provider: demo, model: x}]
)";
  EXPECT_EQ(error_of(head + "    fallbacks: [b]\n"),
            "conf/test.yaml:7:17: models.a.fallbacks[0]: unknown model \"b\" (defined: a)");
  EXPECT_EQ(error_of(head + "    fallbacks: [a]\n"),
            "conf/test.yaml:7:17: models.a.fallbacks[0]: a model group cannot fall back to itself");
  EXPECT_EQ(error_of(head + "    fallbacks: [b]\n  b:\n    targets: [{provider: demo, model: y}]\n"
                            "    fallbacks: [a]\n"),
            "conf/test.yaml:6:5: models.a.fallbacks: fallback cycle: a → b → a");
}

TEST(ConfigErrors, AgentModelsMustExist) {
  EXPECT_EQ(error_of(kMinimal + "agents:\n  bob:\n    models: [fast, slow]\n"),
            "conf/test.yaml:10:20: agents.bob.models[1]: unknown model \"slow\" (defined: fast)");
}

TEST(ConfigErrors, DefaultProviderMustExist) {
  EXPECT_EQ(error_of(kMinimal + "default_provider: demp\n"),
            "conf/test.yaml:8:19: default_provider: unknown provider \"demp\" (did you mean "
            "\"demo\"?)");
}

TEST(ConfigErrors, TheSameKeyCannotBelongToTwoAgents) {
  EXPECT_EQ(error_of(kMinimal + "agents:\n  a: {keys: [k1]}\n  b: {keys: [k1]}\n"),
            "conf/test.yaml:10:14: agents.b.keys[0]: this key is already a key of agent \"a\"");
}

TEST(ConfigErrors, FilterEntriesAreSingleKeyMaps) {
  EXPECT_EQ(
      error_of(kMinimalNoFilters + "filters:\n  - auth: {modes: [api_key]}\n  - model_alias\n"),
      "conf/test.yaml:9:5: filters[1]: each filter is a mapping with one key, its type, e.g. "
      "\"- auth: {modes: [api_key]}\" or \"- model_alias: {}\"; got \"model_alias\" (did you "
      "mean \"- model_alias: {}\"?)");
}

TEST(ConfigErrors, DuplicateKey) {
  EXPECT_EQ(error_of(kMinimal + "workers: 2\nworkers: 3\n"),
            "conf/test.yaml:9:1: workers: duplicate key \"workers\"");
}

TEST(ConfigErrors, IntegerRange) {
  EXPECT_EQ(error_of(kMinimal + "limits: {max_headers: 0}\n"),
            "conf/test.yaml:8:23: limits.max_headers: must be from 1 to 10000, got 0");
  EXPECT_EQ(error_of(kMinimal + "workers: many\n"),
            "conf/test.yaml:8:10: workers: expected auto or a number of worker loops from 1 to "
            "1024, got \"many\"");
}

TEST(ConfigErrors, MissingFileNamesIt) {
  try {
    load_config_file("/nonexistent/sluice.yaml", env_of({}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/sluice.yaml: cannot read the config file: No such file or directory");
  }
}

// ---- values ------------------------------------------------------------------------------

TEST(ConfigValues, EnvDefaultsAndSubstitutionInsideStrings) {
  const std::string text = R"(listen: ${LISTEN:-127.0.0.1:0}
providers:
  up:
    type: openai
    base_url: http://${HOST}:${PORT:-8000}/v1
)";
  auto config = load(text, env_of({{"HOST", "10.0.0.7"}}));
  EXPECT_EQ(config->listen[0].to_string(), "127.0.0.1:0");
  EXPECT_EQ(config->providers.at("up").url.host, "10.0.0.7");
  EXPECT_EQ(config->providers.at("up").url.port, 8000);
  EXPECT_EQ(config->providers.at("up").base_url, "http://10.0.0.7:8000/v1");
  config = load(text, env_of({{"HOST", "h"}, {"PORT", "9"}, {"LISTEN", "0.0.0.0:1"}}));
  EXPECT_EQ(config->listen[0].to_string(), "0.0.0.0:1");
  EXPECT_EQ(config->providers.at("up").url.host_header, "h:9");
}

TEST(ConfigValues, ListenAcceptsAStringOrAList) {
  auto one = load("listen: 127.0.0.1:8081\nproviders: {demo: {type: mock}}\n");
  ASSERT_EQ(one->listen.size(), 1u);
  EXPECT_EQ(one->listen[0].port, 8081);
  auto many = load(
      "listen: [127.0.0.1:8081, \"[::1]:8082\", localhost:8083]\nproviders: {demo: {type: "
      "mock}}\n");
  ASSERT_EQ(many->listen.size(), 3u);
  EXPECT_EQ(many->listen[1].host, "::1");
  EXPECT_EQ(many->listen[2].host, "localhost");
  EXPECT_EQ(many->listen[2].port, 8083);
}

TEST(ConfigValues, PlainAgentKeysAreHashedAndDigestsKept) {
  auto config =
      load(kMinimal +
               "agents:\n  bob:\n    keys:\n      - ${BOB_KEY}\n"
               "      - sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\n",
           env_of({{"BOB_KEY", "sk-bob"}}));
  const Agent& bob = config->agents.at("bob");
  ASSERT_EQ(bob.keys.size(), 2u);
  EXPECT_EQ(bob.keys[0].bytes, digest_of("sk-bob").bytes);
  EXPECT_EQ(bob.keys[1].bytes, digest_of("abc").bytes);  // upper-case hex accepted
  EXPECT_TRUE(bob.tools.empty());                        // omitted = none
}

TEST(ConfigValues, MultipleProvidersNeedNoDefault) {
  auto config = load("listen: 127.0.0.1:0\nproviders:\n  a: {type: mock}\n  b: {type: mock}\n");
  EXPECT_EQ(config->default_provider, "");
  // An empty default_provider (e.g. "${DEFAULT_PROVIDER:-}") is the same as none.
  config = load("listen: 127.0.0.1:0\ndefault_provider: ${D:-}\nproviders:\n  a: {type: mock}\n");
  EXPECT_EQ(config->default_provider, "a");
}

TEST(ConfigValues, WorkersAndRelativePaths) {
  auto config = load(kMinimal +
                     "workers: 3\nstate: {ledger: data/l.db}\naccess_log: {path: logs/a.log}\n"
                     "plugins:\n  p: {file: /abs/p.so}\n");
  EXPECT_EQ(config->workers, 3u);
  const std::filesystem::path dir(config->base_dir);
  EXPECT_EQ(config->state.ledger, (dir / "data/l.db").string());
  EXPECT_EQ(config->access_log.path, (dir / "logs/a.log").string());
  EXPECT_EQ(config->plugins.at("p").file, "/abs/p.so");
  auto off = load(kMinimal + "state: {ledger: \"\"}\naccess_log: {path: \"\"}\n");
  EXPECT_EQ(off->state.ledger, "");
  EXPECT_EQ(off->access_log.path, "");
}

TEST(ConfigValues, FilterSpecKeepsTheRawConfigAndItsPosition) {
  auto config =
      load(kMinimalNoFilters + "filters:\n  - auth: {modes: [api_key]}\n  - model_alias:\n");
  ASSERT_EQ(config->filters.size(), 2u);
  EXPECT_EQ(config->filters[0].key_path, "filters[0].auth");
  EXPECT_EQ(config->filters[0].mark.line, 8);
  EXPECT_EQ(config->filters[0].mark.column, 5);
  EXPECT_EQ(config->filters[0].config["modes"][0].as<std::string>(), "api_key");
  EXPECT_EQ(config->filters[1].type, "model_alias");
  EXPECT_TRUE(config->filters[1].config.IsNull());
}

TEST(ConfigValues, LoadsFromAFileNextToItsRelativePaths) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sluice-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "s.yaml";
  std::ofstream(file) << kMinimal;
  auto config = load_config_file(file.string(), env_of({}));
  EXPECT_EQ(config->source_path, file.string());
  EXPECT_EQ(config->state.ledger, (dir / "sluice-ledger.db").string());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::config
