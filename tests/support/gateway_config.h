// The config most integration tests run sluice with (schema: DESIGN §4), with the knobs tests
// turn. One provider `mockai` (type openai) pointing at a MockProvider, three logical models
// mapped to distinct physical names (so a test sees the splice), two agents with hashed keys,
// and the chain `auth` + `model_alias`.
#pragma once

#include <string>

namespace sluice::test {

// Secrets the tests look for where they must not appear (sent upstream only / never echoed).
inline constexpr const char* kProviderApiKey = "sk-provider-secret-5b1e9c";
inline constexpr const char* kProviderHeaderName = "X-Provider-Tag";
inline constexpr const char* kProviderHeaderValue = "provider-tag-42";
inline constexpr const char* kAliceKey = "sk-agent-alice-1f2e3d";  // models: fast, embed
inline constexpr const char* kBobKey = "sk-agent-bob-9a8b7c";      // every model

// Logical model → physical model sent upstream.
inline constexpr const char* kFastModel = "fast";
inline constexpr const char* kFastPhysical = "mock-fast-physical-1";
inline constexpr const char* kSmartModel = "smart";  // not in alice's allow-list
inline constexpr const char* kSmartPhysical = "mock-smart-physical-2";
inline constexpr const char* kEmbedModel = "embed";
inline constexpr const char* kEmbedPhysical = "mock-embed-physical-3";

struct GatewayConfig {
  std::string provider_base_url;  // MockProvider::base_url()
  int workers = 1;
  std::string limits;             // flow map for `limits:`, e.g. "{max_request_body: 1KiB}"
  std::string provider_timeouts;  // flow map for providers.mockai.timeouts
  std::string admin_token;        // "" = no admin_token key
  std::string access_log_path;    // "" = access_log off
  std::string access_log_extra;   // more access_log keys, e.g. "max_size: 2KiB, keep: 3"
  std::string ledger_path;        // "" = the ledger off; else there, flushed every 10ms
  std::string state_redis;        // flow map for state.redis ("" = none): "{url: redis://…}"
  std::string extra_providers;    // YAML lines at providers: level (2-space indented entries)
  std::string extra_models;       // YAML lines at models: level
  std::string extra_agents;       // YAML lines at agents: level
  std::string alice_extra;        // YAML lines inside agents.alice (4-space indented)
  std::string bob_extra;          // YAML lines inside agents.bob
  std::string extra;              // YAML appended at the top level
  // YAML list items put in `filters:` right after auth (DESIGN §2's place for lua/plugin),
  // each line "  - lua: {...}\n".
  std::string filters_after_auth;

  std::string to_yaml() const;
};

}  // namespace sluice::test
