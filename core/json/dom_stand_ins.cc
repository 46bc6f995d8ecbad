#include "core/json/dom_stand_ins.h"

namespace sluice::json::detail {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_number_char(char c) {
  return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// Exactly the JSON number grammar (RFC 8259 §6): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view t) {
  size_t i = 0, n = t.size();
  if (i < n && t[i] == '-') ++i;
  if (i >= n) return false;
  if (t[i] == '0') {
    ++i;
  } else if (is_digit(t[i])) {
    while (i < n && is_digit(t[i])) ++i;
  } else {
    return false;
  }
  if (i < n && t[i] == '.') {
    ++i;
    if (i >= n || !is_digit(t[i])) return false;
    while (i < n && is_digit(t[i])) ++i;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (i >= n || !is_digit(t[i])) return false;
    while (i < n && is_digit(t[i])) ++i;
  }
  return i == n;
}

// "\uD800" .. "\uDFFF" at p (p[0] == '\\', p[1] == 'u', p[2..5] readable).
bool is_surrogate_escape(const char* p) {
  char high = static_cast<char>(p[2] | 0x20), next = static_cast<char>(p[3] | 0x20);
  return high == 'd' && ((next >= '8' && next <= '9') || (next >= 'a' && next <= 'f')) &&
         is_hex(p[4]) && is_hex(p[5]);
}

}  // namespace

simdjson::padded_string with_dom_stand_ins(std::string_view body) {
  simdjson::padded_string copy(body.data(), body.size());
  char* s = copy.data();
  const size_t n = body.size();
  size_t i = 0;
  while (i < n) {
    char c = s[i];
    if (c == '"') {  // a string: lex it as JSON does, replacing surrogate escapes
      ++i;
      while (i < n && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < n) {
          if (s[i + 1] == 'u' && i + 5 < n && is_surrogate_escape(s + i)) {
            s[i + 2] = '0';
            s[i + 3] = '0';
            s[i + 4] = '4';
            s[i + 5] = '1';
            i += 6;
          } else {
            i += 2;
          }
        } else {
          ++i;
        }
      }
      ++i;  // the closing quote
    } else if (is_digit(c) || c == '-') {
      size_t end = i;
      while (end < n && is_number_char(s[end])) ++end;
      // The stand-in is grammatical wherever the number was; a malformed run stays as it is.
      if (is_json_number(std::string_view(s + i, end - i))) {
        s[i] = '0';
        for (size_t k = i + 1; k < end; ++k) s[k] = ' ';
      }
      i = end;
    } else {
      ++i;
    }
  }
  return copy;
}

}  // namespace sluice::json::detail
