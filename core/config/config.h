// The parsed, validated configuration (DESIGN §4). A Config is immutable once the loader
// returns it: requests pin a std::shared_ptr<const Config> (through ConfigSnapshot) and keep it
// to the end, so nothing here may be mutated after load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::config {

using Duration = std::chrono::milliseconds;

// Where a value came from, for error messages: "sluice.yaml:12:5".
struct SourceMark {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based
};

struct HostPort {
  std::string host;  // "127.0.0.1", "::1", "localhost", "0.0.0.0"
  uint16_t port = 0;
  std::string to_string() const;
};

// A provider's base_url, split once at load so the hot path never parses URLs.
struct Url {
  bool tls = false;         // https
  std::string host;         // no brackets for IPv6
  uint16_t port = 0;        // explicit or the scheme default
  std::string path_prefix;  // "/v1" (no trailing slash); "" for none
  std::string host_header;  // "api.openai.com" or "127.0.0.1:11434" (port only when non-default)
};

struct Limits {
  uint64_t max_request_body = 32ull << 20;
  uint32_t max_header_bytes = 64u << 10;
  uint32_t max_headers = 100;
  Duration header_timeout{10'000};
  Duration idle_timeout{60'000};
  uint32_t max_connections = 10'000;
};

struct UpstreamTimeouts {
  Duration connect{2'000};
  Duration first_byte{60'000};  // request fully written → first response byte
  Duration idle{30'000};        // between two reads once the response started
  Duration total{600'000};      // whole exchange
};

// Active probes of one provider (core/health).
struct HealthCheck {
  std::string path = "/models";
  Duration interval{10'000};
  Duration timeout{2'000};
  uint32_t unhealthy_after = 3;
  uint32_t healthy_after = 2;
  Duration slow_after{2'000};
};

// Used by the circuit_breaker filter (state in state::ProviderState).
struct CircuitBreakerSettings {
  uint32_t max_concurrent = 1024;
  uint32_t consecutive_failures = 5;
  Duration open_for{30'000};
  Duration max_open_for{300'000};
};

// The built-in offline provider (type: mock).
struct MockSettings {
  enum class Mode { Echo, Canned };  // Echo: reply with the last user message; Canned: `reply`
  Mode mode = Mode::Echo;
  std::string reply = "Hello from the sluice mock provider.";
  Duration latency{0};         // before the first byte
  Duration chunk_delay{0};     // between stream chunks
  uint32_t stream_chunks = 0;  // 0 = one chunk per word of the reply
};

// providers.*.tls: how sluice authenticates an https provider and itself to it. The files are
// read (and checked) at load, so a reload re-reads them: an operator rotating a certificate
// reloads. The contents travel with the Config, never the paths alone, so the SSL_CTX made from
// them is the one the loader checked (a file replaced in between cannot slip in).
struct ProviderTls {
  std::string ca_file;      // resolved path; empty: the system trust store
  std::string cert_file;    // resolved path; with key_file: a client certificate (mTLS)
  std::string key_file;     // resolved path
  std::string server_name;  // SNI and the name to verify; empty: base_url's host
  int min_version = 12;     // 12 (TLS 1.2) or 13 (TLS 1.3)
  std::string ca_pem;       // contents of ca_file
  std::string cert_pem;     // contents of cert_file (the chain, leaf first)
  std::string key_pem;      // contents of key_file: a secret, never logged or shown
  // SHA-256 (hex) of every field above: equal identities can share one SSL_CTX; a rotated
  // file changes it.
  std::string identity;
};

// An HTTP proxy a provider is reached through (HTTP CONNECT), from providers.*.proxy or from
// HTTPS_PROXY / HTTP_PROXY (see core/config/proxy_url.h).
struct ProxyUrl {
  std::string host;  // no brackets for IPv6
  uint16_t port = 3128;
  // "Basic <base64(user:password)>" when the URL had credentials, else empty. A secret.
  std::string authorization;
  std::string redacted;  // the URL with its password replaced, for logs and /status
  std::string source;    // "proxy" (the config key) or the environment variable's name
};

struct Provider {
  std::string name;
  std::string type;  // "openai" | "mock" | a plugin-registered type
  SourceMark mark;
  std::string base_url;  // as written (for /config)
  Url url;               // parsed; empty for mock
  std::string api_key;   // secret: never logged, never shown by /config
  std::vector<std::pair<std::string, std::string>> headers;  // injected upstream
  UpstreamTimeouts timeouts;
  uint32_t max_connections = 256;
  bool tls_verify = true;  // false only when set explicitly
  ProviderTls tls;
  std::optional<ProxyUrl> proxy;  // none: direct
  // No `proxy` key: HTTPS_PROXY & co. decide (applied by the loader, or by the snapshot for a
  // plugin's type whose base_url is its plugin's default). False after an explicit `proxy:`.
  bool proxy_from_env = true;
  std::optional<HealthCheck> health_check;
  CircuitBreakerSettings circuit_breaker;
  MockSettings mock;
  // A plugin type's own settings (`config:`), as JSON text for the plugin; "null" when absent.
  std::string config_json = "null";
  // The headers a plugin's type adds to every request it translates (its auth), learnt at
  // snapshot build; the health probe sends them. Empty for the built-in types.
  std::vector<std::pair<std::string, std::string>> plugin_headers;
  // The same as written (null when absent) and where: a Lua provider's schema checks it and
  // names the line of a bad value.
  YAML::Node config;
  SourceMark config_mark;
};

struct Target {
  std::string provider;
  std::string model;
  uint32_t weight = 1;
};

struct ModelGroup {
  std::string name;
  std::string strategy = "priority";  // priority | weighted | least_busy | latency
  std::vector<Target> targets;
  std::vector<std::string> fallbacks;  // other group names, tried in order
  SourceMark mark;
};

struct AgentLimits {  // enforced by the rate_limit filter
  std::optional<uint32_t> rpm;
  std::optional<uint64_t> tpm;
  std::optional<uint32_t> concurrent;
};

// What an agent may spend (agents.*.budget), enforced by the cost filter, which the loader
// requires in the chain when any agent has a budget: each request reserves its worst case at
// admission and is refused (429 budget_exceeded) when spent + reserved would pass `usd`.
// Periods are UTC (state::BudgetPeriod); spend survives reloads and restarts (the ledger).
struct Budget {
  double usd = 0;
  std::string per = "day";  // day | month | total
};

// An agent key as stored: always a SHA-256 digest, whether written as "sha256:<hex>" or as a
// plain (usually ${ENV}) value that the loader hashed. Plain keys never stay in memory.
struct KeyDigest {
  std::array<unsigned char, 32> bytes{};
};

struct Agent {
  std::string name;
  std::vector<KeyDigest> keys;
  std::optional<std::vector<std::string>> models;  // nullopt = all
  std::vector<std::string> tools;                  // empty = none
  AgentLimits limits;
  std::optional<Budget> budget;
};

// One entry of `filters:`. The filter's own factory parses `config` (see FilterRegistry), so
// the loader keeps the node and where it came from.
struct FilterSpec {
  std::string type;  // "auth", "model_alias", "lua", "plugin", ...
  YAML::Node config;
  SourceMark mark;
  std::string key_path;  // "filters[2].auth"
};

// plugins: {NAME: {file: ..., config: {...}}}. A .so is loaded when the config is
// (core/plugin/plugin_set.h); a .lua entry by the Lua host (filters/lua/lua_provider_source.h:
// a provider type named NAME), which also takes the limits a `lua` filter entry takes:
// {file: x.lua, max_instructions: 1000000, max_memory: 64MiB}.
struct PluginSpec {
  std::string name;
  std::string file;        // resolved relative to the config file
  YAML::Node config;       // free-form, the plugin's own (given to it as JSON); null when absent
  SourceMark mark;         // of the entry (plugins.NAME)
  SourceMark file_mark;    // of `file`, for "cannot open" / "wrong ABI" errors
  SourceMark config_mark;  // of `config` (the entry's when absent)
  // .lua only: VM instructions per hook run, bytes per Lua state (unset: the Lua defaults).
  std::optional<uint64_t> max_instructions;
  std::optional<uint64_t> max_memory;
};

// tools: {NAME: {...}} (DESIGN §4, §5). The loader checks each entry's shape; what the entry
// offers (one tool, or an upstream MCP server's tools under NAME as prefix) is built with the
// config snapshot by core/tools (ToolSet), which also compiles input_schema.
struct ToolSpec {
  std::string name;
  std::string type;  // http | lua | plugin | mcp
  std::string description;
  // http, mcp: the URL called. http: args as a JSON body (GET/DELETE: as a query string).
  std::string url;
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;  // ${VAR} expanded; never shown
  Duration timeout{5'000};                                   // every call's deadline
  uint64_t max_response = uint64_t{1} << 20;                 // bytes of the tool's answer
  std::string file;    // lua: the tool file, resolved relative to the config file
  std::string plugin;  // plugin: the plugins: entry (or shipped plugin) that registers NAME
  // input_schema as JSON text ("" when absent: the tool's own, or {"type":"object"}).
  std::string input_schema_json;
  // The entry's free-form `config:` as JSON text ("null" when absent), for lua/plugin tools.
  std::string config_json = "null";
  // lua: the budgets of the tool's Lua states, as for a Lua plugin (DESIGN §9); unset: the
  // defaults (1,000,000 instructions per run of call, 64MiB per state).
  std::optional<uint64_t> max_instructions;
  std::optional<uint64_t> max_memory;
  SourceMark mark;               // of the entry (tools.NAME)
  SourceMark input_schema_mark;  // of input_schema (the entry's when absent)
  SourceMark file_mark;          // of file / plugin / url (the entry's when absent)
};

// The spend ledger (core/ledger): one SQLite row per request, written by one thread in batches
// at most flush_interval apart; spend per agent is rebuilt from it at start-up. "" disables
// persistence (budgets then start from 0 at each start). Restart-only: a reload keeps the old.
struct StateSettings {
  std::string ledger = "sluice-ledger.db";
  Duration flush_interval{50};
  // Per-request rows older than this are rolled up into daily aggregates (ledger_retention.h);
  // 0 (`retention: forever`) keeps every row. At least 1h otherwise.
  Duration retention{Duration(int64_t{30} * 86'400'000)};
  // state.redis: limits and budgets shared by every sidecar on the same Redis (core/fleet,
  // docs/fleet.md). Absent: each process keeps its own. Restart-only, like the ledger.
  struct Redis {
    // What a request of a limited agent gets while Redis cannot answer (down, or slower than
    // `timeout`):
    enum class OnFailure : uint8_t {
      Local,  // admitted against this sidecar's share (limit / fleet size last seen)
      Deny,   // refused with 503 fleet_state_unavailable
    };
    std::string url;  // redis://[user:password@]host[:port][/db] or rediss://; secret
    std::string key_prefix = "sluice:";
    Duration timeout{50};  // per Redis call
    OnFailure on_failure = OnFailure::Local;
    SourceMark mark;  // of state.redis.url
  };
  std::optional<Redis> redis;
};

struct AccessLogSettings {
  // Size rotation defaults (DESIGN §4's example): 100 MiB × (1 + 5) files is ~600 MiB at
  // most, weeks of lines for a busy sidecar, and a bound a months-long run cannot outgrow.
  static constexpr uint64_t kDefaultMaxSize = uint64_t{100} << 20;
  static constexpr unsigned kDefaultKeep = 5;
  static constexpr unsigned kMaxKeep = 1000;

  std::string path = "stdout";  // "stdout" | a file | "" (off)
  std::string format = "json";
  // A file path only: rotate when the file would pass max_size (bytes; 0 = never), keeping
  // path.1 … path.<keep> (0: no old file kept). Ignored for stdout.
  uint64_t max_size = kDefaultMaxSize;
  unsigned keep = kDefaultKeep;
};

struct Config {
  std::string source_path;  // absolute path of the file loaded
  std::string base_dir;     // its directory: relative paths resolve against it
  std::vector<HostPort> listen;
  HostPort admin{"127.0.0.1", 9901};
  std::string admin_token;  // secret
  unsigned workers = 0;     // resolved: `auto` → CPU cores
  Duration drain_timeout{30'000};
  Limits limits;
  std::map<std::string, Provider> providers;
  std::string default_provider;  // used when model_alias is not in the chain
  std::map<std::string, ModelGroup> models;
  std::map<std::string, Agent> agents;
  std::vector<FilterSpec> filters;
  std::map<std::string, PluginSpec> plugins;
  std::map<std::string, ToolSpec> tools;
  StateSettings state;
  AccessLogSettings access_log;
  YAML::Node raw;  // the document after ${VAR} substitution, for /config (redacted there)
};

}  // namespace sluice::config
