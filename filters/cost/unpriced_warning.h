// The one log line sluice writes for a model it has no price for:
//   no price for model "X" (provider P): charged 0; add it to prices
// once per model per process (the request path takes a mutex only for unpriced requests, which
// are a configuration gap, not the steady state). sluice_unpriced_requests_total{model} counts
// every such request (from ctx.unpriced).
#pragma once

#include <string_view>

namespace sluice::filters::cost {

// Logs the warning the first time `model` is seen; true if it did.
bool warn_unpriced_once(std::string_view model, std::string_view provider);

}  // namespace sluice::filters::cost
