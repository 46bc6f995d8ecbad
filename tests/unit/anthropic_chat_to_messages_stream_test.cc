// F: OpenAI chat.completion.chunk events → Anthropic SSE events
// (plugins/anthropic/chat_to_messages_stream.h).
#include "anthropic/chat_to_messages_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace anthropic {
namespace {

using State = ChatToMessagesStream::State;

std::string chunk(std::string_view delta, std::string_view finish = "null",
                  std::string_view usage = "") {
  std::string c =
      R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-x",)"
      R"("choices":[{"index":0,"delta":)" +
      std::string(delta) + R"(,"logprobs":null,"finish_reason":)" + std::string(finish) + "}]";
  if (!usage.empty()) c += R"(,"usage":)" + std::string(usage);
  return c + "}";
}

const std::string kUsage = R"({"prompt_tokens":20,"completion_tokens":5,"total_tokens":25,)"
                           R"("prompt_tokens_details":{"cached_tokens":8}})";
const std::string kUsageChunk =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-x",)"
    R"("choices":[],"usage":)" +
    kUsage + "}";

std::string feed(ChatToMessagesStream& s, const std::vector<std::string>& events) {
  std::string out;
  for (const std::string& data : events) {
    const Outcome r = s.on_event(data, out);
    EXPECT_TRUE(r.is_ok()) << data << ": " << r.message;
  }
  return out;
}

std::string event(std::string_view name, std::string_view data) {
  return "event: " + std::string(name) + "\ndata: " + std::string(data) + "\n\n";
}

// The names of the emitted events, in order.
std::vector<std::string> names_of(const std::string& out) {
  std::vector<std::string> names;
  for (size_t at = out.find("event: "); at != std::string::npos; at = out.find("event: ", at + 1)) {
    names.push_back(out.substr(at + 7, out.find('\n', at) - at - 7));
  }
  return names;
}

TEST(AnthropicChatToMessagesStream, TextStreamExactly) {
  ChatToMessagesStream s("req-1", "gpt-fallback");
  const std::string out =
      feed(s, {chunk(R"({"role":"assistant","content":""})"), chunk(R"({"content":"Hel"})"),
               chunk(R"({"content":"lo"})"), chunk("{}", R"("stop")"), kUsageChunk, "[DONE]"});
  EXPECT_EQ(
      out,
      event("message_start",
            R"({"type":"message_start","message":{"id":"msg_chatcmpl-1","type":"message",)"
            R"("role":"assistant","model":"gpt-x","content":[],"stop_reason":null,)"
            R"("stop_sequence":null,"usage":{"input_tokens":0,)"
            R"("cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
            R"("output_tokens":0}}})") +
          event("content_block_start", R"({"type":"content_block_start","index":0,)"
                                       R"("content_block":{"type":"text","text":""}})") +
          event("content_block_delta", R"({"type":"content_block_delta","index":0,)"
                                       R"("delta":{"type":"text_delta","text":"Hel"}})") +
          event("content_block_delta", R"({"type":"content_block_delta","index":0,)"
                                       R"("delta":{"type":"text_delta","text":"lo"}})") +
          event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
          event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn",)"
                                 R"("stop_sequence":null},"usage":{"input_tokens":12,)"
                                 R"("cache_creation_input_tokens":0,"cache_read_input_tokens":8,)"
                                 R"("output_tokens":5}})") +
          event("message_stop", R"({"type":"message_stop"})"));
  EXPECT_EQ(s.state(), State::Done);
  EXPECT_EQ(s.usage().input_tokens, 20u);
  EXPECT_EQ(s.usage().cached_tokens, 8u);
  std::string end;
  ASSERT_TRUE(s.on_end(end).is_ok());
  EXPECT_EQ(end, "");
}

TEST(AnthropicChatToMessagesStream, MessageDeltaWaitsForTheUsageChunk) {
  ChatToMessagesStream s("req-1", "m");
  std::string out = feed(s, {chunk(R"({"content":"x"})"), chunk("{}", R"("length")")});
  EXPECT_EQ(s.state(), State::Finishing);
  EXPECT_EQ(names_of(out).back(), "content_block_stop");
  out = feed(s, {kUsageChunk});
  EXPECT_EQ(names_of(out), (std::vector<std::string>{"message_delta", "message_stop"}));
  EXPECT_NE(out.find(R"("stop_reason":"max_tokens")"), std::string::npos);
  EXPECT_NE(out.find(R"("output_tokens":5)"), std::string::npos);
  EXPECT_EQ(feed(s, {"[DONE]"}), "");
}

TEST(AnthropicChatToMessagesStream, WithoutAUsageChunkDoneFinishes) {
  ChatToMessagesStream s("req-1", "m");
  std::string out = feed(
      s, {chunk(R"({"content":"x"})", "null", "null"), chunk("{}", R"("stop")", "null"), "[DONE]"});
  EXPECT_EQ(names_of(out),
            (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                      "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_NE(out.find(R"("usage":{"input_tokens":0,"cache_creation_input_tokens":0,)"
                     R"("cache_read_input_tokens":0,"output_tokens":0})"),
            std::string::npos);
}

TEST(AnthropicChatToMessagesStream, FinishAndUsageInOneChunk) {
  ChatToMessagesStream s("req-1", "m");
  const std::string out = feed(s, {chunk(R"({"content":"x"})"), chunk("{}", R"("stop")", kUsage)});
  EXPECT_EQ(names_of(out).back(), "message_stop");
  EXPECT_EQ(s.state(), State::Done);
  EXPECT_EQ(feed(s, {kUsageChunk, "[DONE]", "garbage"}), "");  // late extras change nothing
}

TEST(AnthropicChatToMessagesStream, AnEndWithoutDoneAfterFinishFinishes) {
  ChatToMessagesStream s("req-1", "m");
  feed(s, {chunk(R"({"content":"x"})"), chunk("{}", R"("stop")")});
  std::string out;
  ASSERT_TRUE(s.on_end(out).is_ok());
  EXPECT_EQ(names_of(out), (std::vector<std::string>{"message_delta", "message_stop"}));
}

TEST(AnthropicChatToMessagesStream, AnEndBeforeFinishIsAnError) {
  ChatToMessagesStream s("req-1", "m");
  feed(s, {chunk(R"({"content":"x"})")});
  std::string out;
  const Outcome r = s.on_end(out);
  EXPECT_EQ(r.verdict, Verdict::Error);
  EXPECT_EQ(r.message, "openai stream: stream ended before finish_reason");
  EXPECT_EQ(out, "");
}

TEST(AnthropicChatToMessagesStream, OnlyDoneGivesAnEmptyMessage) {
  ChatToMessagesStream s("req-9", "fallback-model");
  const std::string out = feed(s, {"[DONE]"});
  EXPECT_EQ(names_of(out),
            (std::vector<std::string>{"message_start", "message_delta", "message_stop"}));
  EXPECT_NE(out.find(R"("id":"msg_req-9")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("model":"fallback-model")"), std::string::npos);
  EXPECT_NE(out.find(R"("stop_reason":"end_turn")"), std::string::npos);
}

TEST(AnthropicChatToMessagesStream, ToolCallsBecomeToolUseBlocks) {
  ChatToMessagesStream s("req-1", "m");
  const std::string out =
      feed(s, {chunk(R"({"role":"assistant","content":"Let me check."})"),
               chunk(R"({"tool_calls":[{"index":0,"id":"call_A","type":"function",)"
                     R"("function":{"name":"get_weather","arguments":""}}]})"),
               chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})"),
               chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]})"),
               chunk(R"({"tool_calls":[{"index":1,"id":"call_B","type":"function",)"
                     R"("function":{"name":"now","arguments":"{}"}}]})"),
               chunk("{}", R"("tool_calls")"), kUsageChunk, "[DONE]"});
  EXPECT_EQ(names_of(out),
            (std::vector<std::string>{
                "message_start", "content_block_start", "content_block_delta", "content_block_stop",
                "content_block_start", "content_block_delta", "content_block_delta",
                "content_block_stop", "content_block_start", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_NE(
      out.find(R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use",)"
               R"("id":"call_A","name":"get_weather","input":{}}})"),
      std::string::npos)
      << out;
  EXPECT_NE(
      out.find(R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",)"
               R"("partial_json":"{\"city\":"}})"),
      std::string::npos);
  EXPECT_NE(
      out.find(R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",)"
               R"("partial_json":"\"Paris\"}"}})"),
      std::string::npos);
  EXPECT_NE(
      out.find(R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use",)"
               R"("id":"call_B","name":"now","input":{}}})"),
      std::string::npos);
  EXPECT_NE(out.find(R"("stop_reason":"tool_use")"), std::string::npos);
}

TEST(AnthropicChatToMessagesStream, ToolCallsWithoutIndexOrId) {
  ChatToMessagesStream s("req-1", "m");
  const std::string out = feed(
      s, {chunk(R"({"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{\"x\":1}"}}]})"),
          chunk(R"({"tool_calls":[{"function":{"arguments":""}}]})"),
          chunk(R"({"tool_calls":[{"id":"b","function":{"name":"g"}}]})"),
          chunk(R"({"tool_calls":[{"index":2,"function":{"name":"h","arguments":"{}"}}]})"),
          chunk("{}", R"("tool_calls")"), "[DONE]"});
  EXPECT_NE(out.find(R"("index":0,"content_block":{"type":"tool_use","id":"a","name":"f")"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"("index":1,"content_block":{"type":"tool_use","id":"b","name":"g")"),
            std::string::npos);
  // No id at all: one is made up, unique within the answer.
  EXPECT_NE(
      out.find(R"("index":2,"content_block":{"type":"tool_use","id":"toolu_2_req-1","name":"h")"),
      std::string::npos);
}

TEST(AnthropicChatToMessagesStream, HugeToolArgumentsAreForwardedDeltaByDelta) {
  ChatToMessagesStream s("req-1", "m");
  feed(s,
       {chunk(
           R"({"tool_calls":[{"index":0,"id":"c","function":{"name":"write","arguments":""}}]})")});
  const std::string fragment(200, 'b');
  const std::string data =
      chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":")" + fragment + R"("}}]})");
  for (int i = 0; i < 20000; ++i) {
    std::string out;
    ASSERT_TRUE(s.on_event(data, out).is_ok());
    ASSERT_NE(out.find(fragment), std::string::npos);
    ASSERT_LT(out.size(), 512u);
  }
  feed(s, {chunk("{}", R"("tool_calls")"), "[DONE]"});
  EXPECT_EQ(s.state(), State::Done);
}

TEST(AnthropicChatToMessagesStream, RefusalTextIsTextAndReasoningIsDropped) {
  ChatToMessagesStream s("req-1", "m");
  const std::string out = feed(
      s, {chunk(R"({"reasoning_content":"thinking..."})"), chunk(R"({"refusal":"I can't help."})"),
          chunk("{}", R"("content_filter")"), "[DONE]"});
  EXPECT_NE(out.find(R"("text":"I can't help.")"), std::string::npos) << out;
  EXPECT_EQ(out.find("thinking..."), std::string::npos);
  EXPECT_NE(out.find(R"("stop_reason":"refusal")"), std::string::npos);
}

TEST(AnthropicChatToMessagesStream, UsageOnTheFirstChunkGoesIntoMessageStart) {
  ChatToMessagesStream s("req-1", "m");
  const std::string out = feed(s, {chunk(R"({"content":""})", "null", kUsage)});
  EXPECT_NE(out.find(R"("usage":{"input_tokens":12,"cache_creation_input_tokens":0,)"
                     R"("cache_read_input_tokens":8,"output_tokens":5}}})"),
            std::string::npos)
      << out;
}

TEST(AnthropicChatToMessagesStream, ErrorsAndViolations) {
  struct Case {
    std::vector<std::string> before;
    std::string bad;
    const char* message;
  } cases[] = {
      {{}, "{oops", "a chunk is not a JSON object"},
      {{chunk(R"({"content":"x"})")},
       R"({"error":{"message":"upstream overloaded","type":"server_error"}})",
       "the provider sent an error: upstream overloaded"},
      {{}, R"({"error":"boom"})", "the provider sent an error: boom"},
      {{chunk("{}", R"("stop")")}, chunk(R"({"content":"late"})"), "content after finish_reason"},
      {{},
       chunk(R"({"tool_calls":[{"index":0,"id":"c","function":{"arguments":"{}"}}]})"),
       "tool call 0 has no name"},
      {{chunk(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f"}}]})"),
        chunk(R"({"tool_calls":[{"index":1,"id":"b","function":{"name":"g"}}]})")},
       chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]})"),
       "tool call 0 continued after tool call 1 started"},
      {{chunk(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f"}}]})"),
        chunk(R"({"content":"text between"})")},
       chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]})"),
       "tool call 0 continued after its block closed"},
      {{chunk("{}", R"("tool_calls")")},
       chunk(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f"}}]})"),
       "a tool call after finish_reason"},
      {{},
       chunk(R"({"tool_calls":[{"index":99999999999,"id":"a","function":{"name":"f"}}]})"),
       "tool call index 99999999999 is too large"},
      {{}, R"({"choices":[1]})", "a choice is not an object"},
  };
  for (const Case& c : cases) {
    ChatToMessagesStream s("req-1", "m");
    std::string out = feed(s, c.before);
    const Outcome r = s.on_event(c.bad, out);
    EXPECT_EQ(r.verdict, Verdict::Error) << c.message;
    EXPECT_EQ(r.message, std::string("openai stream: ") + c.message);
    EXPECT_EQ(s.state(), State::Failed);
    EXPECT_EQ(s.on_event("[DONE]", out).message, r.message);
    EXPECT_EQ(s.on_end(out).message, r.message);
  }
}

TEST(AnthropicChatToMessagesStream, ChunksWithoutChoicesOrOfOtherChoicesAreIgnored) {
  ChatToMessagesStream s("req-1", "m");
  const std::string out =
      feed(s, {R"({"id":"x","object":"chat.completion.chunk"})",
               R"({"id":"x","choices":[{"index":1,"delta":{"content":"other choice"}}]})"});
  EXPECT_EQ(names_of(out), std::vector<std::string>{"message_start"});
}

}  // namespace
}  // namespace anthropic
