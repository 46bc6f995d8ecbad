// One parsed downstream HTTP/1.1 request. Objects are reused across the requests of a
// connection (clear() keeps capacity), so steady-state parsing allocates nothing:
// the head's bytes live in one buffer and headers are offsets into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http {

// Spare capacity the parser leaves past the end of HttpRequest::body once a message is complete,
// so simdjson can read the body in place (SIMDJSON_PADDING is 64).
inline constexpr size_t kBodyPadding = 64;

// A body buffer larger than this is released by clear() instead of being kept for the next
// request, so one big upload does not pin its memory for the life of a keep-alive connection.
inline constexpr size_t kMaxRetainedBodyCapacity = 1u << 20;

struct HeaderRef {  // offsets into HttpRequest::head_storage
  uint32_t name_off, name_len, value_off, value_len;
};

struct HeaderView {
  std::string_view name;   // as received (case preserved)
  std::string_view value;  // leading/trailing whitespace trimmed
};

// ASCII case-insensitive equality, for header names.
// Inline: it runs for every header of every request and response on the hot path.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x == y) continue;
    if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z') return false;
  }
  return true;
}

// An RFC 9110 token (a method, a header name): one or more tchars.
bool is_token(std::string_view s);
// A token of at most 256 bytes; a value without CR, LF or NUL. What a plugin sets is checked
// with these before it reaches a head.
bool valid_header_name(std::string_view name);
bool valid_header_value(std::string_view value);

class HttpRequest {
 public:
  std::string_view method() const;
  std::string_view target() const;  // "/v1/chat/completions?x=1"
  // target without the query (and without scheme://authority for an absolute-form target).
  std::string_view path() const;
  int http_minor = 1;      // HTTP/1.x
  bool keep_alive = true;  // after Connection: close / HTTP/1.0 rules; false after an Upgrade
  std::optional<uint64_t> content_length;
  bool chunked = false;

  size_t header_count() const { return headers_.size(); }
  HeaderView header_at(size_t i) const;
  // First header with that name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // True for hop-by-hop headers (Connection, Keep-Alive, TE, Trailer, Transfer-Encoding,
  // Upgrade, Proxy-Authorization, Proxy-Connection, and any named in Connection:).
  bool is_hop_by_hop(size_t i) const;
  // Plugins' edits (in on_request, before the request goes upstream): set replaces every
  // header of that name with one (appended last), remove drops them all. Name and value must
  // be valid (valid_header_name/value); the bytes are appended to head_storage.
  void set_header(std::string_view name, std::string_view value);
  void remove_header(std::string_view name);

  // The whole (de-chunked) body; bounded by limits.max_request_body. Once the parser reports
  // Complete, body.capacity() >= body.size() + kBodyPadding.
  std::string body;

  // Forgets the request but keeps buffer capacity (except a body over kMaxRetainedBodyCapacity).
  void clear();

  // For the parser. Header names/values, method and target are byte ranges of head_storage;
  // nothing here holds a pointer, so growing head_storage never leaves a dangling view.
  struct Span {
    uint32_t off, len;
  };
  std::string head_storage;
  std::vector<HeaderRef> headers_;
  uint32_t method_off = 0, method_len = 0, target_off = 0, target_len = 0;
  std::vector<Span> connection_tokens_;  // tokens named in Connection: (case as received)

 private:
  std::string_view view(uint32_t off, uint32_t len) const {
    return std::string_view(head_storage).substr(off, len);
  }
};

}  // namespace sluice::http
