// JsonWriter: appends JSON text to a std::string — objects, arrays, escaped strings, numbers,
// and values that are already JSON — and places the commas itself.
//
// The translators build every body and every stream event with it, field by field in the
// order the target API documents them, so the output is exactly what the tests spell out.
// It checks nothing but what it writes: the caller nests begin/end correctly and gives a key
// before each value inside an object.
//
// Commas need no stack: a comma goes before a key or a value whenever the last thing written
// was a complete value (a scalar or an end_*), and never after a begin_* or a key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace anthropic {

// `text` as a JSON string literal (quotes included) appended to `out`. `text` must be valid
// UTF-8 (simdjson validates every string it hands out); control characters, '"' and '\' are
// escaped, everything else is copied as is.
void append_json_string(std::string& out, std::string_view text);

// `text` cut to at most `max_bytes` without splitting a UTF-8 sequence, with bytes that are not
// valid UTF-8 replaced by '?': for quoting a body that is not JSON (an HTML error page) in a
// message.
std::string printable_prefix(std::string_view text, size_t max_bytes);

class JsonWriter {
 public:
  // Appends to `out`. `after_value`: `out` already ends in a value of an open array or object,
  // so the next value or key needs a comma (continuing a list another writer started).
  explicit JsonWriter(std::string& out, bool after_value = false)
      : out_(out), after_value_(after_value) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  // A member name; exactly one value must follow.
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view text);
  JsonWriter& number(uint64_t n);
  JsonWriter& number(int64_t n);
  JsonWriter& boolean(bool b);
  JsonWriter& null();
  // A value that is already JSON text (minified by simdjson, or built by another writer).
  JsonWriter& raw(std::string_view json);

  // Shorthands for one member.
  JsonWriter& member(std::string_view name, std::string_view text) {
    return key(name).string(text);
  }
  JsonWriter& member(std::string_view name, uint64_t n) { return key(name).number(n); }
  JsonWriter& member_raw(std::string_view name, std::string_view json) {
    return key(name).raw(json);
  }

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void before_value() {
    if (after_value_) out_.push_back(',');
  }

  std::string& out_;
  bool after_value_;  // the last thing written was a whole value: a comma goes before the next
};

}  // namespace anthropic
