// filters: - rate_limit: {}   (not active yet; the limits themselves are agents.*.limits)
#include "core/filter/registry.h"
#include "filters/not_active/not_active.h"

namespace sluice::filters::not_active {
namespace {

std::unique_ptr<filter::FilterFactory> build_rate_limit(config::NodeReader& reader,
                                                        const config::Config&) {
  reader.finish();
  return accept_inactive(reader, "rate_limit");
}

const filter::FilterRegistrar kRegisterRateLimit{"rate_limit", &build_rate_limit};

}  // namespace
}  // namespace sluice::filters::not_active
