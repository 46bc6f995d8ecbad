#include "anthropic/chat_to_messages_stream.h"

#include "anthropic/chat_to_messages_response.h"
#include "anthropic/json_writer.h"
#include "anthropic/stop_reason.h"
#include "anthropic/usage.h"

namespace anthropic {

namespace {

// More tool calls than any model makes in one answer: an index past it is garbage (and would
// not fit the signed counter).
constexpr uint64_t kMaxToolCalls = 1'000'000;

}  // namespace

std::string_view ChatToMessagesStream::to_string(State s) {
  switch (s) {
    case State::AwaitingFirstChunk:
      return "awaiting the first chunk";
    case State::NoOpenBlock:
      return "no block open";
    case State::InTextBlock:
      return "in a text block";
    case State::InToolUseBlock:
      return "in a tool_use block";
    case State::Finishing:
      return "after finish_reason";
    case State::Done:
      return "done";
    case State::Failed:
      return "failed";
  }
  return "?";
}

Outcome ChatToMessagesStream::fail(const std::string& why) {
  state_ = State::Failed;
  failure_ = "openai stream: " + why;
  return Outcome::error(failure_);
}

void ChatToMessagesStream::emit(std::string& out, std::string_view name) {
  out.append("event: ").append(name).append("\ndata: ").append(scratch_).append("\n\n");
}

Outcome ChatToMessagesStream::on_event(std::string_view data, std::string& out) {
  if (state_ == State::Failed) return Outcome::error(failure_);
  while (!data.empty() && (data.back() == ' ' || data.back() == '\r' || data.back() == '\n')) {
    data.remove_suffix(1);
  }
  // message_stop went out: the client's stream is whole, and whatever the provider still
  // sends (a late usage chunk, [DONE], noise) can change nothing.
  if (state_ == State::Done) return Outcome::ok();
  if (data == "[DONE]") {
    if (state_ == State::AwaitingFirstChunk) start_message("", "", out);  // an empty answer
    finish_message(out);
    return Outcome::ok();
  }
  object chunk;
  if (!parse_object(parser_, data, chunk)) return fail("a chunk is not a JSON object");
  if (const auto error = member(chunk, "error")) {
    std::string_view message;
    if (error->get(message) != simdjson::SUCCESS) {
      object details;
      if (error->get(details) == simdjson::SUCCESS) message = string_or_empty(details, "message");
    }
    return fail("the provider sent an error: " + std::string(message));
  }
  return on_chunk(chunk, out);
}

Outcome ChatToMessagesStream::on_end(std::string& out) {
  if (state_ == State::Failed) return Outcome::error(failure_);
  if (state_ == State::Done) return Outcome::ok();
  if (state_ != State::Finishing) return fail("stream ended before finish_reason");
  finish_message(out);  // finish_reason seen, but no [DONE]: some servers never send it
  return Outcome::ok();
}

Outcome ChatToMessagesStream::on_chunk(object chunk, std::string& out) {
  if (const auto usage = object_member(chunk, "usage")) usage_ = read_openai_usage(*usage);
  if (state_ == State::AwaitingFirstChunk) {
    start_message(string_or_empty(chunk, "id"), string_or_empty(chunk, "model"), out);
  }
  array choices;
  if (chunk["choices"].get(choices) == simdjson::SUCCESS) {
    for (element value : choices) {
      object choice;
      if (value.get(choice) != simdjson::SUCCESS) return fail("a choice is not an object");
      if (count_member(choice, "index").value_or(0) != 0) continue;  // only one was asked for
      if (auto r = on_choice(choice, out); !r.is_ok()) return r;
    }
  }
  // The usage chunk after finish_reason, or finish_reason and usage in one chunk.
  if (state_ == State::Finishing && usage_.reported) finish_message(out);
  return Outcome::ok();
}

// choices[0]: {delta: {content?, refusal?, tool_calls?}, finish_reason?}.
Outcome ChatToMessagesStream::on_choice(object choice, std::string& out) {
  if (const auto delta = object_member(choice, "delta")) {
    std::string_view text = string_or_empty(*delta, "content");
    if (text.empty()) text = string_or_empty(*delta, "refusal");
    if (!text.empty()) {
      if (state_ == State::Finishing) return fail("content after finish_reason");
      if (state_ != State::InTextBlock) {
        close_block(out);
        start_text_block(out);
      }
      scratch_.clear();
      JsonWriter w(scratch_);
      w.begin_object().member("type", "content_block_delta").member("index", next_block_ - 1);
      w.key("delta").begin_object().member("type", "text_delta").member("text", text);
      w.end_object().end_object();
      emit(out, "content_block_delta");
    }
    array calls;
    if ((*delta)["tool_calls"].get(calls) == simdjson::SUCCESS) {
      for (element call : calls) {
        if (auto r = on_tool_call_delta(call, out); !r.is_ok()) return r;
      }
    }
  }
  const std::string_view finish = string_or_empty(choice, "finish_reason");
  if (!finish.empty() && state_ != State::Finishing) {
    close_block(out);
    stop_reason_ = stop_reason_for(finish);
    state_ = State::Finishing;
  }
  return Outcome::ok();
}

// One entry of delta.tool_calls: {index, id?, type?, function: {name?, arguments?}}. The
// first entry of a call carries its id and name; the following ones, argument fragments.
Outcome ChatToMessagesStream::on_tool_call_delta(element value, std::string& out) {
  object call;
  if (value.get(call) != simdjson::SUCCESS) return fail("a tool call delta is not an object");
  const auto function = object_member(call, "function");
  const std::string_view id = string_or_empty(call, "id");
  int64_t index = 0;
  if (const auto n = count_member(call, "index")) {
    if (*n > kMaxToolCalls) return fail("tool call index " + std::to_string(*n) + " is too large");
    index = static_cast<int64_t>(*n);
  } else {
    // Servers that leave out "index" send one call at a time: a new id starts the next one.
    index = open_tool_ < 0 || !id.empty() ? open_tool_ + 1 : open_tool_;
  }
  if (index != open_tool_) {
    if (index < open_tool_) {
      return fail("tool call " + std::to_string(index) + " continued after tool call " +
                  std::to_string(open_tool_) + " started");
    }
    if (state_ == State::Finishing) return fail("a tool call after finish_reason");
    const std::string_view name = function ? string_or_empty(*function, "name") : "";
    if (name.empty()) return fail("tool call " + std::to_string(index) + " has no name");
    close_block(out);
    open_tool_ = index;
    const std::string tool_id =
        id.empty() ? "toolu_" + std::to_string(next_block_) + "_" + request_id_ : std::string(id);
    scratch_.clear();
    JsonWriter w(scratch_);
    w.begin_object().member("type", "content_block_start").member("index", next_block_++);
    w.key("content_block").begin_object().member("type", "tool_use").member("id", tool_id);
    w.member("name", name).member_raw("input", "{}").end_object();
    w.end_object();
    emit(out, "content_block_start");
    state_ = State::InToolUseBlock;
  } else if (state_ != State::InToolUseBlock) {
    return fail("tool call " + std::to_string(index) + " continued after its block closed");
  }
  const std::string_view fragment = function ? string_or_empty(*function, "arguments") : "";
  if (fragment.empty()) return Outcome::ok();
  scratch_.clear();
  JsonWriter w(scratch_);
  w.begin_object().member("type", "content_block_delta").member("index", next_block_ - 1);
  w.key("delta").begin_object().member("type", "input_json_delta").member("partial_json", fragment);
  w.end_object().end_object();
  emit(out, "content_block_delta");
  return Outcome::ok();
}

void ChatToMessagesStream::start_message(std::string_view id, std::string_view model,
                                         std::string& out) {
  scratch_.clear();
  JsonWriter w(scratch_);
  w.begin_object().member("type", "message_start").key("message").begin_object();
  w.member("id", anthropic_message_id(id, request_id_))
      .member("type", "message")
      .member("role", "assistant")
      .member("model", model.empty() ? std::string_view(fallback_model_) : model);
  w.key("content").begin_array().end_array();
  w.key("stop_reason").null().key("stop_sequence").null();
  w.key("usage");
  write_anthropic_usage(w, usage_);  // zeros until the provider reports usage
  w.end_object().end_object();
  emit(out, "message_start");
  state_ = State::NoOpenBlock;
}

void ChatToMessagesStream::start_text_block(std::string& out) {
  scratch_.clear();
  JsonWriter w(scratch_);
  w.begin_object().member("type", "content_block_start").member("index", next_block_++);
  w.key("content_block").begin_object().member("type", "text").member("text", "").end_object();
  w.end_object();
  emit(out, "content_block_start");
  state_ = State::InTextBlock;
}

void ChatToMessagesStream::close_block(std::string& out) {
  if (state_ != State::InTextBlock && state_ != State::InToolUseBlock) return;
  scratch_.clear();
  JsonWriter w(scratch_);
  w.begin_object().member("type", "content_block_stop").member("index", next_block_ - 1);
  w.end_object();
  emit(out, "content_block_stop");
  state_ = State::NoOpenBlock;
}

void ChatToMessagesStream::finish_message(std::string& out) {
  close_block(out);
  scratch_.clear();
  JsonWriter w(scratch_);
  w.begin_object().member("type", "message_delta");
  w.key("delta").begin_object();
  w.member("stop_reason", stop_reason_.empty() ? std::string_view("end_turn") : stop_reason_);
  w.key("stop_sequence").null().end_object();
  w.key("usage");
  write_anthropic_usage(w, usage_);
  w.end_object();
  emit(out, "message_delta");
  scratch_.assign(R"({"type":"message_stop"})");
  emit(out, "message_stop");
  state_ = State::Done;
}

}  // namespace anthropic
