// The model_alias filter as a client meets it: a logical model resolves to its group; an
// unknown one is a 404 in OpenAI's shape; one outside the agent's allow-list is a 403 that
// says which models the agent may use. Plus its config errors.
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

namespace sluice {
namespace {

using ::testing::HasSubstr;

config::ModelGroup group(std::string name, std::string provider, std::string model) {
  config::ModelGroup g;
  g.name = std::move(name);
  g.targets.push_back(config::Target{std::move(provider), std::move(model), 1});
  return g;
}

config::Config routing_config() {
  config::Config c;
  c.source_path = "sluice.yaml";
  c.models.emplace("fast", group("fast", "local", "qwen3:8b"));
  c.models.emplace("quality", group("quality", "openai", "gpt-4o"));
  c.models.emplace("embed", group("embed", "openai", "text-embedding-3-small"));
  config::Agent sofia;
  sofia.name = "sofia";
  sofia.models = std::vector<std::string>{"fast", "embed"};
  c.agents.emplace("sofia", sofia);
  config::Agent admin;  // no list: every model
  admin.name = "admin";
  c.agents.emplace("admin", admin);
  config::Agent locked;
  locked.name = "locked";
  locked.models = std::vector<std::string>{};
  c.agents.emplace("locked", locked);
  return c;
}

std::unique_ptr<filter::FilterFactory> build(const config::Config& c,
                                             const std::string& yaml = "{}") {
  const filter::FilterBuilder* builder = filter::FilterRegistry::global().find("model_alias");
  if (builder == nullptr) throw std::runtime_error("model_alias is not registered");
  config::NodeReader reader(YAML::Load(yaml), "filters[1].model_alias", "sluice.yaml");
  return (*builder)(reader, c);
}

struct Outcome {
  filter::RequestStatus status;
  const config::ModelGroup* group;
  filter::LocalReply reply;
};

Outcome run(const filter::FilterFactory& factory, std::string_view model,
            const config::Agent* agent = nullptr,
            filter::Endpoint endpoint = filter::Endpoint::ChatCompletions) {
  filter::RequestContext ctx;
  ctx.endpoint = endpoint;
  ctx.agent = agent;
  ctx.fields.has_model = true;
  ctx.fields.model = std::string(model);
  filter::Filter* f = factory.create(ctx);
  Outcome out{f->on_request(ctx), ctx.model_group, ctx.local_reply()};
  f->on_complete(ctx);
  return out;
}

TEST(ModelAlias, ResolvesTheLogicalModel) {
  auto c = routing_config();
  auto alias = build(c);
  EXPECT_EQ(alias->name(), "model_alias");
  Outcome r = run(*alias, "fast");
  EXPECT_EQ(r.status, filter::RequestStatus::Continue);
  EXPECT_EQ(r.group, &c.models.at("fast"));  // the config's own group
  EXPECT_EQ(r.reply.status, 0);
  EXPECT_EQ(run(*alias, "quality").group, &c.models.at("quality"));
}

TEST(ModelAlias, EveryModelBearingEndpoint) {
  auto c = routing_config();
  auto alias = build(c);
  for (auto e : {filter::Endpoint::ChatCompletions, filter::Endpoint::Completions,
                 filter::Endpoint::Embeddings, filter::Endpoint::Responses}) {
    SCOPED_TRACE(filter::to_string(e));
    EXPECT_EQ(run(*alias, "embed", nullptr, e).group, &c.models.at("embed"));
    EXPECT_EQ(run(*alias, "nope", nullptr, e).reply.status, 404);
  }
}

TEST(ModelAlias, OtherEndpointsPassUntouched) {
  auto c = routing_config();
  auto alias = build(c);
  Outcome r = run(*alias, "nope", nullptr, filter::Endpoint::Models);
  EXPECT_EQ(r.status, filter::RequestStatus::Continue);
  EXPECT_EQ(r.group, nullptr);
  EXPECT_EQ(r.reply.status, 0);
}

TEST(ModelAlias, UnknownModelIs404InOpenAIShape) {
  auto c = routing_config();
  auto alias = build(c);
  Outcome r = run(*alias, "gpt-4o");  // a physical name is not a logical one
  EXPECT_EQ(r.status, filter::RequestStatus::Respond);
  EXPECT_EQ(r.group, nullptr);
  EXPECT_EQ(r.reply.status, 404);
  EXPECT_EQ(r.reply.type, "invalid_request_error");
  EXPECT_EQ(r.reply.code, "model_not_found");
  EXPECT_EQ(r.reply.message,
            "The model \"gpt-4o\" does not exist or you do not have access to it.");
  EXPECT_EQ(run(*alias, "Fast").reply.status, 404);  // names are case-sensitive
}

TEST(ModelAlias, HugeModelNameIsCutInTheMessage) {
  auto c = routing_config();
  auto alias = build(c);
  std::string name(100000, 'x');
  name[150] = '\xc3';  // a two-byte character straddling the cut must not be split
  name[151] = '\xa9';
  name.replace(199, 2, "\xc3\xa9");
  Outcome r = run(*alias, name);
  EXPECT_EQ(r.reply.status, 404);
  EXPECT_LT(r.reply.message.size(), 300u);
  EXPECT_THAT(r.reply.message, HasSubstr("xxx...\" does not exist"));
  EXPECT_THAT(r.reply.message, ::testing::Not(HasSubstr("\xc3...")));
}

TEST(ModelAlias, AllowListPermits) {
  auto c = routing_config();
  auto alias = build(c);
  const config::Agent* sofia = &c.agents.at("sofia");
  EXPECT_EQ(run(*alias, "fast", sofia).group, &c.models.at("fast"));
  EXPECT_EQ(run(*alias, "embed", sofia).group, &c.models.at("embed"));
}

TEST(ModelAlias, AllowListRefusesWith403) {
  auto c = routing_config();
  auto alias = build(c);
  Outcome r = run(*alias, "quality", &c.agents.at("sofia"));
  EXPECT_EQ(r.status, filter::RequestStatus::Respond);
  EXPECT_EQ(r.group, nullptr);
  EXPECT_EQ(r.reply.status, 403);
  EXPECT_EQ(r.reply.type, "permission_error");
  EXPECT_EQ(r.reply.code, "model_not_allowed");
  EXPECT_EQ(r.reply.message,
            "Agent \"sofia\" is not allowed to use model \"quality\"; its models are: fast, "
            "embed.");
}

TEST(ModelAlias, UnknownModelIs404EvenForARestrictedAgent) {
  auto c = routing_config();
  auto alias = build(c);
  EXPECT_EQ(run(*alias, "nope", &c.agents.at("sofia")).reply.status, 404);
}

TEST(ModelAlias, EmptyAllowListAllowsNothing) {
  auto c = routing_config();
  auto alias = build(c);
  Outcome r = run(*alias, "fast", &c.agents.at("locked"));
  EXPECT_EQ(r.reply.status, 403);
  EXPECT_EQ(r.reply.message,
            "Agent \"locked\" is not allowed to use model \"fast\"; it may not use any model.");
}

TEST(ModelAlias, NoListOrAnonymousMeansEveryModel) {
  auto c = routing_config();
  auto alias = build(c);
  EXPECT_EQ(run(*alias, "quality", &c.agents.at("admin")).group, &c.models.at("quality"));
  EXPECT_EQ(run(*alias, "quality", nullptr).group, &c.models.at("quality"));
}

TEST(ModelAlias, MissingModelIs400) {
  auto c = routing_config();
  auto alias = build(c);
  filter::RequestContext ctx;
  ctx.endpoint = filter::Endpoint::ChatCompletions;
  filter::Filter* f = alias->create(ctx);
  EXPECT_EQ(f->on_request(ctx), filter::RequestStatus::Respond);
  EXPECT_EQ(ctx.local_reply().status, 400);
  EXPECT_EQ(ctx.local_reply().type, "invalid_request_error");
}

TEST(ModelAlias, ConfigErrors) {
  auto c = routing_config();
  try {
    build(c, "{models: {fast: x}}");
    ADD_FAILURE() << "unknown key accepted";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("filters[1].model_alias.models"));
  }
  config::Config empty;
  try {
    build(empty);
    ADD_FAILURE() << "model_alias without models accepted";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no models are configured"));
  }
}

TEST(ModelAlias, FromAConfigFile) {
  const std::string yaml = R"(
listen: 127.0.0.1:0
providers:
  demo: {type: mock}
models:
  fast: {targets: [{provider: demo, model: demo-small}]}
  quality: {targets: [{provider: demo, model: demo-large}]}
agents:
  sofia: {keys: ["sk-sofia"], models: [fast]}
filters:
  - model_alias: {}
)";
  auto config = config::load_config_text(yaml, "sluice.yaml",
                                         [](const std::string&) { return std::nullopt; });
  auto snapshot = filter::ConfigSnapshot::build(config, 1);
  ASSERT_EQ(snapshot->filters().size(), 1u);
  const filter::FilterFactory& alias = *snapshot->filters()[0];
  const config::Agent* sofia = &snapshot->config().agents.at("sofia");
  EXPECT_EQ(run(alias, "fast", sofia).group, &snapshot->config().models.at("fast"));
  EXPECT_EQ(run(alias, "quality", sofia).reply.status, 403);
  EXPECT_EQ(run(alias, "quality").group, &snapshot->config().models.at("quality"));
}

}  // namespace
}  // namespace sluice
