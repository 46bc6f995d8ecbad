// ProbeVerdict: what one finished health probe says about a provider (DESIGN §4,
// providers.*.health_check). Pure rules, no I/O, so they are unit-tested without sockets.
//
// The question a probe answers is "can this provider take a request right now?", not "is the
// key right?": any HTTP answer below 500 is a success except 429. So a 401/403 (a bad or
// revoked api_key) or a 404 (a server without /models) still counts as up — the provider
// answered, and requests to it fail with their own clear errors; marking it down would hide
// that behind all_providers_unavailable. 429 is a failure: the provider is refusing work.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/config/config.h"

namespace sluice::health {

// How one probe ended, as the prober saw it.
struct ProbeResult {
  bool answered = false;  // a complete HTTP response arrived (http_status is set)
  int http_status = 0;
  std::chrono::milliseconds latency{0};  // start → response head (answered only)
  std::string error;  // why it did not answer: "connect_failure: …", "timeout: …" ("" if answered)
};

// The classes of probe outcome. Rules:
//   Success — answered with status < 500 and != 429, within slow_after;
//   Slow    — answered like Success, but latency > slow_after (counts as a success);
//   Failure — no answer (connect error, timeout, reset, bad response) or status >= 500 or 429.
enum class ProbeVerdict : uint8_t { Success, Slow, Failure };
const char* to_string(ProbeVerdict v);  // "success" | "slow" | "failure"

ProbeVerdict classify(const ProbeResult& result, const config::HealthCheck& settings);

// One line for logs: "HTTP 200 in 12ms", "HTTP 500 in 3ms", "connect_failure: refused".
std::string describe(const ProbeResult& result);

}  // namespace sluice::health
