#include "core/usage/json_usage_finder.h"

#include <cstring>
#include <string_view>

#include <simdjson.h>

#include "core/usage/byte_search.h"

namespace sluice::usage::detail {
namespace {

// Nesting beyond this is garbage; the counter stops so that it cannot wrap.
constexpr uint32_t kMaxDepthCount = 1u << 30;
constexpr uint32_t kTrackedDepth = 64;  // object/array kept for this many levels

enum ByteClass : uint8_t { kScalar, kSpace, kStructural };

struct ByteClasses {
  uint8_t of[256];
  constexpr ByteClasses() : of() {
    for (int i = 0; i < 256; ++i) of[i] = kScalar;
    for (char c : {' ', '\t', '\n', '\r'}) of[static_cast<unsigned char>(c)] = kSpace;
    for (char c : {'{', '}', '[', ']', ':', ',', '"'}) {
      of[static_cast<unsigned char>(c)] = kStructural;
    }
  }
};
constexpr ByteClasses kClasses;

uint8_t class_of(char c) {
  return kClasses.of[static_cast<unsigned char>(c)];
}

}  // namespace

void JsonUsageFinder::reset() {
  begin_document();
  reported_ = ReportedUsage{};
  saw_final_usage_ = false;
  content_bytes_ = 0;
}

void JsonUsageFinder::begin_document() {
  state_ = State::Value;
  string_role_ = StringRole::Skipped;
  depth_ = 0;
  object_bits_ = 0;
  expect_key_ = false;
  pending_key_ = Key::Other;
  value_key_ = Key::Other;
  parent1_ = Key::Other;
  count_content_ = true;
  root_ = Root::Unknown;
  choices_ = Choices::Absent;
  top_usage_ = TopUsage::Absent;
  key_len_ = 0;
  key_unusable_ = false;
  type_len_ = 0;
  type_unusable_ = false;
  capturing_ = false;  // an unfinished usage object of the last document is dropped
  capture_overflow_ = false;
  capture_.clear();
}

void JsonUsageFinder::feed(const char* p, const char* end) {
  if (capturing_) capture_mark_ = p;
  while (p < end) {
    switch (state_) {
      case State::Value:
        p = scan_value(p, end);
        break;
      case State::String:
        p = scan_string(p, end);
        break;
      case State::StringEscape:
        // The escaped byte (for \uXXXX the 'u'; the hex digits are ordinary string bytes).
        take_string_bytes(p, 1);
        state_ = State::String;
        ++p;
        break;
    }
  }
  if (capturing_) append_capture(capture_mark_, end);
}

bool JsonUsageFinder::in_object() const {
  return depth_ >= 1 && depth_ <= kTrackedDepth && ((object_bits_ >> (depth_ - 1)) & 1u);
}

const char* JsonUsageFinder::scan_value(const char* p, const char* end) {
  if (depth_ != 0 && !in_object() && choices_ != Choices::Opened) {
    // Inside an array no key can start and no top-level value: only strings and nesting
    // matter (an embedding's numbers go by 16 bytes at a time).
    p = find_array_structure(p, end);
    if (p == end) return end;
  }
  const char c = *p;
  const uint8_t cls = class_of(c);
  if (cls == kSpace) {
    do {
      ++p;
    } while (p < end && class_of(*p) == kSpace);
    return p;
  }
  if (root_ == Root::Unknown) root_ = c == '{' ? Root::Object : Root::Other;
  if (choices_ == Choices::Opened) choices_ = c == ']' ? Choices::Empty : Choices::NotEmpty;
  if (cls == kScalar) {
    // A number or literal (or garbage): its bytes mean nothing here.
    value_starts(c);
    do {
      ++p;
    } while (p < end && class_of(*p) == kScalar);
    return p;
  }
  switch (c) {
    case '"':
      if (expect_key_ && in_object()) {
        string_role_ = StringRole::Key;
        key_len_ = 0;
        key_unusable_ = false;
      } else {
        value_starts(c);
        if (value_key_ == Key::Content && count_content_) {
          string_role_ = StringRole::Content;
        } else if (value_key_ == Key::Type && depth_ == 1 && in_object()) {
          string_role_ = StringRole::TypeValue;
          type_len_ = 0;
          type_unusable_ = false;
        } else {
          string_role_ = StringRole::Skipped;
        }
      }
      state_ = State::String;
      break;
    case '{':
      open_container(p, true);
      break;
    case '[':
      open_container(p, false);
      break;
    case '}':
    case ']':
      close_container(p);
      break;
    case ':':
      value_key_ = pending_key_;
      pending_key_ = Key::Other;
      expect_key_ = false;
      break;
    case ',':
      expect_key_ = in_object();
      value_key_ = Key::Other;
      break;
  }
  return p + 1;
}

const char* JsonUsageFinder::scan_string(const char* p, const char* end) {
  const char* q = find_either(p, end, '"', '\\');
  if (q > p) take_string_bytes(p, static_cast<size_t>(q - p));
  if (q == end) return end;
  if (*q == '\\') {
    // A key or type with an escape is none of the plain ASCII names looked for.
    key_unusable_ = key_unusable_ || string_role_ == StringRole::Key;
    type_unusable_ = type_unusable_ || string_role_ == StringRole::TypeValue;
    take_string_bytes(q, 1);
    state_ = State::StringEscape;
    return q + 1;
  }
  state_ = State::Value;
  end_string();
  return q + 1;
}

void JsonUsageFinder::take_string_bytes(const char* p, size_t n) {
  switch (string_role_) {
    case StringRole::Content:
      content_bytes_ += n;
      break;
    case StringRole::Key:
      if (key_unusable_) break;
      if (key_len_ + n > kMaxKeyLength) {
        key_unusable_ = true;
        break;
      }
      std::memcpy(key_ + key_len_, p, n);
      key_len_ = static_cast<uint8_t>(key_len_ + n);
      break;
    case StringRole::TypeValue:
      if (type_unusable_) break;
      if (type_len_ + n > kMaxTypeLength) {
        type_unusable_ = true;
        break;
      }
      std::memcpy(type_ + type_len_, p, n);
      type_len_ = static_cast<uint8_t>(type_len_ + n);
      break;
    case StringRole::Skipped:
      break;
  }
}

void JsonUsageFinder::end_string() {
  if (string_role_ == StringRole::Key) {
    pending_key_ = key_unusable_ ? Key::Other : classify_key(std::string_view(key_, key_len_));
    expect_key_ = false;
  } else if (string_role_ == StringRole::TypeValue && !type_unusable_) {
    if (repeats_streamed_text(std::string_view(type_, type_len_))) count_content_ = false;
  }
  string_role_ = StringRole::Skipped;
}

// A value begins at the top level: what it is decides the usage-only-chunk questions.
void JsonUsageFinder::value_starts(char c) {
  if (depth_ != 1 || !in_object()) return;
  if (value_key_ == Key::Usage) {
    top_usage_ = c == '{' ? TopUsage::Object : TopUsage::NotObject;
  } else if (value_key_ == Key::Choices) {
    choices_ = c == '[' ? Choices::Opened : Choices::Other;
  }
}

void JsonUsageFinder::open_container(const char* p, bool is_object) {
  value_starts(*p);
  if (is_object && !capturing_ && value_key_ == Key::Usage && in_object()) {
    if (depth_ == 1) {
      start_capture(p, /*provisional=*/false);
    } else if (depth_ == 2 && (parent1_ == Key::Response || parent1_ == Key::Message)) {
      // Anthropic's message_start carries message.usage with a placeholder output count.
      start_capture(p, /*provisional=*/parent1_ == Key::Message);
    }
  }
  if (depth_ == 1) parent1_ = is_object && in_object() ? value_key_ : Key::Other;
  if (depth_ >= kMaxDepthCount) return;
  if (depth_ < kTrackedDepth) {
    const uint64_t bit = uint64_t{1} << depth_;
    object_bits_ = is_object ? (object_bits_ | bit) : (object_bits_ & ~bit);
  }
  ++depth_;
  expect_key_ = is_object;
  value_key_ = Key::Other;
  pending_key_ = Key::Other;
}

void JsonUsageFinder::close_container(const char* p) {
  if (depth_ == 0) return;  // more closes than opens: garbage
  if (capturing_ && depth_ == capture_depth_) finish_capture(p + 1);
  --depth_;
  if (depth_ <= 1) parent1_ = Key::Other;
  expect_key_ = false;
  value_key_ = Key::Other;
}

void JsonUsageFinder::start_capture(const char* p, bool provisional) {
  capturing_ = true;
  capture_provisional_ = provisional;
  capture_overflow_ = false;
  capture_depth_ = depth_ + 1;
  capture_mark_ = p;
  capture_.clear();
  // Reserved once per finder: later captures reuse it, and simdjson gets its padding.
  if (capture_.capacity() < kMaxUsageObjectBytes + simdjson::SIMDJSON_PADDING) {
    capture_.reserve(kMaxUsageObjectBytes + simdjson::SIMDJSON_PADDING);
  }
}

void JsonUsageFinder::append_capture(const char* from, const char* to) {
  if (capture_overflow_ || to <= from) return;
  const size_t n = static_cast<size_t>(to - from);
  if (capture_.size() + n > kMaxUsageObjectBytes) {
    capture_overflow_ = true;
    capture_.clear();
    return;
  }
  capture_.append(from, n);
}

void JsonUsageFinder::finish_capture(const char* end) {
  append_capture(capture_mark_, end);
  capturing_ = false;
  if (capture_overflow_) return;
  if (parse_usage_object(capture_.data(), capture_.size(), capture_.capacity(), &reported_) &&
      !capture_provisional_) {
    saw_final_usage_ = true;
  }
  capture_.clear();
}

}  // namespace sluice::usage::detail
