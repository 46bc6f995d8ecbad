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

std::string http_chunk(const std::string& payload) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
  return std::string(size) + payload + "\r\n";
}

CannedResponses build() {
  CannedResponses r;
  r.completion = json_http_response(kCompletionBody);
  r.sse_head =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\n"
      // nginx honours this per response: stream events pass through unbuffered, as with
      // `proxy_buffering off`, without changing how it buffers the non-stream answers.
      "X-Accel-Buffering: no\r\n"
      "Transfer-Encoding: chunked\r\n"
      "\r\n";
  r.sse_chunk = http_chunk(kContentEvent);
  r.sse_tail = http_chunk(kUsageEvent) + http_chunk(kDoneEvent) + "0\r\n\r\n";
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
