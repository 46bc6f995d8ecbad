// One parsed downstream HTTP/1.1 request. Objects are reused across the requests of a
// connection (clear() keeps capacity), so steady-state parsing allocates nothing:
// the head's bytes live in one buffer and headers are offsets into it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http {

struct HeaderRef {  // offsets into HttpRequest::head_storage
  uint32_t name_off, name_len, value_off, value_len;
};

struct HeaderView {
  std::string_view name;   // as received (case preserved)
  std::string_view value;  // leading/trailing whitespace trimmed
};

// ASCII case-insensitive equality, for header names.
bool iequals(std::string_view a, std::string_view b);

class HttpRequest {
 public:
  std::string_view method() const;
  std::string_view target() const;  // "/v1/chat/completions?x=1"
  std::string_view path() const;    // target without the query
  int http_minor = 1;               // HTTP/1.x
  bool keep_alive = true;           // after Connection: close / HTTP/1.0 rules
  std::optional<uint64_t> content_length;
  bool chunked = false;

  size_t header_count() const { return headers_.size(); }
  HeaderView header_at(size_t i) const;
  // First header with that name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // True for hop-by-hop headers (Connection, Keep-Alive, TE, Trailer, Transfer-Encoding,
  // Upgrade, Proxy-Authorization, Proxy-Connection, and any named in Connection:).
  bool is_hop_by_hop(size_t i) const;

  std::string body;  // the whole (de-chunked) body; bounded by limits.max_request_body

  void clear();

  // For the parser.
  std::string head_storage;
  std::vector<HeaderRef> headers_;
  uint32_t method_off = 0, method_len = 0, target_off = 0, target_len = 0;
  std::vector<std::string_view> connection_tokens_;  // lowercase tokens named in Connection:
};

}  // namespace sluice::http
