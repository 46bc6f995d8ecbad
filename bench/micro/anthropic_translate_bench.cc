// The anthropic plugin's translators (plugins/anthropic, DESIGN §9): what translating costs on
// top of relaying, per stream event in both directions and per whole JSON document of typical
// size. Each stream iteration is one whole stream with a fresh translator (its parser's buffers
// are allocated on the first event, as they are per attempt in sluice); `per_event` is the CPU
// time per event ("450n" is 450 ns).
#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

#include "anthropic/chat_to_messages_request.h"
#include "anthropic/chat_to_messages_response.h"
#include "anthropic/chat_to_messages_stream.h"
#include "anthropic/messages_to_chat_request.h"
#include "anthropic/messages_to_chat_response.h"
#include "anthropic/messages_to_chat_stream.h"

namespace sluice::bench {
namespace {

using Event = std::pair<std::string, std::string>;  // SSE event name, data

const std::string kSentence = "Here is a sentence of the answer. ";

// An Anthropic stream: message_start, a text block of `n` text deltas (or a tool_use block of
// `n` input_json_delta fragments), message_delta, message_stop.
std::vector<Event> anthropic_stream(int n, bool tool) {
  std::vector<Event> events;
  events.emplace_back(
      "message_start",
      R"({"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message",)"
      R"("role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,)"
      R"("stop_sequence":null,"usage":{"input_tokens":1024,"cache_creation_input_tokens":0,)"
      R"("cache_read_input_tokens":512,"output_tokens":1}}})");
  events.emplace_back(
      "content_block_start",
      tool
          ? R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use",)"
            R"("id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"write_file","input":{}}})"
          : R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
  for (int i = 0; i < n; ++i) {
    events.emplace_back(
        "content_block_delta",
        tool ? R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",)"
               R"("partial_json":"line of the file\\n"}})"
             : R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta",)"
               R"("text":" token"}})");
  }
  events.emplace_back("content_block_stop", R"({"type":"content_block_stop","index":0})");
  events.emplace_back("message_delta",
                      R"({"type":"message_delta","delta":{"stop_reason":"end_turn",)"
                      R"("stop_sequence":null},"usage":{"output_tokens":50}})");
  events.emplace_back("message_stop", R"({"type":"message_stop"})");
  return events;
}

const std::string kChunkHead =
    R"({"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion.chunk","created":1700000000,)"
    R"("model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1",)";

// An OpenAI stream with include_usage: the role chunk, `n` content chunks (or a tool call whose
// arguments come in `n` fragments), the finish chunk, the usage chunk, [DONE].
std::vector<std::string> openai_stream(int n, bool tool) {
  std::vector<std::string> data;
  data.push_back(kChunkHead + R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},)"
                              R"("logprobs":null,"finish_reason":null}],"usage":null})");
  if (tool) {
    data.push_back(kChunkHead +
                   R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1",)"
                   R"("type":"function","function":{"name":"write_file","arguments":""}}]},)"
                   R"("logprobs":null,"finish_reason":null}],"usage":null})");
  }
  for (int i = 0; i < n; ++i) {
    data.push_back(kChunkHead +
                   (tool ? R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,)"
                           R"("function":{"arguments":"line of the file\\n"}}]},)"
                         : R"("choices":[{"index":0,"delta":{"content":" token"},)") +
                   R"("logprobs":null,"finish_reason":null}],"usage":null})");
  }
  data.push_back(kChunkHead + R"("choices":[{"index":0,"delta":{},"logprobs":null,)"
                              R"("finish_reason":"stop"}],"usage":null})");
  data.push_back(kChunkHead +
                 R"("choices":[],"usage":{"prompt_tokens":1024,"completion_tokens":50,)"
                 R"("total_tokens":1074,"prompt_tokens_details":{"cached_tokens":512}}})");
  data.push_back("[DONE]");
  return data;
}

void per_event(benchmark::State& state, size_t events) {
  state.counters["per_event"] = benchmark::Counter(
      static_cast<double>(events),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// C: Anthropic events → OpenAI chunks.
void messages_to_chat_stream(benchmark::State& state, bool tool) {
  const std::vector<Event> events = anthropic_stream(50, tool);
  per_event(state, events.size());
  std::string out;
  for (auto _ : state) {
    anthropic::MessagesToChatStream stream(1700000000);
    for (const auto& [name, data] : events) {
      out.clear();
      if (!stream.on_event(name, data, out).is_ok()) state.SkipWithError("translation failed");
      benchmark::DoNotOptimize(out.data());
    }
    out.clear();
    if (!stream.on_end(true, out).is_ok()) state.SkipWithError("end failed");
  }
}

// F: OpenAI chunks → Anthropic events.
void chat_to_messages_stream(benchmark::State& state, bool tool) {
  const std::vector<std::string> chunks = openai_stream(50, tool);
  per_event(state, chunks.size());
  std::string out;
  for (auto _ : state) {
    anthropic::ChatToMessagesStream stream("req-1", "gpt-4o-mini");
    for (const auto& data : chunks) {
      out.clear();
      if (!stream.on_event(data, out).is_ok()) state.SkipWithError("translation failed");
      benchmark::DoNotOptimize(out.data());
    }
  }
}

void BM_Anthropic_C_TextStream50(benchmark::State& state) {
  messages_to_chat_stream(state, false);
}
void BM_Anthropic_C_ToolArgsStream50(benchmark::State& state) {
  messages_to_chat_stream(state, true);
}
void BM_Anthropic_F_TextStream50(benchmark::State& state) {
  chat_to_messages_stream(state, false);
}
void BM_Anthropic_F_ToolArgsStream50(benchmark::State& state) {
  chat_to_messages_stream(state, true);
}

// B: a 300-token Anthropic answer (~1.5 KiB) → chat.completion.
void BM_Anthropic_B_Response1K(benchmark::State& state) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += kSentence;
  const std::string body =
      R"({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant",)"
      R"("model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":")" +
      text +
      R"("}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1024,)"
      R"("cache_creation_input_tokens":0,"cache_read_input_tokens":512,"output_tokens":300}})";
  for (auto _ : state) {
    anthropic::TranslatedResponse out;
    if (!anthropic::messages_response_to_chat(200, body, 1700000000, out).is_ok()) {
      state.SkipWithError("translation failed");
    }
    benchmark::DoNotOptimize(out.body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

// E: the same answer from an OpenAI-shaped provider → an Anthropic message.
void BM_Anthropic_E_Response1K(benchmark::State& state) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += kSentence;
  const std::string body =
      R"({"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion","created":1700000000,)"
      R"("model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant",)"
      R"("content":")" +
      text +
      R"(","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1024,)"
      R"("completion_tokens":300,"total_tokens":1324,"prompt_tokens_details":{"cached_tokens":512}},)"
      R"("system_fingerprint":"fp_0ba0d124f1"})";
  for (auto _ : state) {
    anthropic::TranslatedResponse out;
    if (!anthropic::chat_response_to_messages(200, body, {"req-1", "gpt-4o-mini"}, out).is_ok()) {
      state.SkipWithError("translation failed");
    }
    benchmark::DoNotOptimize(out.body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

// A: an agent step (~4 KiB): system prompt, two tools, a tool call and its result.
const std::string kTools =
    R"([{"type":"function","function":{"name":"read_file","description":"Read a file of the )"
    R"(workspace and return its content.","parameters":{"type":"object","properties":{"path":)"
    R"({"type":"string","description":"Path relative to the workspace root"}},"required":)"
    R"(["path"]}}},{"type":"function","function":{"name":"run_tests","description":"Run the )"
    R"(test suite and return the failures.","parameters":{"type":"object","properties":{"filter":)"
    R"({"type":"string"}}}}}])";

void BM_Anthropic_A_AgentRequest4K(benchmark::State& state) {
  std::string history;
  for (int i = 0; i < 60; ++i) history += kSentence;
  const std::string body =
      R"({"model":"smart","max_tokens":1024,"temperature":0.2,"stream":true,)"
      R"("stream_options":{"include_usage":true},"messages":[)"
      R"({"role":"system","content":"You are a careful coding agent. )" +
      history +
      R"("},{"role":"user","content":"The tests fail in parser.cc; fix them."},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",)"
      R"("function":{"name":"read_file","arguments":"{\"path\":\"src/parser.cc\"}"}}]},)"
      R"({"role":"tool","tool_call_id":"call_1","content":")" +
      history + R"("}],"tools":)" + kTools + "}";
  std::string out;
  for (auto _ : state) {
    if (!anthropic::chat_request_to_messages(body, {"claude-sonnet-4-5", 4096}, out).is_ok()) {
      state.SkipWithError("translation failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

// D: the same agent step from an Anthropic client.
void BM_Anthropic_D_AgentRequest4K(benchmark::State& state) {
  std::string history;
  for (int i = 0; i < 60; ++i) history += kSentence;
  const std::string body =
      R"({"model":"smart","max_tokens":1024,"temperature":0.2,"stream":true,)"
      R"("system":"You are a careful coding agent. )" +
      history +
      R"(","messages":[{"role":"user","content":"The tests fail in parser.cc; fix them."},)"
      R"({"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"read_file",)"
      R"("input":{"path":"src/parser.cc"}}]},{"role":"user","content":[{"type":"tool_result",)"
      R"("tool_use_id":"toolu_1","content":")" +
      history +
      R"("}]}],"tools":[{"name":"read_file","description":"Read a file of the workspace and )"
      R"(return its content.","input_schema":{"type":"object","properties":{"path":{"type":)"
      R"("string","description":"Path relative to the workspace root"}},"required":["path"]}},)"
      R"({"name":"run_tests","description":"Run the test suite and return the failures.",)"
      R"("input_schema":{"type":"object","properties":{"filter":{"type":"string"}}}}]})";
  std::string out;
  for (auto _ : state) {
    if (!anthropic::messages_request_to_chat(body, "gpt-4o-mini", out).is_ok()) {
      state.SkipWithError("translation failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

}  // namespace

BENCHMARK(BM_Anthropic_C_TextStream50);
BENCHMARK(BM_Anthropic_C_ToolArgsStream50);
BENCHMARK(BM_Anthropic_F_TextStream50);
BENCHMARK(BM_Anthropic_F_ToolArgsStream50);
BENCHMARK(BM_Anthropic_B_Response1K);
BENCHMARK(BM_Anthropic_E_Response1K);
BENCHMARK(BM_Anthropic_A_AgentRequest4K);
BENCHMARK(BM_Anthropic_D_AgentRequest4K);

}  // namespace sluice::bench
