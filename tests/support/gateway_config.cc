#include "tests/support/gateway_config.h"

#include "tests/support/agent_key.h"
#include "tests/support/json.h"

namespace sluice::test {

std::string GatewayConfig::to_yaml() const {
  std::string y;
  y += "listen: 127.0.0.1:0\n";
  y += "admin: 127.0.0.1:0\n";
  y += "workers: " + std::to_string(workers) + "\n";
  if (!admin_token.empty()) y += "admin_token: " + json_quote(admin_token) + "\n";
  if (!limits.empty()) y += "limits: " + limits + "\n";
  y += "providers:\n";
  y += "  mockai:\n";
  y += "    type: openai\n";
  y += "    base_url: " + provider_base_url + "\n";
  y += "    api_key: " + std::string(kProviderApiKey) + "\n";
  y += "    headers: {" + std::string(kProviderHeaderName) + ": " + kProviderHeaderValue + "}\n";
  if (!provider_timeouts.empty()) y += "    timeouts: " + provider_timeouts + "\n";
  y += extra_providers;
  y += "models:\n";
  y += "  " + std::string(kFastModel) + ":\n";
  y += "    targets:\n";
  y += "      - {provider: mockai, model: " + std::string(kFastPhysical) + "}\n";
  y += "  " + std::string(kSmartModel) + ":\n";
  y += "    targets:\n";
  y += "      - {provider: mockai, model: " + std::string(kSmartPhysical) + "}\n";
  y += "  " + std::string(kEmbedModel) + ":\n";
  y += "    targets:\n";
  y += "      - {provider: mockai, model: " + std::string(kEmbedPhysical) + "}\n";
  y += extra_models;
  y += "agents:\n";
  y += "  alice:\n";
  y += "    keys: [\"" + agent_key_digest(kAliceKey) + "\"]\n";
  y += "    models: [" + std::string(kFastModel) + ", " + kEmbedModel + "]\n";
  y += alice_extra;
  y += "  bob:\n";
  y += "    keys: [\"" + agent_key_digest(kBobKey) + "\"]\n";
  y += bob_extra;
  y += extra_agents;
  y += "filters:\n";
  y += "  - auth: {modes: [api_key]}\n";
  y += filters_after_auth;
  y += "  - model_alias: {}\n";
  y += "state: {ledger: " + json_quote(ledger_path) +
       (ledger_path.empty() ? "" : ", flush_interval: 10ms") +
       (state_redis.empty() ? "" : ", redis: " + state_redis) + "}\n";
  y += "access_log: {path: " + json_quote(access_log_path) + ", format: json" +
       (access_log_extra.empty() ? "" : ", " + access_log_extra) + "}\n";
  y += extra;
  return y;
}

}  // namespace sluice::test
