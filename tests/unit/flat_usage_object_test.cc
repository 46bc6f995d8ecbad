// The quick reader of usage objects (core/usage/flat_usage_object.h): it reads the flat objects
// providers send exactly as the DOM reading does, and gives up (Unsure) on anything it cannot
// be sure of — so that parse_usage_object's answer never depends on which of the two read it.
#include "core/usage/flat_usage_object.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/usage/reported_usage.h"

namespace sluice::usage::detail {
namespace {

FlatRead flat(std::string_view json, ReportedUsage* read) {
  return read_flat_usage_object(json.data(), json.size(), read);
}

TEST(FlatUsageObject, OpenAIChatUsageWithDetails) {
  ReportedUsage r;
  ASSERT_EQ(flat(R"({"prompt_tokens":1024,"completion_tokens":50,"total_tokens":1074,)"
                 R"("prompt_tokens_details":{"cached_tokens":512,"audio_tokens":0},)"
                 R"("completion_tokens_details":{"reasoning_tokens":7,"audio_tokens":0}})",
                 &r),
            FlatRead::Read);
  EXPECT_EQ(r.get(ReportedUsage::PromptTokens), 1024u);
  EXPECT_EQ(r.get(ReportedUsage::CompletionTokens), 50u);
  EXPECT_EQ(r.get(ReportedUsage::CachedTokens), 512u);
  EXPECT_EQ(r.get(ReportedUsage::ReasoningTokens), 7u);
  EXPECT_FALSE(r.has(ReportedUsage::InputTokens));
}

TEST(FlatUsageObject, AnthropicUsageWithNullsAndStrings) {
  ReportedUsage r;
  ASSERT_EQ(flat(R"({ "input_tokens": 3, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 2, "output_tokens": 1,
                      "server_tool_use": null, "service_tier": "standard" })",
                 &r),
            FlatRead::Read);
  EXPECT_EQ(r.get(ReportedUsage::InputTokens), 3u);
  EXPECT_EQ(r.get(ReportedUsage::CacheReadInputTokens), 2u);
  EXPECT_TRUE(r.has(ReportedUsage::CacheCreationInputTokens));
  EXPECT_EQ(r.get(ReportedUsage::OutputTokens), 1u);
}

TEST(FlatUsageObject, RobustnessRulesAsTheDomReadsThem) {
  ReportedUsage r;
  // Above 10^12: read past, not kept; the last of duplicate keys wins; a count where an object
  // is wanted (and the other way round) is nothing.
  ASSERT_EQ(flat(R"({"prompt_tokens":1000000000001,"completion_tokens":1,"completion_tokens":2,)"
                 R"("prompt_tokens_details":5,"output_tokens":{"x":1}})",
                 &r),
            FlatRead::Read);
  EXPECT_FALSE(r.has(ReportedUsage::PromptTokens));
  EXPECT_EQ(r.get(ReportedUsage::CompletionTokens), 2u);
  EXPECT_FALSE(r.has(ReportedUsage::CachedTokens));
  EXPECT_FALSE(r.has(ReportedUsage::OutputTokens));
}

TEST(FlatUsageObject, UnsureOfAnythingElse) {
  for (std::string_view json : {
           R"({"prompt_tokens":-1})",
           R"({"prompt_tokens":1.0})",
           R"({"prompt_tokens":1e3})",
           R"({"prompt_tokens":01})",
           R"({"prompt_tokens":1234567890123456})",
           R"({"prompt\u005ftokens":1})",
           R"({"a":"\n"})",
           R"({"a":[1]})",
           R"({"a":{"b":{"c":1}}})",
           R"({"prompt_tokens":1,})",
           R"({"prompt_tokens":1)",
           R"({"prompt_tokens":1} x)",
           R"({"prompt_tokens":nul})",
           "{\"a\":\"caf\xc3\xa9\"}",
           R"([1])",
           "",
       }) {
    ReportedUsage r;
    EXPECT_EQ(flat(json, &r), FlatRead::Unsure) << json;
  }
}

TEST(FlatUsageObject, ParseUsageObjectGivesTheSameWhicheverReaderReadIt) {
  // The same counts through the quick reader (plain) and the DOM (an escape in an unknown key).
  const std::string plain = R"({"prompt_tokens":12,"completion_tokens":9,"total_tokens":21})";
  const std::string escaped = R"({"prompt_tokens":12,"completion_tokens":9,"t\u006ftal":21})";
  for (const std::string& json : {plain, escaped}) {
    std::string buffer = json + std::string(64, '\0');  // the DOM's padding
    ReportedUsage r;
    ASSERT_TRUE(parse_usage_object(buffer.data(), json.size(), buffer.size(), &r)) << json;
    EXPECT_EQ(r.get(ReportedUsage::PromptTokens), 12u) << json;
    EXPECT_EQ(r.get(ReportedUsage::CompletionTokens), 9u) << json;
  }
}

}  // namespace
}  // namespace sluice::usage::detail
