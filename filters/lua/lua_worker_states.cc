#include "filters/lua/lua_worker_states.h"

#include <algorithm>
#include <thread>

#include "core/log/log.h"

namespace sluice::filters::lua {

unsigned WorkerStates::workers_of(const config::Config& config) {
  if (config.workers != 0) return config.workers;
  return std::max(1u, std::thread::hardware_concurrency());
}

WorkerStates::WorkerStates(LuaPluginSettings settings)
    : settings_(std::move(settings)), states_(kSlots) {
  states_[0] = LuaState::load(settings_, sources_);
}

void WorkerStates::build(unsigned workers, Prepare prepare) {
  prepare_ = std::move(prepare);
  if (prepare_) prepare_(*states_[0]);
  const size_t eager = std::min<size_t>(std::max(1u, workers), kSlots);
  for (size_t i = 1; i < eager; ++i) {
    states_[i] = LuaState::load(settings_, sources_);
    if (prepare_) prepare_(*states_[i]);
  }
}

LuaState* WorkerStates::get(size_t index, std::string* error) const {
  if (index >= kSlots) {
    *error = "no Lua state for worker " + std::to_string(index) + " (at most " +
             std::to_string(kSlots) + " workers)";
    return nullptr;
  }
  if (states_[index] != nullptr) return states_[index].get();
  std::unique_ptr<LuaState> state = LuaState::load_from(settings_, sources_, error);
  if (state != nullptr && prepare_) {
    try {
      prepare_(*state);
    } catch (const std::exception& e) {
      *error = e.what();
      state.reset();
    }
  }
  if (state == nullptr) {
    log::error("Lua plugin " + settings_.file + ": cannot build the state of worker " +
               std::to_string(index) + ": " + *error);
    return nullptr;
  }
  states_[index] = std::move(state);
  return states_[index].get();
}

}  // namespace sluice::filters::lua
