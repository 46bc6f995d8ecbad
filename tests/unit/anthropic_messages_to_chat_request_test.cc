// D: Anthropic Messages request → OpenAI chat request
// (plugins/anthropic/messages_to_chat_request.h).
#include "anthropic/messages_to_chat_request.h"

#include <gtest/gtest.h>

#include <string>

namespace anthropic {
namespace {

std::string translate(std::string_view body) {
  std::string out;
  const Outcome r = messages_request_to_chat(body, "gpt-4o-mini", out);
  EXPECT_TRUE(r.is_ok()) << r.message;
  return out;
}

std::string refusal(std::string_view body) {
  std::string out;
  const Outcome r = messages_request_to_chat(body, "gpt-4o-mini", out);
  EXPECT_EQ(r.verdict, Verdict::Invalid) << body;
  return r.message;
}

TEST(AnthropicMessagesToChatRequest, SmallestRequest) {
  EXPECT_EQ(translate(R"({"model":"quality","max_tokens":1024,)"
                      R"("messages":[{"role":"user","content":"Hello"}]})"),
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}],)"
            R"("max_tokens":1024})");
}

TEST(AnthropicMessagesToChatRequest, SystemAsStringOrTextBlocks) {
  EXPECT_EQ(translate(R"({"system":"Be brief.","messages":[{"role":"user","content":"x"}]})"),
            R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},)"
            R"({"role":"user","content":"x"}]})");
  EXPECT_EQ(
      translate(R"({"system":[{"type":"text","text":"A","cache_control":{"type":"ephemeral"}},)"
                R"({"type":"text","text":"B"}],"messages":[]})"),
      R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"A\n\nB"}]})");
  EXPECT_EQ(translate(R"({"system":"","messages":[]})"),
            R"({"model":"gpt-4o-mini","messages":[]})");
  EXPECT_EQ(refusal(R"({"system":[{"type":"image","source":{}}],"messages":[]})"),
            R"(system[0].type: "image" has no OpenAI chat equivalent in system)");
  EXPECT_EQ(refusal(R"({"system":5,"messages":[]})"),
            "system: must be a string or an array of text blocks");
}

TEST(AnthropicMessagesToChatRequest, UserBlocksBecomeParts) {
  EXPECT_EQ(
      translate(
          R"({"messages":[{"role":"user","content":[)"
          R"({"type":"text","text":"What are these?","cache_control":{"type":"ephemeral"}},)"
          R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}},)"
          R"({"type":"image","source":{"type":"url","url":"https://x.test/a.jpg"}}]}]})"),
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":[)"
      R"({"type":"text","text":"What are these?"},)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR"}},)"
      R"({"type":"image_url","image_url":{"url":"https://x.test/a.jpg"}}]}]})");
}

TEST(AnthropicMessagesToChatRequest, AssistantToolUseAndUserToolResults) {
  EXPECT_EQ(
      translate(
          R"({"messages":[{"role":"user","content":"Weather?"},)"
          R"({"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},)"
          R"({"type":"text","text":"Checking"},{"type":"text","text":"."},)"
          R"({"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},)"
          R"({"type":"tool_use","id":"toolu_2","name":"now","input":{}}]},)"
          R"({"role":"user","content":[)"
          R"({"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"},)"
          R"({"type":"text","text":"and?"},)"
          R"({"type":"tool_result","tool_use_id":"toolu_2","is_error":true,)"
          R"("content":[{"type":"text","text":"clock"},{"type":"text","text":"broken"}]}]}]})"),
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Weather?"},)"
      R"({"role":"assistant","content":"Checking.","tool_calls":[)"
      R"({"id":"toolu_1","type":"function","function":{"name":"get_weather",)"
      R"("arguments":"{\"city\":\"Paris\"}"}},)"
      R"({"id":"toolu_2","type":"function","function":{"name":"now","arguments":"{}"}}]},)"
      R"({"role":"tool","tool_call_id":"toolu_1","content":"sunny"},)"
      R"({"role":"tool","tool_call_id":"toolu_2","content":"Error: clock\n\nbroken"},)"
      R"({"role":"user","content":[{"type":"text","text":"and?"}]}]})");
}

TEST(AnthropicMessagesToChatRequest, OnlyToolUseGivesNullContentAndOnlyResultsNoUserMessage) {
  EXPECT_EQ(translate(R"({"messages":[)"
                      R"({"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f",)"
                      R"("input":{}}]},)"
                      R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t"}]}]})"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function",)"
            R"("function":{"name":"f","arguments":"{}"}}]},)"
            R"({"role":"tool","tool_call_id":"t","content":""}]})");
}

TEST(AnthropicMessagesToChatRequest, AssistantStringContent) {
  EXPECT_EQ(translate(R"({"messages":[{"role":"assistant","content":"Hi"}]})"),
            R"({"model":"gpt-4o-mini","messages":[{"role":"assistant","content":"Hi"}]})");
}

TEST(AnthropicMessagesToChatRequest, BlocksWithoutAnEquivalentAreRefusedByPath) {
  EXPECT_EQ(
      refusal(R"({"messages":[{"role":"user","content":"a"},{"role":"user","content":[)"
              R"({"type":"text","text":"read"},{"type":"document","source":{"type":"base64",)"
              R"("media_type":"application/pdf","data":"JVBER"}}]}]})"),
      R"(messages[1].content[1].type: "document" has no OpenAI chat equivalent in a user message)");
  EXPECT_EQ(
      refusal(R"({"messages":[{"role":"user","content":[{"type":"tool_use","id":"t",)"
              R"("name":"f","input":{}}]}]})"),
      R"(messages[0].content[0].type: "tool_use" has no OpenAI chat equivalent in a user message)");
  EXPECT_EQ(
      refusal(R"({"messages":[{"role":"assistant","content":[{"type":"image","source":{}}]}]})"),
      R"(messages[0].content[0].type: "image" has no OpenAI chat equivalent in an assistant message)");
  EXPECT_EQ(
      refusal(R"({"messages":[{"role":"user","content":[{"type":"tool_result",)"
              R"("tool_use_id":"t","content":[{"type":"image","source":{}}]}]}]})"),
      R"(messages[0].content[0].content[0].type: "image" has no OpenAI chat equivalent in a tool_result)");
  EXPECT_EQ(
      refusal(R"({"messages":[{"role":"user","content":[{"type":"image","source":)"
              R"({"type":"file","file_id":"f_1"}}]}]})"),
      R"(messages[0].content[0].source.type: "file" has no OpenAI chat equivalent (send base64 or url))");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"user","content":[{"type":"tool_result"}]}]})"),
            "messages[0].content[0].tool_use_id: required");
  EXPECT_EQ(
      refusal(R"({"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t"}]}]})"),
      "messages[0].content[0].name: required");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"system","content":"x"}]})"),
            R"(messages[0].role: "system" is not an Anthropic role (user or assistant))");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"user","content":[{}]}]})"),
            "messages[0].content[0].type: required");
  EXPECT_EQ(refusal(R"({"messages":[{"role":"user","content":{}}]})"),
            "messages[0].content: must be a string or an array of blocks");
}

TEST(AnthropicMessagesToChatRequest, ToolsAndToolChoice) {
  const std::string base =
      R"("messages":[],"tools":[{"name":"get_weather","description":"Weather.",)"
      R"("input_schema":{"type":"object","properties":{"city":{"type":"string"}}},)"
      R"("cache_control":{"type":"ephemeral"}},{"type":"custom","name":"now"}])";
  const std::string tools =
      R"({"model":"gpt-4o-mini","messages":[],"tools":[{"type":"function","function":)"
      R"({"name":"get_weather","description":"Weather.","parameters":{"type":"object",)"
      R"("properties":{"city":{"type":"string"}}}}},{"type":"function","function":{"name":"now"}}])";
  EXPECT_EQ(translate("{" + base + "}"), tools + "}");
  EXPECT_EQ(translate("{" + base + R"(,"tool_choice":{"type":"auto"}})"),
            tools + R"(,"tool_choice":"auto"})");
  EXPECT_EQ(translate("{" + base + R"(,"tool_choice":{"type":"any"}})"),
            tools + R"(,"tool_choice":"required"})");
  EXPECT_EQ(translate("{" + base + R"(,"tool_choice":{"type":"none"}})"),
            tools + R"(,"tool_choice":"none"})");
  EXPECT_EQ(
      translate("{" + base +
                R"(,"tool_choice":{"type":"tool","name":"now","disable_parallel_tool_use":true}})"),
      tools + R"(,"tool_choice":{"type":"function","function":{"name":"now"}},)"
              R"("parallel_tool_calls":false})");
  // Without tools, OpenAI refuses tool_choice and parallel_tool_calls: neither is sent.
  EXPECT_EQ(
      translate(R"({"messages":[],"tool_choice":{"type":"any","disable_parallel_tool_use":true}})"),
      R"({"model":"gpt-4o-mini","messages":[]})");
}

TEST(AnthropicMessagesToChatRequest, ServerToolsAndHostedFeaturesAreRefused) {
  EXPECT_EQ(
      refusal(R"({"messages":[],"tools":[{"type":"web_search_20250305","name":"web_search"}]})"),
      R"(tools[0].type: "web_search_20250305" is an Anthropic server tool; other providers )"
      R"(cannot run it)");
  EXPECT_EQ(refusal(R"({"messages":[],"tools":[{"description":"x"}]})"), "tools[0].name: required");
  EXPECT_EQ(refusal(R"({"messages":[],"tool_choice":{"type":"maybe"}})"),
            R"(tool_choice.type: "maybe" has no OpenAI chat equivalent)");
  EXPECT_EQ(refusal(R"({"messages":[],"tool_choice":{"type":"tool"}})"),
            "tool_choice.name: required");
  EXPECT_EQ(refusal(R"({"messages":[],"mcp_servers":[{"type":"url","url":"https://x"}]})"),
            "mcp_servers: an Anthropic-hosted feature; other providers cannot serve it");
  EXPECT_NE(refusal(R"({"messages":[],"container":"c_1"})"), "");
}

TEST(AnthropicMessagesToChatRequest, SamplingStopStreamAndUser) {
  EXPECT_EQ(translate(R"({"model":"m","max_tokens":50,"messages":[],"temperature":0.5,"top_p":0.9,)"
                      R"("top_k":10,"stop_sequences":["END","STOP"],"stream":true,)"
                      R"("metadata":{"user_id":"u-7"},"thinking":{"type":"enabled",)"
                      R"("budget_tokens":2000},"service_tier":"auto","future":1})"),
            R"({"model":"gpt-4o-mini","messages":[],"max_tokens":50,"temperature":0.5,)"
            R"("top_p":0.9,"stop":["END","STOP"],"stream":true,)"
            R"("stream_options":{"include_usage":true},"user":"u-7"})");
  EXPECT_EQ(translate(R"({"messages":[],"stream":false,"stop_sequences":[]})"),
            R"({"model":"gpt-4o-mini","messages":[]})");
  EXPECT_EQ(refusal(R"({"messages":[],"stop_sequences":[1]})"),
            "stop_sequences[0]: must be a string");
  EXPECT_EQ(refusal(R"({"messages":[],"max_tokens":-1})"),
            "max_tokens: must be a positive integer");
  EXPECT_EQ(refusal(R"({"messages":[],"temperature":"hot"})"), "temperature: must be a number");
}

// Found by fuzz.anthropic_documents: each duplicate used to append to the member before it.
TEST(AnthropicMessagesToChatRequest, ForADuplicateKeyTheLastOneWins) {
  EXPECT_EQ(
      translate(R"({"messages":[],"stop_sequences":["a"],"stop_sequences":["b"],)"
                R"("tools":[{"name":"f"}],"tools":[{"name":"g"}],)"
                R"("tool_choice":{"type":"any"},"tool_choice":{"type":"tool","name":"g"}})"),
      R"({"model":"gpt-4o-mini","messages":[],"stop":["b"],"tools":[{"type":"function",)"
      R"("function":{"name":"g"}}],"tool_choice":{"type":"function","function":{"name":"g"}}})");
}

TEST(AnthropicMessagesToChatRequest, MalformedRequests) {
  EXPECT_EQ(refusal("nope"), "the request body is not a JSON object");
  EXPECT_EQ(refusal(R"({"max_tokens":5})"), "messages: required");
  EXPECT_EQ(refusal(R"({"messages":"hi"})"), "messages: must be an array");
  EXPECT_EQ(refusal(R"({"messages":[1]})"), "messages[0]: must be an object");
  EXPECT_EQ(refusal(R"({"messages":[{"content":"x"}]})"), "messages[0].role: required");
}

}  // namespace
}  // namespace anthropic
