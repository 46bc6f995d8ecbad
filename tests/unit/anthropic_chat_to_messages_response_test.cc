// E: OpenAI chat.completion → Anthropic message, errors included
// (plugins/anthropic/chat_to_messages_response.h, error_translation.h).
#include "anthropic/chat_to_messages_response.h"

#include <gtest/gtest.h>

#include <string>

namespace anthropic {
namespace {

const ChatResponseContext kContext{"req-42", "gpt-4o-mini"};

TranslatedResponse translate(int status, std::string_view body) {
  TranslatedResponse out;
  const Outcome r = chat_response_to_messages(status, body, kContext, out);
  EXPECT_TRUE(r.is_ok()) << r.message;
  return out;
}

Outcome failure(std::string_view body) {
  TranslatedResponse out;
  return chat_response_to_messages(200, body, kContext, out);
}

TEST(AnthropicChatToMessagesResponse, TextAnswerWithCachedUsage) {
  const TranslatedResponse r = translate(
      200,
      R"({"id":"chatcmpl-AbC","object":"chat.completion","created":1700000000,)"
      R"("model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant",)"
      R"("content":"Hello!","refusal":null},"logprobs":null,"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":1024,"completion_tokens":50,"total_tokens":1074,)"
      R"("prompt_tokens_details":{"cached_tokens":512}}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"id":"msg_chatcmpl-AbC","type":"message","role":"assistant",)"
      R"("model":"gpt-4o-mini-2024-07-18","content":[{"type":"text","text":"Hello!"}],)"
      R"("stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":512,)"
      R"("cache_creation_input_tokens":0,"cache_read_input_tokens":512,"output_tokens":50}})");
  EXPECT_TRUE(r.usage.reported);
  EXPECT_EQ(r.usage.input_tokens, 1024u);
  EXPECT_EQ(r.usage.cached_tokens, 512u);
  EXPECT_EQ(r.usage.output_tokens, 50u);
}

TEST(AnthropicChatToMessagesResponse, ToolCallsBecomeToolUseBlocks) {
  const TranslatedResponse r = translate(
      200, R"({"id":"x","model":"m","choices":[{"message":{"role":"assistant","content":null,)"
           R"("tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather",)"
           R"("arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function",)"
           R"("function":{"name":"now","arguments":""}}]},"finish_reason":"tool_calls"}]})");
  EXPECT_EQ(r.body,
            R"({"id":"msg_x","type":"message","role":"assistant","model":"m","content":[)"
            R"({"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},)"
            R"({"type":"tool_use","id":"call_2","name":"now","input":{}}],)"
            R"("stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":0,)"
            R"("cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}})");
  EXPECT_FALSE(r.usage.reported);
}

TEST(AnthropicChatToMessagesResponse, FallbacksAndStopReasons) {
  TranslatedResponse r =
      translate(200, R"({"choices":[{"message":{"content":"a"},"finish_reason":"length"}]})");
  EXPECT_NE(r.body.find(R"("id":"msg_req-42")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("model":"gpt-4o-mini")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("stop_reason":"max_tokens")"), std::string::npos);
  r = translate(200, R"({"id":"msg_already","choices":[{"message":{"content":null,)"
                     R"("refusal":"I can't."},"finish_reason":"content_filter"}]})");
  EXPECT_NE(r.body.find(R"("id":"msg_already")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("content":[{"type":"text","text":"I can't."}])"), std::string::npos);
  EXPECT_NE(r.body.find(R"("stop_reason":"refusal")"), std::string::npos);
  r = translate(200, R"({"choices":[{"message":{"content":""},"finish_reason":null}]})");
  EXPECT_NE(r.body.find(R"("content":[],"stop_reason":"end_turn")"), std::string::npos) << r.body;
}

TEST(AnthropicChatToMessagesResponse, BadAnswersAreErrors) {
  EXPECT_EQ(failure("not json").verdict, Verdict::Error);
  EXPECT_EQ(failure(R"({"choices":[]})").verdict, Verdict::Error);
  EXPECT_EQ(failure(R"({"choices":[{"text":"legacy"}]})").verdict, Verdict::Error);
  const Outcome r = failure(R"({"choices":[{"message":{"tool_calls":[{"id":"c","type":"function",)"
                            R"("function":{"name":"f","arguments":"{\"a\":"}}]}}]})");
  EXPECT_EQ(r.verdict, Verdict::Error);
  EXPECT_EQ(r.message,
            "openai answer: choices[0].message.tool_calls[0].function.arguments is not a JSON "
            "object");
  EXPECT_EQ(
      failure(R"({"choices":[{"message":{"tool_calls":[{"function":{"name":"f"}}]}}]})").verdict,
      Verdict::Error);
  EXPECT_EQ(failure(R"({"choices":[{"message":{"tool_calls":{}}}]})").verdict, Verdict::Error);
}

// ---- errors -------------------------------------------------------------------------------

TEST(AnthropicChatToMessagesResponse, ErrorsTakeAnthropicsShapeAndKeepTheStatus) {
  struct Case {
    int status;
    const char* type;
  } cases[] = {{400, "invalid_request_error"},
               {401, "authentication_error"},
               {402, "billing_error"},
               {403, "permission_error"},
               {404, "not_found_error"},
               {413, "request_too_large"},
               {429, "rate_limit_error"},
               {500, "api_error"},
               {503, "api_error"},
               {422, "invalid_request_error"}};
  for (const Case& c : cases) {
    const TranslatedResponse r = translate(
        c.status, R"({"error":{"message":"nope","type":"whatever","param":null,"code":"x"}})");
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.body, std::string(R"({"type":"error","error":{"type":")") + c.type +
                          R"(","message":"nope"}})");
  }
}

TEST(AnthropicChatToMessagesResponse, ErrorBodiesOfOtherShapes) {
  TranslatedResponse r = translate(404, R"({"error":"model 'llama9' not found"})");
  EXPECT_EQ(r.body, R"({"type":"error","error":{"type":"not_found_error",)"
                    R"("message":"model 'llama9' not found"}})");
  r = translate(502, "Bad Gateway");
  EXPECT_EQ(r.body, R"({"type":"error","error":{"type":"api_error","message":"Bad Gateway"}})");
  r = translate(500, "");
  EXPECT_EQ(r.body, R"({"type":"error","error":{"type":"api_error",)"
                    R"("message":"the provider answered HTTP 500 with an empty body"}})");
}

}  // namespace
}  // namespace anthropic
