// What one finished request looked like: filled by the proxy session at on_complete and read
// by metrics and the access log. Views point into the request's own storage and the pinned
// config; they are valid only during the call that receives the record.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace sluice::log {

struct RequestRecord {
  std::chrono::system_clock::time_point time;  // arrival (wall clock)
  std::string_view request_id;
  std::string_view method;
  std::string_view path;
  std::string_view endpoint;  // "chat.completions", ...
  std::string_view agent;     // "" = anonymous
  std::string_view model;     // logical model requested (as the client sent it)
  // True when `model` is a configured name (resolved by model_alias, or routed as-is to
  // default_provider). Metrics label only known names, so a client cannot mint label sets.
  bool model_known = false;
  std::string_view provider;        // "" = none contacted
  std::string_view physical_model;  // as sent upstream
  int status = 0;                   // sent downstream
  std::string_view error_code;      // "" or e.g. "model_not_found"
  bool stream = false;
  uint32_t attempts = 0;
  uint64_t bytes_in = 0;   // request body bytes
  uint64_t bytes_out = 0;  // response body bytes
  bool client_gone = false;
  // Durations in seconds; negative = did not happen.
  double duration = 0;              // arrival → last byte queued downstream
  double upstream = -1;             // upstream request written → upstream done
  double time_to_first_token = -1;  // arrival → first upstream body byte
  double overhead = 0;              // duration minus time spent waiting on the upstream
  // What the request used and cost (ctx.usage, ctx.cost_usd): sluice_tokens_total and
  // sluice_cost_usd_total count them. Zero when no provider answered.
  uint64_t input_tokens = 0;  // cached included
  uint64_t output_tokens = 0;
  uint64_t cached_tokens = 0;
  bool usage_estimated = false;
  double cost_usd = 0;
  // The cost filter found no price for physical_model (charged 0): counted in
  // sluice_unpriced_requests_total{model=physical_model}.
  bool unpriced = false;
  // A tool endpoint's call (DESIGN §5): the tool ("" when none was found) and how the call
  // ended ("ok", "error", "timeout", "unavailable", "invalid_arguments", "unknown_tool",
  // "client_gone"; "" when no call was asked): sluice_tool_calls_total{agent,tool,result}.
  std::string_view tool;
  std::string_view tool_outcome;
};

}  // namespace sluice::log
