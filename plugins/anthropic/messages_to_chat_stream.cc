#include "anthropic/messages_to_chat_stream.h"

#include "anthropic/json_writer.h"
#include "anthropic/stop_reason.h"

namespace anthropic {

namespace {

constexpr std::string_view kChunkTail = R"(}]})"
                                        "\n\n";
constexpr std::string_view kDone = "data: [DONE]\n\n";

}  // namespace

std::string_view MessagesToChatStream::to_string(State s) {
  switch (s) {
    case State::AwaitingMessageStart:
      return "awaiting message_start";
    case State::BetweenBlocks:
      return "between content blocks";
    case State::InTextBlock:
      return "in a text block";
    case State::InToolUseBlock:
      return "in a tool_use block";
    case State::InSkippedBlock:
      return "in a skipped block";
    case State::Stopped:
      return "after message_stop";
    case State::Failed:
      return "failed";
  }
  return "?";
}

Outcome MessagesToChatStream::fail(const std::string& why) {
  state_ = State::Failed;
  failure_ = "anthropic stream: " + why;
  return Outcome::error(failure_);
}

Outcome MessagesToChatStream::on_event(std::string_view name, std::string_view data,
                                       std::string& out) {
  if (state_ == State::Failed) return Outcome::error(failure_);
  // The SSE event name says what the event is; the data's "type" repeats it. Events we ignore
  // are not even parsed.
  const bool known = name.empty() || name == "message_start" || name == "content_block_start" ||
                     name == "content_block_delta" || name == "content_block_stop" ||
                     name == "message_delta" || name == "message_stop" || name == "error";
  if (!known) return Outcome::ok();  // ping, and event types newer than this code
  object event;
  if (!parse_object(parser_, data, event)) {
    return fail("the data of event " + quote(name) + " is not a JSON object");
  }
  const std::string_view type = name.empty() ? string_or_empty(event, "type") : name;
  if (type == "error") return on_error(event);
  if (type == "message_start") return on_message_start(event, out);
  if (type == "content_block_start") return on_block_start(event, out);
  if (type == "content_block_delta") return on_block_delta(event, out);
  if (type == "content_block_stop") return on_block_stop(event);
  if (type == "message_delta") return on_message_delta(event);
  if (type == "message_stop") return on_message_stop(out);
  return Outcome::ok();  // an unnamed event of a type we do not know
}

Outcome MessagesToChatStream::on_end(bool include_usage, std::string& out) {
  if (state_ == State::Failed) return Outcome::error(failure_);
  if (state_ != State::Stopped) return fail("stream ended before message_stop");
  if (include_usage) {
    out.append(chunk_head_);
    out.append(R"(],"usage":)");
    JsonWriter w(out);
    write_openai_usage(w, counts_.to_usage());
    out.append("}\n\n");
  }
  out.append(kDone);
  return Outcome::ok();
}

Outcome MessagesToChatStream::on_message_start(object event, std::string& out) {
  if (state_ != State::AwaitingMessageStart) {
    return fail("message_start " + std::string(to_string(state_)));
  }
  const auto message = object_member(event, "message");
  if (!message) return fail("message_start without a message");
  if (const auto usage = object_member(*message, "usage")) counts_.update_from(*usage);

  chunk_head_.assign("data: ");
  JsonWriter w(chunk_head_);
  w.begin_object()
      .member("id", string_or_empty(*message, "id"))
      .member("object", "chat.completion.chunk")
      .key("created")
      .number(created_)
      .member("model", string_or_empty(*message, "model"))
      .key("choices");
  chunk_head_.push_back('[');

  state_ = State::BetweenBlocks;
  emit_chunk(out, R"({"role":"assistant","content":""})", "null");
  return Outcome::ok();
}

Outcome MessagesToChatStream::on_block_start(object event, std::string& out) {
  if (state_ != State::BetweenBlocks) {
    return fail("content_block_start " + std::string(to_string(state_)));
  }
  const auto index = count_member(event, "index");
  const auto block = object_member(event, "content_block");
  if (!index || !block) return fail("content_block_start without index or content_block");
  open_block_ = *index;
  const std::string_view type = string_or_empty(*block, "type");
  if (type == "text") {
    state_ = State::InTextBlock;
    emit_text(out, string_or_empty(*block, "text"));
  } else if (type == "tool_use") {
    // An OpenAI client answers a tool call by its id and runs it by its name.
    const std::string_view id = string_or_empty(*block, "id");
    const std::string_view name = string_or_empty(*block, "name");
    if (id.empty() || name.empty()) return fail("a tool_use block without id or name");
    state_ = State::InToolUseBlock;
    scratch_.clear();
    JsonWriter w(scratch_);
    w.begin_object().key("tool_calls").begin_array().begin_object();
    w.member("index", tool_calls_++).member("id", id).member("type", "function");
    w.key("function").begin_object().member("name", name);
    w.member("arguments", "").end_object();
    w.end_object().end_array().end_object();
    emit_chunk(out, scratch_, "null");
    // Anthropic starts a tool_use with "input": {} and streams the input as deltas; a
    // compatible server that sends the whole input here instead is forwarded the same way.
    if (const auto input = object_member(*block, "input"); input && input->size() > 0) {
      const std::string arguments = minified(*input);
      scratch_.clear();
      JsonWriter d(scratch_);
      d.begin_object().key("tool_calls").begin_array().begin_object();
      d.member("index", tool_calls_ - 1);
      d.key("function").begin_object().member("arguments", arguments).end_object();
      d.end_object().end_array().end_object();
      emit_chunk(out, scratch_, "null");
    }
  } else {
    state_ = State::InSkippedBlock;  // thinking, redacted_thinking, server tool blocks, ...
  }
  return Outcome::ok();
}

Outcome MessagesToChatStream::check_open_block(object event, std::string_view what) {
  if (state_ != State::InTextBlock && state_ != State::InToolUseBlock &&
      state_ != State::InSkippedBlock) {
    return fail(std::string(what) + " " + std::string(to_string(state_)));
  }
  const auto index = count_member(event, "index");
  if (!index || *index != open_block_) {
    return fail(std::string(what) + " for block " +
                (index ? std::to_string(*index) : std::string("?")) + " while block " +
                std::to_string(open_block_) + " is open");
  }
  return Outcome::ok();
}

Outcome MessagesToChatStream::on_block_delta(object event, std::string& out) {
  if (auto r = check_open_block(event, "content_block_delta"); !r.is_ok()) return r;
  if (state_ == State::InSkippedBlock) return Outcome::ok();
  const auto delta = object_member(event, "delta");
  if (!delta) return fail("content_block_delta without a delta");
  const std::string_view type = string_or_empty(*delta, "type");
  if (type == "text_delta") {
    if (state_ != State::InTextBlock) return fail("text_delta in a tool_use block");
    emit_text(out, string_or_empty(*delta, "text"));
  } else if (type == "input_json_delta") {
    if (state_ != State::InToolUseBlock) return fail("input_json_delta in a text block");
    const std::string_view fragment = string_or_empty(*delta, "partial_json");
    if (fragment.empty()) return Outcome::ok();  // Anthropic opens with an empty fragment
    scratch_.clear();
    JsonWriter w(scratch_);
    w.begin_object().key("tool_calls").begin_array().begin_object();
    w.member("index", tool_calls_ - 1);
    w.key("function").begin_object().member("arguments", fragment).end_object();
    w.end_object().end_array().end_object();
    emit_chunk(out, scratch_, "null");
  }
  // citations_delta, thinking_delta, signature_delta (in a text block they do not belong to,
  // with extended thinking) and types newer than this code: nothing to forward.
  return Outcome::ok();
}

Outcome MessagesToChatStream::on_block_stop(object event) {
  if (auto r = check_open_block(event, "content_block_stop"); !r.is_ok()) return r;
  state_ = State::BetweenBlocks;
  return Outcome::ok();
}

Outcome MessagesToChatStream::on_message_delta(object event) {
  if (state_ != State::BetweenBlocks) {
    return fail("message_delta " + std::string(to_string(state_)));
  }
  if (const auto usage = object_member(event, "usage")) counts_.update_from(*usage);
  const auto delta = object_member(event, "delta");
  const std::string_view stop_reason = delta ? string_or_empty(*delta, "stop_reason") : "";
  if (!stop_reason.empty()) finish_reason_ = finish_reason_for(stop_reason);
  return Outcome::ok();
}

// The finish chunk goes out here, not at message_delta: a message may carry more than one
// message_delta (server tools), and nothing may follow an OpenAI finish_reason, so the last
// stop reason is sent once the message is known to be over.
Outcome MessagesToChatStream::on_message_stop(std::string& out) {
  if (state_ != State::BetweenBlocks) {
    return fail("message_stop " + std::string(to_string(state_)));
  }
  state_ = State::Stopped;
  scratch_.clear();
  append_json_string(scratch_, finish_reason_.empty() ? "stop" : finish_reason_);
  emit_chunk(out, "{}", scratch_);
  return Outcome::ok();
}

Outcome MessagesToChatStream::on_error(object event) {
  const auto error = object_member(event, "error");
  const std::string_view type = error ? string_or_empty(*error, "type") : "";
  const std::string_view message = error ? string_or_empty(*error, "message") : "";
  return fail("error event: " + std::string(type.empty() ? "error" : type) + ": " +
              std::string(message));
}

void MessagesToChatStream::emit_chunk(std::string& out, std::string_view delta,
                                      std::string_view finish_reason) {
  out.append(chunk_head_);
  out.append(R"({"index":0,"delta":)");
  out.append(delta);
  out.append(R"(,"logprobs":null,"finish_reason":)");
  out.append(finish_reason);
  out.append(kChunkTail);
}

void MessagesToChatStream::emit_text(std::string& out, std::string_view text) {
  if (text.empty()) return;
  out.append(chunk_head_);
  out.append(R"({"index":0,"delta":{"content":)");
  append_json_string(out, text);
  out.append(R"(},"logprobs":null,"finish_reason":null)");
  out.append(kChunkTail);
}

}  // namespace anthropic
