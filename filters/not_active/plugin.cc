// filters: - plugin: {name: my_filter, config: {...}}   (not active yet)
// `name` is a filter a shared-object plugin registers; `config` is free-form, the plugin's.
#include "core/filter/registry.h"
#include "filters/not_active/not_active.h"

namespace sluice::filters::not_active {
namespace {

std::unique_ptr<filter::FilterFactory> build_plugin(config::NodeReader& reader,
                                                    const config::Config&) {
  std::optional<std::string> name = reader.string("name");
  if (!name) reader.fail_here("missing required key \"name\" (the filter a plugin registers)");
  if (name->empty()) reader.fail("name", "must not be empty");
  reader.raw("config");
  reader.finish();
  return accept_inactive(reader, "plugin");
}

const filter::FilterRegistrar kRegisterPlugin{"plugin", &build_plugin};

}  // namespace
}  // namespace sluice::filters::not_active
