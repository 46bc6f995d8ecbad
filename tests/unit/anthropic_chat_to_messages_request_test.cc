// A: OpenAI chat request → Anthropic Messages request
// (plugins/anthropic/chat_to_messages_request.h).
#include "anthropic/chat_to_messages_request.h"

#include <gtest/gtest.h>

#include <string>

namespace anthropic {
namespace {

std::string translate(std::string_view body, uint64_t default_max_tokens = 4096) {
  std::string out;
  const Outcome r = chat_request_to_messages(body, {"claude-sonnet-4-5", default_max_tokens}, out);
  EXPECT_TRUE(r.is_ok()) << r.message;
  return out;
}

// The message of a refused request (Invalid expected).
std::string refusal(std::string_view body) {
  std::string out;
  const Outcome r = chat_request_to_messages(body, {"claude-sonnet-4-5", 4096}, out);
  EXPECT_EQ(r.verdict, Verdict::Invalid) << body;
  return r.message;
}

TEST(AnthropicChatToMessagesRequest, SmallestRequest) {
  EXPECT_EQ(translate(R"({"model":"smart","messages":[{"role":"user","content":"Hi"}]})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,)"
            R"("messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]})");
}

TEST(AnthropicChatToMessagesRequest, SystemAndDeveloperMessagesBecomeTheSystemPrompt) {
  EXPECT_EQ(translate(R"({"messages":[)"
                      R"({"role":"system","content":"Be brief."},)"
                      R"({"role":"user","content":"Hi"},)"
                      R"({"role":"developer","content":[{"type":"text","text":"Use French."},)"
                      R"({"type":"text","text":"No emoji."}]},)"
                      R"({"role":"system","content":""}]})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,)"
            R"("system":"Be brief.\n\nUse French.\n\nNo emoji.",)"
            R"("messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]})");
}

TEST(AnthropicChatToMessagesRequest, MultiTurnWithSameRoleMessagesMerged) {
  EXPECT_EQ(translate(R"({"messages":[)"
                      R"({"role":"user","content":"a"},{"role":"user","content":"b"},)"
                      R"({"role":"assistant","content":"c","name":"bot"},)"
                      R"({"role":"assistant","content":[{"type":"text","text":"d"},)"
                      R"({"type":"refusal","refusal":"no"}]},)"
                      R"({"role":"user","content":[{"type":"text","text":"e"}]}]})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[)"
            R"({"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},)"
            R"({"role":"assistant","content":[{"type":"text","text":"c"},)"
            R"({"type":"text","text":"d"},{"type":"text","text":"no"}]},)"
            R"({"role":"user","content":[{"type":"text","text":"e"}]}]})");
}

TEST(AnthropicChatToMessagesRequest, EmptyTextIsLeftOutAndEmptyMessagesAddNoTurn) {
  // The empty assistant message vanishes, so the two user turns around it merge.
  EXPECT_EQ(
      translate(R"({"messages":[{"role":"user","content":"a"},)"
                R"({"role":"assistant","content":""},{"role":"user","content":"b"}]})"),
      R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[)"
      R"({"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]})");
}

TEST(AnthropicChatToMessagesRequest, ImagesByUrlAndInline) {
  EXPECT_EQ(
      translate(
          R"({"messages":[{"role":"user","content":[)"
          R"({"type":"text","text":"What is this?"},)"
          R"({"type":"image_url","image_url":{"url":"https://x.test/cat.png","detail":"high"}},)"
          R"({"type":"image_url","image_url":{"url":"data:image/webp;base64,UklGR"}}]}]})"),
      R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[{"role":"user","content":[)"
      R"({"type":"text","text":"What is this?"},)"
      R"({"type":"image","source":{"type":"url","url":"https://x.test/cat.png"}},)"
      R"({"type":"image","source":{"type":"base64","media_type":"image/webp","data":"UklGR"}}]}]})");
}

TEST(AnthropicChatToMessagesRequest, ImageRefusals) {
  EXPECT_EQ(refusal(R"({"messages":[{"role":"user","content":[)"
                    R"({"type":"image_url","image_url":{"url":"ftp://x/a.png"}}]}]})"),
            "messages[0].content[0].image_url.url: Anthropic takes http(s) URLs and base64 data: "
            "URLs only");
  EXPECT_EQ(
      refusal(R"({"messages":[{"role":"system","content":[)"
              R"({"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]})"),
      R"(messages[0].content[0].type: "image_url" has no Anthropic equivalent in a system message)");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})"),
            "messages[0].content[0].image_url.url: required");
}

TEST(AnthropicChatToMessagesRequest, ContentPartsWithoutAnEquivalentAreRefusedByPath) {
  EXPECT_EQ(
      refusal(R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},)"
              R"({"role":"user","content":"c"},{"role":"user","content":[)"
              R"({"type":"text","text":"listen"},)"
              R"({"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}]})"),
      R"(messages[3].content[1].type: "input_audio" has no Anthropic equivalent)");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"user","content":[{"type":"file","file":{}}]}]})"),
            R"(messages[0].content[0].type: "file" has no Anthropic equivalent)");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"user","content":[{"text":"x"}]}]})"),
            "messages[0].content[0].type: required");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"user","content":[{"type":"text","text":5}]}]})"),
            "messages[0].content[0].text: must be a string");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"user","content":5}]})"),
            "messages[0].content: must be a string or an array of parts");
}

TEST(AnthropicChatToMessagesRequest, RolesWithoutAnEquivalentAreRefused) {
  EXPECT_EQ(refusal(R"({"messages":[{"role":"function","name":"f","content":"x"}]})"),
            R"(messages[0].role: "function" has no Anthropic equivalent)");
  EXPECT_EQ(refusal(R"({"messages":[{"content":"x"}]})"), "messages[0].role: required");
  EXPECT_EQ(refusal(R"({"messages":[7]})"), "messages[0]: must be an object");
}

TEST(AnthropicChatToMessagesRequest, ToolsAndToolChoice) {
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather.",)"
      R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}},)"
      R"({"type":"function","function":{"name":"now"}}])";
  const std::string expected_tools =
      R"("tools":[{"name":"get_weather","description":"Weather.",)"
      R"("input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},)"
      R"({"name":"now","input_schema":{"type":"object","properties":{}}}])";
  const std::string head =
      R"({"model":"claude-sonnet-4-5","max_tokens":4096,)"
      R"("messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],)";
  const std::string msgs = R"("messages":[{"role":"user","content":"Hi"}],)";

  EXPECT_EQ(translate("{" + msgs + tools + "}"), head + expected_tools + "}");
  EXPECT_EQ(translate("{" + msgs + tools + R"(,"tool_choice":"auto"})"),
            head + expected_tools + R"(,"tool_choice":{"type":"auto"}})");
  EXPECT_EQ(translate("{" + msgs + tools + R"(,"tool_choice":"required"})"),
            head + expected_tools + R"(,"tool_choice":{"type":"any"}})");
  EXPECT_EQ(translate("{" + msgs + tools + R"(,"tool_choice":"none"})"),
            head + expected_tools + R"(,"tool_choice":{"type":"none"}})");
  EXPECT_EQ(translate("{" + msgs + tools +
                      R"(,"tool_choice":{"type":"function","function":{"name":"now"}}})"),
            head + expected_tools + R"(,"tool_choice":{"type":"tool","name":"now"}})");
  EXPECT_EQ(
      translate("{" + msgs + tools + R"(,"tool_choice":"required","parallel_tool_calls":false})"),
      head + expected_tools + R"(,"tool_choice":{"type":"any","disable_parallel_tool_use":true}})");
  EXPECT_EQ(translate("{" + msgs + tools + R"(,"parallel_tool_calls":false})"),
            head + expected_tools +
                R"(,"tool_choice":{"type":"auto","disable_parallel_tool_use":true}})");
  // {type:none} has no disable_parallel_tool_use; true is the default and says nothing.
  EXPECT_EQ(translate("{" + msgs + tools + R"(,"tool_choice":"none","parallel_tool_calls":false})"),
            head + expected_tools + R"(,"tool_choice":{"type":"none"}})");
  EXPECT_EQ(translate("{" + msgs + tools + R"(,"parallel_tool_calls":true})"),
            head + expected_tools + "}");
  // Without tools there is nothing to choose from: tool_choice is not sent.
  EXPECT_EQ(translate("{" + msgs + R"("tool_choice":"auto","parallel_tool_calls":false})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,)"
            R"("messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]})");
}

TEST(AnthropicChatToMessagesRequest, ToolRefusals) {
  const std::string msgs = R"({"messages":[{"role":"user","content":"Hi"}],)";
  EXPECT_EQ(refusal(msgs + R"("tools":[{"type":"custom","custom":{"name":"x"}}]})"),
            R"(tools[0].type: "custom" has no Anthropic equivalent)");
  EXPECT_EQ(refusal(msgs + R"("tools":[{"type":"function","function":{}}]})"),
            "tools[0].function.name: required");
  EXPECT_EQ(refusal(msgs + R"("tool_choice":"sometimes"})"),
            R"(tool_choice: "sometimes" has no Anthropic equivalent)");
  EXPECT_EQ(refusal(msgs + R"("tool_choice":{"type":"allowed_tools"}})"),
            R"(tool_choice.type: "allowed_tools" has no Anthropic equivalent)");
  EXPECT_EQ(refusal(msgs + R"("functions":[{"name":"f"}]})"),
            "functions: the legacy function-calling fields are not translated; send tools");
}

TEST(AnthropicChatToMessagesRequest, AssistantToolCallsBecomeToolUseBlocks) {
  EXPECT_EQ(
      translate(
          R"({"messages":[{"role":"user","content":"Weather in Paris and time?"},)"
          R"({"role":"assistant","content":null,"tool_calls":[)"
          R"({"id":"call_1","type":"function","function":{"name":"get_weather",)"
          R"("arguments":"{\"city\": \"Paris\"}"}},)"
          R"({"id":"call_2","type":"function","function":{"name":"now","arguments":""}}]}]})"),
      R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[)"
      R"({"role":"user","content":[{"type":"text","text":"Weather in Paris and time?"}]},)"
      R"({"role":"assistant","content":[)"
      R"({"type":"tool_use","id":"call_1","name":"get_weather","input":{"city": "Paris"}},)"
      R"({"type":"tool_use","id":"call_2","name":"now","input":{}}]}]})");
}

TEST(AnthropicChatToMessagesRequest, ToolCallArgumentsMustBeAJsonObject) {
  const std::string head = R"({"messages":[{"role":"user","content":"x"},)"
                           R"({"role":"assistant","tool_calls":[{"id":"c","type":"function",)"
                           R"("function":{"name":"f","arguments":)";
  EXPECT_EQ(refusal(head + R"("{\"city\": "}}]}]})"),
            "messages[1].tool_calls[0].function.arguments: not a JSON object");
  EXPECT_EQ(refusal(head + R"("[1,2]"}}]}]})"),
            "messages[1].tool_calls[0].function.arguments: not a JSON object");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"assistant","tool_calls":[{"type":"function",)"
                    R"("function":{"name":"f"}}]}]})"),
            "messages[0].tool_calls[0].id: required");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c",)"
                    R"("type":"custom","custom":{"name":"f","input":"x"}}]}]})"),
            R"(messages[0].tool_calls[0].type: "custom" has no Anthropic equivalent)");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"assistant","function_call":{"name":"f"}}]})"),
            "messages[0].function_call: the legacy function call is not translated; send "
            "tool_calls");
}

TEST(AnthropicChatToMessagesRequest, ToolResultsShareOneUserTurnWithTheNextUserMessage) {
  EXPECT_EQ(
      translate(
          R"({"messages":[)"
          R"({"role":"assistant","content":"Checking.","tool_calls":[)"
          R"({"id":"call_1","type":"function","function":{"name":"a","arguments":"{}"}},)"
          R"({"id":"call_2","type":"function","function":{"name":"b","arguments":"{}"}}]},)"
          R"({"role":"tool","tool_call_id":"call_1","content":"sunny"},)"
          R"({"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"12:00"}]},)"
          R"({"role":"user","content":"Thanks"}]})"),
      R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[)"
      R"({"role":"assistant","content":[{"type":"text","text":"Checking."},)"
      R"({"type":"tool_use","id":"call_1","name":"a","input":{}},)"
      R"({"type":"tool_use","id":"call_2","name":"b","input":{}}]},)"
      R"({"role":"user","content":[)"
      R"({"type":"tool_result","tool_use_id":"call_1","content":"sunny"},)"
      R"({"type":"tool_result","tool_use_id":"call_2","content":[{"type":"text","text":"12:00"}]},)"
      R"({"type":"text","text":"Thanks"}]}]})");
}

TEST(AnthropicChatToMessagesRequest, ToolMessageEdges) {
  EXPECT_EQ(translate(R"({"messages":[{"role":"tool","tool_call_id":"c","content":""}]})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[)"
            R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"c"}]}]})");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"tool","content":"x"}]})"),
            "messages[0].tool_call_id: required");
  EXPECT_EQ(
      refusal(R"({"messages":[{"role":"tool","tool_call_id":"c","content":[)"
              R"({"type":"image_url","image_url":{"url":"https://x"}}]}]})"),
      R"(messages[0].content[0].type: "image_url" has no Anthropic equivalent in a tool message)");
}

TEST(AnthropicChatToMessagesRequest, MaxTokens) {
  const std::string msgs = R"("messages":[{"role":"user","content":"x"}])";
  auto max_tokens_of = [](const std::string& out) {
    const size_t at = out.find(R"("max_tokens":)");
    return out.substr(at + 13, out.find(',', at) - at - 13);
  };
  EXPECT_EQ(max_tokens_of(translate("{" + msgs + "}", 1234)), "1234");
  EXPECT_EQ(max_tokens_of(translate("{" + msgs + R"(,"max_tokens":100})")), "100");
  EXPECT_EQ(max_tokens_of(translate("{" + msgs + R"(,"max_completion_tokens":200})")), "200");
  EXPECT_EQ(
      max_tokens_of(translate("{" + msgs + R"(,"max_tokens":100,"max_completion_tokens":200})")),
      "200");
  EXPECT_EQ(max_tokens_of(translate("{" + msgs + R"(,"max_tokens":null})", 77)), "77");
  EXPECT_EQ(refusal("{" + msgs + R"(,"max_tokens":0})"), "max_tokens: must be a positive integer");
  EXPECT_EQ(refusal("{" + msgs + R"(,"max_completion_tokens":"5"})"),
            "max_completion_tokens: must be a positive integer");
}

TEST(AnthropicChatToMessagesRequest, SamplingStopStreamAndUser) {
  EXPECT_EQ(translate(R"({"messages":[{"role":"user","content":"x"}],"temperature":0.7,)"
                      R"("top_p":0.9,"top_k":40,"stop":"END","stream":true,"user":"u-1",)"
                      R"("stream_options":{"include_usage":true}})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,)"
            R"("messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],)"
            R"("stop_sequences":["END"],"temperature":0.7,"top_p":0.9,"top_k":40,"stream":true,)"
            R"("metadata":{"user_id":"u-1"}})");
  EXPECT_EQ(translate(R"({"messages":[{"role":"user","content":"x"}],"stop":["a","b"],)"
                      R"("stream":false,"metadata":{"user":"u-2","team":"t"}})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,)"
            R"("messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],)"
            R"("stop_sequences":["a","b"],"metadata":{"user_id":"u-2"}})");
  EXPECT_EQ(refusal(R"({"messages":[],"stop":["a",1]})"), "stop[1]: must be a string");
  EXPECT_EQ(refusal(R"({"messages":[],"stream":"yes"})"), "stream: must be a boolean");
}

TEST(AnthropicChatToMessagesRequest, TemperatureAboveAnthropicsRangeIsRefused) {
  EXPECT_EQ(refusal(R"({"messages":[],"temperature":1.5})"),
            "temperature: 1.5 is outside Anthropic's range 0..1");
  EXPECT_NE(translate(R"({"messages":[],"temperature":1})").find(R"("temperature":1)"),
            std::string::npos);
}

TEST(AnthropicChatToMessagesRequest, UnrepresentableOptionsAreRefused) {
  EXPECT_EQ(refusal(R"({"messages":[],"n":2})"),
            "n: 2 is not supported: Anthropic returns one choice");
  EXPECT_EQ(refusal(R"({"messages":[],"logprobs":true})"),
            "logprobs: Anthropic does not return log probabilities");
  EXPECT_EQ(refusal(R"({"messages":[],"top_logprobs":3})"),
            "top_logprobs: Anthropic does not return log probabilities");
  EXPECT_EQ(refusal(R"({"messages":[],"response_format":{"type":"json_schema",)"
                    R"("json_schema":{"name":"x","schema":{}}}})"),
            R"(response_format.type: "json_schema" has no Anthropic equivalent (Anthropic has )"
            R"(no JSON mode; ask for JSON in the prompt, or use a tool))");
  EXPECT_NE(refusal(R"({"messages":[],"response_format":{"type":"json_object"}})"), "");
  EXPECT_EQ(refusal(R"({"messages":[],"modalities":["text","audio"]})"),
            R"(modalities[1]: "audio" has no Anthropic equivalent)");
  EXPECT_EQ(refusal(R"({"messages":[],"audio":{"voice":"x"}})"),
            "audio: Anthropic does not answer with audio");
  EXPECT_NE(refusal(R"({"messages":[],"web_search_options":{}})"), "");
}

TEST(AnthropicChatToMessagesRequest, HarmlessOptionsAreDroppedAndNullsIgnored) {
  EXPECT_EQ(translate(R"({"messages":[{"role":"user","content":"x"}],"seed":1,)"
                      R"("frequency_penalty":0.5,"presence_penalty":0.1,"logit_bias":{"1":2},)"
                      R"("service_tier":"auto","store":false,"n":1,"logprobs":false,)"
                      R"("top_logprobs":0,"response_format":{"type":"text"},"modalities":["text"],)"
                      R"("reasoning_effort":"low","prediction":{"type":"content","content":"x"},)"
                      R"("some_future_field":{"a":1},"temperature":null,"tools":null})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,)"
            R"("messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]})");
}

TEST(AnthropicChatToMessagesRequest, MalformedRequests) {
  EXPECT_EQ(refusal("{"), "the request body is not a JSON object");
  EXPECT_EQ(refusal(""), "the request body is not a JSON object");
  EXPECT_EQ(refusal("[]"), "the request body is not a JSON object");
  EXPECT_EQ(refusal(R"({"model":"x"})"), "messages: required");
  EXPECT_EQ(refusal(R"({"messages":{}})"), "messages: must be an array");
}

// Found by fuzz.anthropic_documents: each duplicate used to append to the member before it.
TEST(AnthropicChatToMessagesRequest, ForADuplicateKeyTheLastOneWins) {
  EXPECT_EQ(translate(R"({"messages":[{"role":"user","content":"x"}],"stop":["a"],"stop":"b",)"
                      R"("tools":[{"type":"function","function":{"name":"f"}}],)"
                      R"("tools":[{"type":"function","function":{"name":"g"}}]})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,)"
            R"("messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],)"
            R"("stop_sequences":["b"],"tools":[{"name":"g",)"
            R"("input_schema":{"type":"object","properties":{}}}]})");
}

TEST(AnthropicChatToMessagesRequest, TextIsEscapedOnTheWayOut) {
  EXPECT_EQ(translate(R"({"messages":[{"role":"user","content":"a\"b\\c\nd\u0001é"}]})"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[{"role":"user",)"
            R"("content":[{"type":"text","text":"a\"b\\c\nd\u0001é"}]}]})");
}

}  // namespace
}  // namespace anthropic
