// LuaState: one sandboxed LuaJIT state running one Lua plugin (a filter, a provider or a tool)
// on one worker (DESIGN §9). A `lua` filter entry, a Lua provider of `plugins:` or a `type: lua`
// entry of `tools:`, of a config generation, has one per worker (lua_worker_states.h); each is only
// ever touched by its worker's thread once the load that built it has published the snapshot, so no
// lock is taken to run a hook. The state closes with the snapshot, i.e. when the last request
// pinned to that generation has ended.
//
// Limits, all enforced here:
//  - max_instructions per hook run: a count hook (JIT off for the whole state — LuaJIT never
//    calls count hooks inside compiled code, so with the JIT on `while true do end` would hang
//    the worker). Once the budget is passed the hook fires on every instruction, so a plugin
//    that catches the error with pcall is stopped again at its next instruction.
//  - C stack depth per hook run: the same hook (every kHookInterval instructions) measures
//    how far below the run's start plugin code has nested C frames. LuaJIT bounds its own
//    stack, not the C one: a string.gsub callback calling string.gsub, a coroutine resuming a
//    new one, __tostring calling sluice.log... each nests C frames (gsub's 8KiB buffer among
//    them) and would crash the worker long before the instruction budget ran out.
//  - max_memory per state: the allocator given to lua_newstate refuses past the cap ("not enough
//    memory"); the state is fully collected before its next hook, or every later hook would fail
//    too.
#pragma once

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "filters/lua/lua_settings.h"

namespace sluice::filters::lua {

class HookHost;

// A plugin file that cannot be loaded (syntax error, error at load, wrong shape). The message
// names the plugin file (and line, from Lua); the filter's builder adds where in the config.
class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The hooks a plugin may define (the names a plugin table uses): a filter's on_*, a
// provider's transform_*, a tool's call (DESIGN §9).
enum class Hook : uint8_t {
  OnRequest,
  OnResponse,
  OnChunk,
  OnComplete,
  TransformRequest,
  TransformResponse,
  TransformChunk,
  TransformEnd,
  Call,
};
inline constexpr int kHookCount = 9;
const char* to_string(Hook hook);  // "on_request", ...
bool is_provider_hook(Hook hook);  // transform_*

// What a plugin file's table is, by the hooks it defines: a filter has at least one on_*
// hook; a provider has transform_request and transform_response; a tool has call. A table
// has the hooks of one kind only.
enum class PluginKind : uint8_t { Filter, Provider, Tool };

// How one run (a resume) of a hook ended.
//   Done      — it returned; its results are on the thread's stack; call finish() when read.
//   Suspended — it yielded inside sluice.http: resume() the same thread when the call ends.
//   Failed    — it raised an error, passed its instruction budget, ran out of memory or
//               yielded outside sluice.http; `error` says which. The thread is released.
enum class RunStatus : uint8_t { Done, Suspended, Failed };

// Plugin files read while the first state loaded (the plugin and every module it required):
// later states (a worker the load did not foresee) are built from these texts, never from disk,
// because they are built on a worker's loop.
using SourceTexts = std::map<std::string, std::string>;  // module name ("" = the plugin) → text

class LuaState {
 public:
  // Builds the sandbox, runs the plugin file (its requires read from disk when `sources` has
  // no text for them, and recorded there) and checks what it returned. Throws PluginLoadError
  // naming the file and line on any problem.
  static std::unique_ptr<LuaState> load(const LuaPluginSettings& settings, SourceTexts& sources);
  // The same from recorded texts only (no file I/O); nullptr with *error on failure.
  static std::unique_ptr<LuaState> load_from(const LuaPluginSettings& settings,
                                             const SourceTexts& sources, std::string* error);
  ~LuaState();
  LuaState(const LuaState&) = delete;
  LuaState& operator=(const LuaState&) = delete;

  lua_State* L() const { return L_; }
  const std::string& plugin_name() const { return name_; }
  PluginKind kind() const { return kind_; }
  bool has_hook(Hook hook) const { return hook_refs_[static_cast<int>(hook)] != LUA_NOREF; }
  // Registry reference of the plugin's returned table / its `schema` (LUA_NOREF if none).
  int plugin_ref() const { return plugin_ref_; }
  int schema_ref() const { return schema_ref_; }
  // The config table every hook receives (set once at load by set_config_ref).
  void set_config_ref(int ref) { config_ref_ = ref; }
  int config_ref() const { return config_ref_; }

  // Starts a hook: returns a thread with the hook function pushed; push the arguments on it
  // and call resume(thread, nargs).
  lua_State* begin(Hook hook);
  // Runs (or continues) the thread for `host`'s request until it returns, yields in
  // sluice.http or fails.
  RunStatus resume(lua_State* thread, int nargs, HookHost* host, std::string* error);
  // After Done, once the results are read: the thread goes back to the pool.
  void finish(lua_State* thread);
  // A Suspended thread whose request ended: never resumed again.
  void abandon(lua_State* thread);

  // sluice.http marks the run it suspends (so a yield of anything else is an error).
  void note_http_yield() { http_yield_ = true; }
  // The thread of the hook run in progress (sluice.http must be called from it) and the
  // request it runs for; null between runs.
  lua_State* running_thread() const { return running_; }
  HookHost* running_host() const { return running_host_; }

  uint64_t memory_used() const;
  static LuaState* from(lua_State* L);  // the LuaState a (thread of a) state belongs to

  struct Allocator;  // usage and cap: the lua_Alloc's ud (lua_state.cc)

 private:
  LuaState() = default;
  void open_sandbox(const LuaPluginSettings& settings);
  void run_plugin_file(const LuaPluginSettings& settings, const std::string& text);
  // Sets kind_ from the hooks found; what is wrong with them ("" when nothing).
  std::string classify();
  // Starts the instruction budget and the C stack bound of a run (or of the load).
  void arm_limits();
  static void count_hook(lua_State* L, lua_Debug* ar);
  static int require(lua_State* L);
  static int guarded_resume(lua_State* L);
  bool is_hook_thread(const lua_State* thread) const;

  lua_State* L_ = nullptr;
  std::unique_ptr<Allocator> allocator_;
  std::string name_;  // the plugin's `name`, or the file's stem
  PluginKind kind_ = PluginKind::Filter;
  int plugin_ref_ = LUA_NOREF;
  int schema_ref_ = LUA_NOREF;
  int config_ref_ = LUA_NOREF;
  int hook_refs_[kHookCount] = {LUA_NOREF, LUA_NOREF, LUA_NOREF, LUA_NOREF, LUA_NOREF,
                                LUA_NOREF, LUA_NOREF, LUA_NOREF, LUA_NOREF};
  int loaded_ref_ = LUA_NOREF;  // module name → what its file returned
  struct PooledThread {
    lua_State* thread;
    int ref;  // anchors it in the registry
  };
  std::vector<PooledThread> idle_threads_;
  std::vector<PooledThread> busy_threads_;  // running or suspended
  // The count hook fires this often: cheap (measured: no visible cost at 100), and often
  // enough that a string.gsub recursion (~150KiB per 100 instructions) overshoots
  // kMaxCStackBytes by little.
  static constexpr int kHookInterval = 100;
  // Most C stack a run may nest below its start: room for honest nesting; far below a
  // thread's stack (8MiB by default).
  static constexpr uintptr_t kMaxCStackBytes = uintptr_t{256} * 1024;
  uint64_t max_instructions_ = 0;
  uint64_t instructions_ = 0;   // of the run in progress, counted kHookInterval at a time
  uintptr_t c_stack_base_ = 0;  // the run's start (the C stack grows down from there)
  lua_State* running_ = nullptr;
  HookHost* running_host_ = nullptr;
  bool http_yield_ = false;
  bool over_budget_ = false;
  // Loading: require may read files (and record them) only then.
  SourceTexts* recording_ = nullptr;
  const SourceTexts* replaying_ = nullptr;
  std::string plugin_dir_;
};

// Longest error message kept from a plugin (the rest is cut, its size said).
inline constexpr size_t kMaxErrorBytes = 1024;

// The plugin's error as a one-line string: the message (at most kMaxErrorBytes of it), or
// "(error object is a <type>)".
std::string error_text(lua_State* L, int index);
// `text`, or its first `max_bytes` (at a UTF-8 boundary) and "... (N bytes)".
std::string bounded_text(std::string_view text, size_t max_bytes);
// Pushes t[key] of the table at `index` without metamethods: for host code that runs outside
// a protected call, where a plugin's __index could raise (LuaJIT then aborts the process).
void raw_field(lua_State* L, int index, const char* key);

}  // namespace sluice::filters::lua
