// WorkerContext: what a filter may use of the worker whose loop runs its request (DESIGN §2:
// each worker owns one libuv loop, its upstream pools and its Lua states). The session sets
// RequestContext::worker before the chain runs; it is never null for a request a worker
// serves (unit tests that drive filters by hand may leave it null, and hosts must cope).
#pragma once

#include <uv.h>

namespace sluice::plugin {
class HttpCaller;
class WorkerMailbox;
}  // namespace sluice::plugin

namespace sluice::fleet {
class FleetWorker;
}

namespace sluice::filter {

struct WorkerContext {
  unsigned index = 0;                  // 0-based; < config.workers of every live snapshot
  uv_loop_t* loop = nullptr;           // the worker's loop: every callback must come back on it
  plugin::HttpCaller* http = nullptr;  // outgoing HTTP for plugins (sluice.http, host http_call)
  // Where plugins' threads hand results back to this loop (a tool call finished off the worker).
  plugin::WorkerMailbox* mailbox = nullptr;
  // Limits and budgets shared through Redis (state.redis); null without it.
  fleet::FleetWorker* fleet = nullptr;
};

}  // namespace sluice::filter
