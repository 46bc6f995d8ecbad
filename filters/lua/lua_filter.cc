// filters: - lua: {file: ../plugins/lua/keyword_guard.lua, config: {...}, on_error: fail,
//                  max_instructions: 1000000, max_memory: 64MiB}
// The factory of a Lua filter entry: one LuaState per worker (WorkerStates), built when the
// config loads (a syntax error, a load-time error or a config the plugin's schema refuses fails
// the load, so a reload with a broken plugin is refused whole and the old config keeps
// serving). The states close with the factory, i.e. once the last request of this config
// generation has ended.
#include <memory>
#include <string>

#include "core/filter/registry.h"
#include "filters/lua/lua_config.h"
#include "filters/lua/lua_request.h"
#include "filters/lua/lua_settings.h"
#include "filters/lua/lua_state.h"
#include "filters/lua/lua_worker_states.h"

namespace sluice::filters::lua {
namespace {

// The request of a worker whose state could not be built: 500 plugin_error, every time.
class BrokenStateFilter final : public filter::Filter {
 public:
  explicit BrokenStateFilter(std::string message) : message_(std::move(message)) {}
  filter::RequestStatus on_request(filter::RequestContext& ctx) override {
    ctx.respond(500, "api_error", "plugin_error", message_);
    return filter::RequestStatus::Respond;
  }

 private:
  std::string message_;
};

class LuaFilterFactory final : public filter::FilterFactory {
 public:
  LuaFilterFactory(const LuaFilterSettings& settings, unsigned workers)
      : settings_(settings), states_(settings) {
    if (states_.first().kind() == PluginKind::Provider) {
      throw PluginLoadError("Lua plugin " + settings_.file +
                            " is a provider (it defines transform_request): declare it under "
                            "plugins: and use its name as a provider's type, not as a filter");
    }
    if (states_.first().kind() == PluginKind::Tool) {
      throw PluginLoadError("Lua plugin " + settings_.file +
                            " is a tool (it defines call): declare it under tools: as {type: "
                            "lua, file: ...}, not as a filter");
    }
    states_.build(workers, [this](LuaState& state) { load_config(state, settings_); });
  }

  std::string_view name() const override { return "lua"; }

  filter::Filter* create(filter::RequestContext& ctx) const override {
    const size_t index = ctx.worker != nullptr ? ctx.worker->index : 0;
    std::string error;
    LuaState* state = states_.get(index, &error);
    if (state == nullptr) {
      return ctx.arena_make<BrokenStateFilter>("Lua filter \"" + settings_.file +
                                               "\" has no state for worker " +
                                               std::to_string(index) + ": " + error);
    }
    return ctx.arena_make<LuaRequest>(*state, settings_, ctx);
  }

 private:
  LuaFilterSettings settings_;
  WorkerStates states_;
};

std::unique_ptr<filter::FilterFactory> build_lua(config::NodeReader& reader,
                                                 const config::Config& config) {
  LuaFilterSettings settings = read_settings(reader, config);
  try {
    return std::make_unique<LuaFilterFactory>(settings, WorkerStates::workers_of(config));
  } catch (const PluginLoadError& e) {
    // The message names the plugin's file and line; the mark says which filter entry.
    throw config::ConfigError(reader.mark(), reader.path(), e.what());
  }
}

const filter::FilterRegistrar kRegisterLua{"lua", &build_lua};

}  // namespace
}  // namespace sluice::filters::lua
