// The filter contract (DESIGN §2). A filter is two objects, as in Envoy:
//  - a FilterFactory, built once per config snapshot by the filter's builder, which parses and
//    validates its YAML (failing the load with a precise ConfigError) and is immutable after;
//  - a Filter, created per request by the factory (in the request's arena, or a shared
//    stateless instance), holding that request's small state.
// Phases run in config order on the worker loop that owns the request. A filter never blocks.
#pragma once

#include <memory>
#include <string_view>

#include "core/filter/request_context.h"

namespace sluice::filter {

// Result of on_request.
//   Continue — go on with the next filter (then the router).
//   Stop     — the filter started async work; the chain waits until that work calls
//              ctx.resume_chain() (which continues with the next filter) or ctx.respond(...)
//              followed by ctx.resume_chain(). Every Stop must end in exactly one resume_chain()
//              unless the request is cancelled first (then on_complete still runs).
//   Respond  — the filter called ctx.respond(...): the chain ends, that local reply is sent,
//              no upstream is contacted. Later filters' on_request do not run.
enum class RequestStatus : uint8_t { Continue, Stop, Respond };

// Result of on_upstream_pick: may this candidate be tried? (circuit breaker, concurrency cap)
//   Allow      — yes, as far as this filter is concerned.
//   Veto       — skip it; the router moves on to the next candidate. `reason` goes into the
//                503 message that lists what was tried and why.
//   Overloaded — skip it because it is at its concurrency cap (max_concurrent). Like Veto; and
//                when every candidate was skipped this way the 503 carries
//                `x-sluice-overloaded: true` (the client should back off, nothing is broken).
enum class PickStatus : uint8_t { Allow, Veto, Overloaded };

// Result of on_attempt_done: what to do after an attempt failed (or succeeded).
//   Default  — no opinion; the next filter decides, and if none does: give up.
//   Retry    — try the same candidate again (after ctx.retry_delay, if set).
//   Fallback — move on to the next candidate (next target, then fallback groups).
//   GiveUp   — send the failure downstream now.
// Retry/Fallback are ignored once a byte went downstream (DESIGN §2). A filter returning
// Retry/Fallback may set ctx.retry_delay to wait before the next attempt.
// Every filter's on_attempt_done sees every attempt (the first non-Default decision wins, but
// the filters after it are still told, so a circuit breaker records outcomes whatever the retry
// filter decided): the session calls them all and keeps the first decision.
enum class AttemptDecision : uint8_t { Default, Retry, Fallback, GiveUp };

class Filter {
 public:
  virtual ~Filter() = default;
  virtual RequestStatus on_request(RequestContext& ctx) { return RequestStatus::Continue; }
  virtual PickStatus on_upstream_pick(RequestContext& ctx, const Candidate& candidate,
                                      std::string_view* reason) {
    return PickStatus::Allow;
  }
  virtual AttemptDecision on_attempt_done(RequestContext& ctx, const AttemptOutcome& outcome) {
    return AttemptDecision::Default;
  }
  // Before the response head goes downstream; may add headers through ctx.add_response_header.
  virtual void on_response_headers(RequestContext& ctx, int status) {}
  // Each body chunk as it passes (streaming). A filter that called ctx.rewrite_response_body()
  // in on_response_headers may call ctx.replace_response_chunk() here to change it.
  virtual void on_response_chunk(RequestContext& ctx, std::string_view chunk) {}
  // Always called exactly once per request that reached the chain: after success, errors,
  // local replies and client disconnects alike. If this filter returned Stop and has not
  // resumed yet, on_complete means the request was cancelled (client gone): cancel the async
  // work and never call resume_chain() for it afterwards.
  virtual void on_complete(RequestContext& ctx) {}
  // After every filter's on_complete (Envoy's access-log phase): usage, cost_usd (set by the
  // cost filter's on_complete) and response_status are final. Observe only; called once.
  virtual void on_log(RequestContext& ctx) {}
};

class FilterFactory {
 public:
  virtual ~FilterFactory() = default;
  virtual std::string_view name() const = 0;
  // A per-request filter. Either allocated in ctx's arena (ctx.arena_make<T>(...), destroyed
  // when the request ends) or a pointer to a shared stateless instance owned by the factory.
  virtual Filter* create(RequestContext& ctx) const = 0;
};

}  // namespace sluice::filter
