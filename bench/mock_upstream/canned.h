// The mock upstream's answers, built once at start-up and written from static storage (no
// per-request formatting), in two dialects that say the same thing:
//   OpenAI chat completions (any POST but .../messages): a chat.completion with usage, or a
//     chat.completion.chunk stream (SSE over Transfer-Encoding: chunked, one event per HTTP
//     chunk, a final usage event as with stream_options.include_usage, then `data: [DONE]`);
//   Anthropic Messages (POST .../messages): a message with usage, or its event stream
//     (message_start, content_block_start, the content_block_delta text_deltas,
//     content_block_stop, message_delta with the output tokens, message_stop);
//   an http tool's endpoint (POST or GET /tools/<anything>): a small JSON object, the same
//     whatever the arguments, as a search tool would answer (bench/run.sh's tools scenario).
// Both streams carry the same content deltas ("token ", as many as --chunks says) and both
// answers the same token counts (12 prompt, 9 completion), so a proxy that translates one
// dialect into the other can be set against one that passes the other through.
#pragma once

#include <string>

namespace sluice::bench {

// A streamed answer in pieces, each framed as HTTP chunks (one SSE event per chunk).
struct CannedStream {
  std::string head;   // HTTP head (chunked, text/event-stream)
  std::string first;  // written with the head: the opening events and the first content event
  std::string chunk;  // one content event
  std::string tail;   // the closing events + the last-chunk marker "0\r\n\r\n"
};

struct CannedResponses {
  std::string completion;       // OpenAI: whole HTTP response, head (Content-Length) + JSON body
  CannedStream stream;          // OpenAI: content events, then usage + [DONE]
  std::string message;          // Anthropic: whole HTTP response with the Messages JSON body
  CannedStream message_stream;  // Anthropic: message_start ... message_stop
  std::string tool_result;      // /tools/...: whole HTTP response with a ~260-byte JSON result
  std::string not_found;        // 404 for paths the mock does not serve (keeps the connection)
};

const CannedResponses& canned_responses();

// An HTTP response with a JSON body, for the /__stats endpoint.
std::string json_http_response(const std::string& body);

}  // namespace sluice::bench
