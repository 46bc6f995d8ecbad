// Exchange: one request/response through an UpstreamPool, from start() until on_done,
// on_failure or abort(). Opaque to callers; pool-owned and recycled through a free list, so a
// steady stream of requests allocates nothing here.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/upstream/intrusive_list.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::upstream {

class UpstreamConnection;

class Exchange : public ListNode<Exchange> {
 public:
  // Where the exchange is; says which list (if any) its ListNode is in.
  enum class Where : uint8_t {
    Free,      // in the pool's free list
    Queued,    // in the wait queue: max_connections reached
    Attached,  // bound to `conn` (connecting for it, or using it)
    Deferred,  // its failure is waiting for the next loop turn (never inside start())
  };

  ResponseSink* sink = nullptr;
  std::vector<uv_buf_t> request;       // copies of the caller's descriptors; data is the caller's
  UpstreamConnection* conn = nullptr;  // set while Attached
  uint64_t total_deadline_ms = 0;      // uv_now() at start() + timeouts.total
  uint64_t queue_deadline_ms = 0;      // while Queued: when waiting becomes Overloaded
  Where where = Where::Free;
  bool paused = false;        // the sink asked for back-pressure (pause() without resume())
  bool head_request = false;  // the request is HEAD: its response has no body
  Failure deferred{FailureKind::Reset};  // while Deferred: what to report
  std::string deferred_detail;           // owns deferred.detail when it is not static
};

}  // namespace sluice::upstream
