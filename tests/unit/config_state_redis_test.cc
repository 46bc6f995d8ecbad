// state.redis (DESIGN §4, docs/fleet.md): what the loader accepts, its defaults, the errors a
// user sees, and the reload rule (restart-only). The URL parser itself: redis_url_test.cc.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/config/loader.h"
#include "core/config/redis_url.h"
#include "core/server/reload_diff.h"

namespace sluice::config {
namespace {

using namespace std::chrono_literals;
using Redis = StateSettings::Redis;

const std::string kMinimal = R"(listen: 127.0.0.1:0
providers:
  demo: {type: mock}
models:
  fast:
    targets: [{provider: demo, model: mock-fast}]
filters: []
)";

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::shared_ptr<const Config> load(const std::string& state, EnvLookup env = env_of({})) {
  return load_config_text(kMinimal + state, "conf/test.yaml", env);
}

std::string error_of(const std::string& state) {
  try {
    load(state);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << state;
  return "";
}

TEST(ConfigStateRedis, AbsentMeansEachProcessKeepsItsOwn) {
  EXPECT_FALSE(load("")->state.redis.has_value());
}

TEST(ConfigStateRedis, AUrlAloneTakesTheDefaults) {
  auto config = load("state: {redis: {url: redis://10.0.0.5:6380/2}}\n");
  ASSERT_TRUE(config->state.redis);
  const Redis& r = *config->state.redis;
  EXPECT_EQ(r.url, "redis://10.0.0.5:6380/2");
  EXPECT_EQ(r.key_prefix, "sluice:");
  EXPECT_EQ(r.timeout, 50ms);
  EXPECT_EQ(r.on_failure, Redis::OnFailure::Local);
}

TEST(ConfigStateRedis, EveryKeyAndThePasswordFromTheEnvironment) {
  auto config = load(
      "state:\n  redis:\n    url: rediss://sluice:${REDIS_PASSWORD}@redis.internal/0\n"
      "    key_prefix: \"team-a:\"\n    timeout: 250ms\n    on_failure: deny\n",
      env_of({{"REDIS_PASSWORD", "s3cret"}}));
  const Redis& r = *config->state.redis;
  EXPECT_EQ(r.key_prefix, "team-a:");
  EXPECT_EQ(r.timeout, 250ms);
  EXPECT_EQ(r.on_failure, Redis::OnFailure::Deny);
  std::string error;
  auto url = parse_redis_url(r.url, error);
  ASSERT_TRUE(url) << error;
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->username, "sluice");
  EXPECT_EQ(url->password, "s3cret");
}

TEST(ConfigStateRedis, ErrorsNameTheKeyAndSayWhatIsExpected) {
  EXPECT_NE(error_of("state: {redis: {timeout: 1s}}\n").find("state.redis.url: required"),
            std::string::npos);
  const std::string scheme = error_of("state: {redis: {url: \"http://h:6379\"}}\n");
  EXPECT_NE(scheme.find("state.redis.url"), std::string::npos) << scheme;
  EXPECT_NE(scheme.find("redis://"), std::string::npos) << scheme;
  EXPECT_NE(error_of("state: {redis: {url: \"redis://h:0\"}}\n").find("1 to 65535"),
            std::string::npos);
  EXPECT_NE(error_of("state: {redis: {url: \"redis://h/x\"}}\n").find("database"),
            std::string::npos);
  EXPECT_NE(error_of("state: {redis: {url: \"redis://h?timeout=1\"}}\n").find("query"),
            std::string::npos);
  const std::string mode = error_of("state: {redis: {url: redis://h, on_failure: allow}}\n");
  EXPECT_NE(mode.find("state.redis.on_failure"), std::string::npos) << mode;
  EXPECT_NE(mode.find("deny"), std::string::npos) << mode;
  const std::string typo = error_of("state: {redis: {url: redis://h, key_prefx: a}}\n");
  EXPECT_NE(typo.find("key_prefix"), std::string::npos) << typo;
}

TEST(ConfigStateRedis, AnErrorNeverRepeatsThePassword) {
  const std::string e = error_of("state: {redis: {url: \"redis://u:hunter2@h:99999\"}}\n");
  EXPECT_NE(e.find("state.redis.url"), std::string::npos) << e;
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(ReloadRules, StateRedisAppliesOnRestartAndTheDiffHidesThePassword) {
  auto running = load("state: {redis: {url: \"redis://:old-pass@h1\"}}\n");
  auto next = load("state: {redis: {url: \"redis://:new-pass@h2\", on_failure: deny}}\n");
  auto changes = server::restart_only_changes(*running, *next);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].find("state.redis"), std::string::npos) << changes[0];
  EXPECT_NE(changes[0].find("h2"), std::string::npos) << changes[0];
  EXPECT_EQ(changes[0].find("pass"), std::string::npos) << changes[0];
  EXPECT_TRUE(server::restart_only_changes(*running, *running).empty());
}

}  // namespace
}  // namespace sluice::config
