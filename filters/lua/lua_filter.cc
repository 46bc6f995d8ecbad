// filters: - lua: {file: ../plugins/lua/keyword_guard.lua, config: {...}, on_error: fail,
//                  max_instructions: 1000000, max_memory: 64MiB}
// The factory of a Lua filter entry: one LuaState per worker, built when the config loads (a
// syntax error, a load-time error or a config the plugin's schema refuses fails the load, so a
// reload with a broken plugin is refused whole and the old config keeps serving). The states
// close with the factory, i.e. once the last request of this config generation has ended.
#include <memory>
#include <thread>
#include <vector>

#include "core/filter/registry.h"
#include "core/log/log.h"
#include "filters/lua/lua_config.h"
#include "filters/lua/lua_request.h"
#include "filters/lua/lua_settings.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {
namespace {

// Worker indices a factory keeps a slot for. Slots [0, config.workers) are filled at load; a
// worker past them (a reload changed `workers`, which applies at restart) gets its state built
// on first use, from the texts recorded at load.
constexpr size_t kWorkerSlots = 256;

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
  LuaFilterFactory(LuaFilterSettings settings, unsigned workers)
      : settings_(std::move(settings)), states_(kWorkerSlots) {
    const size_t eager = std::max<size_t>(1, std::min<size_t>(workers, kWorkerSlots));
    for (size_t i = 0; i < eager; ++i) {
      states_[i] = LuaState::load(settings_, sources_);
      load_config(*states_[i], settings_);
    }
  }

  std::string_view name() const override { return "lua"; }

  filter::Filter* create(filter::RequestContext& ctx) const override {
    const size_t index = ctx.worker != nullptr ? ctx.worker->index : 0;
    LuaState* state = index < kWorkerSlots ? states_[index].get() : nullptr;
    if (state == nullptr) state = late_state(index);
    if (state == nullptr) {
      return ctx.arena_make<BrokenStateFilter>(
          "Lua filter \"" + settings_.file + "\" has no state for worker " + std::to_string(index));
    }
    return ctx.arena_make<LuaRequest>(*state, settings_, ctx);
  }

 private:
  // Only ever called on worker `index`'s thread, the only one that touches its slot.
  LuaState* late_state(size_t index) const {
    if (index >= kWorkerSlots) return nullptr;
    std::string error;
    std::unique_ptr<LuaState> state = LuaState::load_from(settings_, sources_, &error);
    if (state != nullptr) {
      try {
        load_config(*state, settings_);
      } catch (const std::exception& e) {
        error = e.what();
        state.reset();
      }
    }
    if (state == nullptr) {
      log::error("Lua filter " + settings_.file + ": cannot build the state of worker " +
                 std::to_string(index) + ": " + error);
      return nullptr;
    }
    states_[index] = std::move(state);
    return states_[index].get();
  }

  LuaFilterSettings settings_;
  SourceTexts sources_;  // recorded while the first state loaded; read-only afterwards
  // One slot per worker index; a slot is written at load or by its own worker only.
  mutable std::vector<std::unique_ptr<LuaState>> states_;
};

std::unique_ptr<filter::FilterFactory> build_lua(config::NodeReader& reader,
                                                 const config::Config& config) {
  LuaFilterSettings settings = read_settings(reader, config);
  unsigned workers = config.workers;
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  try {
    return std::make_unique<LuaFilterFactory>(std::move(settings), workers);
  } catch (const PluginLoadError& e) {
    // The message names the plugin's file and line; the mark says which filter entry.
    throw config::ConfigError(reader.mark(), reader.path(), e.what());
  }
}

const filter::FilterRegistrar kRegisterLua{"lua", &build_lua};

}  // namespace
}  // namespace sluice::filters::lua
