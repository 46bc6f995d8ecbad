#include "core/plugin/bound_filter.h"

#include "core/config/node_reader.h"
#include "core/metrics/metrics.h"
#include "core/plugin/host_api.h"

namespace sluice::plugin {

const char* to_string(Hook hook) {
  switch (hook) {
    case Hook::OnRequest:
      return "on_request";
    case Hook::OnResponseHeaders:
      return "on_response_headers";
    case Hook::OnResponseChunk:
      return "on_response_chunk";
    case Hook::OnComplete:
      return "on_complete";
  }
  return "unknown";
}

std::unique_ptr<BoundFilter> BoundFilter::create(FoundFilter found, const std::string& config_json,
                                                 const config::SourceMark& config_mark,
                                                 const std::string& key_path) {
  std::unique_ptr<BoundFilter> bound(new BoundFilter());
  bound->library_ = std::move(found.library);
  bound->registration_ = found.registration;
  const sluice_filter_vtable& vt = bound->vtable();
  sluice_buf error;
  void* made = nullptr;
  const sluice_status status = vt.create_config(&host_api(), str(config_json), &made, &error);
  if (status != SLUICE_OK) {
    // Whatever it may have stored is not ours to free, and must not reach destroy_config.
    std::string message = "plugin filter \"" + bound->name() + "\" (plugin \"" +
                          bound->plugin_name() + "\") rejected its config";
    message += error.text.empty() ? " (status " + std::to_string(status) + ")" : ": " + error.text;
    throw config::ConfigError(config_mark, key_path, message);
  }
  bound->config_ = made;
  auto& family = metrics::Metrics::process().plugin_errors_total;
  for (size_t i = 0; i < kHookCount; ++i) {
    bound->errors_[i] =
        &family.Add({{"plugin", bound->name()}, {"hook", to_string(static_cast<Hook>(i))}});
  }
  return bound;
}

BoundFilter::~BoundFilter() {
  if (registration_ != nullptr && registration_->vtable.destroy_config != nullptr && config_) {
    registration_->vtable.destroy_config(config_);
  }
}

}  // namespace sluice::plugin
