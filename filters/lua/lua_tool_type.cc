// tools: {NAME: {type: lua, file: ..., config: {...}, description: ..., input_schema: ...}}
// The `lua` tool type (DESIGN §5 "Tools", §9): registered with core/tools' ToolTypeRegistry
// from here, as filters register, so core/ never names filters/. Each entry's file is loaded
// when the config snapshot builds its ToolSet (LuaToolFile: one state per worker, the config
// checked); its executor starts a LuaToolCall on the state of the worker serving the call.
#include <memory>
#include <string>

#include "core/config/node_reader.h"
#include "core/filter/worker_context.h"
#include "core/tools/tool_source.h"
#include "filters/lua/lua_tool_call.h"
#include "filters/lua/lua_tool_file.h"

namespace sluice::filters::lua {
namespace {

class LuaToolExecutor final : public tools::ToolExecutor {
 public:
  explicit LuaToolExecutor(std::unique_ptr<LuaToolFile> file) : file_(std::move(file)) {}

  std::unique_ptr<tools::PendingCall> start(const tools::CallContext& ctx, tools::CallSink& sink,
                                            tools::CallResult& failed) const override {
    const size_t worker = ctx.worker != nullptr ? ctx.worker->index : 0;
    std::string error;
    LuaState* state = file_->states().get(worker, &error);
    if (state == nullptr) {
      failed.status = tools::CallStatus::Unavailable;
      failed.content =
          "its Lua state cannot be built on worker " + std::to_string(worker) + ": " + error;
      return nullptr;
    }
    return LuaToolCall::start(LuaToolCall::Tool{file_->tool(), file_->timeout()}, *state, ctx, sink,
                              failed);
  }

 private:
  std::unique_ptr<LuaToolFile> file_;
};

// An input_schema the file declared that sluice cannot check: the error points at the file
// (tools.NAME.file), not at the entry, which has no input_schema of its own.
[[noreturn]] void throw_file_schema_error(const config::ToolSpec& spec,
                                          const config::ConfigError& error) {
  const std::string entry_key = "tools." + spec.name + ".";
  std::string what = error.what();
  const std::string& key = error.key_path();
  if (size_t at = what.find(key + ": "); at != std::string::npos && !key.empty()) {
    // "<mark>: tools.t.input_schema.required: expected ..." → "input_schema.required: ..."
    what = (key.starts_with(entry_key) ? key.substr(entry_key.size()) : key) +
           what.substr(at + key.size());
  }
  const config::SourceMark& mark = spec.file_mark.line > 0 ? spec.file_mark : spec.mark;
  throw config::ConfigError(mark, entry_key + "file", "Lua plugin " + spec.file + ": " + what);
}

std::shared_ptr<tools::ToolSource> build_lua_tool(const tools::ToolBuildInputs& in) {
  std::unique_ptr<LuaToolFile> file = LuaToolFile::load(in.spec, in.config);
  std::string description = file->description();
  std::string input_schema = file->input_schema_json();
  try {
    return tools::single_tool_source(in.spec, std::move(description), std::move(input_schema),
                                     std::make_unique<LuaToolExecutor>(std::move(file)));
  } catch (const config::ConfigError& e) {
    if (!in.spec.input_schema_json.empty()) throw;  // the entry's own: its marks are right
    throw_file_schema_error(in.spec, e);
  }
}

const tools::ToolTypeRegistrar kRegisterLuaTool{"lua", &build_lua_tool};

}  // namespace
}  // namespace sluice::filters::lua
