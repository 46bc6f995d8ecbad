// InternalCaller: how a plugin's model call (host->call_model, host->tool_call_model) reaches
// sluice as a request OF THE AGENT it is made for (DESIGN §9: "routed, limited and costed like
// any request"). The plugin host sends it over loopback to sluice's own listener, from the
// worker's HttpCaller, with one extra header:
//
//   x-sluice-internal-caller: <secret> <agent>
//
// The secret is 32 random bytes made when the process starts; it never leaves the process (it
// is only ever written to a loopback socket of this process). The session takes the header off
// every request before anything reads it (take_internal_caller): with the right secret the
// request is marked as an internal call of that agent, which the auth filter accepts as that
// agent; with any other value it is simply dropped. Either way it is never forwarded upstream,
// logged, or seen by a filter.
//
// Why loopback rather than an in-process request: the model call then takes exactly the path of
// an agent's request — parser limits, the whole filter chain (auth, rate limits, model_alias,
// budget, cost, retries), routing, the ledger row, metrics, the access log — with no second
// entry point into the session to keep in step with the first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::http {
class HttpRequest;
}

namespace sluice::filter {

class RequestContext;

inline constexpr std::string_view kInternalCallerHeader = "x-sluice-internal-caller";

// The header value that names `agent` ("" for an anonymous caller).
std::string internal_caller_credential(std::string_view agent);

// Where model calls go: "http://127.0.0.1:8080" (a wildcard listen address is reached through
// loopback), or "" while sluice listens nowhere. Thread-safe.
std::string internal_caller_origin();
// The server, after it bound a listener: `listen` is the configured address ("0.0.0.0:0"), used
// to notice when a reload removed it; host/port are what it bound.
void set_internal_caller_origin(std::string_view listen, std::string_view host, uint16_t port);
// The configured address the origin was set for ("" when none).
std::string internal_caller_listen();

// The session, for every request, before the chain: removes every x-sluice-internal-caller
// header from `request`; when one carries this process's secret, sets ctx.internal_call and
// ctx.internal_agent. Cheap when the header is absent (one header lookup).
void take_internal_caller(http::HttpRequest& request, RequestContext& ctx);

}  // namespace sluice::filter
