// The response headers of a limited agent (DESIGN §5), named and shaped as OpenAI's so SDKs and
// agents that already read them work unchanged:
//   x-ratelimit-limit-requests: 60          the limit per minute
//   x-ratelimit-remaining-requests: 59      whole tokens left now
//   x-ratelimit-reset-requests: 1s          until the bucket is full again (reset_duration.h)
// and the same three with -tokens; on a refusal also
//   retry-after: 2                          whole seconds, rounded up, at least 1
//   retry-after-ms: 1500                    the same wait in milliseconds (OpenAI SDKs prefer it)
// Values are written into stack buffers and appended to the context's header block, whose
// capacity is reused from request to request: nothing is allocated per request.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/filter/request_context.h"
#include "core/state/rate_bucket.h"

namespace sluice::filters::rate_limit {

enum class BucketKind : uint8_t { Requests, Tokens };

void add_bucket_headers(filter::RequestContext& ctx, BucketKind kind,
                        const state::BucketReading& reading);

// retry-after (whole seconds) and retry-after-ms for a wait of `wait`.
void add_retry_after_headers(filter::RequestContext& ctx, std::chrono::milliseconds wait);

// The whole seconds retry-after says for `wait`: rounded up, at least 1.
uint64_t retry_after_seconds(std::chrono::milliseconds wait);

}  // namespace sluice::filters::rate_limit
