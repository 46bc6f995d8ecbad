// filters: - retry: {attempts: 3, retry_on: [connect_failure, reset, timeout, 5xx, 429],
//                    backoff: {base: 100ms, max: 2s}, respect_retry_after: true, fallback: true}
// (not active yet)
#include "core/filter/registry.h"
#include "filters/not_active/not_active.h"

namespace sluice::filters::not_active {
namespace {

const std::vector<std::string> kRetryOn = {"connect_failure", "reset", "timeout", "5xx", "429"};

std::unique_ptr<filter::FilterFactory> build_retry(config::NodeReader& reader,
                                                   const config::Config&) {
  reader.integer("attempts", 1, 10);
  if (auto retry_on = reader.string_list("retry_on", /*allow_scalar=*/true)) {
    check_each_one_of(reader, "retry_on", *retry_on, kRetryOn);
  }
  config::NodeReader backoff = reader.child("backoff");
  std::optional<config::Duration> base = backoff.duration("base");
  std::optional<config::Duration> max = backoff.duration("max");
  if (base && max && *base > *max) {
    backoff.fail("max", "backoff.max must not be below backoff.base");
  }
  backoff.finish();
  reader.boolean("respect_retry_after");
  reader.boolean("fallback");
  reader.finish();
  return accept_inactive(reader, "retry");
}

const filter::FilterRegistrar kRegisterRetry{"retry", &build_retry};

}  // namespace
}  // namespace sluice::filters::not_active
