// GET / on the admin API: the dashboard page (core/admin/dashboard_page.h) through
// AdminRouter::handle — served without the token, bounded in size, self-contained, and with
// the headers that keep a browser from doing more with it than the page intends.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/admin/admin_router.h"
#include "core/admin/dashboard_page.h"
#include "core/config/config.h"
#include "core/metrics/metrics.h"

namespace sluice::admin {
namespace {

struct Fixture {
  std::shared_ptr<config::Config> config = std::make_shared<config::Config>();
  metrics::Metrics metrics;

  AdminRouter router() {
    AdminHooks hooks;
    hooks.current_config = [this] { return ConfigView{config, 1}; };
    return AdminRouter(hooks, metrics);
  }
};

std::string header_value(const AdminResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "<missing>";
}

const std::vector<http::HeaderView> kNoHeaders = {};

TEST(AdminDashboard, ServesTheSelfContainedPage) {
  Fixture f;
  const AdminResponse r = f.router().handle("GET", "/", kNoHeaders);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_LT(r.body.size(), kDashboardMaxBytes);
  EXPECT_GT(r.body.size(), 1000u);
  EXPECT_EQ(r.body.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(r.body.find("</html>"), std::string::npos);
  // No CDN, no other origin: the only absolute URL is the SVG namespace (a name, not a fetch).
  for (const char* scheme : {"https://", "http://"}) {
    size_t at = 0;
    while ((at = r.body.find(scheme, at)) != std::string::npos) {
      EXPECT_EQ(r.body.compare(at, 26, "http://www.w3.org/2000/svg"), 0) << r.body.substr(at, 60);
      ++at;
    }
  }
  // The page polls the endpoints it shows.
  for (const char* endpoint : {"'/status'", "/status?format=report", "/usage?by=model",
                               "/usage?by=agent", "/usage?by=tool"}) {
    EXPECT_NE(r.body.find(endpoint), std::string::npos) << endpoint;
  }
}

TEST(AdminDashboard, SecurityHeaders) {
  Fixture f;
  const AdminResponse r = f.router().handle("GET", "/", kNoHeaders);
  const std::string csp = header_value(r, "Content-Security-Policy");
  EXPECT_EQ(csp, kDashboardCsp);
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  // Nothing but this origin and the page's own inline code: no scheme or host is allowed.
  EXPECT_EQ(csp.find("http"), std::string::npos);
  EXPECT_EQ(csp.find('*'), std::string::npos);
  EXPECT_EQ(header_value(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header_value(r, "X-Frame-Options"), "DENY");
  EXPECT_EQ(header_value(r, "Referrer-Policy"), "no-referrer");
}

TEST(AdminDashboard, ServedWithoutTheTokenAndSaysOneIsNeeded) {
  Fixture f;
  f.config->admin_token = "adm-TOKEN-123";
  AdminRouter router = f.router();
  const AdminResponse page = router.handle("GET", "/", kNoHeaders);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(R"(data-token-required="true")"), std::string::npos);
  EXPECT_EQ(page.body.find("%%TOKEN_REQUIRED%%"), std::string::npos);
  EXPECT_EQ(page.body.find("adm-TOKEN-123"), std::string::npos);
  // The data it polls still needs the token.
  EXPECT_EQ(router.handle("GET", "/status", kNoHeaders).status, 401);
  EXPECT_EQ(router.handle("GET", "/?refresh=500", kNoHeaders).status, 200);
}

TEST(AdminDashboard, NoTokenConfigured) {
  Fixture f;
  const AdminResponse page = f.router().handle("GET", "/", kNoHeaders);
  EXPECT_NE(page.body.find(R"(data-token-required="false")"), std::string::npos);
}

TEST(AdminDashboard, OnlyGetAndHead) {
  Fixture f;
  AdminRouter router = f.router();
  EXPECT_EQ(router.handle("HEAD", "/", kNoHeaders).status, 200);
  const AdminResponse r = router.handle("POST", "/", kNoHeaders);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header_value(r, "Allow"), "GET, HEAD");
}

}  // namespace
}  // namespace sluice::admin
