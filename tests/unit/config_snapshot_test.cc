// ConfigSnapshot's lifetime (issue 14 item 5): a generation — its Config, parsed YAML and filter
// factories — is freed as soon as the last holder drops it, and ConfigSnapshot::alive() (what
// /status and sluice_config_generations_alive report) counts exactly the ones not freed yet.
// The chain is the default one, so a factory that kept its own config or snapshot alive (a
// reference cycle) would show here.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/config/loader.h"
#include "core/config/node_reader.h"
#include "core/filter/snapshot.h"

namespace sluice {
namespace {

config::EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

const char* kDefaultChain = R"(listen: 127.0.0.1:0
providers:
  demo: {type: mock}
models:
  fast: {targets: [{provider: demo, model: mock-fast}]}
agents:
  demo:
    keys: ["sk-snapshot-test"]
    limits: {rpm: 60, tpm: 100000, concurrent: 4}
    budget: {usd: 5, per: day}
filters:
  - auth: {modes: [api_key]}
  - rate_limit: {}
  - model_alias: {}
  - cost: {prices: {mock-fast: {input: 0.15, output: 0.6}}}
  - circuit_breaker: {}
  - retry: {attempts: 3, fallback: true}
state: {ledger: ""}
)";

TEST(ConfigSnapshotTest, AGenerationIsFreedWithItsLastHolderAndCountedUntilThen) {
  const int64_t before = filter::ConfigSnapshot::alive();
  std::weak_ptr<const config::Config> config_left;
  {
    auto config = config::load_config_text(kDefaultChain, "snapshot.yaml", no_env());
    config_left = config;
    auto first = filter::ConfigSnapshot::build(config, 1);
    config.reset();
    EXPECT_EQ(filter::ConfigSnapshot::alive(), before + 1);
    auto second = filter::ConfigSnapshot::build(
        config::load_config_text(kDefaultChain, "snapshot.yaml", no_env()), 2);
    EXPECT_EQ(filter::ConfigSnapshot::alive(), before + 2);
    auto pinned = first;  // a request still on generation 1
    first.reset();
    EXPECT_EQ(filter::ConfigSnapshot::alive(), before + 2);
    EXPECT_FALSE(config_left.expired());
    pinned.reset();  // ...ends
    EXPECT_EQ(filter::ConfigSnapshot::alive(), before + 1);
    EXPECT_TRUE(config_left.expired()) << "generation 1's Config (and its YAML) outlived it";
  }
  EXPECT_EQ(filter::ConfigSnapshot::alive(), before);
}

TEST(ConfigSnapshotTest, AFailedBuildLeavesNothingAlive) {
  const int64_t before = filter::ConfigSnapshot::alive();
  std::string bad = kDefaultChain;
  bad.replace(bad.find("  - rate_limit: {}"), 18, "  - rate_limt: {}");
  std::weak_ptr<const config::Config> config_left;
  {
    auto config = config::load_config_text(bad, "snapshot.yaml", no_env());
    config_left = config;
    EXPECT_THROW(filter::ConfigSnapshot::build(std::move(config), 1), config::ConfigError);
  }
  EXPECT_EQ(filter::ConfigSnapshot::alive(), before);
  EXPECT_TRUE(config_left.expired());
}

}  // namespace
}  // namespace sluice
