// The reply to a request its agent's budget cannot cover (DESIGN §5): 429, OpenAI's error shape
//   {"error": {"type": "rate_limit_error", "code": "budget_exceeded", "message": ...}}
// (the type OpenAI SDKs treat as a rate limit, as filters/rate_limit answers), with
//   retry-after: whole seconds to the start of the next period, rounded up;
//   retry-after-ms: the same wait in milliseconds;
// and neither for per: total, which never resets. The message says who, how much was spent of
// what budget over which period, what the request would have reserved and when the budget
// resets, e.g.
//   Budget exceeded for agent "sofia": spent $4.98 of $5.00 per day ($0.01 more reserved by
//   requests in flight); this request may cost up to $0.05. The budget resets at
//   2026-11-22T00:00:00Z.
#pragma once

#include <string>
#include <string_view>

#include "core/filter/request_context.h"
#include "core/state/spend_account.h"

namespace sluice::filters::cost {

struct BudgetRefusal {
  std::string_view agent;
  state::BudgetLimit limit;
  state::SpendAccount::View view;  // the account as it stood when it refused
  double worst_case_usd = 0;       // what the request asked to reserve
  state::WallTime now;
};

std::string budget_refusal_message(const BudgetRefusal& refusal);
// Sets ctx's local reply and headers (see above).
void respond_over_budget(filter::RequestContext& ctx, const BudgetRefusal& refusal);

// "$"-less dollar amounts: at least two decimals, up to six, trailing zeros cut
// (5 → "5.00", 0.0001234 → "0.000123").
std::string format_usd(double usd);
// "2026-11-22T00:00:00Z" (whole seconds, UTC).
std::string iso8601_utc(state::WallTime t);

}  // namespace sluice::filters::cost
