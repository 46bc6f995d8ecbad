#include "core/json/json_scan.h"

#include <cstdint>
#include <cstring>

namespace sluice::json::detail {

namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char* skip_ws(const char* p, const char* end) {
  while (p < end && is_ws(*p)) ++p;
  return p;
}

// `p` is just after an opening quote: returns the closing quote (or end). A quote is closing
// when the run of backslashes before it is even.
const char* closing_quote(const char* p, const char* end) {
  const char* start = p;
  while (p < end) {
    const char* q = static_cast<const char*>(std::memchr(p, '"', end - p));
    if (q == nullptr) return end;
    const char* b = q;
    while (b > start && b[-1] == '\\') --b;
    if ((q - b) % 2 == 0) return q;
    p = q + 1;
  }
  return end;
}

// `p` is at a value's first byte: returns one past its last byte.
const char* skip_value(const char* p, const char* end) {
  if (p >= end) return end;
  if (*p == '"') {
    const char* q = closing_quote(p + 1, end);
    return q < end ? q + 1 : end;
  }
  if (*p == '{' || *p == '[') {
    int depth = 0;
    while (p < end) {
      char c = *p;
      if (c == '"') {
        p = closing_quote(p + 1, end);
        if (p < end) ++p;
        continue;
      }
      ++p;
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return p;
      }
    }
    return end;
  }
  while (p < end && *p != ',' && *p != '}' && *p != ']' && !is_ws(*p)) ++p;
  return p;
}

unsigned hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

unsigned read_hex4(const char* p) {
  return hex_value(p[0]) << 12 | hex_value(p[1]) << 8 | hex_value(p[2]) << 4 | hex_value(p[3]);
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | cp >> 6));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | cp >> 12));
    out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | cp >> 18));
    out.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

TokenKind kind_of(std::string_view token) {
  switch (token.empty() ? '\0' : token.front()) {
    case '"':
      return TokenKind::String;
    case '{':
      return TokenKind::Object;
    case '[':
      return TokenKind::Array;
    case 't':
      return TokenKind::True;
    case 'f':
      return TokenKind::False;
    case 'n':
      return TokenKind::Null;
    default:
      return TokenKind::Number;
  }
}

MemberScanner::MemberScanner(std::string_view object)
    : p_(object.data()), end_(object.data() + object.size()) {
  if (p_ < end_ && *p_ == '{') ++p_;
}

bool MemberScanner::next(Member* member) {
  const char* p = skip_ws(p_, end_);
  if (p < end_ && *p == ',') p = skip_ws(p + 1, end_);
  if (p >= end_ || *p != '"') {  // '}' (or the end): no more members
    p_ = end_;
    return false;
  }
  const char* key_end = closing_quote(p + 1, end_);
  member->key = std::string_view(p + 1, key_end - (p + 1));
  p = skip_ws(key_end < end_ ? key_end + 1 : end_, end_);
  if (p < end_ && *p == ':') ++p;
  p = skip_ws(p, end_);
  const char* value_end = skip_value(p, end_);
  member->value = std::string_view(p, value_end - p);
  p_ = value_end;
  return true;
}

void unescape(std::string_view content, std::string& out) {
  const char* p = content.data();
  const char* end = p + content.size();
  while (p < end) {
    const char* b = static_cast<const char*>(std::memchr(p, '\\', end - p));
    if (b == nullptr) {
      out.append(p, end);
      return;
    }
    out.append(p, b);
    if (end - b < 2) return;  // not reached for a valid string
    char c = b[1];
    p = b + 2;
    switch (c) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        if (end - p < 4) return;
        uint32_t cp = read_hex4(p);
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
          uint32_t low = read_hex4(p + 2);
          if (low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            p += 6;
          }
        }
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;  // lone surrogate
        append_utf8(out, cp);
        break;
      }
      default:
        out.push_back(c);
        break;  // '"', '\\', '/'
    }
  }
}

std::string_view decoded_key(std::string_view raw, std::string& scratch) {
  if (std::memchr(raw.data(), '\\', raw.size()) == nullptr) return raw;
  scratch.clear();
  unescape(raw, scratch);
  return scratch;
}

}  // namespace sluice::json::detail
