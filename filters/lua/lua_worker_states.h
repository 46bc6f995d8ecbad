// WorkerStates: the LuaStates of one Lua plugin in one config generation, one per worker
// (DESIGN §9: "one lua_State per worker per config generation, built at load"). A `lua` filter
// entry has one set, a Lua provider of `plugins:` another.
//
// The first state is loaded from the plugin's file when the set is made, recording every file
// it read (SourceTexts); build() makes the states of workers [1, workers) the same way, on the
// main thread, at load. A worker past those (a reload changed `workers`, which applies at
// restart) gets its state built on first use, on its own thread, from the recorded texts —
// never from disk, which a worker's loop must not read.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "filters/lua/lua_settings.h"
#include "filters/lua/lua_state.h"

namespace sluice::filters::lua {

class WorkerStates {
 public:
  // Worker indices a set keeps a slot for.
  static constexpr size_t kSlots = 256;
  // What is done to every state once it is loaded (a filter builds its config table). Throws
  // config::ConfigError or PluginLoadError to refuse the load.
  using Prepare = std::function<void(LuaState&)>;

  // How many workers `config` runs (`workers: auto` is the CPU count).
  static unsigned workers_of(const config::Config& config);

  // Loads worker 0's state. Throws PluginLoadError naming the file (and line).
  explicit WorkerStates(LuaPluginSettings settings);
  WorkerStates(const WorkerStates&) = delete;
  WorkerStates& operator=(const WorkerStates&) = delete;

  // Prepares the first state and loads and prepares those of workers [1, workers); later
  // states are prepared the same way. Throws what loading or `prepare` throws.
  void build(unsigned workers, Prepare prepare);

  LuaState& first() const { return *states_[0]; }
  const LuaPluginSettings& settings() const { return settings_; }

  // Worker `index`'s state, built on first use from the recorded texts. Only ever called on
  // that worker's thread (or at load), the only one that touches its slot. nullptr with
  // *error when it cannot be built (logged).
  LuaState* get(size_t index, std::string* error) const;
  // Worker `index`'s state if it is built already (nullptr otherwise); never builds one.
  LuaState* built(size_t index) const { return index < kSlots ? states_[index].get() : nullptr; }

 private:
  LuaPluginSettings settings_;
  SourceTexts sources_;  // recorded while the first state loaded; read-only afterwards
  Prepare prepare_;
  // One slot per worker index; a slot is written at load or by its own worker only.
  mutable std::vector<std::unique_ptr<LuaState>> states_;
};

}  // namespace sluice::filters::lua
