// Shared by the anthropic plugin's fuzz targets (anthropic_*_fuzz.cc): SSE splitting as sluice
// frames events for a provider plugin, and checkers for what the two stream translators emit —
// an OpenAI chunk stream (C's output) and an Anthropic event stream (F's output) — that fail
// the run on anything a client of that API could not read, and collect what it would see (the
// text, each tool call's name and arguments) so that a round trip can be compared.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_check.h"

namespace anthropic_fuzz {

// One SSE event as sluice hands it to a provider plugin: the `event:` name and the data lines
// joined with "\n".
struct SseEvent {
  std::string name;
  std::string data;
};

// Events of `input`, split at blank lines ("\n\n"); within one, lines "event:" and "data:"
// (one optional space after the colon); other lines are ignored, as an SSE reader does.
inline std::vector<SseEvent> split_sse(std::string_view input) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool has_data = false, any = false;
  size_t at = 0;
  while (at <= input.size()) {
    size_t eol = input.find('\n', at);
    if (eol == std::string_view::npos) eol = input.size();
    std::string_view line = input.substr(at, eol - at);
    if (line.empty()) {
      if (any) events.push_back(current);
      current = SseEvent{};
      has_data = any = false;
    } else {
      auto value = [&](size_t n) {
        std::string_view v = line.substr(n);
        if (v.starts_with(' ')) v.remove_prefix(1);
        return v;
      };
      if (line.starts_with("event:")) {
        current.name = value(6);
        any = true;
      } else if (line.starts_with("data:")) {
        if (has_data) current.data.push_back('\n');
        current.data.append(value(5));
        has_data = any = true;
      }
    }
    at = eol + 1;
  }
  if (any) events.push_back(current);  // an unterminated last event still counts
  return events;
}

// What a client reads out of a stream.
struct Seen {
  std::string text;
  std::vector<std::string> tool_ids, tool_names, tool_arguments;  // by tool call
  bool finished = false;                                          // finish/stop seen
  bool done = false;  // [DONE] (OpenAI) or message_stop (Anthropic)
};

inline simdjson::dom::object parse_object(simdjson::dom::parser& parser, std::string_view json) {
  simdjson::dom::object object;
  FUZZ_CHECK(parser.parse(json.data(), json.size()).get(object) == simdjson::SUCCESS);
  return object;
}

inline std::string_view str(simdjson::dom::object o, std::string_view key) {
  std::string_view s;
  if (o[key].get(s) != simdjson::SUCCESS) return {};
  return s;
}

// C's output: "data: <chunk JSON>\n\n"... then "data: [DONE]\n\n" last. Checks every chunk is
// a JSON object, tool calls are numbered 0, 1, ... with id and name first, nothing but usage
// follows finish_reason, and nothing at all follows [DONE].
inline void check_openai_stream(std::string_view out, Seen& seen) {
  simdjson::dom::parser parser;
  FUZZ_CHECK(out.empty() || out.ends_with("\n\n"));
  size_t at = 0;
  while (at < out.size()) {
    const size_t end = out.find("\n\n", at);
    FUZZ_CHECK(end != std::string_view::npos);
    std::string_view event = out.substr(at, end - at);
    at = end + 2;
    FUZZ_CHECK(!seen.done);
    FUZZ_CHECK(event.starts_with("data: "));
    event.remove_prefix(6);
    FUZZ_CHECK(event.find('\n') == std::string_view::npos);
    if (event == "[DONE]") {
      seen.done = true;
      continue;
    }
    const simdjson::dom::object chunk = parse_object(parser, event);
    FUZZ_CHECK(str(chunk, "object") == "chat.completion.chunk");
    simdjson::dom::array choices;
    FUZZ_CHECK(chunk["choices"].get(choices) == simdjson::SUCCESS);
    if (choices.size() == 0) {  // the usage chunk
      simdjson::dom::object usage;
      FUZZ_CHECK(chunk["usage"].get(usage) == simdjson::SUCCESS);
      continue;
    }
    FUZZ_CHECK(choices.size() == 1);
    simdjson::dom::object choice, delta;
    FUZZ_CHECK(choices.at(0).get(choice) == simdjson::SUCCESS);
    FUZZ_CHECK(choice["delta"].get(delta) == simdjson::SUCCESS);
    FUZZ_CHECK(!seen.finished);
    seen.text.append(str(delta, "content"));
    simdjson::dom::array calls;
    if (delta["tool_calls"].get(calls) == simdjson::SUCCESS) {
      for (simdjson::dom::element c : calls) {
        simdjson::dom::object call, function;
        FUZZ_CHECK(c.get(call) == simdjson::SUCCESS);
        FUZZ_CHECK(call["function"].get(function) == simdjson::SUCCESS);
        uint64_t index = 0;
        FUZZ_CHECK(call["index"].get(index) == simdjson::SUCCESS);
        if (call["id"].error() == simdjson::SUCCESS) {  // a new call
          FUZZ_CHECK(index == seen.tool_ids.size());
          seen.tool_ids.emplace_back(str(call, "id"));
          seen.tool_names.emplace_back(str(function, "name"));
          FUZZ_CHECK(!seen.tool_ids.back().empty() && !seen.tool_names.back().empty());
          seen.tool_arguments.emplace_back();
        }
        FUZZ_CHECK(index + 1 == seen.tool_ids.size());  // only the last call continues
        seen.tool_arguments[index].append(str(function, "arguments"));
      }
    }
    std::string_view finish;
    if (choice["finish_reason"].get(finish) == simdjson::SUCCESS) seen.finished = true;
  }
}

// F's output: "event: NAME\ndata: JSON\n\n" with JSON's "type" == NAME, in the grammar of
// Anthropic's stream: message_start, then blocks (content_block_start with the next index, its
// deltas of the block's kind, content_block_stop), then message_delta and message_stop.
// `complete`: the stream must have reached message_stop.
inline void check_anthropic_stream(std::string_view out, bool complete, Seen& seen,
                                   std::vector<SseEvent>* events = nullptr) {
  simdjson::dom::parser parser;
  enum class At { Start, Message, Text, Tool, Delta, Stopped } state = At::Start;
  uint64_t next_block = 0;
  FUZZ_CHECK(out.empty() || out.ends_with("\n\n"));
  size_t at = 0;
  while (at < out.size()) {
    const size_t end = out.find("\n\n", at);
    FUZZ_CHECK(end != std::string_view::npos);
    std::string_view event = out.substr(at, end - at);
    at = end + 2;
    FUZZ_CHECK(event.starts_with("event: "));
    const size_t nl = event.find('\n');
    FUZZ_CHECK(nl != std::string_view::npos);
    const std::string_view name = event.substr(7, nl - 7);
    std::string_view data = event.substr(nl + 1);
    FUZZ_CHECK(data.starts_with("data: "));
    data.remove_prefix(6);
    FUZZ_CHECK(data.find('\n') == std::string_view::npos);
    if (events) events->push_back(SseEvent{std::string(name), std::string(data)});
    const simdjson::dom::object e = parse_object(parser, data);
    FUZZ_CHECK(str(e, "type") == name);
    uint64_t index = 0;
    const bool has_index = e["index"].get(index) == simdjson::SUCCESS;
    if (name == "message_start") {
      FUZZ_CHECK(state == At::Start);
      simdjson::dom::object message, usage;
      FUZZ_CHECK(e["message"].get(message) == simdjson::SUCCESS);
      FUZZ_CHECK(message["usage"].get(usage) == simdjson::SUCCESS);
      FUZZ_CHECK(!str(message, "id").empty());
      state = At::Message;
    } else if (name == "content_block_start") {
      FUZZ_CHECK(state == At::Message && has_index && index == next_block++);
      simdjson::dom::object block;
      FUZZ_CHECK(e["content_block"].get(block) == simdjson::SUCCESS);
      if (str(block, "type") == "text") {
        state = At::Text;
      } else {
        FUZZ_CHECK(str(block, "type") == "tool_use");
        seen.tool_ids.emplace_back(str(block, "id"));
        seen.tool_names.emplace_back(str(block, "name"));
        FUZZ_CHECK(!seen.tool_ids.back().empty() && !seen.tool_names.back().empty());
        seen.tool_arguments.emplace_back();
        state = At::Tool;
      }
    } else if (name == "content_block_delta") {
      FUZZ_CHECK((state == At::Text || state == At::Tool) && has_index && index + 1 == next_block);
      simdjson::dom::object delta;
      FUZZ_CHECK(e["delta"].get(delta) == simdjson::SUCCESS);
      if (state == At::Text) {
        FUZZ_CHECK(str(delta, "type") == "text_delta");
        seen.text.append(str(delta, "text"));
      } else {
        FUZZ_CHECK(str(delta, "type") == "input_json_delta");
        seen.tool_arguments.back().append(str(delta, "partial_json"));
      }
    } else if (name == "content_block_stop") {
      FUZZ_CHECK((state == At::Text || state == At::Tool) && has_index && index + 1 == next_block);
      state = At::Message;
    } else if (name == "message_delta") {
      FUZZ_CHECK(state == At::Message);
      seen.finished = true;
      state = At::Delta;
    } else {
      FUZZ_CHECK(name == "message_stop" && state == At::Delta);
      state = At::Stopped;
      seen.done = true;
    }
  }
  if (complete) FUZZ_CHECK(state == At::Stopped);
}

// Both sides saw the same answer.
inline void check_same(const Seen& a, const Seen& b) {
  FUZZ_CHECK(a.text == b.text);
  FUZZ_CHECK(a.tool_ids == b.tool_ids);
  FUZZ_CHECK(a.tool_names == b.tool_names);
  FUZZ_CHECK(a.tool_arguments == b.tool_arguments);
}

}  // namespace anthropic_fuzz
