// filters: - circuit_breaker: {}   (not active yet; settings are providers.*.circuit_breaker)
#include "core/filter/registry.h"
#include "filters/not_active/not_active.h"

namespace sluice::filters::not_active {
namespace {

std::unique_ptr<filter::FilterFactory> build_circuit_breaker(config::NodeReader& reader,
                                                             const config::Config&) {
  reader.finish();
  return accept_inactive(reader, "circuit_breaker");
}

const filter::FilterRegistrar kRegisterCircuitBreaker{"circuit_breaker", &build_circuit_breaker};

}  // namespace
}  // namespace sluice::filters::not_active
