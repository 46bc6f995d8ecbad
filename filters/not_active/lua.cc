// filters: - lua: {file: ../plugins/lua/keyword_guard.lua, config: {...}}   (not active yet)
// `config` is free-form: it belongs to the Lua filter.
#include "core/filter/registry.h"
#include "filters/not_active/not_active.h"

namespace sluice::filters::not_active {
namespace {

std::unique_ptr<filter::FilterFactory> build_lua(config::NodeReader& reader,
                                                 const config::Config&) {
  std::optional<std::string> file = reader.string("file");
  if (!file)
    reader.fail_here(
        "missing required key \"file\" (the Lua filter's path, relative to the config)");
  if (file->empty()) reader.fail("file", "must not be empty");
  reader.raw("config");
  reader.finish();
  return accept_inactive(reader, "lua");
}

const filter::FilterRegistrar kRegisterLua{"lua", &build_lua};

}  // namespace
}  // namespace sluice::filters::not_active
