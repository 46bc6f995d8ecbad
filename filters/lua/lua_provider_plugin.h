// LuaProviderPlugin: one `plugins:` entry whose Lua file returns a provider table (DESIGN §9
// "Providers and tools as plugins"): the provider type named by the entry's key, its LuaStates
// (one per worker, WorkerStates) and what its table declares once for all its providers:
//
//   return {
//     name = "ollama_native", version = "1.0.0",
//     stream = "ndjson",                            -- or "sse" (the default)
//     default_base_url = "http://127.0.0.1:11434",  -- when a provider has no base_url
//     endpoints = {"chat.completions"},             -- what it translates (the default)
//     schema = {...},                               -- checks each provider's config:
//     transform_request = ..., transform_response = ..., transform_chunk = ...,
//     transform_end = ...,                          -- optional
//   }
//
// Built on the main thread at config load; read-only afterwards (but for the late states of
// WorkerStates, each touched by its own worker only).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/filter/request_context.h"
#include "core/providers/translation.h"
#include "filters/lua/lua_settings.h"
#include "filters/lua/lua_worker_states.h"

namespace sluice::filters::lua {

class LuaProviderPlugin {
 public:
  // Loads `spec`'s file (one state per worker of `config`). nullptr when its table is a filter
  // (left to the `lua` filter). Throws PluginLoadError naming the file and what is wrong (a
  // tool's table too: a tool is declared under tools:).
  static std::shared_ptr<const LuaProviderPlugin> load(const config::PluginSpec& spec,
                                                       const config::Config& config);

  const std::string& type() const { return type_; }              // the plugins: key
  const std::string& codec_name() const { return codec_name_; }  // "Lua plugin <type>"
  const config::PluginSpec& spec() const { return spec_; }
  providers::StreamFraming framing() const { return framing_; }
  const std::string& default_base_url() const { return default_base_url_; }
  bool translates(filter::Endpoint endpoint) const;
  const WorkerStates& states() const { return states_; }

  LuaProviderPlugin(const config::PluginSpec& spec, LuaPluginSettings settings);

 private:
  // Reads stream, default_base_url and endpoints from the first state's table.
  void read_declarations();

  config::PluginSpec spec_;
  std::string type_;
  std::string codec_name_;
  WorkerStates states_;
  providers::StreamFraming framing_ = providers::StreamFraming::Sse;
  std::string default_base_url_;
  std::vector<filter::Endpoint> endpoints_;
};

}  // namespace sluice::filters::lua
