#include "core/upstream/connection_state.h"

namespace sluice::upstream {

const char* to_string(ConnState s) {
  switch (s) {
    case ConnState::Resolving:
      return "resolving";
    case ConnState::Connecting:
      return "connecting";
    case ConnState::Tunnelling:
      return "tunnelling";
    case ConnState::Handshaking:
      return "handshaking";
    case ConnState::Idle:
      return "idle";
    case ConnState::Writing:
      return "writing";
    case ConnState::AwaitingHead:
      return "awaiting_head";
    case ConnState::ReadingBody:
      return "reading_body";
    case ConnState::Closing:
      return "closing";
    case ConnState::Closed:
      return "closed";
  }
  return "?";
}

bool transition_allowed(ConnState from, ConnState to) {
  using S = ConnState;
  if (to == S::Closing) return from != S::Closing && from != S::Closed;
  switch (from) {
    case S::Resolving:
      return to == S::Connecting;
    case S::Connecting:
      return to == S::Tunnelling || to == S::Handshaking || to == S::Idle || to == S::Writing;
    case S::Tunnelling:  // the same exits as Connecting once the tunnel is open
      return to == S::Handshaking || to == S::Idle || to == S::Writing;
    case S::Handshaking:
      return to == S::Idle || to == S::Writing;
    case S::Idle:
      return to == S::Writing;
    case S::Writing:
      return to == S::AwaitingHead || to == S::ReadingBody;
    case S::AwaitingHead:
      return to == S::ReadingBody;
    case S::ReadingBody:
      return to == S::Idle;
    case S::Closing:
      return to == S::Closed;
    case S::Closed:
      return false;
  }
  return false;
}

}  // namespace sluice::upstream
