// A plugin's model call (core/filter/internal_caller.h) is a request of the agent it was made
// for: the session has already verified its internal credential and removed it, so auth only
// looks the named agent up in this config — before any other mode, since such a request carries
// no key of its own.
#pragma once

#include <string>

#include "core/filter/filter.h"
#include "core/filter/request_context.h"
#include "filters/auth/agent_names.h"

namespace sluice::filters::auth {

inline filter::RequestStatus accept_internal_caller(filter::RequestContext& ctx,
                                                    const AgentNames& names) {
  const config::Agent* agent = names.find(ctx.internal_agent);
  if (agent == nullptr) {
    // The agent left the config (a reload) between the tool call and its model call, or the
    // tool was called anonymously: refused like an unknown key.
    ctx.respond(401, "authentication_error", "invalid_api_key",
                ctx.internal_agent.empty()
                    ? std::string("A plugin's model call without an agent: the tool was called "
                                  "anonymously, and this chain requires an agent")
                    : "A plugin's model call for agent \"" + ctx.internal_agent +
                          "\", which this config does not have");
    return filter::RequestStatus::Respond;
  }
  ctx.agent = agent;
  return filter::RequestStatus::Continue;
}

}  // namespace sluice::filters::auth
