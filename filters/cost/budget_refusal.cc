#include "filters/cost/budget_refusal.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "filters/rate_limit/rate_limit_headers.h"

namespace sluice::filters::cost {

std::string format_usd(double usd) {
  if (!(usd >= 0)) usd = 0;  // also NaN
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", usd);
  std::string text(buf);
  const size_t dot = text.find('.');
  if (dot == std::string::npos) return text;
  size_t keep = text.size();
  while (keep > dot + 3 && text[keep - 1] == '0') --keep;
  text.resize(keep);
  return text;
}

std::string iso8601_utc(state::WallTime t) {
  const std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

std::string budget_refusal_message(const BudgetRefusal& r) {
  std::string m = "Budget exceeded for agent \"";
  m += r.agent;
  m += "\": spent $";
  m += format_usd(r.view.spent_usd);
  m += " of $";
  m += format_usd(r.limit.usd);
  m += r.limit.per == state::BudgetPeriod::Total ? " in total" : " per ";
  if (r.limit.per != state::BudgetPeriod::Total) m += state::to_string(r.limit.per);
  if (r.view.reserved_usd > 0) {
    m += " ($";
    m += format_usd(r.view.reserved_usd);
    m += " more reserved by requests in flight)";
  }
  m += "; this request may cost up to $";
  m += format_usd(r.worst_case_usd);
  m += ".";
  if (r.view.resets_at) {
    m += " The budget resets at ";
    m += iso8601_utc(*r.view.resets_at);
    m += ".";
  } else {
    m += " A total budget never resets: raise agents.";
    m += r.agent;
    m += ".budget.usd to admit more.";
  }
  return m;
}

void respond_over_budget(filter::RequestContext& ctx, const BudgetRefusal& r) {
  if (r.view.resets_at) {
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*r.view.resets_at - r.now);
    rate_limit::add_retry_after_headers(ctx, wait);
  }
  ctx.respond(429, "rate_limit_error", "budget_exceeded", budget_refusal_message(r));
}

}  // namespace sluice::filters::cost
