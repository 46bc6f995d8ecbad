// filters: - auth: {modes: [api_key, jwt, header], jwt: {...}, header: {...}}
//
// Identifies the agent behind a request and sets ctx.agent; every later filter (limits, model
// allow-list, budget) keys off that. Modes (DESIGN §4; settings in auth_settings.h):
//   api_key — the key is taken from "Authorization: Bearer <key>" (OpenAI SDKs) or, when there
//             is no bearer token, from "x-api-key: <key>" (Anthropic SDKs). It is hashed
//             (SHA-256) and looked up among the agents' stored digests; the key itself is never
//             stored, logged or echoed.
//   jwt     — "Authorization: Bearer <jwt>", verified by jwt_verifier.h.
//   header  — the agent's name in a header (x-agent-id), for loopback-only set-ups.
// With modes: [api_key] alone (the default, and the bench's default chain) the request runs
// ApiKeyFilter below, a straight line with nothing else to consider; any other list runs
// MultiModeAuthFilter (multi_mode_filter.h), which decides which mode a credential is for.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/node_reader.h"
#include "core/filter/filter.h"
#include "core/filter/registry.h"
#include "core/http/request.h"
#include "filters/auth/agent_key_index.h"
#include "filters/auth/agent_names.h"
#include "filters/auth/auth_settings.h"
#include "filters/auth/credentials.h"
#include "filters/auth/internal_caller_auth.h"
#include "filters/auth/jwt_verifier.h"
#include "filters/auth/key_hasher.h"
#include "filters/auth/multi_mode_filter.h"

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

KeySource presented_key(const http::HttpRequest& request, std::string_view* key) {
  AuthorizationKind authorization = authorization_of(request, key);
  if (authorization == AuthorizationKind::Bearer) return KeySource::Bearer;
  if (x_api_key_of(request, key)) return KeySource::XApiKey;
  return authorization == AuthorizationKind::OtherScheme ? KeySource::UnsupportedScheme
                                                         : KeySource::Missing;
}

class ApiKeyFilter final : public filter::Filter {
 public:
  ApiKeyFilter(const AgentKeyIndex& index, const AgentNames& names)
      : index_(index), names_(names) {}

  RequestStatus on_request(RequestContext& ctx) override {
    if (ctx.internal_call) return accept_internal_caller(ctx, names_);
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
  const AgentNames& names_;
};

class AuthFactory final : public filter::FilterFactory {
 public:
  AuthFactory(AuthSettings settings, const std::map<std::string, config::Agent>& agents)
      : settings_(std::move(settings)), index_(agents), names_(agents) {
    if (settings_.api_key_only()) {
      filter_ = std::make_unique<ApiKeyFilter>(index_, names_);
      return;
    }
    if (settings_.jwt) jwt_.emplace(std::move(*settings_.jwt), names_);
    filter_ = std::make_unique<MultiModeAuthFilter>(
        settings_, settings_.lists(AuthMode::ApiKey) ? &index_ : nullptr, jwt_ ? &*jwt_ : nullptr,
        names_);
  }

  std::string_view name() const override { return "auth"; }
  // Stateless per request: one shared instance.
  filter::Filter* create(RequestContext&) const override { return filter_.get(); }
  const AgentKeyIndex& index() const { return index_; }

 private:
  AuthSettings settings_;
  AgentKeyIndex index_;
  AgentNames names_;
  std::optional<JwtVerifier> jwt_;
  std::unique_ptr<filter::Filter> filter_;
};

std::unique_ptr<filter::FilterFactory> build_auth(config::NodeReader& reader,
                                                  const config::Config& config) {
  AuthSettings settings = parse_auth_settings(reader, config);
  if (config.agents.empty()) {
    reader.fail_here(
        "auth is in the filter chain but no agents are configured, so every request would be "
        "refused: add agents or remove auth from filters");
  }
  const bool api_key = settings.lists(AuthMode::ApiKey);
  auto factory = std::make_unique<AuthFactory>(std::move(settings), config.agents);
  if (const auto& conflict = factory->index().conflict(); api_key && conflict) {
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
