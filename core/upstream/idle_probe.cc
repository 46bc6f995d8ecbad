#include "core/upstream/idle_probe.h"

#include <sys/socket.h>

#include <cerrno>

namespace sluice::upstream {

const char* to_string(IdleProbe p) {
  switch (p) {
    case IdleProbe::Open:
      return "open";
    case IdleProbe::PeerClosed:
      return "peer_closed";
    case IdleProbe::PeerSpoke:
      return "peer_spoke";
    case IdleProbe::Failed:
      return "failed";
  }
  return "?";
}

IdleProbe probe_idle_socket(uv_os_fd_t fd) {
  char byte;
  for (;;) {
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return IdleProbe::PeerClosed;
    if (n > 0) return IdleProbe::PeerSpoke;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? IdleProbe::Open : IdleProbe::Failed;
  }
}

}  // namespace sluice::upstream
