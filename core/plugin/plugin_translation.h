// The C-plugin side of translation.h: a shared object's provider type or client API as a
// providers::ProviderCodec / ClientApiCodec, and one attempt of it as a providers::Translation
// that calls the plugin's table through the opaque sluice_translation handle.
//
// The handle has a phase, so each host->translation_* call can be refused outside the hook
// that may make it (SLUICE_WRONG_PHASE): Request (on_request: set path, headers, body),
// Answer (on_response / on_stream_event / on_stream_end: emit, set status and usage), Closed
// (on_end, and between hooks: nothing).
#pragma once

#include <memory>
#include <string>

#include "core/config/config.h"
#include "core/plugin/plugin_library.h"
#include "core/providers/translation.h"
#include "sluice/plugin.h"

// The opaque handle of the ABI (global namespace, as declared in plugin.h).
struct sluice_translation {
  enum class Phase : uint8_t { Closed, Request, Answer };
  Phase phase = Phase::Closed;
  const sluice::providers::TranslateInput* in = nullptr;    // Request (and kept for the inputs)
  sluice::providers::TranslatedRequest* request = nullptr;  // Request
  std::string* out = nullptr;                               // Answer: what emit appends to
  int* status = nullptr;                                    // Answer of a whole response
  sluice::usage::Usage usage;                               // as the plugin reported it
  std::string message;                                      // translation_fail's
  // Inputs kept for the answer's hooks (the TranslateInput is gone by then).
  sluice_endpoint endpoint = 0;
  std::string model;
  std::string request_id;
  bool stream = false;
  bool stream_usage = false;
};

namespace sluice::plugin {

// The SLUICE_ENDPOINT_* bit of an endpoint (0 for Models/Unknown).
sluice_endpoint endpoint_bit(filter::Endpoint endpoint);

// A provider entry whose type a loaded plugin registered: create_config ran for it (at config
// load, main thread); destroy_config runs when the last snapshot using it goes.
class PluginProviderCodec final : public providers::ProviderCodec {
 public:
  // Runs the plugin's create_config on `provider`; throws config::ConfigError at the entry
  // when the plugin refuses it.
  PluginProviderCodec(std::shared_ptr<PluginLibrary> library, const ProviderRegistration& type,
                      const config::Provider& provider);
  ~PluginProviderCodec() override;

  const std::string& name() const override { return name_; }
  bool native(filter::Endpoint endpoint) const override;
  bool translates(filter::Endpoint endpoint) const override;
  providers::StreamFraming framing() const override;
  std::unique_ptr<providers::Translation> begin(unsigned worker) const override;

 private:
  std::shared_ptr<PluginLibrary> library_;  // keeps the code loaded
  const ProviderRegistration& type_;        // owned by library_
  void* config_ = nullptr;                  // what create_config made
  std::string name_;                        // "plugin anthropic"
};

class PluginClientApiCodec final : public providers::ClientApiCodec {
 public:
  PluginClientApiCodec(std::shared_ptr<PluginLibrary> library, const ClientApiRegistration& api);

  const std::string& name() const override { return name_; }
  filter::Endpoint endpoint() const override { return filter::Endpoint::Messages; }
  std::unique_ptr<providers::Translation> begin(unsigned worker) const override;

 private:
  std::shared_ptr<PluginLibrary> library_;
  const ClientApiRegistration& api_;
  std::string name_;
};

}  // namespace sluice::plugin
