// GET / on the admin port: the dashboard (DESIGN §6), one self-contained HTML page that polls
// /status, /status?format=report and /usage from the browser. The page holds no data, so it is
// served without the admin token; the endpoints it polls still need it. The server only tells
// the page whether a token is configured (so it can ask for one before its first fetch), which
// a 401 from any endpoint would tell anyway.
//
// Headers: a Content-Security-Policy that lets the page run its own inline script and style
// and talk only to this origin (no other scripts, images, frames or form targets), nosniff,
// no referrer, and no framing. Cache-Control: no-store comes from AdminServer, like every
// admin response.
#pragma once

#include <string_view>

#include "core/admin/admin_router.h"

namespace sluice::admin {

// The page's size is bounded (tests check it) so a stray edit cannot bloat every admin binary.
inline constexpr size_t kDashboardMaxBytes = 100 * 1024;

inline constexpr std::string_view kDashboardCsp =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

// The page as compiled in, with its %%TOKEN_REQUIRED%% marker (generated dashboard_html.cc).
std::string_view dashboard_html();

// The response to GET /: the page with the marker replaced by "true" or "false".
AdminResponse dashboard_page(bool token_required);

}  // namespace sluice::admin
