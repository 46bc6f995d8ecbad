// The usage scanner on every upstream response (DESIGN §8, §11): cost per whole response, fed
// the way reads arrive — one SSE event per read for streams (each provider flushes per token),
// 16 KiB reads for JSON bodies — with stripping (the usage-only chunk and every chunk's
// "usage": null taken out) on and off. Streams also report per_event: the CPU time per SSE event.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/usage/usage_scanner.h"

namespace sluice::bench {
namespace {

using usage::UsageScanner;

const std::string kChunkHead =
    R"({"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion.chunk","created":1700000000,)"
    R"("model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1",)";

// An OpenAI chat stream with include_usage: n content chunks, the finish chunk, the usage-only
// chunk, [DONE] — one element per read.
std::vector<std::string> openai_stream(int n) {
  std::vector<std::string> reads;
  for (int i = 0; i < n; ++i) {
    reads.push_back("data: " + kChunkHead +
                    R"("choices":[{"index":0,"delta":{"content":" token"},"logprobs":null,)"
                    R"("finish_reason":null}],"usage":null})"
                    "\n\n");
  }
  reads.push_back("data: " + kChunkHead +
                  R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],)"
                  R"("usage":null})"
                  "\n\n");
  reads.push_back("data: " + kChunkHead +
                  R"("choices":[],"usage":{"prompt_tokens":1024,"completion_tokens":50,)"
                  R"("total_tokens":1074,"prompt_tokens_details":{"cached_tokens":512,)"
                  R"("audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,)"
                  R"("audio_tokens":0,"accepted_prediction_tokens":0,)"
                  R"("rejected_prediction_tokens":0}}})"
                  "\n\n");
  reads.push_back("data: [DONE]\n\n");
  return reads;
}

std::vector<std::string> anthropic_stream(int n) {
  std::vector<std::string> reads;
  reads.push_back(
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL",)"
      R"("type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5",)"
      R"("stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1024,)"
      R"("cache_creation_input_tokens":0,"cache_read_input_tokens":512,"output_tokens":1}}})"
      "\n\n"
      "event: content_block_start\n"
      R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\n");
  for (int i = 0; i < n; ++i) {
    reads.push_back(
        "event: content_block_delta\n"
        R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" token"}})"
        "\n\n");
  }
  reads.push_back(
      "event: content_block_stop\n"
      R"(data: {"type":"content_block_stop","index":0})"
      "\n\n"
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
      R"("usage":{"output_tokens":50}})"
      "\n\n"
      "event: message_stop\n"
      R"(data: {"type":"message_stop"})"
      "\n\n");
  return reads;
}

std::string chat_json() {
  std::string content;
  for (int i = 0; i < 40; ++i) content.append("Here is a sentence of the answer. ");
  return R"({"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion","created":1700000000,)"
         R"("model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant",)"
         R"("content":")" +
         content +
         R"(","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1024,)"
         R"("completion_tokens":300,"total_tokens":1324,"prompt_tokens_details":{"cached_tokens":512,)"
         R"("audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}},)"
         R"("system_fingerprint":"fp_0ba0d124f1"})";
}

// text-embedding-3-small: 1536 floats, pretty-printed as the API sends them (~30 KiB).
std::string embeddings_json() {
  std::string out = R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[)";
  for (int i = 0; i < 1536; ++i) {
    if (i) out.append(",");
    out.append("\n        ").append(i % 2 ? "-0.0" : "0.0");
    out.append(std::to_string(1000000 + (i * 7919) % 8999999));
  }
  out.append(
      "\n      ]\n    }\n  ],\n  \"model\": \"text-embedding-3-small\",\n"
      "  \"usage\": {\n    \"prompt_tokens\": 8,\n    \"total_tokens\": 8\n  }\n}\n");
  return out;
}

std::vector<std::string> in_reads(const std::string& body, size_t read_size) {
  std::vector<std::string> reads;
  for (size_t off = 0; off < body.size(); off += read_size) {
    reads.push_back(body.substr(off, read_size));
  }
  return reads;
}

// The same stream with every event cut in two reads (a provider's flush landing mid-event):
// the scanner then holds and copies each event it may change.
std::vector<std::string> split_events(const std::vector<std::string>& reads) {
  std::vector<std::string> out;
  for (const auto& r : reads) {
    out.push_back(r.substr(0, r.size() / 2));
    out.push_back(r.substr(r.size() / 2));
  }
  return out;
}

size_t count_events(const std::vector<std::string>& reads) {
  std::string all;
  for (const auto& r : reads) all += r;
  size_t n = 0;
  for (size_t at = all.find("\n\n"); at != std::string::npos; at = all.find("\n\n", at + 2)) ++n;
  return n;
}

void scan(benchmark::State& state, const std::vector<std::string>& reads, UsageScanner::Kind kind,
          bool strip) {
  UsageScanner scanner;
  size_t bytes = 0;
  for (const auto& r : reads) bytes += r.size();
  if (kind == UsageScanner::Kind::EventStream) {
    // CPU seconds per event, printed with an SI prefix: "312n" is 312 ns.
    state.counters["per_event"] = benchmark::Counter(
        static_cast<double>(count_events(reads)),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  }
  for (auto _ : state) {
    scanner.begin(kind, strip);
    size_t forwarded = 0;
    for (const auto& r : reads) {
      for (const auto& piece : scanner.feed(r)) forwarded += piece.size;
    }
    for (const auto& piece : scanner.flush()) forwarded += piece.size;
    usage::Usage u = scanner.finish();
    if (u.source != usage::Usage::Source::Reported) state.SkipWithError("usage not found");
    benchmark::DoNotOptimize(forwarded);
    benchmark::DoNotOptimize(u);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_UsageScan_OpenAIStream50(benchmark::State& state) {
  scan(state, openai_stream(50), UsageScanner::Kind::EventStream, false);
}
void BM_UsageScan_OpenAIStream50_Strip(benchmark::State& state) {
  scan(state, openai_stream(50), UsageScanner::Kind::EventStream, true);
}
void BM_UsageScan_OpenAIStream50_Strip_EventsSplit(benchmark::State& state) {
  scan(state, split_events(openai_stream(50)), UsageScanner::Kind::EventStream, true);
}
void BM_UsageScan_AnthropicStream50(benchmark::State& state) {
  scan(state, anthropic_stream(50), UsageScanner::Kind::EventStream, false);
}
void BM_UsageScan_ChatJson(benchmark::State& state) {
  scan(state, in_reads(chat_json(), 16384), UsageScanner::Kind::Json, false);
}
void BM_UsageScan_Embeddings1536(benchmark::State& state) {
  scan(state, in_reads(embeddings_json(), 16384), UsageScanner::Kind::Json, false);
}

}  // namespace

BENCHMARK(BM_UsageScan_OpenAIStream50);
BENCHMARK(BM_UsageScan_OpenAIStream50_Strip);
BENCHMARK(BM_UsageScan_OpenAIStream50_Strip_EventsSplit);
BENCHMARK(BM_UsageScan_AnthropicStream50);
BENCHMARK(BM_UsageScan_ChatJson);
BENCHMARK(BM_UsageScan_Embeddings1536);

}  // namespace sluice::bench
