// B: Anthropic JSON answer → OpenAI chat.completion, errors included
// (plugins/anthropic/messages_to_chat_response.h, error_translation.h).
#include "anthropic/messages_to_chat_response.h"

#include <gtest/gtest.h>

#include <string>

#include "anthropic/error_translation.h"

namespace anthropic {
namespace {

constexpr int64_t kCreated = 1700000000;

TranslatedResponse translate(int status, std::string_view body) {
  TranslatedResponse out;
  const Outcome r = messages_response_to_chat(status, body, kCreated, out);
  EXPECT_TRUE(r.is_ok()) << r.message;
  return out;
}

TEST(AnthropicMessagesToChatResponse, TextAnswerWithCacheUsage) {
  const TranslatedResponse r = translate(
      200, R"({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant",)"
           R"("model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello"},)"
           R"({"type":"text","text":", world"}],"stop_reason":"end_turn","stop_sequence":null,)"
           R"("usage":{"input_tokens":100,"cache_creation_input_tokens":20,)"
           R"("cache_read_input_tokens":300,"output_tokens":12}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","object":"chat.completion",)"
            R"("created":1700000000,"model":"claude-sonnet-4-5-20250929",)"
            R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello, world",)"
            R"("refusal":null},"logprobs":null,"finish_reason":"stop"}],)"
            R"("usage":{"prompt_tokens":420,"completion_tokens":12,"total_tokens":432,)"
            R"("prompt_tokens_details":{"cached_tokens":300}}})");
  EXPECT_TRUE(r.usage.reported);
  EXPECT_EQ(r.usage.input_tokens, 420u);
  EXPECT_EQ(r.usage.cached_tokens, 300u);
  EXPECT_EQ(r.usage.cache_write_tokens, 20u);
  EXPECT_EQ(r.usage.output_tokens, 12u);
}

TEST(AnthropicMessagesToChatResponse, ToolUseBecomesToolCallsAndThinkingIsDropped) {
  const TranslatedResponse r = translate(
      200,
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude",)"
      R"("content":[{"type":"thinking","thinking":"Let me see","signature":"abc"},)"
      R"({"type":"redacted_thinking","data":"xyz"},)"
      R"({"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris","n":[1,2]}},)"
      R"({"type":"tool_use","id":"toolu_2","name":"now","input":{}}],)"
      R"("stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":6}})");
  EXPECT_EQ(r.body,
            R"({"id":"msg_1","object":"chat.completion","created":1700000000,"model":"claude",)"
            R"("choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[)"
            R"({"id":"toolu_1","type":"function","function":{"name":"get_weather",)"
            R"("arguments":"{\"city\":\"Paris\",\"n\":[1,2]}"}},)"
            R"({"id":"toolu_2","type":"function","function":{"name":"now","arguments":"{}"}}],)"
            R"("refusal":null},"logprobs":null,"finish_reason":"tool_calls"}],)"
            R"("usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11,)"
            R"("prompt_tokens_details":{"cached_tokens":0}}})");
}

TEST(AnthropicMessagesToChatResponse, TextWithToolCallsKeepsTheText) {
  const TranslatedResponse r = translate(
      200, R"({"type":"message","id":"m","model":"c","content":[{"type":"text","text":"Sure."},)"
           R"({"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"tool_use"})");
  EXPECT_NE(r.body.find(R"("content":"Sure.","tool_calls":[)"), std::string::npos) << r.body;
  EXPECT_FALSE(r.usage.reported);
}

TEST(AnthropicMessagesToChatResponse, StopReasons) {
  for (const auto& [stop, finish] : {std::pair{"end_turn", "stop"},
                                     {"stop_sequence", "stop"},
                                     {"max_tokens", "length"},
                                     {"tool_use", "tool_calls"},
                                     {"refusal", "content_filter"},
                                     {"pause_turn", "stop"}}) {
    const TranslatedResponse r = translate(
        200, std::string(R"({"type":"message","content":[],"stop_reason":")") + stop + "\"}");
    EXPECT_NE(r.body.find(std::string(R"("finish_reason":")") + finish + "\""), std::string::npos)
        << stop << " → " << r.body;
  }
}

TEST(AnthropicMessagesToChatResponse, UnknownBlocksAreDroppedAndAnEmptyAnswerHasEmptyContent) {
  const TranslatedResponse r = translate(
      200,
      R"({"type":"message","content":[{"type":"server_tool_use","id":"s","name":"web_search",)"
      R"("input":{}},{"type":"web_search_tool_result","content":[]}],"stop_reason":"end_turn"})");
  EXPECT_NE(r.body.find(R"("message":{"role":"assistant","content":"","refusal":null})"),
            std::string::npos)
      << r.body;
}

TEST(AnthropicMessagesToChatResponse, A2xxThatIsNotAMessageIsAnError) {
  TranslatedResponse out;
  EXPECT_EQ(messages_response_to_chat(200, "<html>", kCreated, out).verdict, Verdict::Error);
  EXPECT_EQ(messages_response_to_chat(200, R"({"type":"completion"})", kCreated, out).verdict,
            Verdict::Error);
  EXPECT_EQ(
      messages_response_to_chat(200, R"({"type":"message","content":{}})", kCreated, out).verdict,
      Verdict::Error);
  EXPECT_EQ(
      messages_response_to_chat(200, R"({"type":"message","content":[1]})", kCreated, out).verdict,
      Verdict::Error);
  EXPECT_EQ(
      messages_response_to_chat(
          200, R"({"type":"message","content":[{"type":"tool_use","input":{}}]})", kCreated, out)
          .verdict,
      Verdict::Error);
}

// ---- errors -------------------------------------------------------------------------------

TEST(AnthropicMessagesToChatResponse, ErrorsKeepTheirStatusAndType) {
  struct Case {
    int status;
    const char* type;
  } cases[] = {{400, "invalid_request_error"},
               {401, "authentication_error"},
               {403, "permission_error"},
               {404, "not_found_error"},
               {413, "request_too_large"},
               {429, "rate_limit_error"},
               {500, "api_error"}};
  for (const Case& c : cases) {
    const std::string body = std::string(R"({"type":"error","error":{"type":")") + c.type +
                             R"(","message":"it went wrong"}})";
    const TranslatedResponse r = translate(c.status, body);
    EXPECT_EQ(r.status, c.status) << c.type;
    EXPECT_EQ(r.body, std::string(R"({"error":{"message":"it went wrong","type":")") + c.type +
                          R"(","param":null,"code":")" + c.type + R"("}})");
    EXPECT_FALSE(r.usage.reported);
  }
}

TEST(AnthropicMessagesToChatResponse, OverloadedBecomes503) {
  const TranslatedResponse r = translate(
      529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"error":{"message":"Overloaded","type":"overloaded_error","param":null,)"
                    R"("code":"overloaded_error"}})");
}

TEST(AnthropicMessagesToChatResponse, ANonJsonErrorStillMaps) {
  TranslatedResponse r = translate(502, "<html><body>Bad gateway</body></html>\n");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body, R"({"error":{"message":"<html><body>Bad gateway</body></html>\n",)"
                    R"("type":"api_error","param":null,"code":null}})");
  r = translate(529, "");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"error":{"message":"the provider answered HTTP 529 with an empty body",)"
                    R"("type":"overloaded_error","param":null,"code":null}})");
  r = translate(413, std::string(2000, 'x'));
  EXPECT_EQ(r.body, R"({"error":{"message":")" + std::string(512, 'x') +
                        R"(...","type":"request_too_large","param":null,"code":null}})");
  r = translate(400, "\xff\xfe oops");
  EXPECT_EQ(r.body, R"({"error":{"message":"?? oops","type":"invalid_request_error",)"
                    R"("param":null,"code":null}})");
}

TEST(AnthropicMessagesToChatResponse, AnErrorBodyOfAnotherShapeUsesTheStatus) {
  const TranslatedResponse r = translate(404, R"({"message":"no route"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":{"message":"{\"message\":\"no route\"}","type":"not_found_error",)"
                    R"("param":null,"code":null}})");
}

TEST(AnthropicErrorTypes, ByStatus) {
  EXPECT_EQ(anthropic_error_type_for(400), "invalid_request_error");
  EXPECT_EQ(anthropic_error_type_for(409), "invalid_request_error");
  EXPECT_EQ(anthropic_error_type_for(401), "authentication_error");
  EXPECT_EQ(anthropic_error_type_for(402), "billing_error");
  EXPECT_EQ(anthropic_error_type_for(403), "permission_error");
  EXPECT_EQ(anthropic_error_type_for(404), "not_found_error");
  EXPECT_EQ(anthropic_error_type_for(413), "request_too_large");
  EXPECT_EQ(anthropic_error_type_for(429), "rate_limit_error");
  EXPECT_EQ(anthropic_error_type_for(500), "api_error");
  EXPECT_EQ(anthropic_error_type_for(503), "api_error");
  EXPECT_EQ(anthropic_error_type_for(529), "overloaded_error");
}

}  // namespace
}  // namespace anthropic
