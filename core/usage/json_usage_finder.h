// Finds the usage object in a JSON document that arrives in pieces, without keeping the
// document: a small state machine follows strings, nesting and the keys that matter, copies
// only the usage object itself (bounded) and hands it to simdjson when its '}' arrives.
//
// Which objects are usage: the top-level "usage" (every JSON body; OpenAI chunks; Anthropic
// message_delta) and "usage" one level down under "response" (OpenAI Responses events) or
// "message" (Anthropic message_start, whose output count is only a placeholder: "provisional").
// A "usage" anywhere else — inside content, tool arguments, deeper objects — is not.
//
// Along the way it counts the bytes of generated content — string values of content, text,
// delta, arguments, partial_json, thinking, reasoning, reasoning_content and refusal keys, raw
// (escapes count as written) — for the estimate when no usage arrives. Events that repeat text
// already streamed (Responses' "*.done", "response.completed", ...) are not counted, provided
// their "type" comes before the text (it does in every provider's output seen).
//
// Garbage never makes it crash or grow: nesting is a counter (key/array tracking for the first
// 64 levels), keys and the "type" value are read into small fixed buffers, the usage copy stops
// at kMaxUsageObjectBytes (that object is then ignored).
// Internal to core/usage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/usage/reported_usage.h"
#include "core/usage/response_keys.h"

namespace sluice::usage::detail {

class JsonUsageFinder {
 public:
  // A usage object is a few hundred bytes; one larger than this is ignored.
  static constexpr size_t kMaxUsageObjectBytes = 4096;

  // What the current document has shown so far (for recognising the usage-only chunk).
  enum class Root : uint8_t { Unknown, Object, Other };  // its first byte: '{' or anything else
  // The top-level "choices" value: Opened = '[' seen, the next byte decides Empty or NotEmpty;
  // Other = present but not an array.
  enum class Choices : uint8_t { Absent, Opened, Empty, NotEmpty, Other };
  enum class TopUsage : uint8_t { Absent, Object, NotObject };  // the top-level "usage" value

  // Forgets everything: a new response (or attempt).
  void reset();
  // A new JSON document starts (a new SSE event); usage and content counts carry on.
  void begin_document();
  // The next bytes of the current document.
  void feed(const char* p, const char* end);

  Root root() const { return root_; }
  Choices choices() const { return choices_; }
  TopUsage top_usage() const { return top_usage_; }

  const ReportedUsage& reported() const { return reported_; }
  bool saw_usage() const { return !reported_.empty(); }
  // A usage object that is not a placeholder (anything but Anthropic's message_start) was read.
  bool saw_final_usage() const { return saw_final_usage_; }
  uint64_t content_bytes() const { return content_bytes_; }

 private:
  using Key = ResponseKey;
  enum class State : uint8_t {
    Value,         // between tokens: structure, whitespace, numbers, literals
    String,        // inside a string; string_role_ says what its bytes are for
    StringEscape,  // the byte after a backslash inside a string
  };
  enum class StringRole : uint8_t {
    Key,        // an object key: collected into key_ to be classified
    Content,    // generated content: its bytes are counted
    TypeValue,  // the top-level "type" value: collected into type_
    Skipped,    // any other string
  };

  const char* scan_value(const char* p, const char* end);
  const char* scan_string(const char* p, const char* end);
  void take_string_bytes(const char* p, size_t n);
  void end_string();
  void value_starts(char c);
  void open_container(const char* p, bool is_object);
  void close_container(const char* p);
  bool in_object() const;
  void start_capture(const char* p, bool provisional);
  void append_capture(const char* from, const char* to);
  void finish_capture(const char* end);

  // Document state (begin_document resets it).
  State state_ = State::Value;
  StringRole string_role_ = StringRole::Skipped;
  uint32_t depth_ = 0;            // open containers; the top-level object's members are at depth 1
  uint64_t object_bits_ = 0;      // bit d-1: the container at depth d (<= 64) is an object
  bool expect_key_ = false;       // inside an object, before a member's key
  Key pending_key_ = Key::Other;  // the last key read, until its ':'
  Key value_key_ = Key::Other;    // the key whose value comes next (set at ':')
  Key parent1_ = Key::Other;      // the top-level key whose value is the open depth-2 object
  bool count_content_ = true;     // false in events that repeat text (see the file comment)
  Root root_ = Root::Unknown;
  Choices choices_ = Choices::Absent;
  TopUsage top_usage_ = TopUsage::Absent;
  char key_[kMaxKeyLength];
  uint8_t key_len_ = 0;
  bool key_unusable_ = false;  // too long or escaped
  char type_[kMaxTypeLength];
  uint8_t type_len_ = 0;
  bool type_unusable_ = false;

  // The usage object being copied (capacity kept across responses; padded for simdjson).
  bool capturing_ = false;
  bool capture_provisional_ = false;
  bool capture_overflow_ = false;
  uint32_t capture_depth_ = 0;          // depth_ inside the usage object
  const char* capture_mark_ = nullptr;  // within the current feed: first byte not yet copied
  std::string capture_;

  // Response state (reset() clears it).
  ReportedUsage reported_;
  bool saw_final_usage_ = false;
  uint64_t content_bytes_ = 0;
};

}  // namespace sluice::usage::detail
