// LedgerRow: one request's line in the spend ledger (DESIGN §3, §8), built by the proxy session
// when the request ends and handed to LedgerWriter::enqueue on the worker thread. It owns its
// strings: the row outlives the request (it waits in the writer's queue).
//
// Which requests get a row (ProxySession::record):
//   - every request that reached a provider (attempts > 0), whatever its outcome — this is
//     what is charged, and what budgets are rebuilt from at start-up;
//   - a request of an authenticated agent refused locally with 429 (rate limit, budget) or 503
//     (routing found no provider to try), with cost 0 — for audit: an agent's refusals sit
//     beside its spend. Authentication matters: without it anyone could fill the disk.
//   - every tool call that named a tool the agent may use (found), whatever its outcome;
//   Everything else (401, 400, 403, 404, /v1/models, tools/list) is in the access log only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::ledger {

struct LedgerRow {
  std::string request_id;      // x-request-id (the client's or sluice's)
  int64_t time_unix_ms = 0;    // arrival, Unix time in ms (UTC); budgets' periods use it
  std::string agent;           // "" = anonymous (no auth filter)
  std::string model;           // logical model as the client asked for it
  std::string physical_model;  // as sent upstream by the last attempt; "" = none
  std::string provider;        // of the last attempt; "" = none contacted
  int status = 0;              // HTTP status that went downstream (499: client went away)
  uint64_t input_tokens = 0;   // every prompt token, cached and cache writes included
  uint64_t output_tokens = 0;
  uint64_t cached_tokens = 0;       // prompt tokens read from the provider's cache
  uint64_t cache_write_tokens = 0;  // prompt tokens written to it (Anthropic)
  double cost_usd = 0;              // what the cost filter charged; 0 when unpriced or refused
  bool estimated = false;           // tokens estimated: the provider reported no usage
  double latency_s = 0;             // arrival → last byte sent downstream
  std::optional<double> ttft_s;     // arrival → first upstream body byte; nullopt = none came
  uint32_t attempts = 0;            // upstream attempts made (0 for a local refusal)
  // A tool call's row (DESIGN §5: one per call): the tool's name; "" for a model request.
  // Its outcome is error_code ("" = ok, "tool_error", "tool_timeout", "tool_unavailable",
  // "invalid_arguments") and latency_s its duration; model, provider and tokens stay empty.
  std::string tool;
  std::string error_code;  // "" or e.g. "rate_limit_exceeded", "upstream_timeout"
  std::string error;       // human-readable message, at most kMaxErrorBytes

  // Error messages can carry route notes from several attempts; the ledger keeps their start.
  static constexpr size_t kMaxErrorBytes = 512;
};

}  // namespace sluice::ledger
