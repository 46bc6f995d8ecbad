// The host side of the C ABI (sdk/include/sluice/plugin.h): the one sluice_host_api table every
// plugin gets, and the handles it hands out during init and config building. The request-level
// entries work on a PluginRequest (plugin_request.h); the rest is here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/plugin/plugin_library.h"
#include "sluice/plugin.h"

// The opaque handles of the ABI, defined on the host side (global namespace, as declared in
// plugin.h).
struct sluice_registry {
  std::string_view plugin_name;
  std::string_view config_json;
  std::vector<sluice::plugin::FilterRegistration>* filters = nullptr;
  std::vector<sluice::plugin::ProviderRegistration>* providers = nullptr;
  std::vector<sluice::plugin::ClientApiRegistration>* client_apis = nullptr;
  std::vector<sluice::plugin::ToolRegistration>* tools = nullptr;
  std::string_view config_dir;
  std::string error;  // set by registry_fail
};

struct sluice_buf {
  std::string text;
};

namespace sluice::plugin {

// The table (static storage, valid for the life of the process).
const sluice_host_api& host_api();

// The translation_* entries (plugin_translation.cc), filled into the table.
void fill_translation_api(sluice_host_api& table);
// The tool_call_* / tool_finish_* entries (plugin_tool_call.cc).
void fill_tool_api(sluice_host_api& table);

inline std::string_view view(sluice_str s) {
  return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.len);
}
inline sluice_str str(std::string_view s) {
  return sluice_str{s.data(), s.size()};
}

}  // namespace sluice::plugin
