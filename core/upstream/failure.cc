#include "core/upstream/upstream_pool.h"

namespace sluice::upstream {

const char* to_string(FailureKind k) {
  switch (k) {
    case FailureKind::ConnectFailure:
      return "connect_failure";
    case FailureKind::Reset:
      return "reset";
    case FailureKind::Timeout:
      return "timeout";
    case FailureKind::Protocol:
      return "protocol";
    case FailureKind::Overloaded:
      return "overloaded";
  }
  return "?";
}

const char* to_string(TimeoutKind k) {
  switch (k) {
    case TimeoutKind::None:
      return "none";
    case TimeoutKind::Connect:
      return "connect";
    case TimeoutKind::FirstByte:
      return "first_byte";
    case TimeoutKind::Idle:
      return "idle";
    case TimeoutKind::Total:
      return "total";
  }
  return "?";
}

}  // namespace sluice::upstream
