// Walking the members of a JSON object in a document that is already known to be valid
// (request_fields.cc validates first). With validity given, finding where a value starts and
// ends is simple byte work — mostly memchr over string contents — and gives what a parser's
// tree does not: the exact byte range of each value, for splicing.
// Internal to core/json.
#pragma once

#include <string>
#include <string_view>

namespace sluice::json::detail {

// What a value token starts with tells its kind (valid JSON only).
enum class TokenKind : uint8_t { String, Object, Array, True, False, Null, Number };
TokenKind kind_of(std::string_view token);

struct Member {
  std::string_view key;    // raw bytes between the key's quotes (escapes not decoded)
  std::string_view value;  // the whole value token: "..." / {...} / [...] / 12 / true / null
};

// Iterates an object's members in document order.
class MemberScanner {
 public:
  // `object` starts at the object's '{' and may run past its '}' (the rest of the body).
  explicit MemberScanner(std::string_view object);
  bool next(Member* member);  // false after the last member

 private:
  const char* p_;
  const char* end_;
};

// Decodes a JSON string's content (between the quotes; valid escapes) into out. A lone
// surrogate escape (\ud800), grammatical but not Unicode, becomes U+FFFD.
void unescape(std::string_view content, std::string& out);

// A key as its parser would read it: `raw` itself, or — only when it holds an escape — its
// decoded form, written into scratch.
std::string_view decoded_key(std::string_view raw, std::string& scratch);

}  // namespace sluice::json::detail
