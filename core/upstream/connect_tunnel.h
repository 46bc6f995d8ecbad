// The HTTP CONNECT exchange that opens a tunnel through an egress proxy (RFC 9110 §9.3.6):
// the request a connection writes first, and a reader for the proxy's answer. No sockets here:
// UpstreamConnection feeds it the bytes it reads while in state Tunnelling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice::upstream {

// "CONNECT host:port HTTP/1.1" with Host and, when `authorization` is not empty,
// Proxy-Authorization. IPv6 hosts are bracketed.
std::string connect_request(const std::string& host, uint16_t port,
                            const std::string& authorization);

class TunnelReply {
 public:
  // The head is bounded: a proxy that sends more than this before the blank line is broken.
  static constexpr size_t kMaxHeadBytes = size_t{16} * 1024;

  enum class Result : uint8_t {
    NeedMore,     // the head is not complete yet
    Established,  // 2xx: the tunnel is open; bytes after the head belong to the target
    Refused,      // a complete non-2xx head: status() and reason() say why
    Malformed,    // not an HTTP/1.x status line
    TooLarge,     // no end of head within kMaxHeadBytes
  };

  // Feeds bytes read from the proxy. After Established, `*consumed` is how many of `data`
  // were the head (the rest is the target's); otherwise it is meaningless.
  Result feed(const char* data, size_t len, size_t* consumed);
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }

 private:
  bool parse_status_line();  // fills status_ and reason_; false: not HTTP/1.x

  std::string head_;  // bytes so far, up to kMaxHeadBytes
  int status_ = 0;
  std::string reason_;
};

}  // namespace sluice::upstream
