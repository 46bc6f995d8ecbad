#include "core/plugin/plugin_tool.h"

#include <string>

#include "core/config/node_reader.h"
#include "core/log/log.h"
#include "core/plugin/host_api.h"
#include "core/plugin/plugin_tool_call.h"

namespace sluice::plugin {

std::shared_ptr<const PluginTool> PluginTool::create(std::shared_ptr<PluginLibrary> library,
                                                     const ToolRegistration& registration,
                                                     const config::ToolSpec& spec) {
  std::shared_ptr<PluginTool> tool(new PluginTool());
  tool->library_ = std::move(library);
  tool->registration_ = &registration;
  if (registration.vtable.create_config != nullptr) {
    sluice_buf error;
    void* made = nullptr;
    const sluice_status status =
        registration.vtable.create_config(&host_api(), str(spec.config_json), &made, &error);
    if (status != SLUICE_OK) {
      throw config::ConfigError(spec.mark, "tools." + spec.name + ".config",
                                "plugin " + tool->library_->name() + " refused the config of " +
                                    "tool \"" + spec.name +
                                    "\": " + (error.text.empty() ? "no reason given" : error.text));
    }
    tool->config_ = made;
  }
  return tool;
}

PluginTool::~PluginTool() {
  if (registration_ != nullptr && registration_->vtable.destroy_config != nullptr) {
    registration_->vtable.destroy_config(config_);
  }
}

std::unique_ptr<tools::PendingCall> PluginToolExecutor::start(const tools::CallContext& ctx,
                                                              tools::CallSink& sink,
                                                              tools::CallResult& failed) const {
  if (ctx.worker == nullptr || ctx.worker->mailbox == nullptr) {
    // Nothing could hand the plugin's finish back to a loop: do not start what cannot end.
    failed = tools::CallResult{tools::CallStatus::Unavailable,
                               "tool " + std::string(ctx.tool) + " needs a worker to run on",
                               false,
                               {}};
    return nullptr;
  }
  auto* c = new sluice_tool_call();
  c->tool.assign(ctx.tool);
  c->arguments.assign(ctx.arguments.empty() ? std::string_view("{}") : ctx.arguments);
  c->agent.assign(ctx.agent);
  c->request_id.assign(ctx.request_id);
  c->deadline = ctx.deadline;
  c->worker_thread = std::this_thread::get_id();
  c->owner = tool_;
  c->worker = ctx.worker;
  c->mailbox = ctx.worker->mailbox->box();
  c->sink = &sink;
  auto pending = std::make_unique<PluginPendingCall>(c);
  c->pending = pending.get();
  ctx.worker->mailbox->expect();
  // The plugin may finish it right here (even from another thread): delivery waits for the
  // loop, so the sink is never called from inside start().
  tool_->vtable().call(tool_->config(), c);
  return pending;
}

std::shared_ptr<tools::ToolSource> make_plugin_tool_source(std::shared_ptr<PluginLibrary> library,
                                                           const ToolRegistration& registration,
                                                           const config::ToolSpec& spec) {
  std::string description = !spec.description.empty() ? spec.description : registration.description;
  std::string schema = !spec.input_schema_json.empty() ? spec.input_schema_json
                       : !registration.input_schema_json.empty()
                           ? registration.input_schema_json
                           : std::string(R"({"type":"object"})");
  auto tool = PluginTool::create(std::move(library), registration, spec);
  return tools::single_tool_source(spec, std::move(description), std::move(schema),
                                   std::make_unique<PluginToolExecutor>(std::move(tool)));
}

}  // namespace sluice::plugin
