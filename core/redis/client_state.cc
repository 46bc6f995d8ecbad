#include "core/redis/client_state.h"

namespace sluice::redis {

const char* to_string(RedisClient::State s) {
  switch (s) {
    case RedisClient::State::Connecting:
      return "connecting";
    case RedisClient::State::Ready:
      return "ready";
    case RedisClient::State::Down:
      return "down";
    case RedisClient::State::Closed:
      return "closed";
  }
  return "?";
}

bool transition_allowed(RedisClient::State from, RedisClient::State to) {
  using S = RedisClient::State;
  if (to == S::Closed) return from != S::Closed;
  switch (from) {
    case S::Connecting:
      return to == S::Ready || to == S::Down;
    case S::Ready:
      return to == S::Down;
    case S::Down:
      return to == S::Connecting;
    case S::Closed:
      return false;
  }
  return false;
}

}  // namespace sluice::redis
