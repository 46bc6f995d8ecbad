// Prices as an operator meets them: the lookup rules of PriceTable (exact, "provider/" prefix,
// dated names, longest key), the prices YAML and its errors (file:line:col and key path), the
// compiled-in conf/prices.yaml, and the exact dollars of OpenAI and Anthropic usage — read from
// real response bodies by the UsageScanner — at known prices, cached tokens included.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/cost/price.h"
#include "core/cost/price_file.h"
#include "core/cost/price_table.h"
#include "core/usage/usage_scanner.h"

namespace sluice::cost {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& yaml, const std::string& file = "prices.yaml") {
  try {
    parse_prices_text(yaml, file);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

usage::Usage usage_of_json(std::string_view body) {
  usage::UsageScanner scanner;
  scanner.begin(usage::UsageScanner::Kind::Json, false);
  scanner.feed(body);
  scanner.flush();
  return scanner.finish();
}

usage::Usage usage_of_stream(std::string_view body) {
  usage::UsageScanner scanner;
  scanner.begin(usage::UsageScanner::Kind::EventStream, false);
  scanner.feed(body);
  scanner.flush();
  return scanner.finish();
}

PriceTable table_of(std::initializer_list<std::pair<const char*, Price>> entries) {
  PriceTable t;
  for (const auto& [model, price] : entries) t.set(model, price);
  return t;
}

// ---- lookup rules ----------------------------------------------------------------------------

TEST(PriceLookup, ExactPrefixedDatedAndLongestKey) {
  const Price gpt4o{2.5, 10, 1.25, 2.5};
  const Price mini{0.15, 0.6, 0.075, 0.15};
  const Price sonnet{3, 15, 0.3, 3.75};
  const Price dated{5, 15, 5, 5};
  const PriceTable t = table_of({{"gpt-4o", gpt4o},
                                 {"gpt-4o-mini", mini},
                                 {"claude-sonnet-4-5", sonnet},
                                 {"gpt-4o-2024-05-13", dated}});

  ASSERT_NE(t.lookup("gpt-4o"), nullptr);
  EXPECT_EQ(*t.lookup("gpt-4o"), gpt4o);
  EXPECT_EQ(*t.lookup("openai/gpt-4o"), gpt4o);
  EXPECT_EQ(*t.lookup("gpt-4o-2024-08-06"), gpt4o);
  EXPECT_EQ(*t.lookup("claude-sonnet-4-5-20250929"), sonnet);
  EXPECT_EQ(*t.lookup("anthropic/claude-sonnet-4-5-20250929"), sonnet);
  // The longest key that is a whole dash-separated prefix wins: gpt-4o-mini, not gpt-4o.
  EXPECT_EQ(*t.lookup("gpt-4o-mini-2024-07-18"), mini);
  EXPECT_EQ(*t.lookup("gpt-4o-mini"), mini);
  // An exact entry beats the dated rule.
  EXPECT_EQ(*t.lookup("gpt-4o-2024-05-13"), dated);
}

TEST(PriceLookup, MissesAreNotGuessed) {
  const PriceTable t = table_of({{"gpt-4o", {2.5, 10, 1.25, 2.5}}, {"o3", {2, 8, 0.5, 2}}});
  EXPECT_EQ(t.lookup("GPT-4o"), nullptr);     // case-sensitive
  EXPECT_EQ(t.lookup("gpt-4"), nullptr);      // a shorter name is not a longer key
  EXPECT_EQ(t.lookup("gpt-4omni"), nullptr);  // a key must end at a '-'
  EXPECT_EQ(t.lookup("o3mini"), nullptr);
  EXPECT_EQ(t.lookup("my-gpt-4o"), nullptr);  // only a prefix of the name is a key
  EXPECT_EQ(t.lookup("gpt-4o/x"), nullptr);   // "gpt-4o/" is a provider prefix, "x" unknown
  EXPECT_EQ(t.lookup(""), nullptr);
  EXPECT_EQ(t.lookup("-"), nullptr);
  EXPECT_EQ(t.lookup("gpt-4o-"), t.lookup("gpt-4o"));  // K followed by "-" (and nothing)
}

TEST(PriceLookup, OverrideReplacesOneEntryAndKeepsTheRest) {
  PriceTable t = table_of({{"gpt-4o", {2.5, 10, 1.25, 2.5}}, {"o3", {2, 8, 0.5, 2}}});
  t.override_with(table_of({{"gpt-4o", {1, 2, 3, 4}}, {"my-model", {0.1, 0.2, 0.1, 0.1}}}));
  EXPECT_EQ(*t.lookup("gpt-4o"), (Price{1, 2, 3, 4}));
  EXPECT_EQ(*t.lookup("o3"), (Price{2, 8, 0.5, 2}));
  EXPECT_EQ(*t.lookup("my-model"), (Price{0.1, 0.2, 0.1, 0.1}));
  EXPECT_EQ(t.size(), 3u);
}

// ---- the YAML ----------------------------------------------------------------------------------

TEST(PricesYaml, CachedAndCacheWriteDefaultToInput) {
  const PriceTable t = parse_prices_text(
      "a: {input: 2, output: 8}\n"
      "b: {input: 3, output: 15, cached_input: 0.3, cache_write: 3.75}\n",
      "prices.yaml");
  EXPECT_EQ(*t.exact("a"), (Price{2, 8, 2, 2}));
  EXPECT_EQ(*t.exact("b"), (Price{3, 15, 0.3, 3.75}));
  EXPECT_TRUE(parse_prices_text("", "prices.yaml").empty());
}

TEST(PricesYaml, ErrorsNameFileLineColumnAndKeyPath) {
  EXPECT_EQ(error_of("gpt-4o: {input: 2.5, output: 10}\n"
                     "o3:\n"
                     "  input: 2\n"
                     "  output: -8\n"),
            "prices.yaml:4:11: o3.output: must be from 0 to 1000000, got -8");
  EXPECT_EQ(error_of("x: {input: 2, output: 1e7}\n"),
            "prices.yaml:1:23: x.output: must be from 0 to 1000000, got 1e7");
  EXPECT_THAT(error_of("x: {input: two, output: 1}\n"),
              HasSubstr("prices.yaml:1:12: x.input: expected a number"));
  EXPECT_THAT(error_of("a: {input: 1, output: 1}\nx: {input: 2}\n"),
              HasSubstr("prices.yaml:2:4: x: a price needs input and output"));
  EXPECT_THAT(
      error_of("x: {input: 1, output: 1, cahced_input: 1}\n"),
      HasSubstr("prices.yaml:1:26: x.cahced_input: unknown key \"cahced_input\" (did you mean "
                "\"cached_input\"?)"));
  EXPECT_THAT(error_of("x: {input: 1, output: 1}\nx: {input: 2, output: 2}\n"),
              HasSubstr("prices.yaml:2:1: x: duplicate key \"x\""));
  EXPECT_THAT(error_of("x: 2.5\n"), HasSubstr("prices.yaml:1:4: x: expected a mapping"));
  EXPECT_THAT(error_of("- a\n- b\n"), HasSubstr("prices.yaml:1:1: a prices file is a mapping"));
  EXPECT_THAT(error_of("x: {input: 1, output: [\n"), HasSubstr("prices.yaml:"));
  EXPECT_THAT(error_of("x: {input: 1, output: [\n"), HasSubstr("invalid YAML"));
}

TEST(PricesYaml, FileIsReadAndAMissingFileSaysWhy) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "sluice_cost_prices_test.yaml").string();
  {
    std::ofstream out(path);
    out << "# mine\nlocal-llm: {input: 0.5, output: 1}\nbad: {input: 1, output: x}\n";
  }
  std::string error;
  try {
    load_prices_file(path, error);
    ADD_FAILURE() << "no error";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ":3:25: bad.output: expected a number from 0 to 1000000, got \"x\"");
  }
  {
    std::ofstream out(path);
    out << "local-llm: {input: 0.5, output: 1}\n";
  }
  auto table = load_prices_file(path, error);
  ASSERT_TRUE(table);
  EXPECT_EQ(*table->exact("local-llm"), (Price{0.5, 1, 0.5, 0.5}));
  std::filesystem::remove(path);
  EXPECT_FALSE(load_prices_file(path, error));
  EXPECT_EQ(error, "No such file or directory");
}

TEST(DefaultPrices, TheCompiledInFileParsesAndCoversTheCommonModels) {
  const PriceTable& t = default_prices();
  EXPECT_GT(t.size(), 50u);
  for (const char* model : {"gpt-4o",
                            "gpt-4o-mini",
                            "gpt-4.1",
                            "gpt-4.1-mini",
                            "gpt-4.1-nano",
                            "o1",
                            "o3",
                            "o3-mini",
                            "o4-mini",
                            "gpt-5",
                            "gpt-5-mini",
                            "gpt-5-nano",
                            "text-embedding-3-small",
                            "text-embedding-3-large",
                            "claude-opus-4-5",
                            "claude-opus-4-1",
                            "claude-sonnet-4-5",
                            "claude-sonnet-4",
                            "claude-haiku-4-5",
                            "claude-3-7-sonnet",
                            "claude-3-5-haiku",
                            "deepseek-chat",
                            "deepseek-reasoner",
                            "mistral-large",
                            "mistral-small",
                            "codestral",
                            "gemini-2.5-pro",
                            "gemini-2.5-flash",
                            "gemini-2.0-flash"}) {
    EXPECT_NE(t.exact(model), nullptr) << model;
  }
  // The names providers actually return resolve through the rules.
  EXPECT_EQ(t.lookup("gpt-4o-2024-08-06"), t.exact("gpt-4o"));
  EXPECT_EQ(t.lookup("claude-sonnet-4-5-20250929"), t.exact("claude-sonnet-4-5"));
  EXPECT_EQ(t.lookup("claude-3-5-haiku-latest"), t.exact("claude-3-5-haiku"));
  EXPECT_EQ(t.lookup("mistral-large-latest"), t.exact("mistral-large"));
  EXPECT_EQ(t.lookup("models/gemini-2.5-flash"), t.exact("gemini-2.5-flash"));
  EXPECT_EQ(t.lookup("gemini-2.5-flash-lite-preview-06-17"), t.exact("gemini-2.5-flash-lite"));
  // Anthropic's cache prices are there (reads 0.1x, writes 1.25x input).
  EXPECT_EQ(*t.exact("claude-sonnet-4-5"), (Price{3, 15, 0.3, 3.75}));
  EXPECT_THAT(std::string(default_prices_yaml()), HasSubstr("operators MUST check"));
}

// ---- dollars -----------------------------------------------------------------------------------

TEST(Cost, OpenAIJsonUsageWithCachedAndReasoningTokens) {
  // prompt 1200 of which 200 cached, completion 300 of which 120 reasoning.
  const usage::Usage u = usage_of_json(
      R"({"id":"c1","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":1200,)"
      R"("completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200},)"
      R"("completion_tokens_details":{"reasoning_tokens":120}}})");
  ASSERT_EQ(u.source, usage::Usage::Source::Reported);
  // gpt-4o: 1000 × $2.50 + 200 × $1.25 + 300 × $10 per 1M = $0.00575 (reasoning is output).
  EXPECT_DOUBLE_EQ(cost_usd(*default_prices().lookup("gpt-4o"), u), 0.00575);
  // The same usage without a cached price: cached tokens cost the input price.
  EXPECT_DOUBLE_EQ(cost_usd(Price{2.5, 10, 2.5, 2.5}, u), 0.006);
}

TEST(Cost, AnthropicJsonUsageWithCacheReadAndCreation) {
  const usage::Usage u =
      usage_of_json(R"({"id":"msg_1","type":"message","content":[{"type":"text","text":"Hello"}],)"
                    R"("usage":{"input_tokens":100,"cache_creation_input_tokens":2000,)"
                    R"("cache_read_input_tokens":3000,"output_tokens":50}})");
  ASSERT_EQ(u.input_tokens, 5100u);
  // claude-sonnet-4-5: 100 × $3 + 3000 × $0.30 + 2000 × $3.75 + 50 × $15 per 1M
  //                  = (300 + 900 + 7500 + 750) / 1e6 = $0.00945.
  EXPECT_DOUBLE_EQ(cost_usd(*default_prices().lookup("claude-sonnet-4-5-20250929"), u), 0.00945);
}

TEST(Cost, AnthropicStreamUsage) {
  const usage::Usage u = usage_of_stream(
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":10,)"
      R"("cache_read_input_tokens":1000,"cache_creation_input_tokens":0,"output_tokens":1}}})"
      "\n\n"
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":200}})"
      "\n\n");
  ASSERT_EQ(u.source, usage::Usage::Source::Reported);
  // claude-haiku-4-5: 10 × $1 + 1000 × $0.10 + 200 × $5 per 1M = $0.00111.
  EXPECT_DOUBLE_EQ(cost_usd(*default_prices().exact("claude-haiku-4-5"), u), 0.00111);
}

TEST(Cost, BadProviderNumbersNeverGoNegative) {
  usage::Usage u;
  u.input_tokens = 100;
  u.cached_input_tokens = 80;
  u.cache_write_tokens = 70;  // 80 + 70 > 100: clamped to the 20 left
  u.output_tokens = 0;
  const Price p{1, 1, 0.5, 2};
  // 0 uncached + 80 × 0.5 + 20 × 2 = 80 per 1M.
  EXPECT_DOUBLE_EQ(cost_usd(p, u), 80e-6);
  u.cached_input_tokens = 1000;  // more cached than input
  EXPECT_DOUBLE_EQ(cost_usd(p, u), 50e-6);
  EXPECT_EQ(cost_usd(p, usage::Usage{}), 0);
}

TEST(Cost, WorstCaseTakesTheDearestPromptPrice) {
  // 1000 prompt tokens, 500 completion: Anthropic-like cache writes cost more than input.
  EXPECT_DOUBLE_EQ(worst_case_usd(Price{3, 15, 0.3, 3.75}, 1000, 500), (3750 + 7500) / 1e6);
  EXPECT_DOUBLE_EQ(worst_case_usd(Price{2.5, 10, 1.25, 2.5}, 1000, 0), 2500 / 1e6);
}

}  // namespace
}  // namespace sluice::cost
