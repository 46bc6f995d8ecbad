// The life of one upstream connection, HAProxy-style: an explicit state, a to_string for logs
// and tests, and the allowed transitions written down (and asserted) in one place.
//
//   Resolving ──► Connecting ──► Handshaking (TLS) ──► Idle ◄──────────────┐
//                     │  ▲            │                 │                  │
//                     │  └ next addr  └──► Writing ◄────┘                  │
//                     └──────────────────► Writing ──► AwaitingHead ──► ReadingBody
//   any live state ──► Closing ──► Closed
//
// Through an egress proxy Connecting goes to Tunnelling first (CONNECT sent, its answer
// awaited), which then leaves exactly as Connecting would: to Handshaking, Idle or Writing.
// Writing may go straight to ReadingBody (the server answered before the request was fully
// written, e.g. 413). ReadingBody goes back to Idle when the response completes on a reusable
// connection, and to Closing otherwise (every head, even a bodiless one, passes ReadingBody).
#pragma once

#include <cstdint>

namespace sluice::upstream {

enum class ConnState : uint8_t {
  Resolving,     // waiting for DnsCache (first connection after a TTL expired)
  Connecting,    // uv_tcp_connect in flight (to addresses in turn, within the connect timeout)
  Tunnelling,    // TCP up to an egress proxy; CONNECT sent, its answer not complete yet
  Handshaking,   // TCP up (or tunnel open), TLS handshake in progress
  Idle,          // usable, in the pool's idle list; reading, to notice a server-side close
  Writing,       // an exchange's request handed to uv_write, not yet confirmed written
  AwaitingHead,  // request written; the response head is not complete yet
  ReadingBody,   // head delivered; body bytes flowing to the sink
  Closing,       // uv_close issued on the handles; no exchange any more
  Closed,        // every handle's close callback ran; the pool frees the object
};

const char* to_string(ConnState s);

// Whether `from → to` is a transition the connection may make.
bool transition_allowed(ConnState from, ConnState to);

}  // namespace sluice::upstream
