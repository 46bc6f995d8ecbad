// filters: - auth: {modes: [api_key]}
//
// Identifies the agent behind a request from its API key and sets ctx.agent; every later
// filter (limits, model allow-list, budget) keys off that. The key is taken from
// "Authorization: Bearer <key>" (OpenAI SDKs) or, when there is no bearer token, from
// "x-api-key: <key>" (Anthropic SDKs). It is hashed (SHA-256) and looked up among the
// agents' stored digests; the key itself is never stored, logged or echoed.
//
// Modes jwt and header (DESIGN §4) come later: naming them is a load error that says so,
// rather than a config that silently lets everyone in or locks everyone out.
#include <memory>
#include <string>
#include <string_view>

#include "core/config/node_reader.h"
#include "core/filter/filter.h"
#include "core/filter/registry.h"
#include "core/http/request.h"
#include "filters/auth/agent_key_index.h"
#include "filters/auth/key_hasher.h"

namespace sluice::filters::auth {

namespace {

using filter::RequestContext;
using filter::RequestStatus;

constexpr const char* kMissingKey =
    "Missing API key: send it as \"Authorization: Bearer <key>\" or \"x-api-key\"";
constexpr const char* kUnsupportedScheme =
    "Unsupported Authorization scheme: send the API key as \"Authorization: Bearer <key>\" or "
    "\"x-api-key\"";
constexpr const char* kInvalidKey = "Invalid API key";

// Where the key came from, or why there is none.
enum class KeySource : uint8_t {
  Bearer,             // Authorization: Bearer <key>
  XApiKey,            // x-api-key: <key>
  Missing,            // neither header (or both empty)
  UnsupportedScheme,  // Authorization with another scheme (Basic, ...) and no x-api-key
};

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

KeySource presented_key(const http::HttpRequest& request, std::string_view* key) {
  bool other_scheme = false;
  if (auto authorization = request.header("authorization")) {
    std::string_view value = *authorization;
    constexpr std::string_view kBearer = "bearer";
    if (value.size() > kBearer.size() && http::iequals(value.substr(0, kBearer.size()), kBearer) &&
        is_space(value[kBearer.size()])) {
      std::string_view token = value.substr(kBearer.size());
      while (!token.empty() && is_space(token.front())) token.remove_prefix(1);
      if (!token.empty()) {
        *key = token;
        return KeySource::Bearer;
      }
    } else if (!value.empty() && !http::iequals(value, kBearer)) {
      other_scheme = true;
    }
  }
  if (auto api_key = request.header("x-api-key"); api_key && !api_key->empty()) {
    *key = *api_key;
    return KeySource::XApiKey;
  }
  return other_scheme ? KeySource::UnsupportedScheme : KeySource::Missing;
}

class AuthFilter final : public filter::Filter {
 public:
  explicit AuthFilter(const AgentKeyIndex& index) : index_(index) {}

  RequestStatus on_request(RequestContext& ctx) override {
    std::string_view key;
    KeySource source = ctx.request ? presented_key(*ctx.request, &key) : KeySource::Missing;
    switch (source) {
      case KeySource::Missing:
        return refuse(ctx, "missing_api_key", kMissingKey);
      case KeySource::UnsupportedScheme:
        return refuse(ctx, "missing_api_key", kUnsupportedScheme);
      case KeySource::Bearer:
      case KeySource::XApiKey:
        break;
    }
    std::optional<config::KeyDigest> digest = sha256_of(key);
    if (!digest) {
      ctx.respond(500, "server_error", "", "Could not check the API key (internal error)");
      return RequestStatus::Respond;
    }
    const config::Agent* agent = index_.find(*digest);
    if (agent == nullptr) return refuse(ctx, "invalid_api_key", kInvalidKey);
    ctx.agent = agent;
    return RequestStatus::Continue;
  }

 private:
  static RequestStatus refuse(RequestContext& ctx, std::string_view code, const char* message) {
    ctx.add_response_header("www-authenticate", "Bearer");  // RFC 9110 §15.5.2
    ctx.respond(401, "authentication_error", code, message);
    return RequestStatus::Respond;
  }

  const AgentKeyIndex& index_;
};

class AuthFactory final : public filter::FilterFactory {
 public:
  explicit AuthFactory(const std::map<std::string, config::Agent>& agents)
      : index_(agents), filter_(std::make_unique<AuthFilter>(index_)) {}

  std::string_view name() const override { return "auth"; }
  // Stateless per request: one shared instance.
  filter::Filter* create(RequestContext&) const override { return filter_.get(); }
  const AgentKeyIndex& index() const { return index_; }

 private:
  AgentKeyIndex index_;
  std::unique_ptr<AuthFilter> filter_;
};

const std::vector<std::string> kModes = {"api_key", "jwt", "header"};

void check_modes(config::NodeReader& reader) {
  std::vector<std::string> modes = reader.string_list("modes", /*allow_scalar=*/true)
                                       .value_or(std::vector<std::string>{"api_key"});
  if (modes.empty()) reader.fail("modes", "at least one mode is required (api_key)");
  for (const std::string& mode : modes) {
    if (mode == "api_key") continue;
    if (mode == "jwt" || mode == "header") {
      reader.fail("modes", "mode \"" + mode +
                               "\" is not available yet in this version; only \"api_key\" is");
    }
    std::string message = "unknown mode \"" + mode + "\"";
    if (auto guess = config::did_you_mean(mode, kModes))
      message += " (did you mean \"" + *guess + "\"?)";
    reader.fail("modes", message + "; modes are api_key, jwt, header");
  }
  // The settings blocks of the later modes: refused with the reason, not as unknown keys.
  for (const char* later : {"jwt", "header"}) {
    if (reader.has(later)) {
      reader.fail(later, std::string("mode \"") + later +
                             "\" is not available yet in this version; only \"api_key\" is");
    }
  }
}

std::unique_ptr<filter::FilterFactory> build_auth(config::NodeReader& reader,
                                                  const config::Config& config) {
  check_modes(reader);
  reader.finish();
  if (config.agents.empty()) {
    reader.fail_here(
        "auth is in the filter chain but no agents are configured, so every request would be "
        "refused: add agents (with keys) or remove auth from filters");
  }
  auto factory = std::make_unique<AuthFactory>(config.agents);
  if (const auto& conflict = factory->index().conflict()) {
    std::string message = "agents \"" + conflict->first + "\" and \"" + conflict->second +
                          "\" have the same key; a key must identify one agent";
    // Point at the second agent when the document is at hand, else at this filter.
    if (config.raw.IsMap() && config.raw["agents"].IsMap()) {
      config::NodeReader agents(config.raw["agents"], "agents", config.source_path);
      agents.fail(conflict->second, message);
    }
    reader.fail_here(message);
  }
  return factory;
}

const filter::FilterRegistrar kRegisterAuth{"auth", &build_auth};

}  // namespace

}  // namespace sluice::filters::auth
