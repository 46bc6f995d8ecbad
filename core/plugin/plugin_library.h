// PluginLibrary: one shared-object plugin loaded into the process (DESIGN §9 "Shared objects"):
// dlopen(RTLD_NOW | RTLD_LOCAL) of a private copy of the file, its ABI version checked before
// anything of it runs, then its sluice_plugin_init, which registers its filters.
//
// Why a private copy: glibc hands back the already-loaded object for a path (or a file) it
// has seen, even after the file was replaced, so a changed plugin opened under its own path
// would silently keep the old code. Each load opens a copy named by what makes it distinct
// (the file's content hash, the plugin's name and its config), so a changed .so is loaded
// BESIDE the old one, and the old one stays until nobody uses it.
//
// Lifetime: a process-wide cache maps that identity to a weak_ptr, so two snapshots whose
// plugin did not change share one loaded library (init ran once). Whoever uses a library holds
// a shared_ptr (the filters of each snapshot do); when the last one goes, the destructor calls
// the plugin's optional sluice_plugin_fini and dlcloses it. The copy itself is removed as soon
// as it is open (the mapping keeps it alive), so nothing is left behind in $TMPDIR.
//
// Main (config load) thread only, except that the last shared_ptr may be dropped on a worker
// (a request that outlived a reload): the destructor is thread-safe against the cache.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/plugin.h"

namespace sluice::plugin {

struct FilterRegistration {
  std::string name;
  sluice_filter_vtable vtable;  // copied at registration, normalised to this sluice's size
};

struct ProviderRegistration {
  std::string type;
  sluice_provider_vtable vtable;  // copied, normalised; vtable.default_base_url is not used
  std::string default_base_url;   // copied from the table's ("" when it had none)
};

struct ClientApiRegistration {
  sluice_client_api_vtable vtable;  // copied, normalised
};

struct ToolRegistration {
  std::string name;               // what agents call: "memory.query"
  sluice_tool_vtable vtable;      // copied, normalised; its strings are not used (below)
  std::string description;        // copied from the table ("" when it had none)
  std::string input_schema_json;  // copied ("" when it had none: {"type":"object"})
};

class PluginLibrary {
 public:
  // What to load: the plugin's name (the key under plugins:), its file, its own config as JSON.
  struct Spec {
    std::string name;
    std::string file;
    std::string config_json = "null";
    std::string config_dir;  // the config file's directory (host->config_dir)
  };

  // The library for `spec`, loaded now or shared with a live earlier load of the same bytes,
  // name and config. nullptr with *error when the file cannot be read or opened, is not a
  // sluice plugin, speaks another ABI, lacks an entry point, or its init failed. The message
  // names the file; the caller adds the config position.
  static std::shared_ptr<PluginLibrary> open(const Spec& spec, std::string* error);

  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& name() const { return spec_.name; }
  const std::string& file() const { return spec_.file; }  // as configured
  // The private copy it was opened from (already removed from the file system).
  const std::string& loaded_path() const { return copy_path_; }
  const std::string& content_hash() const { return content_hash_; }  // sha256 hex of the file
  const std::vector<FilterRegistration>& filters() const { return filters_; }
  const FilterRegistration* find_filter(std::string_view name) const;
  const std::vector<ProviderRegistration>& providers() const { return providers_; }
  const ProviderRegistration* find_provider(std::string_view type) const;
  const std::vector<ClientApiRegistration>& client_apis() const { return client_apis_; }
  const std::vector<ToolRegistration>& tools() const { return tools_; }
  const ToolRegistration* find_tool(std::string_view name) const;

  // Libraries loaded in this process right now (tests: the old one closes when unused).
  static size_t open_count();

 private:
  PluginLibrary() = default;

  Spec spec_;
  std::string identity_;      // cache key: content hash + name + config + config dir
  std::string content_hash_;  // of the file's bytes
  std::string copy_path_;     // the private copy that was dlopened
  void* handle_ = nullptr;    // dlopen handle
  std::vector<FilterRegistration> filters_;
  std::vector<ProviderRegistration> providers_;
  std::vector<ClientApiRegistration> client_apis_;
  std::vector<ToolRegistration> tools_;
};

}  // namespace sluice::plugin
