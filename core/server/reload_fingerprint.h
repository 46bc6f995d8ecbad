// The identity of a provider's upstream settings across reloads. Two config::Provider objects
// (from two snapshots) with the same fingerprint can share one worker backend, so a reload that
// leaves a provider alone keeps its warm connection pool. Everything the backend copies at
// construction is in it (type, base_url and the parsed URL, api_key, headers, timeouts,
// max_connections, tls_verify, tls (with the files' contents), proxy, mock settings); health_check
// and circuit_breaker are not — backends do not read them.
#pragma once

#include <string>

#include "core/config/config.h"

namespace sluice::server {

// An opaque byte string (length-prefixed fields: no two different settings collide). It holds
// the api_key and the proxy's credentials: keep it in memory only, never log it.
std::string provider_fingerprint(const config::Provider& provider);

}  // namespace sluice::server
