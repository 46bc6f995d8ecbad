// IdleProbe: is a pooled keep-alive connection still there, checked at the last moment before
// a request is written to it (DESIGN §10, the rule of Go's net/http: a pooled connection found
// dead is re-used transparently only when nothing of the request was written to it).
//
// An idle connection is read (ConnState::Idle), so a close the server sent long ago has been
// noticed already. What is left is the race: the server's FIN or RST arrives in the same loop
// turn as the request that picks the connection, and libuv has not delivered it yet. Writing
// then would put the request on a connection the server has given up, after which sluice can no
// longer tell "closed before reading" from "read it, then died", and must treat it as an
// attempt that may have been billed. One non-blocking MSG_PEEK on the socket closes that window
// (urllib3's is_connection_dropped does the same with a zero-timeout poll): it costs one
// syscall per reused connection and allocates nothing.
#pragma once

#include <uv.h>

#include <cstdint>

namespace sluice::upstream {

enum class IdleProbe : uint8_t {
  Open,        // nothing to read and no error: the request may be written
  PeerClosed,  // EOF: the server closed it (FIN)
  PeerSpoke,   // bytes arrived unasked (TLS close_notify, a stray 408...): not reusable
  Failed,      // ECONNRESET or another socket error
};

const char* to_string(IdleProbe p);

// Peeks at `fd` without consuming or blocking. Only Open means the connection is usable.
IdleProbe probe_idle_socket(uv_os_fd_t fd);

}  // namespace sluice::upstream
