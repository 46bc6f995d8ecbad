// A small owned JSON value for tests and the mock provider: parse a document, walk it with
// operator[] (a missing key or index yields a shared null instead of throwing, so an assertion
// reports "expected X, got null" rather than crashing the test), and serialize it back.
// Not fast, not for the request path: it exists so tests can assert on what a user sees.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::test {

class Json {
 public:
  enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object };

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : kind_(Kind::Bool), bool_(b) {}
  Json(int n) : kind_(Kind::Number), number_(n) {}
  Json(int64_t n) : kind_(Kind::Number), number_(static_cast<double>(n)) {}
  Json(uint64_t n) : kind_(Kind::Number), number_(static_cast<double>(n)) {}
  Json(double n) : kind_(Kind::Number), number_(n) {}
  Json(const char* s) : kind_(Kind::String), string_(s) {}
  Json(std::string s) : kind_(Kind::String), string_(std::move(s)) {}
  Json(std::string_view s) : kind_(Kind::String), string_(s) {}

  static Json array() {
    Json j;
    j.kind_ = Kind::Array;
    return j;
  }
  static Json object() {
    Json j;
    j.kind_ = Kind::Object;
    return j;
  }

  // Parses a whole document; nullopt on any syntax error or trailing garbage. `error`, when
  // given, receives a short description with the byte offset.
  static std::optional<Json> parse(std::string_view text, std::string* error = nullptr);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  // Typed reads with a fallback for the wrong kind.
  bool as_bool(bool fallback = false) const { return is_bool() ? bool_ : fallback; }
  double as_number(double fallback = 0) const { return is_number() ? number_ : fallback; }
  int64_t as_int(int64_t fallback = 0) const {
    return is_number() ? static_cast<int64_t>(number_) : fallback;
  }
  // The string value; "" for anything that is not a string.
  const std::string& str() const;

  // Object access: a missing key (or a non-object) yields a null value.
  const Json& operator[](std::string_view key) const;
  const Json& operator[](const char* key) const { return (*this)[std::string_view(key)]; }
  // Array access: out of range (or a non-array) yields a null value.
  const Json& operator[](size_t index) const;
  const Json& operator[](int index) const { return (*this)[static_cast<size_t>(index)]; }
  bool contains(std::string_view key) const;
  // Array length or object member count; 0 otherwise.
  size_t size() const;

  const std::vector<Json>& items() const { return array_; }
  // Object members in insertion order (duplicate keys keep the last value on lookup).
  const std::vector<std::pair<std::string, Json>>& members() const { return object_; }

  // Building.
  Json& push_back(Json value);
  Json& set(std::string key, Json value);  // replaces an existing key

  // Compact serialization (numbers that are integral print without a fraction).
  std::string dump() const;

 private:
  friend class JsonParser;
  void dump_to(std::string& out) const;

  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::vector<std::pair<std::string, Json>> object_;
};

// Appends `s` to `out` as a quoted JSON string literal with the required escapes.
void append_json_string(std::string& out, std::string_view s);
std::string json_quote(std::string_view s);

}  // namespace sluice::test
