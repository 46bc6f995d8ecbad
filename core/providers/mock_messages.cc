#include "core/providers/mock_messages.h"

#include <string>

#include "core/http/response_builder.h"

namespace sluice::providers {
namespace {

void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  http::append_json_escaped(out, s);
  out.push_back('"');
}

// Anthropic's usage object; a stream's message_start carries it with output_tokens as counted
// so far (1), message_delta then the final output count.
void append_usage(std::string& out, uint64_t input, uint64_t output) {
  out.append("\"usage\":{\"input_tokens\":").append(std::to_string(input));
  out.append(",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0");
  out.append(",\"output_tokens\":").append(std::to_string(output)).append("}");
}

void append_event(MockScript& out, std::string_view name, const std::string& data) {
  std::string s = "event: ";
  s.append(name).append("\ndata: ").append(data).append("\n\n");
  out.pieces.push_back(std::move(s));
}

}  // namespace

void build_mock_messages_script(const AttemptRequest& request,
                                const std::vector<std::string_view>& words, uint64_t input_tokens,
                                uint64_t sequence, MockScript& out) {
  const uint64_t output_tokens = words.size();
  // id, type, role, model, content — the message object's head, without the content.
  std::string head = "{\"id\":\"msg_mock_";
  head.append(std::to_string(sequence)).append("\",\"type\":\"message\",\"role\":\"assistant\"");
  head.append(",\"model\":");
  append_quoted(head, request.physical_model);

  if (!out.streamed) {
    std::string text;
    for (std::string_view w : words) text.append(w);
    std::string s = head;
    s.append(",\"content\":[{\"type\":\"text\",\"text\":");
    append_quoted(s, text);
    s.append("}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,");
    append_usage(s, input_tokens, output_tokens);
    s.push_back('}');
    out.pieces.push_back(std::move(s));
    return;
  }

  std::string start = "{\"type\":\"message_start\",\"message\":";
  start.append(head).append(",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,");
  append_usage(start, input_tokens, 1);
  start.append("}}");
  append_event(out, "message_start", start);
  append_event(
      out, "content_block_start",
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
  append_event(out, "ping", R"({"type":"ping"})");
  for (std::string_view w : words) {
    std::string delta =
        R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)";
    append_quoted(delta, w);
    delta.append("}}");
    append_event(out, "content_block_delta", delta);
  }
  append_event(out, "content_block_stop", R"({"type":"content_block_stop","index":0})");
  append_event(out, "message_delta",
               R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
               R"("usage":{"output_tokens":)" +
                   std::to_string(output_tokens) + "}}");
  append_event(out, "message_stop", R"({"type":"message_stop"})");
}

}  // namespace sluice::providers
