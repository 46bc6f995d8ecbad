#include "filters/lua/lua_state.h"

extern "C" {
#include <luajit.h>
#include <lualib.h>
}

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config/node_reader.h"
#include "filters/lua/lua_globals.h"
#include "filters/lua/lua_handle.h"

namespace sluice::filters::lua {

struct LuaState::Allocator {
  LuaState* owner = nullptr;
  uint64_t used = 0;
  uint64_t cap = 0;
  bool refused = false;  // an allocation was refused since the last full collection
  // The cap applies to plugin code only (a hook run, the load of the file): what the host
  // pushes between runs (a thread, the handle, a chunk) must never fail, because outside a
  // protected call a Lua error would abort the process.
  bool enforce = false;
};

namespace {

void* capped_alloc(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto* a = static_cast<LuaState::Allocator*>(ud);
  if (new_size == 0) {
    std::free(ptr);
    a->used -= old_size;
    return nullptr;
  }
  if (a->enforce && new_size > old_size && a->used - old_size + new_size > a->cap) {
    a->refused = true;
    return nullptr;  // Lua raises "not enough memory"
  }
  void* p = std::realloc(ptr, new_size);
  if (p != nullptr) a->used = a->used - old_size + new_size;
  return p;
}

const char* const kHookNames[kHookCount] = {
    "on_request",         "on_response",     "on_chunk",      "on_complete", "transform_request",
    "transform_response", "transform_chunk", "transform_end", "call",
};

// Text only: LuaJIT bytecode ("\x1bLJ") could do anything the VM can.
int load_text(lua_State* L) {
  size_t len = 0;
  const char* text = lua_tolstring(L, 1, &len);
  if (text == nullptr) {
    lua_pushnil(L);
    lua_pushliteral(L, "load: only source text is accepted in a sluice plugin");
    return 2;
  }
  const char* name = luaL_optstring(L, 2, "=(load)");
  if (luaL_loadbufferx(L, text, len, name, "t") != 0) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}

// collectgarbage without "stop"/"restart"/"setpause"/"setstepmul": a plugin cannot turn off
// the collector its memory cap relies on.
int safe_collectgarbage(lua_State* L) {
  const char* opt = luaL_optstring(L, 1, "collect");
  const std::string_view o(opt);
  if (o == "count") {
    lua_pushnumber(L, lua_gc(L, LUA_GCCOUNT, 0) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
  }
  if (o == "collect" || o == "step") {
    lua_pushinteger(L, lua_gc(L, o == "collect" ? LUA_GCCOLLECT : LUA_GCSTEP, 0));
    return 1;
  }
  return luaL_error(L, "collectgarbage(\"%s\") is not allowed in a sluice plugin", opt);
}

void open_lib(lua_State* L, const char* name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

bool valid_module_name(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '.' || name.back() == '.') return false;
  char prev = 0;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

}  // namespace

const char* to_string(Hook hook) {
  return kHookNames[static_cast<int>(hook)];
}

bool is_provider_hook(Hook hook) {
  return hook >= Hook::TransformRequest && hook <= Hook::TransformEnd;
}

std::string bounded_text(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  // Never inside a UTF-8 sequence: the text ends up in a JSON reply.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "... (" + std::to_string(text.size()) + " bytes)";
}

void raw_field(lua_State* L, int index, const char* key) {
  if (index < 0 && index > LUA_REGISTRYINDEX) index = lua_gettop(L) + index + 1;
  lua_pushstring(L, key);
  lua_rawget(L, index);
}

std::string error_text(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TSTRING || lua_type(L, index) == LUA_TNUMBER) {
    size_t len = 0;
    const char* s = lua_tolstring(L, index, &len);
    // An error message goes to the log and into the 500 reply: a plugin's 60MB string must
    // not.
    return bounded_text(std::string_view(s, len), kMaxErrorBytes);
  }
  return std::string("(error object is a ") + luaL_typename(L, index) + " value)";
}

LuaState* LuaState::from(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<Allocator*>(ud)->owner;
}

uint64_t LuaState::memory_used() const {
  return allocator_->used;
}

LuaState::~LuaState() {
  if (L_ != nullptr) lua_close(L_);
}

void LuaState::open_sandbox(const LuaPluginSettings& settings) {
  allocator_ = std::make_unique<Allocator>();
  allocator_->owner = this;
  allocator_->cap = settings.max_memory;
  max_instructions_ = settings.max_instructions;
  plugin_dir_ = settings.plugin_dir;
  L_ = lua_newstate(&capped_alloc, allocator_.get());
  if (L_ == nullptr) throw std::bad_alloc();
  // The count hook is the instruction budget; LuaJIT skips it in compiled code.
  luaJIT_setmode(L_, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  // Only what a policy needs: no io, os (but time/clock/date), debug, ffi, jit, package.
  open_lib(L_, "", luaopen_base);
  open_lib(L_, LUA_TABLIBNAME, luaopen_table);
  open_lib(L_, LUA_STRLIBNAME, luaopen_string);
  open_lib(L_, LUA_MATHLIBNAME, luaopen_math);
  open_lib(L_, LUA_BITLIBNAME, luaopen_bit);
  open_lib(L_, LUA_OSLIBNAME, luaopen_os);
  lua_getglobal(L_, "os");
  lua_createtable(L_, 0, 3);
  for (const char* keep : {"time", "clock", "date"}) {
    lua_getfield(L_, -2, keep);
    lua_setfield(L_, -2, keep);
  }
  lua_setglobal(L_, "os");
  lua_pop(L_, 1);
  for (const char* drop : {"dofile", "loadfile", "getfenv", "setfenv", "module", "newproxy",
                           "gcinfo", "require", "package"}) {
    lua_pushnil(L_);
    lua_setglobal(L_, drop);
  }
  lua_getglobal(L_, "string");
  lua_pushnil(L_);
  lua_setfield(L_, -2, "dump");  // string.dump + load was the way to bytecode
  lua_pop(L_, 1);
  lua_pushcfunction(L_, &load_text);
  lua_setglobal(L_, "load");
  lua_pushcfunction(L_, &load_text);
  lua_setglobal(L_, "loadstring");
  lua_pushcfunction(L_, &safe_collectgarbage);
  lua_setglobal(L_, "collectgarbage");
  lua_pushcfunction(L_, &LuaState::require);
  lua_setglobal(L_, "require");
  // coroutine.resume, refusing the threads sluice runs hooks on: a hook that kept its own
  // coroutine.running() must not be able to resume another request's suspended hook.
  lua_getglobal(L_, "coroutine");
  lua_getfield(L_, -1, "resume");
  lua_pushcclosure(L_, &LuaState::guarded_resume, 1);
  lua_setfield(L_, -2, "resume");
  lua_pop(L_, 1);
  lua_newtable(L_);
  loaded_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  install_globals(L_);
  install_handle_metatable(L_);
}

bool LuaState::is_hook_thread(const lua_State* thread) const {
  auto same = [&](const PooledThread& t) { return t.thread == thread; };
  return std::any_of(busy_threads_.begin(), busy_threads_.end(), same) ||
         std::any_of(idle_threads_.begin(), idle_threads_.end(), same);
}

int LuaState::guarded_resume(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  if (co != nullptr && LuaState::from(L)->is_hook_thread(co)) {
    return luaL_error(L,
                      "coroutine.resume: that coroutine runs a sluice hook; only coroutines "
                      "the plugin created itself can be resumed");
  }
  lua_pushvalue(L, lua_upvalueindex(1));  // the base library's coroutine.resume
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int LuaState::require(lua_State* L) {
  LuaState* self = LuaState::from(L);
  size_t len = 0;
  const char* name = luaL_checklstring(L, 1, &len);
  const std::string module(name, len);
  lua_rawgeti(L, LUA_REGISTRYINDEX, self->loaded_ref_);
  lua_getfield(L, -1, module.c_str());
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  if (!valid_module_name(module)) {
    return luaL_error(L,
                      "require(\"%s\"): a module is a Lua file beside the plugin, named like "
                      "\"helpers\" or \"lib.words\"",
                      name);
  }
  std::string text;
  std::string path = module;
  std::replace(path.begin(), path.end(), '.', '/');
  path = self->plugin_dir_ + "/" + path + ".lua";
  bool found = false;
  if (self->replaying_ != nullptr) {
    auto it = self->replaying_->find(module);
    found = it != self->replaying_->end();
    if (found) text = it->second;
  } else if (self->recording_ != nullptr) {
    found = read_file(path, text);
    if (found) (*self->recording_)[module] = text;
  } else {
    return luaL_error(L,
                      "require(\"%s\") while serving requests: require modules at the top of "
                      "the plugin file",
                      name);
  }
  if (!found) return luaL_error(L, "require(\"%s\"): no file %s", name, path.c_str());
  const std::string chunk_name = "@" + path;
  if (luaL_loadbufferx(L, text.data(), text.size(), chunk_name.c_str(), "t") != 0) {
    return lua_error(L);
  }
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, module.c_str());
  return 1;
}

void LuaState::run_plugin_file(const LuaPluginSettings& settings, const std::string& text) {
  const std::string chunk_name = "@" + settings.file;
  auto fail = [&](const std::string& message) {
    lua_settop(L_, 0);
    throw PluginLoadError("Lua plugin " + settings.file + ": " + message);
  };
  if (luaL_loadbufferx(L_, text.data(), text.size(), chunk_name.c_str(), "t") != 0) {
    fail("Lua syntax error: " + error_text(L_, -1));
  }
  arm_limits();
  allocator_->enforce = true;
  const int rc = lua_pcall(L_, 0, 1, 0);
  allocator_->enforce = false;
  lua_sethook(L_, nullptr, 0, 0);
  if (rc != 0) fail("Lua error while loading the plugin: " + error_text(L_, -1));
  if (!lua_istable(L_, -1)) {
    fail(std::string("a Lua plugin must return a table: a filter like {name = \"x\", on_request "
                     "= function(h, config) ... end}, a provider like {name = \"x\", "
                     "transform_request = ..., transform_response = ...}, or a tool like {name = "
                     "\"x\", call = function(args, ctx) ... end}; it returned a ") +
         luaL_typename(L_, -1));
  }
  // Raw reads here and below: this runs outside a protected call, where an error raised by
  // a metamethod of the plugin's table would abort the process.
  raw_field(L_, -1, "name");
  if (lua_type(L_, -1) == LUA_TSTRING) {
    name_ = lua_tostring(L_, -1);
  } else if (!lua_isnil(L_, -1)) {
    fail("the plugin's name must be a string");
  } else {
    name_ = std::filesystem::path(settings.file).stem().string();
  }
  lua_pop(L_, 1);
  for (int i = 0; i < kHookCount; ++i) {
    raw_field(L_, -1, kHookNames[i]);
    if (lua_isfunction(L_, -1)) {
      hook_refs_[i] = luaL_ref(L_, LUA_REGISTRYINDEX);
    } else if (lua_isnil(L_, -1)) {
      lua_pop(L_, 1);
    } else {
      fail(std::string(kHookNames[i]) + " must be a function, not a " + luaL_typename(L_, -1));
    }
  }
  if (std::string problem = classify(); !problem.empty()) fail(problem);
  raw_field(L_, -1, "schema");
  if (lua_istable(L_, -1)) {
    schema_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  } else if (lua_isnil(L_, -1)) {
    lua_pop(L_, 1);
  } else {
    fail("the plugin's schema must be a table");
  }
  plugin_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_gc(L_, LUA_GCCOLLECT, 0);
}

std::string LuaState::classify() {
  bool filter = false;
  bool provider = false;
  const bool tool = has_hook(Hook::Call);
  for (int i = 0; i < kHookCount; ++i) {
    const auto hook = static_cast<Hook>(i);
    if (hook_refs_[i] == LUA_NOREF || hook == Hook::Call) continue;
    (is_provider_hook(hook) ? provider : filter) = true;
  }
  if (filter && provider) {
    return "the plugin defines both filter hooks (on_*) and provider hooks (transform_*): a "
           "plugin is a filter or a provider; split it in two files";
  }
  if (tool && (filter || provider)) {
    return std::string("the plugin defines both a tool's call and ") +
           (filter ? "filter hooks (on_*)" : "provider hooks (transform_*)") +
           ": a plugin is a filter, a provider or a tool; split it in two files";
  }
  if (tool) {
    kind_ = PluginKind::Tool;
    return {};
  }
  if (provider) {
    for (Hook required : {Hook::TransformRequest, Hook::TransformResponse}) {
      if (!has_hook(required)) {
        return std::string("the provider plugin has no ") + to_string(required) +
               " (a provider defines transform_request and transform_response)";
      }
    }
    kind_ = PluginKind::Provider;
    return {};
  }
  if (!filter) {
    return "the plugin defines no hook: a filter has at least one of on_request, on_response, "
           "on_chunk, on_complete; a provider has transform_request and transform_response; a "
           "tool has call";
  }
  kind_ = PluginKind::Filter;
  return {};
}

std::unique_ptr<LuaState> LuaState::load(const LuaPluginSettings& settings, SourceTexts& sources) {
  std::unique_ptr<LuaState> state(new LuaState());
  state->open_sandbox(settings);
  std::string text;
  if (auto it = sources.find(""); it != sources.end()) {
    text = it->second;
  } else if (!read_file(settings.file, text)) {
    throw PluginLoadError("cannot read the Lua plugin file " + settings.file);
  } else {
    sources[""] = text;
  }
  state->recording_ = &sources;
  state->run_plugin_file(settings, text);
  state->recording_ = nullptr;
  return state;
}

std::unique_ptr<LuaState> LuaState::load_from(const LuaPluginSettings& settings,
                                              const SourceTexts& sources, std::string* error) {
  try {
    std::unique_ptr<LuaState> state(new LuaState());
    state->open_sandbox(settings);
    state->replaying_ = &sources;
    state->run_plugin_file(settings, sources.at(""));
    state->replaying_ = nullptr;
    return state;
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
}

void LuaState::arm_limits() {
  over_budget_ = false;
  instructions_ = 0;
  c_stack_base_ = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  lua_sethook(L_, &LuaState::count_hook, LUA_MASKCOUNT, kHookInterval);
}

void LuaState::count_hook(lua_State* L, lua_Debug*) {
  LuaState* self = LuaState::from(L);
  if (!self->over_budget_) {
    // The C stack grows down; the real frame's address (a local's could be on ASan's fake
    // stack).
    const uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    if (here < self->c_stack_base_ && self->c_stack_base_ - here > kMaxCStackBytes) {
      luaL_error(L,
                 "C stack overflow: nested too deeply (callbacks of string.gsub or table.sort, "
                 "coroutines or __tostring calling each other?)");
    }
    self->instructions_ += kHookInterval;
    if (self->instructions_ < self->max_instructions_) return;
    self->over_budget_ = true;
    // From now on every instruction fails, so a pcall cannot swallow the stop.
    lua_sethook(L, &LuaState::count_hook, LUA_MASKCOUNT, 1);
  }
  luaL_error(L, "instruction budget exceeded (max_instructions: %d)",
             static_cast<int>(self->max_instructions_));
}

lua_State* LuaState::begin(Hook hook) {
  PooledThread t;
  if (!idle_threads_.empty()) {
    t = idle_threads_.back();
    idle_threads_.pop_back();
  } else {
    t.thread = lua_newthread(L_);
    t.ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  }
  busy_threads_.push_back(t);
  lua_rawgeti(t.thread, LUA_REGISTRYINDEX, hook_refs_[static_cast<int>(hook)]);
  return t.thread;
}

RunStatus LuaState::resume(lua_State* thread, int nargs, HookHost* host, std::string* error) {
  if (allocator_->refused) {
    // The last run hit the memory cap: collect now, or this run starts out of memory too.
    lua_gc(L_, LUA_GCCOLLECT, 0);
    allocator_->refused = false;
  }
  http_yield_ = false;
  arm_limits();
  running_ = thread;
  running_host_ = host;
  allocator_->enforce = true;
  const int rc = lua_resume(thread, nargs);
  allocator_->enforce = false;
  running_ = nullptr;
  running_host_ = nullptr;
  if (rc == 0) return RunStatus::Done;
  if (rc == LUA_YIELD) {
    if (http_yield_) return RunStatus::Suspended;
    *error =
        "the hook yielded outside sluice.http (coroutine.yield is only for coroutines the "
        "plugin creates itself)";
  } else if (rc == LUA_ERRMEM || allocator_->refused) {
    *error = "out of memory (max_memory: " + std::to_string(allocator_->cap >> 20) + "MiB)";
  } else {
    *error = error_text(thread, -1);
  }
  abandon(thread);
  if (allocator_->refused) {
    lua_gc(L_, LUA_GCCOLLECT, 0);
    allocator_->refused = false;
  }
  return RunStatus::Failed;
}

void LuaState::finish(lua_State* thread) {
  auto it = std::find_if(busy_threads_.begin(), busy_threads_.end(),
                         [&](const PooledThread& t) { return t.thread == thread; });
  if (it == busy_threads_.end()) return;
  lua_settop(thread, 0);
  idle_threads_.push_back(*it);
  *it = busy_threads_.back();
  busy_threads_.pop_back();
}

void LuaState::abandon(lua_State* thread) {
  auto it = std::find_if(busy_threads_.begin(), busy_threads_.end(),
                         [&](const PooledThread& t) { return t.thread == thread; });
  if (it == busy_threads_.end()) return;
  // A dead or suspended thread cannot be reused: unanchor it and let the collector have it.
  luaL_unref(L_, LUA_REGISTRYINDEX, it->ref);
  *it = busy_threads_.back();
  busy_threads_.pop_back();
}

}  // namespace sluice::filters::lua
