// The mock upstream's answers, built once at start-up and written from static storage (no
// per-request formatting): an OpenAI chat completion with usage, and the pieces of an OpenAI
// chat completion stream (SSE over Transfer-Encoding: chunked, one event per HTTP chunk, a
// final usage event as with stream_options.include_usage, then `data: [DONE]`).
#pragma once

#include <string>

namespace sluice::bench {

struct CannedResponses {
  std::string completion;  // whole HTTP response: head (Content-Length) + JSON body
  std::string sse_head;    // HTTP head of a stream (chunked, text/event-stream)
  std::string sse_chunk;   // one content event, framed as one HTTP chunk
  std::string sse_tail;    // usage event + [DONE] event + the last-chunk marker "0\r\n\r\n"
  std::string not_found;   // 404 for paths the mock does not serve (keeps the connection)
};

const CannedResponses& canned_responses();

// An HTTP response with a JSON body, for the /__stats endpoint.
std::string json_http_response(const std::string& body);

}  // namespace sluice::bench
