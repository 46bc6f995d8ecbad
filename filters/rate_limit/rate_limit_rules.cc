#include "filters/rate_limit/rate_limit_rules.h"

#include <algorithm>

#include "core/usage/usage.h"
#include "filters/rate_limit/rate_limit_headers.h"

namespace sluice::filters::rate_limit {

using filter::Endpoint;
using filter::RequestContext;
using std::chrono::milliseconds;

Reservation reservation_of(const RequestContext& ctx, uint64_t default_max_tokens) {
  Reservation r;
  r.prompt = ctx.prompt_tokens_estimate;
  if (r.prompt == 0 && ctx.request != nullptr) {  // the session did not estimate (yet)
    r.prompt = usage::estimate_tokens_from_bytes(ctx.request->body.size());
  }
  if (ctx.endpoint == Endpoint::Embeddings) return r;
  if (ctx.fields.max_tokens) {
    r.completion = static_cast<uint64_t>(std::max<int64_t>(0, *ctx.fields.max_tokens));
    r.from = Reservation::Completion::FromRequest;
  } else {
    r.completion = default_max_tokens;
    r.from = Reservation::Completion::Default;
  }
  return r;
}

std::string refusal_message(const LimitedAgent& agent, Limit limit, milliseconds retry_after,
                            const Reservation* reservation, uint64_t reserved,
                            const state::BucketReading* tokens) {
  std::string m = "Rate limit reached for agent \"";
  m += agent.agent->name;
  m += "\" on ";
  switch (limit) {
    case Limit::Concurrent:
      m += "concurrent requests (concurrent): limit ";
      m += std::to_string(*agent.limits.concurrent);
      m += " in flight";
      break;
    case Limit::Rpm:
      m += "requests per minute (rpm): limit ";
      m += std::to_string(*agent.limits.rpm);
      break;
    case Limit::Tpm:
      m += "tokens per minute (tpm): limit ";
      m += std::to_string(*agent.limits.tpm);
      m += ", remaining ";
      m += std::to_string(tokens->remaining);
      m += "; this request reserves ";
      m += std::to_string(reserved);
      m += " tokens (prompt ~";
      m += std::to_string(reservation->prompt);
      switch (reservation->from) {
        case Reservation::Completion::FromRequest:
          m += " + max_tokens ";
          m += std::to_string(reservation->completion);
          break;
        case Reservation::Completion::Default:
          m += " + ";
          m += std::to_string(reservation->completion);
          m += " for the completion, as the request sets no max_tokens";
          break;
        case Reservation::Completion::None:
          break;
      }
      if (reserved < reservation->total()) m += ", capped at the limit";
      m += ")";
      break;
  }
  m += ". Try again in ";
  m += std::to_string(retry_after_seconds(retry_after));
  m += "s.";
  return m;
}

void count_refusal(const LimitedAgent& agent, Limit limit) {
  const auto& counters = agent.state->rate_limited();
  prometheus::Counter* counter = limit == Limit::Concurrent ? counters.concurrent
                                 : limit == Limit::Rpm      ? counters.rpm
                                                            : counters.tpm;
  if (counter != nullptr) counter->Increment();
}

}  // namespace sluice::filters::rate_limit
