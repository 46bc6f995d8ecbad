#include "core/admin/dashboard_page.h"

#include <string>

namespace sluice::admin {

AdminResponse dashboard_page(bool token_required) {
  constexpr std::string_view kMarker = "%%TOKEN_REQUIRED%%";
  AdminResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::string(dashboard_html());
  // The marker is in the <html> element, before any script: only its first occurrence counts.
  if (const size_t at = r.body.find(kMarker); at != std::string::npos) {
    r.body.replace(at, kMarker.size(), token_required ? "true" : "false");
  }
  r.headers.emplace_back("Content-Security-Policy", std::string(kDashboardCsp));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  return r;
}

}  // namespace sluice::admin
