// append_json_escaped: JSON string contents (RFC 8259 §7) from arbitrary bytes. Error messages
// may quote what a client sent, so the output must stay valid JSON and valid UTF-8 whatever the
// input: ill-formed UTF-8 becomes U+FFFD, one replacement per bad byte.
#include "core/http/response_builder.h"

namespace sluice::http {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence starting at s[0] (a byte >= 0x80), or 0 if there is
// none (RFC 3629 §4: no overlongs, no surrogates, nothing past U+10FFFF).
size_t utf8_sequence_length(const unsigned char* s, size_t avail) {
  const unsigned char b0 = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (avail < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  }
  return len;
}

bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t run = 0;  // start of the pending run of bytes copied as they are
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (!needs_escape(c)) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (size_t len = utf8_sequence_length(p + i, n - i); len != 0) {
        i += len;  // well-formed: stays in the run
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20) {
          const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out.append(u, sizeof u);
        } else {
          out.append("\\ufffd");  // a byte that does not start a well-formed UTF-8 sequence
        }
    }
    ++i;
    run = i;
  }
  out.append(s.data() + run, n - run);
}

}  // namespace sluice::http
