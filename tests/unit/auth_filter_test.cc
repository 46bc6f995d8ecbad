// The auth filter as a client meets it: which keys get in (and as which agent), what a refused
// request is answered, and which configs are refused at load. No sockets: the filter is built
// through the registry, as the config snapshot builds it, and run on a hand-made request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "core/config/loader.h"
#include "core/config/node_reader.h"
#include "core/filter/registry.h"
#include "core/filter/request_context.h"
#include "core/filter/snapshot.h"
#include "core/http/request.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

config::Agent agent(std::string name, std::vector<std::string> keys) {
  config::Agent a;
  a.name = std::move(name);
  for (const auto& key : keys) a.keys.push_back(config::digest_of(key));
  return a;
}

config::Config two_agents() {
  config::Config c;
  c.source_path = "sluice.yaml";
  c.agents.emplace("sofia", agent("sofia", {"sk-sofia-1"}));
  c.agents.emplace("bob", agent("bob", {"sk-bob-1", "sk-bob-2"}));
  return c;
}

std::unique_ptr<filter::FilterFactory> build(const config::Config& c, const std::string& yaml) {
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("auth");
  if (builder == nullptr) throw std::runtime_error("auth is not registered");
  config::NodeReader reader(YAML::Load(yaml), "filters[0].auth", "sluice.yaml");
  return (*builder)(reader, c);
}

std::string build_error(const config::Config& c, const std::string& yaml) {
  try {
    build(c, yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

void add_header(http::HttpRequest& r, std::string_view name, std::string_view value) {
  http::HeaderRef ref;
  ref.name_off = r.head_storage.size();
  ref.name_len = name.size();
  r.head_storage.append(name).append(": ");
  ref.value_off = r.head_storage.size();
  ref.value_len = value.size();
  r.head_storage.append(value).append("\r\n");
  r.headers_.push_back(ref);
}

struct Outcome {
  filter::RequestStatus status;
  const config::Agent* agent;
  filter::LocalReply reply;
  std::string extra_headers;
};

Outcome run(const filter::FilterFactory& factory,
            std::vector<std::pair<std::string, std::string>> headers) {
  http::HttpRequest request;
  for (const auto& [name, value] : headers) add_header(request, name, value);
  filter::RequestContext ctx;
  ctx.request = &request;
  ctx.endpoint = filter::Endpoint::ChatCompletions;
  filter::Filter* f = factory.create(ctx);
  Outcome out{f->on_request(ctx), ctx.agent, ctx.local_reply(),
              std::string(ctx.extra_response_headers())};
  f->on_complete(ctx);
  return out;
}

const std::string kApiKey = "{modes: [api_key]}";

// ---- who gets in ---------------------------------------------------------------------------

TEST(AuthFilter, BearerKeyIdentifiesTheAgent) {
  auto c = two_agents();
  auto auth = build(c, kApiKey);
  EXPECT_EQ(auth->name(), "auth");
  Outcome r = run(*auth, {{"Authorization", "Bearer sk-sofia-1"}});
  EXPECT_EQ(r.status, filter::RequestStatus::Continue);
  ASSERT_NE(r.agent, nullptr);
  EXPECT_EQ(r.agent->name, "sofia");
  EXPECT_EQ(r.agent, &c.agents.at("sofia"));  // the config's own agent, not a copy
  EXPECT_EQ(r.reply.status, 0);
}

TEST(AuthFilter, EveryKeyOfAnAgentWorks) {
  auto c = two_agents();
  auto auth = build(c, kApiKey);
  EXPECT_EQ(run(*auth, {{"authorization", "Bearer sk-bob-1"}}).agent, &c.agents.at("bob"));
  EXPECT_EQ(run(*auth, {{"authorization", "Bearer sk-bob-2"}}).agent, &c.agents.at("bob"));
}

TEST(AuthFilter, XApiKeyHeader) {
  auto c = two_agents();
  auto auth = build(c, kApiKey);
  Outcome r = run(*auth, {{"X-Api-Key", "sk-bob-2"}});
  EXPECT_EQ(r.status, filter::RequestStatus::Continue);
  EXPECT_EQ(r.agent, &c.agents.at("bob"));
}

TEST(AuthFilter, BearerSchemeIsCaseInsensitiveAndSpacesAreTolerated) {
  auto c = two_agents();
  auto auth = build(c, kApiKey);
  EXPECT_EQ(run(*auth, {{"Authorization", "bearer sk-sofia-1"}}).agent, &c.agents.at("sofia"));
  EXPECT_EQ(run(*auth, {{"Authorization", "BEARER \t sk-sofia-1"}}).agent, &c.agents.at("sofia"));
}

TEST(AuthFilter, BearerWinsOverXApiKey) {
  auto c = two_agents();
  auto auth = build(c, kApiKey);
  Outcome r = run(*auth, {{"x-api-key", "sk-bob-1"}, {"Authorization", "Bearer sk-sofia-1"}});
  EXPECT_EQ(r.agent, &c.agents.at("sofia"));
  // ... and x-api-key is used when Authorization carries another scheme.
  Outcome s = run(*auth, {{"Authorization", "Basic Zm9vOmJhcg=="}, {"x-api-key", "sk-bob-1"}});
  EXPECT_EQ(s.agent, &c.agents.at("bob"));
}

TEST(AuthFilter, DefaultModeIsApiKey) {
  auto c = two_agents();
  auto auth = build(c, "{}");
  EXPECT_EQ(run(*auth, {{"Authorization", "Bearer sk-sofia-1"}}).agent, &c.agents.at("sofia"));
  auto scalar = build(c, "{modes: api_key}");
  EXPECT_EQ(run(*scalar, {{"x-api-key", "sk-sofia-1"}}).agent, &c.agents.at("sofia"));
}

// ---- who does not --------------------------------------------------------------------------

void expect_401(const Outcome& r, const std::string& code, const std::string& message) {
  EXPECT_EQ(r.status, filter::RequestStatus::Respond);
  EXPECT_EQ(r.agent, nullptr);
  EXPECT_EQ(r.reply.status, 401);
  EXPECT_EQ(r.reply.type, "authentication_error");
  EXPECT_EQ(r.reply.code, code);
  EXPECT_EQ(r.reply.message, message);
  EXPECT_THAT(r.extra_headers, HasSubstr("www-authenticate: Bearer\r\n"));
}

const std::string kMissing =
    "Missing API key: send it as \"Authorization: Bearer <key>\" or \"x-api-key\"";

TEST(AuthFilter, MissingKey) {
  auto c = two_agents();
  auto auth = build(c, kApiKey);
  expect_401(run(*auth, {}), "missing_api_key", kMissing);
  expect_401(run(*auth, {{"Authorization", "Bearer"}}), "missing_api_key", kMissing);
  expect_401(run(*auth, {{"Authorization", "Bearer "}}), "missing_api_key", kMissing);
  expect_401(run(*auth, {{"x-api-key", ""}}), "missing_api_key", kMissing);
}

TEST(AuthFilter, OtherAuthorizationScheme) {
  auto c = two_agents();
  auto auth = build(c, kApiKey);
  Outcome r = run(*auth, {{"Authorization", "Basic Zm9vOmJhcg=="}});
  expect_401(r, "missing_api_key",
             "Unsupported Authorization scheme: send the API key as \"Authorization: Bearer "
             "<key>\" or \"x-api-key\"");
}

TEST(AuthFilter, UnknownKeyAndNearMisses) {
  auto c = two_agents();
  auto auth = build(c, kApiKey);
  for (const char* key :
       {"sk-nobody", "sk-sofia-2", "sk-sofia-1 ", "SK-SOFIA-1", "sk-sofia-", "sha256:whatever"}) {
    SCOPED_TRACE(key);
    Outcome r = run(*auth, {{"Authorization", std::string("Bearer ") + key}});
    expect_401(r, "invalid_api_key", "Invalid API key");
    // The reply never echoes what was presented.
    EXPECT_THAT(r.reply.message, ::testing::Not(HasSubstr(key)));
  }
}

TEST(AuthFilter, StoredDigestIsNotAKey) {
  // Knowing an agent's stored "sha256:..." value must not let anyone in.
  auto c = two_agents();
  auto auth = build(c, kApiKey);
  Outcome r = run(*auth, {{"Authorization", "Bearer " + config::hash_key("sk-sofia-1")}});
  EXPECT_EQ(r.reply.status, 401);
}

// ---- config errors -------------------------------------------------------------------------

TEST(AuthFilter, UnknownModeAndKeys) {
  auto c = two_agents();
  std::string e = build_error(c, "{modes: [api_kye]}");
  EXPECT_THAT(e, HasSubstr("unknown mode \"api_kye\""));
  EXPECT_THAT(e, HasSubstr("did you mean \"api_key\""));
  EXPECT_THAT(e, HasSubstr("filters[0].auth.modes"));
  EXPECT_THAT(build_error(c, "{mode: [api_key]}"), HasSubstr("did you mean \"modes\""));
  EXPECT_THAT(build_error(c, "{modes: []}"), HasSubstr("at least one mode"));
}

TEST(AuthFilter, NoAgentsIsAConfigError) {
  config::Config c;
  EXPECT_THAT(build_error(c, kApiKey), HasSubstr("no agents are configured"));
}

TEST(AuthFilter, SameKeyForTwoAgentsIsAConfigError) {
  config::Config c = two_agents();
  c.agents.emplace("carla", agent("carla", {"sk-sofia-1"}));
  std::string e = build_error(c, kApiKey);
  EXPECT_THAT(e, HasSubstr("have the same key"));
  EXPECT_THAT(e, HasSubstr("\"carla\""));
  EXPECT_THAT(e, HasSubstr("\"sofia\""));
}

TEST(AuthFilter, SameKeyTwiceForOneAgentIsFine) {
  config::Config c;
  c.agents.emplace("sofia", agent("sofia", {"sk-1", "sk-1"}));
  auto auth = build(c, kApiKey);
  EXPECT_EQ(run(*auth, {{"x-api-key", "sk-1"}}).agent, &c.agents.at("sofia"));
}

TEST(AuthFilter, ManyAgents) {
  config::Config c;
  for (int i = 0; i < 2000; ++i) {
    std::string name = "agent" + std::to_string(i);
    c.agents.emplace(name, agent(name, {"key-" + std::to_string(i)}));
  }
  auto auth = build(c, kApiKey);
  for (int i : {0, 1, 777, 1999}) {
    Outcome r = run(*auth, {{"x-api-key", "key-" + std::to_string(i)}});
    ASSERT_NE(r.agent, nullptr);
    EXPECT_EQ(r.agent->name, "agent" + std::to_string(i));
  }
  EXPECT_EQ(run(*auth, {{"x-api-key", "key-2000"}}).reply.status, 401);
}

// ---- through the config loader, as `sluice validate` would see it --------------------------

TEST(AuthFilter, FromAConfigFile) {
  const std::string yaml = R"(
listen: 127.0.0.1:0
providers:
  demo: {type: mock}
default_provider: demo
agents:
  sofia: {keys: ["${SOFIA_KEY}"]}
  bob: {keys: ["sha256:HASH"]}
filters:
  - auth: {modes: [api_key]}
)";
  std::string text = yaml;
  std::string hash = config::hash_key("sk-bob");
  text.replace(text.find("sha256:HASH"), 11, hash);
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SOFIA_KEY") return "sk-sofia";
    return std::nullopt;
  };
  auto config = config::load_config_text(text, "sluice.yaml", env);
  auto snapshot = filter::ConfigSnapshot::build(config, 1);
  ASSERT_EQ(snapshot->filters().size(), 1u);
  const filter::FilterFactory& auth = *snapshot->filters()[0];
  EXPECT_EQ(run(auth, {{"Authorization", "Bearer sk-sofia"}}).agent,
            &snapshot->config().agents.at("sofia"));
  EXPECT_EQ(run(auth, {{"x-api-key", "sk-bob"}}).agent, &snapshot->config().agents.at("bob"));
  EXPECT_EQ(run(auth, {{"x-api-key", "sk-carla"}}).reply.status, 401);
}

}  // namespace
}  // namespace sluice
