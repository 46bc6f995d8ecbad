#include "core/usage/flat_usage_object.h"

#include <array>
#include <cstdint>
#include <string_view>

namespace sluice::usage::detail {
namespace {

using Field = ReportedUsage::Field;

// What a member's value was, as far as the readers of a usage object care.
enum class Value : unsigned char { Count, Object, Other };

// The bytes a string of the simple shape is made of: printable ASCII but '"' and '\\'.
constexpr std::array<bool, 256> make_plain_string_bytes() {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c <= 0x7e; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}
constexpr std::array<bool, 256> kPlainStringByte = make_plain_string_bytes();

// A walk over [p, end) that gives up (ok = false) at the first byte outside the simple shape.
struct Walk {
  const char* p;
  const char* end;
  bool ok = true;

  void skip_space() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool take(char c) {
    if (p < end && *p == c) {
      ++p;
      return true;
    }
    return false;
  }
  // After a value: whitespace, ',' or '}' must follow (the caller reads which).
  bool at_delimiter() const {
    return p < end &&
           (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',' || *p == '}');
  }
  // A string of printable ASCII without escapes; p at its opening quote.
  std::string_view string() {
    const char* s = ++p;
    while (p < end && kPlainStringByte[static_cast<unsigned char>(*p)]) ++p;
    if (p == end || *p != '"') {
      ok = false;
      return {};
    }
    return std::string_view(s, static_cast<size_t>(p++ - s));
  }
  // An integer of 1–15 digits, no leading zero; p at its first digit.
  uint64_t count() {
    const char* s = p;
    uint64_t n = 0;
    while (p < end && *p >= '0' && *p <= '9') n = n * 10 + static_cast<uint64_t>(*p++ - '0');
    const size_t digits = static_cast<size_t>(p - s);
    if (digits > 15 || (digits > 1 && *s == '0') || !at_delimiter()) ok = false;
    return n;
  }
  bool literal(std::string_view word) {
    if (static_cast<size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word) {
      return false;
    }
    p += word.size();
    if (!at_delimiter()) ok = false;
    return true;
  }
  // A value that is not an object; p at its first byte.
  Value scalar(uint64_t* n) {
    if (p != end && *p >= '0' && *p <= '9') {
      *n = count();
      return Value::Count;
    }
    if (p != end && *p == '"') {
      string();
    } else if (p == end || (!literal("null") && !literal("true") && !literal("false"))) {
      ok = false;
    }
    return Value::Other;
  }
};

void keep_count(uint64_t n, Field field, ReportedUsage* read) {
  if (n <= kMaxTokenCount) read->set(field, n);
}

// The members of an object, p just after its '{', through its '}'. `member(key, walk)` reads
// each value (p at its first byte) and leaves p just after it.
template <typename Member>
void members(Walk& w, Member&& member) {
  w.skip_space();
  if (w.take('}')) return;
  for (;;) {
    w.skip_space();
    if (w.p == w.end || *w.p != '"') {
      w.ok = false;
      return;
    }
    const std::string_view key = w.string();
    if (!w.ok) return;
    w.skip_space();
    if (!w.take(':')) {
      w.ok = false;
      return;
    }
    w.skip_space();
    member(key);
    if (!w.ok) return;
    w.skip_space();
    if (w.take('}')) return;
    if (!w.take(',')) {
      w.ok = false;
      return;
    }
  }
}

// A *_details object (p at its '{'): the one count wanted from it (none when read is null: an
// object under another key, walked only to go past it); no deeper nesting.
void details(Walk& w, std::string_view wanted, Field field, ReportedUsage* read) {
  ++w.p;
  members(w, [&](std::string_view key) {
    uint64_t n = 0;
    if (w.p < w.end && (*w.p == '{' || *w.p == '[')) {
      w.ok = false;
      return;
    }
    if (w.scalar(&n) == Value::Count && w.ok && read != nullptr && key == wanted) {
      keep_count(n, field, read);
    }
  });
}

// Which count a top-level key carries (as parse_usage_object reads them); -1 for none.
int count_field(std::string_view key) {
  if (key == "prompt_tokens") return ReportedUsage::PromptTokens;
  if (key == "completion_tokens") return ReportedUsage::CompletionTokens;
  if (key == "input_tokens") return ReportedUsage::InputTokens;
  if (key == "output_tokens") return ReportedUsage::OutputTokens;
  if (key == "prompt_cache_hit_tokens") return ReportedUsage::PromptCacheHitTokens;
  if (key == "cache_read_input_tokens") return ReportedUsage::CacheReadInputTokens;
  if (key == "cache_creation_input_tokens") return ReportedUsage::CacheCreationInputTokens;
  return -1;
}

}  // namespace

FlatRead read_flat_usage_object(const char* data, size_t len, ReportedUsage* read) {
  Walk w{data, data + len};
  w.skip_space();
  if (!w.take('{')) return FlatRead::Unsure;
  members(w, [&](std::string_view key) {
    if (w.p < w.end && *w.p == '[') {
      w.ok = false;
      return;
    }
    if (w.p < w.end && *w.p == '{') {
      if (key == "prompt_tokens_details" || key == "input_tokens_details") {
        details(w, "cached_tokens", ReportedUsage::CachedTokens, read);
      } else if (key == "completion_tokens_details" || key == "output_tokens_details") {
        details(w, "reasoning_tokens", ReportedUsage::ReasoningTokens, read);
      } else {
        details(w, std::string_view(), ReportedUsage::kFieldCount, nullptr);  // read, not kept
      }
      return;
    }
    uint64_t n = 0;
    if (w.scalar(&n) != Value::Count || !w.ok) return;
    const int field = count_field(key);
    if (field >= 0) keep_count(n, static_cast<Field>(field), read);
  });
  if (!w.ok) return FlatRead::Unsure;
  w.skip_space();
  return w.p == w.end ? FlatRead::Read : FlatRead::Unsure;
}

}  // namespace sluice::usage::detail
