// The rate_limit filter with state.redis: the same limits (concurrent, rpm, tpm) and the same
// order of checks, reservations and reconciles as rate_limit_filter.cc, held by the whole
// fleet of sidecars through core/fleet. An admission step that this worker's share of the
// fleet's allowance covers is decided at once; one that needs Redis makes the request wait
// (RequestStatus::Stop) for that one call, bounded by state.redis.timeout. While Redis cannot
// answer, state.redis.on_failure decides: local (this sidecar's share) or deny (503
// fleet_state_unavailable).
#pragma once

#include "core/filter/filter.h"
#include "filters/rate_limit/rate_limit_rules.h"

namespace sluice::filters::rate_limit {

// For a request of a worker that is a fleet member (ctx.worker->fleet set).
filter::Filter* make_fleet_rate_limit_filter(filter::RequestContext& ctx, const Shared& shared);

}  // namespace sluice::filters::rate_limit
