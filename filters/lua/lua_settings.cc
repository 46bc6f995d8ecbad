#include "filters/lua/lua_settings.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sluice::filters::lua {

LuaFilterSettings read_settings(config::NodeReader& reader, const config::Config& config) {
  LuaFilterSettings s;
  std::optional<std::string> file = reader.string("file");
  if (!file) {
    reader.fail_here(
        "missing required key \"file\" (the Lua filter's path, relative to the config)");
  }
  if (file->empty()) reader.fail("file", "must not be empty");
  std::filesystem::path path(*file);
  if (path.is_relative()) path = std::filesystem::path(config.base_dir) / path;
  path = path.lexically_normal();
  s.file = path.string();
  s.plugin_dir = path.parent_path().string();
  if (::access(s.file.c_str(), R_OK) != 0) {
    reader.fail("file", "cannot read \"" + s.file + "\": " + std::strerror(errno));
  }
  s.config = reader.raw("config");
  s.config_mark = reader.mark_of("config");
  s.config_path = reader.path_of("config");
  s.source_file = reader.file();
  if (auto on_error = reader.one_of("on_error", {"fail", "continue"})) {
    s.on_error = *on_error == "continue" ? OnError::Continue : OnError::Fail;
  }
  if (auto n = reader.integer("max_instructions", 1000, 1'000'000'000)) {
    s.max_instructions = static_cast<uint64_t>(*n);
  }
  if (auto bytes = reader.size("max_memory")) {
    if (*bytes < (uint64_t{1} << 20)) reader.fail("max_memory", "must be at least 1MiB");
    s.max_memory = *bytes;
  }
  reader.finish();
  if (!s.config.IsDefined() || s.config.IsNull()) {
    // reset(), not =: assigning to a yaml-cpp node writes into the document it came from.
    s.config.reset(YAML::Node(YAML::NodeType::Map));
  } else if (!s.config.IsMap()) {
    reader.fail("config", "expected a mapping (the plugin's settings), e.g. {words: [secret]}");
  }
  return s;
}

}  // namespace sluice::filters::lua
