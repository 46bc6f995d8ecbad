#include "bench/mock_upstream/canned.h"

#include <cstdio>

namespace sluice::bench {
namespace {

// Sizes are those of a short real answer: ~330 bytes of completion JSON, ~190 per stream event.
constexpr const char* kCompletionBody =
    R"({"id":"chatcmpl-bench0001","object":"chat.completion","created":1700000000,)"
    R"("model":"bench-model","choices":[{"index":0,"message":{"role":"assistant",)"
    R"("content":"Hello from the bench mock upstream."},"logprobs":null,"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}})";

constexpr const char* kContentEvent =
    R"(data: {"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1700000000,)"
    R"("model":"bench-model","choices":[{"index":0,"delta":{"content":"token "},)"
    R"("logprobs":null,"finish_reason":null}]})"
    "\n\n";

constexpr const char* kUsageEvent =
    R"(data: {"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1700000000,)"
    R"("model":"bench-model","choices":[],)"
    R"("usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}})"
    "\n\n";

constexpr const char* kDoneEvent = "data: [DONE]\n\n";

// Anthropic Messages, as api.anthropic.com sends it (every event named, data on one line). The
// same text and token counts as the OpenAI answers above: 12 input tokens (none from or into
// the prompt cache), 9 output tokens.
constexpr const char* kMessageBody =
    R"({"id":"msg_bench0001","type":"message","role":"assistant","model":"bench-model",)"
    R"("content":[{"type":"text","text":"Hello from the bench mock upstream."}],)"
    R"("stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,)"
    R"("cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9}})";

constexpr const char* kMessageStartEvent =
    "event: message_start\n"
    R"(data: {"type":"message_start","message":{"id":"msg_bench0001","type":"message",)"
    R"("role":"assistant","model":"bench-model","content":[],"stop_reason":null,)"
    R"("stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,)"
    R"("cache_read_input_tokens":0,"output_tokens":1}}})"
    "\n\n";

constexpr const char* kBlockStartEvent =
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
    "\n\n";

constexpr const char* kTextDeltaEvent =
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"token "}})"
    "\n\n";

constexpr const char* kBlockStopEvent =
    "event: content_block_stop\n"
    R"(data: {"type":"content_block_stop","index":0})"
    "\n\n";

constexpr const char* kMessageDeltaEvent =
    "event: message_delta\n"
    R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
    R"("usage":{"output_tokens":9}})"
    "\n\n";

constexpr const char* kMessageStopEvent =
    "event: message_stop\n"
    R"(data: {"type":"message_stop"})"
    "\n\n";

// An http tool's answer (a search over documents): what an agent's model reads back.
constexpr const char* kToolResultBody =
    R"({"query":"quarterly revenue","total":2,"results":[)"
    R"({"id":"doc-1042","title":"Q3 revenue summary","score":0.92,"updated":"2026-10-02"},)"
    R"({"id":"doc-0977","title":"Revenue by region, Q3","score":0.81,"updated":"2026-09-28"}],)"
    R"("took_ms":4})";

std::string http_chunk(const std::string& payload) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
  return std::string(size) + payload + "\r\n";
}

CannedResponses build() {
  CannedResponses r;
  r.completion = json_http_response(kCompletionBody);
  const std::string sse_head =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\n"
      // nginx honours this per response: stream events pass through unbuffered, as with
      // `proxy_buffering off`, without changing how it buffers the non-stream answers.
      "X-Accel-Buffering: no\r\n"
      "Transfer-Encoding: chunked\r\n"
      "\r\n";
  r.stream.head = sse_head;
  r.stream.chunk = http_chunk(kContentEvent);
  r.stream.first = r.stream.chunk;
  r.stream.tail = http_chunk(kUsageEvent) + http_chunk(kDoneEvent) + "0\r\n\r\n";
  r.message = json_http_response(kMessageBody);
  r.message_stream.head = sse_head;
  r.message_stream.chunk = http_chunk(kTextDeltaEvent);
  r.message_stream.first =
      http_chunk(kMessageStartEvent) + http_chunk(kBlockStartEvent) + r.message_stream.chunk;
  r.message_stream.tail = http_chunk(kBlockStopEvent) + http_chunk(kMessageDeltaEvent) +
                          http_chunk(kMessageStopEvent) + "0\r\n\r\n";
  r.tool_result = json_http_response(kToolResultBody);
  std::string not_found_body =
      R"({"error":{"message":"not found","type":"invalid_request_error"}})";
  r.not_found = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(not_found_body.size()) + "\r\n\r\n" + not_found_body;
  return r;
}

}  // namespace

const CannedResponses& canned_responses() {
  static const CannedResponses responses = build();
  return responses;
}

std::string json_http_response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace sluice::bench
