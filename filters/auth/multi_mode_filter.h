// The auth filter when more than plain api_key is configured: modes api_key, jwt and header
// in the order listed (DESIGN §4). What a request carries is matched to the modes first:
//
//   "Authorization: Bearer <token>":
//     - a configured agent key → api_key (whatever it looks like: keys may contain dots);
//     - otherwise, with jwt listed and the token in JWT shape (exactly two dots) → jwt;
//     - otherwise → api_key if listed, else jwt (a malformed JWT).
//   "x-api-key: <key>" → api_key, when the bearer token is not an API key itself (bearer wins,
//     as in api_key mode alone).
//   the header mode's header (x-agent-id) → header.
//
// Then the modes are tried in order. A mode the request carries nothing for is skipped; the
// first mode it carries something for decides: that credential either identifies the agent
// or the request is refused with that mode's 401 — a bad credential never falls through to a
// later, possibly weaker, mode. A request that carries nothing for any mode gets a 401 that
// lists what would have been accepted.
#pragma once

#include <string>

#include "core/filter/filter.h"
#include "filters/auth/agent_key_index.h"
#include "filters/auth/agent_names.h"
#include "filters/auth/auth_settings.h"
#include "filters/auth/jwt_verifier.h"

namespace sluice::filters::auth {

class MultiModeAuthFilter final : public filter::Filter {
 public:
  // `keys` is null unless api_key is listed, `jwt` null unless jwt is; all outlive the filter.
  MultiModeAuthFilter(const AuthSettings& settings, const AgentKeyIndex* keys,
                      const JwtVerifier* jwt, const AgentNames& names);

  filter::RequestStatus on_request(filter::RequestContext& ctx) override;

 private:
  std::vector<AuthMode> modes_;
  const AgentKeyIndex* keys_;
  const JwtVerifier* jwt_;
  const AgentNames& names_;
  std::string header_name_;  // header mode's header ("" when not listed)
  std::string accepted_;     // "an API key as ..., or a JWT as ..." for the missing-case 401
};

}  // namespace sluice::filters::auth
