// Turning a plugin's HttpCallRequest into HTTP/1.1 bytes: the checks start() applies (URL,
// method, header names and values) and the request head it sends. No I/O; HttpCaller uses it,
// and tests drive it directly.
#pragma once

#include <string>

#include "core/config/config.h"
#include "core/plugin/http_caller.h"

namespace sluice::plugin {

struct PreparedHttpCall {
  config::Url origin;      // scheme, host, port and the Host header value (path_prefix unused)
  std::string origin_key;  // "https://host:port": which pool serves it
  std::string head;        // request line, headers and the blank line (the body follows it)
};

// Checks `request` and builds its head:
//   - url: absolute http:// or https://, no credentials; the path and query are sent as they
//     are (an empty path is "/"), a fragment is dropped; no spaces or control bytes.
//   - method: an HTTP token (RFC 9110), upper or lower case as given; CONNECT is refused.
//   - headers: names are tokens; values carry no CR, LF or NUL. The framing and hop-by-hop
//     headers (Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, TE, Trailer,
//     Proxy-Connection) are refused: sluice sets the framing and manages the connection. A
//     caller's Host replaces the one from the URL.
//   - timeout: 1ms to HttpCaller::kMaxTimeout.
// Content-Length is sent when there is a body, and for methods other than GET, HEAD, DELETE,
// OPTIONS and TRACE even when it is empty (servers expect one on an empty POST).
// false with *error (a sentence for the plugin author) when the request cannot be sent.
bool prepare_http_call(const HttpCallRequest& request, PreparedHttpCall* out, std::string* error);

}  // namespace sluice::plugin
