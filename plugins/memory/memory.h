// The memory plugin's state: one per loaded copy of the plugin (made in sluice_plugin_init from
// the plugin's config, freed in sluice_plugin_fini). Both tools share it: their per-entry
// config (create_config) is this object.
#pragma once

#include <sluice/plugin.h>

#include <memory>

#include "memory/db_thread.h"
#include "memory/memory_config.h"

namespace memory {

struct Memory {
  const sluice_host_api* host = nullptr;
  MemoryConfig config;
  std::unique_ptr<DbThread> db;  // every SQLite call runs there
};

// sluice_str <-> std::string_view.
inline std::string_view view(sluice_str s) {
  return s.len == 0 ? std::string_view() : std::string_view(s.data, s.len);
}
inline sluice_str str(std::string_view s) {
  return sluice_str{s.data(), s.size()};
}

}  // namespace memory
