// C: Anthropic SSE events → OpenAI chat.completion.chunk events
// (plugins/anthropic/messages_to_chat_stream.h).
#include "anthropic/messages_to_chat_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace anthropic {
namespace {

using State = MessagesToChatStream::State;

constexpr int64_t kCreated = 1700000000;

const std::pair<std::string, std::string> kMessageStart{
    "message_start",
    R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",)"
    R"("content":[],"model":"claude-x","stop_reason":null,"stop_sequence":null,)"
    R"("usage":{"input_tokens":25,"cache_creation_input_tokens":10,)"
    R"("cache_read_input_tokens":100,"output_tokens":1}}})"};

std::pair<std::string, std::string> block_start(int index, std::string_view block) {
  return {"content_block_start", R"({"type":"content_block_start","index":)" +
                                     std::to_string(index) + R"(,"content_block":)" +
                                     std::string(block) + "}"};
}
std::pair<std::string, std::string> delta(int index, std::string_view d) {
  return {"content_block_delta", R"({"type":"content_block_delta","index":)" +
                                     std::to_string(index) + R"(,"delta":)" + std::string(d) + "}"};
}
std::pair<std::string, std::string> text_delta(int index, std::string_view text) {
  return delta(index, R"({"type":"text_delta","text":")" + std::string(text) + R"("})");
}
std::pair<std::string, std::string> json_delta(int index, std::string_view json) {
  return delta(index,
               R"({"type":"input_json_delta","partial_json":")" + std::string(json) + R"("})");
}
std::pair<std::string, std::string> block_stop(int index) {
  return {"content_block_stop",
          R"({"type":"content_block_stop","index":)" + std::to_string(index) + "}"};
}
std::pair<std::string, std::string> message_delta(std::string_view stop_reason, int output) {
  return {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":")" +
                               std::string(stop_reason) +
                               R"(","stop_sequence":null},"usage":{"output_tokens":)" +
                               std::to_string(output) + "}}"};
}
const std::pair<std::string, std::string> kMessageStop{"message_stop",
                                                       R"({"type":"message_stop"})"};
const std::pair<std::string, std::string> kPing{"ping", R"({"type":"ping"})"};

// Feeds events; expects each to be Ok. Returns everything emitted.
std::string feed(MessagesToChatStream& s,
                 const std::vector<std::pair<std::string, std::string>>& events) {
  std::string out;
  for (const auto& [name, data] : events) {
    const Outcome r = s.on_event(name, data, out);
    EXPECT_TRUE(r.is_ok()) << name << ": " << r.message;
  }
  return out;
}

// The emitted events' data, each with the chunk head (id, object, created, model) cut off:
// what is left starts at "choices".
std::vector<std::string> choices_of(const std::string& out) {
  const std::string head =
      R"(data: {"id":"msg_1","object":"chat.completion.chunk","created":1700000000,)"
      R"("model":"claude-x",)";
  std::vector<std::string> chunks;
  size_t at = 0;
  while (at < out.size()) {
    const size_t end = out.find("\n\n", at);
    std::string event = out.substr(at, end - at);
    if (event.starts_with(head)) event = event.substr(head.size());
    chunks.push_back(event);
    at = end + 2;
  }
  return chunks;
}

TEST(AnthropicMessagesToChatStream, TextStreamExactly) {
  MessagesToChatStream s(kCreated);
  std::string out = feed(s, {kMessageStart, block_start(0, R"({"type":"text","text":""})"), kPing,
                             text_delta(0, "Hello"), text_delta(0, "!"), block_stop(0),
                             message_delta("end_turn", 15), kMessageStop});
  ASSERT_TRUE(s.on_end(/*include_usage=*/true, out).is_ok());
  const std::string head =
      R"(data: {"id":"msg_1","object":"chat.completion.chunk","created":1700000000,)"
      R"("model":"claude-x","choices":[)";
  EXPECT_EQ(out, head +
                     R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,)"
                     R"("finish_reason":null}]})"
                     "\n\n" +
                     head +
                     R"({"index":0,"delta":{"content":"Hello"},"logprobs":null,)"
                     R"("finish_reason":null}]})"
                     "\n\n" +
                     head +
                     R"({"index":0,"delta":{"content":"!"},"logprobs":null,)"
                     R"("finish_reason":null}]})"
                     "\n\n" +
                     head +
                     R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]})"
                     "\n\n" +
                     head +
                     R"(],"usage":{"prompt_tokens":135,"completion_tokens":15,)"
                     R"("total_tokens":150,"prompt_tokens_details":{"cached_tokens":100}}})"
                     "\n\n"
                     "data: [DONE]\n\n");
  const Usage u = s.usage();
  EXPECT_EQ(u.input_tokens, 135u);
  EXPECT_EQ(u.cached_tokens, 100u);
  EXPECT_EQ(u.cache_write_tokens, 10u);
  EXPECT_EQ(u.output_tokens, 15u);
  EXPECT_EQ(s.state(), State::Stopped);
}

TEST(AnthropicMessagesToChatStream, NoUsageChunkUnlessAsked) {
  MessagesToChatStream s(kCreated);
  feed(s, {kMessageStart, message_delta("max_tokens", 3), kMessageStop});
  std::string out;
  ASSERT_TRUE(s.on_end(false, out).is_ok());
  EXPECT_EQ(out, "data: [DONE]\n\n");
}

TEST(AnthropicMessagesToChatStream, UsageIsKnownFromMessageStart) {
  MessagesToChatStream s(kCreated);
  EXPECT_FALSE(s.usage().reported);
  feed(s, {kMessageStart});
  EXPECT_TRUE(s.usage().reported);
  EXPECT_EQ(s.usage().input_tokens, 135u);
  EXPECT_EQ(s.usage().output_tokens, 1u);
}

TEST(AnthropicMessagesToChatStream, ToolUseBlocksAreNumberedAmongToolCalls) {
  MessagesToChatStream s(kCreated);
  const std::string out = feed(
      s, {kMessageStart, block_start(0, R"({"type":"text","text":""})"),
          text_delta(0, "Let me check."), block_stop(0),
          block_start(1, R"({"type":"tool_use","id":"toolu_A","name":"get_weather","input":{}})"),
          json_delta(1, ""), json_delta(1, R"({\"city\": )"), json_delta(1, R"(\"Paris\"})"),
          block_stop(1),
          block_start(2, R"({"type":"tool_use","id":"toolu_B","name":"now","input":{}})"),
          block_stop(2), message_delta("tool_use", 40), kMessageStop});
  const std::vector<std::string> chunks = choices_of(out);
  ASSERT_EQ(chunks.size(), 7u) << out;
  EXPECT_EQ(chunks[1],
            R"("choices":[{"index":0,"delta":{"content":"Let me check."},"logprobs":null,)"
            R"("finish_reason":null}]})");
  EXPECT_EQ(chunks[2], R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_A",)"
                       R"("type":"function","function":{"name":"get_weather","arguments":""}}]},)"
                       R"("logprobs":null,"finish_reason":null}]})");
  EXPECT_EQ(chunks[3], R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":)"
                       R"({"arguments":"{\"city\": "}}]},"logprobs":null,"finish_reason":null}]})");
  EXPECT_EQ(chunks[4], R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":)"
                       R"({"arguments":"\"Paris\"}"}}]},"logprobs":null,"finish_reason":null}]})");
  EXPECT_EQ(chunks[5], R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"toolu_B",)"
                       R"("type":"function","function":{"name":"now","arguments":""}}]},)"
                       R"("logprobs":null,"finish_reason":null}]})");
  EXPECT_EQ(chunks[6],
            R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]})");
}

TEST(AnthropicMessagesToChatStream, AToolUseStartCarryingItsInputIsForwarded) {
  MessagesToChatStream s(kCreated);
  const std::string out =
      feed(s, {kMessageStart,
               block_start(0, R"({"type":"tool_use","id":"t","name":"f","input":{"a":1}})")});
  EXPECT_NE(out.find(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]})"),
            std::string::npos)
      << out;
}

TEST(AnthropicMessagesToChatStream, ThinkingBlocksAndUnknownEventsAreSkipped) {
  MessagesToChatStream s(kCreated);
  const std::string out = feed(
      s, {kMessageStart,
          block_start(0, R"({"type":"thinking","thinking":""})"),
          delta(0, R"({"type":"thinking_delta","thinking":"Hmm"})"),
          delta(0, R"({"type":"signature_delta","signature":"EqQB"})"),
          block_stop(0),
          block_start(1, R"({"type":"redacted_thinking","data":"x"})"),
          block_stop(1),
          block_start(2, R"({"type":"server_tool_use","id":"s","name":"web_search","input":{}})"),
          json_delta(2, R"({\"q\":1})"),
          block_stop(2),
          {"future_event", R"({"type":"future_event","x":1})"},
          {"future_event", "not even json"},
          block_start(3, R"({"type":"text","text":""})"),
          delta(3, R"({"type":"citations_delta","citation":{}})"),
          text_delta(3, "ok"),
          block_stop(3),
          message_delta("end_turn", 9),
          kMessageStop});
  const std::vector<std::string> chunks = choices_of(out);
  ASSERT_EQ(chunks.size(), 3u) << out;  // role, "ok", finish
  EXPECT_NE(chunks[1].find(R"("content":"ok")"), std::string::npos);
}

TEST(AnthropicMessagesToChatStream, UnnamedEventsAreReadByTheirDataType) {
  MessagesToChatStream s(kCreated);
  std::string out;
  ASSERT_TRUE(s.on_event("", kMessageStart.second, out).is_ok());
  ASSERT_TRUE(s.on_event("", R"({"type":"ping"})", out).is_ok());
  ASSERT_TRUE(s.on_event("", R"({"type":"message_stop"})", out).is_ok());
  EXPECT_EQ(s.state(), State::Stopped);
}

TEST(AnthropicMessagesToChatStream, AnErrorEventFailsTheStreamWithItsMessage) {
  MessagesToChatStream s(kCreated);
  std::string out = feed(
      s, {kMessageStart, block_start(0, R"({"type":"text","text":""})"), text_delta(0, "Hel")});
  const Outcome r = s.on_event(
      "error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
      out);
  EXPECT_EQ(r.verdict, Verdict::Error);
  EXPECT_EQ(r.message, "anthropic stream: error event: overloaded_error: Overloaded");
  EXPECT_EQ(s.state(), State::Failed);
  // Everything after fails the same way.
  EXPECT_EQ(s.on_event("content_block_delta", text_delta(0, "lo").second, out).message, r.message);
  EXPECT_EQ(s.on_end(true, out).message, r.message);
}

TEST(AnthropicMessagesToChatStream, AStreamCutInsideToolUseIsAnError) {
  MessagesToChatStream s(kCreated);
  std::string out = feed(
      s, {kMessageStart, block_start(0, R"({"type":"tool_use","id":"t","name":"f","input":{}})"),
          json_delta(0, R"({\"path\": \"/tm)")});
  EXPECT_EQ(s.state(), State::InToolUseBlock);
  const size_t before = out.size();
  const Outcome r = s.on_end(true, out);
  EXPECT_EQ(r.verdict, Verdict::Error);
  EXPECT_EQ(r.message, "anthropic stream: stream ended before message_stop");
  EXPECT_EQ(out.size(), before);  // no [DONE]: the client must not take it for a whole answer
}

TEST(AnthropicMessagesToChatStream, AStreamWithNoEventsIsAnError) {
  MessagesToChatStream s(kCreated);
  std::string out;
  EXPECT_EQ(s.on_end(false, out).verdict, Verdict::Error);
}

TEST(AnthropicMessagesToChatStream, HugeToolArgumentsAreForwardedDeltaByDelta) {
  MessagesToChatStream s(kCreated);
  std::string out = feed(
      s,
      {kMessageStart, block_start(0, R"({"type":"tool_use","id":"t","name":"write","input":{}})")});
  const std::string fragment(200, 'a');  // 20,000 deltas of 200 bytes: 4 MB of arguments
  const auto event = json_delta(0, fragment);
  size_t emitted = 0;
  for (int i = 0; i < 20000; ++i) {
    out.clear();  // what sluice does: each call's output goes to the client and is gone
    ASSERT_TRUE(s.on_event(event.first, event.second, out).is_ok());
    ASSERT_NE(out.find(fragment), std::string::npos);
    ASSERT_LT(out.size(), 512u);  // each fragment leaves as it came, in one chunk
    emitted += out.size();
  }
  EXPECT_GT(emitted, 20000u * 200u);
  out.clear();
  feed(s, {block_stop(0), message_delta("tool_use", 100000), kMessageStop});
}

TEST(AnthropicMessagesToChatStream, MessageDeltaUsageMayCarryInputCounts) {
  MessagesToChatStream s(kCreated);
  feed(s, {{"message_start",
            R"({"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":0,)"
            R"("output_tokens":0}}})"},
           {"message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},)"
            R"("usage":{"input_tokens":9,"cache_read_input_tokens":1,"output_tokens":4}})"}});
  EXPECT_EQ(s.usage().input_tokens, 10u);
  EXPECT_EQ(s.usage().cached_tokens, 1u);
  EXPECT_EQ(s.usage().output_tokens, 4u);
}

TEST(AnthropicMessagesToChatStream, TheLastStopReasonGoesOutAtMessageStop) {
  MessagesToChatStream s(kCreated);
  std::string out = feed(s, {kMessageStart, message_delta("pause_turn", 5),
                             block_start(0, R"({"type":"text","text":""})"), text_delta(0, "more"),
                             block_stop(0), message_delta("max_tokens", 8)});
  EXPECT_EQ(out.find(R"("finish_reason":")"), std::string::npos);  // nothing may follow it
  out = feed(s, {kMessageStop});
  const std::vector<std::string> chunks = choices_of(out);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0],
            R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]})");
  EXPECT_EQ(s.usage().output_tokens, 8u);
}

TEST(AnthropicMessagesToChatStream, AMessageWithoutStopReasonFinishesWithStop) {
  MessagesToChatStream s(kCreated);
  const std::string out = feed(s, {kMessageStart, kMessageStop});
  EXPECT_NE(out.find(R"("finish_reason":"stop")"), std::string::npos) << out;
}

TEST(AnthropicMessagesToChatStream, ProtocolViolationsAreErrors) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> before;
    std::pair<std::string, std::string> bad;
    const char* message;
  } cases[] = {
      {{},
       block_start(0, R"({"type":"text","text":""})"),
       "content_block_start awaiting message_start"},
      {{}, text_delta(0, "x"), "content_block_delta awaiting message_start"},
      {{kMessageStart}, kMessageStart, "message_start between content blocks"},
      {{kMessageStart, block_start(0, R"({"type":"text","text":""})")},
       text_delta(1, "x"),
       "content_block_delta for block 1 while block 0 is open"},
      {{kMessageStart, block_start(0, R"({"type":"text","text":""})")},
       json_delta(0, "{"),
       "input_json_delta in a text block"},
      {{kMessageStart, block_start(0, R"({"type":"tool_use","id":"t","name":"f","input":{}})")},
       text_delta(0, "x"),
       "text_delta in a tool_use block"},
      {{kMessageStart, block_start(0, R"({"type":"text","text":""})")},
       block_start(1, R"({"type":"text","text":""})"),
       "content_block_start in a text block"},
      {{kMessageStart, block_start(0, R"({"type":"text","text":""})")},
       kMessageStop,
       "message_stop in a text block"},
      {{kMessageStart, kMessageStop}, text_delta(0, "x"), "content_block_delta after message_stop"},
      {{kMessageStart},
       {"content_block_delta", "{not json"},
       R"(the data of event "content_block_delta" is not a JSON object)"},
      {{kMessageStart},
       {"content_block_start", R"({"type":"content_block_start"})"},
       "content_block_start without index or content_block"},
      {{}, {"message_start", R"({"type":"message_start"})"}, "message_start without a message"},
      {{kMessageStart},
       block_start(0, R"({"type":"tool_use","id":"t","input":{}})"),
       "a tool_use block without id or name"},
      {{kMessageStart},
       block_start(0, R"({"type":"tool_use","name":"f","input":{}})"),
       "a tool_use block without id or name"},
  };
  for (const Case& c : cases) {
    MessagesToChatStream s(kCreated);
    std::string out = feed(s, c.before);
    const Outcome r = s.on_event(c.bad.first, c.bad.second, out);
    EXPECT_EQ(r.verdict, Verdict::Error) << c.message;
    EXPECT_EQ(r.message, std::string("anthropic stream: ") + c.message);
  }
}

TEST(AnthropicMessagesToChatStream, StatesHaveNames) {
  EXPECT_EQ(MessagesToChatStream::to_string(State::InToolUseBlock), "in a tool_use block");
  EXPECT_EQ(MessagesToChatStream::to_string(State::Failed), "failed");
}

}  // namespace
}  // namespace anthropic
