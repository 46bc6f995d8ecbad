// The anthropic provider entry (plugins/anthropic/provider_config.h): defaults, each config key,
// and the refusals that fail the config load.
#include "anthropic/provider_config.h"

#include <gtest/gtest.h>

namespace anthropic {
namespace {

Outcome parse(std::string_view json, ProviderConfig& out) {
  return parse_provider_config(json, out);
}

TEST(AnthropicProviderConfig, DefaultsWithoutConfig) {
  ProviderConfig c;
  ASSERT_TRUE(parse(R"({"name":"claude","type":"anthropic","base_url":"https://x/v1",)"
                    R"("api_key":"sk-ant-1","config":null})",
                    c)
                  .is_ok());
  EXPECT_EQ(c.api_key, "sk-ant-1");
  EXPECT_EQ(c.version, "2023-06-01");
  EXPECT_EQ(c.beta, "");
  EXPECT_EQ(c.default_max_tokens, 4096u);
  ASSERT_TRUE(parse(R"({"name":"claude","type":"anthropic"})", c).is_ok());
  EXPECT_EQ(c.api_key, "");
}

TEST(AnthropicProviderConfig, ReadsEveryKey) {
  ProviderConfig c;
  ASSERT_TRUE(parse(R"({"api_key":"k","config":{"version":"2024-01-01","max_tokens":8192,)"
                    R"("beta":"prompt-caching-2024-07-31"}})",
                    c)
                  .is_ok());
  EXPECT_EQ(c.version, "2024-01-01");
  EXPECT_EQ(c.default_max_tokens, 8192u);
  EXPECT_EQ(c.beta, "prompt-caching-2024-07-31");
}

TEST(AnthropicProviderConfig, BetaMayBeAList) {
  ProviderConfig c;
  ASSERT_TRUE(parse(R"({"config":{"beta":["a-1","b-2"]}})", c).is_ok());
  EXPECT_EQ(c.beta, "a-1,b-2");
}

TEST(AnthropicProviderConfig, RefusesUnknownKeysNamingThem) {
  ProviderConfig c;
  const Outcome r = parse(R"({"config":{"version":"2023-06-01","max_token":100}})", c);
  EXPECT_EQ(r.verdict, Verdict::Error);
  EXPECT_NE(r.message.find("config.max_token: unknown key"), std::string::npos) << r.message;
}

TEST(AnthropicProviderConfig, RefusesBadValues) {
  ProviderConfig c;
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"config":{"max_tokens":0}})", "config.max_tokens: must be a positive integer"},
      {R"({"config":{"max_tokens":"10"}})", "config.max_tokens: must be a positive integer"},
      {R"({"config":{"max_tokens":1.5}})", "config.max_tokens: must be a positive integer"},
      {R"({"config":{"version":""}})", "config.version: must be a non-empty string"},
      {R"({"config":{"version":"a\r\nx-evil: 1"}})", "config.version: must not contain CR"},
      {R"({"config":{"beta":[1]}})", "config.beta: must be a string or a list"},
      {R"({"config":[1]})", "config: must be a mapping"},
      {R"({"api_key":"k\nx"})", "api_key: must not contain CR"},
      {R"([])", "not a JSON object"},
  };
  for (const Case& k : cases) {
    const Outcome r = parse(k.json, c);
    EXPECT_EQ(r.verdict, Verdict::Error) << k.json;
    EXPECT_NE(r.message.find(k.message), std::string::npos) << k.json << " → " << r.message;
  }
}

}  // namespace
}  // namespace anthropic
