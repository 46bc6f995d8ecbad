#include "bench/micro/sample_streams.h"

namespace sluice::bench {
namespace {

const char* const kText = " token";

// The answer's text in the non-stream samples: 40 sentences (~1.3 KiB).
std::string answer_text() {
  std::string text;
  for (int i = 0; i < 40; ++i) text.append("Here is a sentence of the answer. ");
  return text;
}

const std::string kChunkHead =
    R"({"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion.chunk","created":1700000000,)"
    R"("model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1",)";

}  // namespace

std::vector<std::string> anthropic_sse_stream(int n) {
  std::vector<std::string> reads;
  reads.push_back(
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL",)"
      R"("type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5",)"
      R"("stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1024,)"
      R"("cache_creation_input_tokens":0,"cache_read_input_tokens":512,"output_tokens":1}}})"
      "\n\n");
  reads.push_back(
      "event: content_block_start\n"
      R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\n");
  for (int i = 0; i < n; ++i) {
    reads.push_back(
        std::string("event: content_block_delta\n") +
        R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")" +
        kText + "\"}}\n\n");
  }
  reads.push_back(
      "event: content_block_stop\n"
      R"(data: {"type":"content_block_stop","index":0})"
      "\n\n");
  reads.push_back(
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
      R"("usage":{"output_tokens":50}})"
      "\n\n");
  reads.push_back(
      "event: message_stop\n"
      R"(data: {"type":"message_stop"})"
      "\n\n");
  return reads;
}

std::vector<std::string> openai_sse_stream(int n) {
  std::vector<std::string> reads;
  reads.push_back("data: " + kChunkHead +
                  R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},)"
                  R"("logprobs":null,"finish_reason":null}],"usage":null})"
                  "\n\n");
  for (int i = 0; i < n; ++i) {
    reads.push_back("data: " + kChunkHead + R"("choices":[{"index":0,"delta":{"content":")" +
                    kText + R"("},"logprobs":null,"finish_reason":null}],"usage":null})" + "\n\n");
  }
  reads.push_back("data: " + kChunkHead +
                  R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],)"
                  R"("usage":null})"
                  "\n\n");
  reads.push_back("data: " + kChunkHead +
                  R"("choices":[],"usage":{"prompt_tokens":1536,"completion_tokens":50,)"
                  R"("total_tokens":1586,"prompt_tokens_details":{"cached_tokens":512}}})"
                  "\n\n");
  reads.push_back("data: [DONE]\n\n");
  return reads;
}

std::vector<std::string> ollama_ndjson_stream(int n) {
  std::vector<std::string> reads;
  for (int i = 0; i < n; ++i) {
    reads.push_back(
        std::string(R"({"model":"llama3.2","created_at":"2024-07-18T10:00:00.000000Z",)") +
        R"("message":{"role":"assistant","content":")" + kText + R"("},"done":false})" + "\n");
  }
  reads.push_back(R"({"model":"llama3.2","created_at":"2024-07-18T10:00:01.000000Z",)"
                  R"("message":{"role":"assistant","content":""},"done_reason":"stop","done":true,)"
                  R"("total_duration":1000000000,"load_duration":1000000,"prompt_eval_count":1536,)"
                  R"("prompt_eval_duration":100000000,"eval_count":50,"eval_duration":800000000})"
                  "\n");
  return reads;
}

std::vector<std::string> in_one_read(const std::vector<std::string>& reads) {
  std::string all;
  for (const auto& r : reads) all += r;
  return {all};
}

std::vector<std::string> halved(const std::vector<std::string>& reads) {
  std::vector<std::string> out;
  for (const auto& r : reads) {
    out.push_back(r.substr(0, r.size() / 2));
    out.push_back(r.substr(r.size() / 2));
  }
  return out;
}

std::string anthropic_message_json() {
  return R"({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant",)"
         R"("model":"claude-sonnet-4-5","content":[{"type":"text","text":")" +
         answer_text() +
         R"("}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":512,)"
         R"("cache_creation_input_tokens":0,"cache_read_input_tokens":512,"output_tokens":300}})";
}

std::string openai_completion_json() {
  return R"({"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion","created":1700000000,)"
         R"("model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant",)"
         R"("content":")" +
         answer_text() +
         R"(","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1024,)"
         R"("completion_tokens":300,"total_tokens":1324,"prompt_tokens_details":{"cached_tokens":512}},)"
         R"("system_fingerprint":"fp_0ba0d124f1"})";
}

}  // namespace sluice::bench
