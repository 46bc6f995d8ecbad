// filters: - plugin: {name: FILTER, config: {...}}
// A filter a shared-object plugin registered (DESIGN §9 "Shared objects"): the builder loads
// the config's plugins (core/plugin/plugin_set.h), finds FILTER among what they registered and
// has the plugin build its per-config object from `config` (as JSON); the per-request filter
// bridges filter::Filter's phases to the plugin's C hooks through the host API.
#include <memory>
#include <string>

#include "core/config/yaml_json.h"
#include "core/filter/registry.h"
#include "core/plugin/bound_filter.h"
#include "core/plugin/plugin_request.h"
#include "core/plugin/plugin_set.h"

namespace sluice::filters::plugin_host {
namespace {

using plugin::Hook;
using plugin::Phase;
using plugin::PluginRequest;

class PluginFilter final : public filter::Filter {
 public:
  PluginFilter(filter::RequestContext& ctx, const plugin::BoundFilter& bound)
      : bound_(bound), req_(ctx, bound) {}

  filter::RequestStatus on_request(filter::RequestContext& ctx) override {
    const auto& vt = bound_.vtable();
    if (vt.on_request == nullptr) return filter::RequestStatus::Continue;
    req_.set_phase(Phase::Request);
    const bool had_reply = ctx.has_local_reply();
    const sluice_filter_result result =
        vt.on_request(bound_.config(), req_.handle(), req_.data_slot());
    switch (result) {
      case SLUICE_FILTER_CONTINUE:
        if (!had_reply && ctx.has_local_reply()) {
          return fail(ctx, "called respond but returned CONTINUE (return SLUICE_FILTER_RESPOND)");
        }
        req_.set_phase(Phase::Idle);
        req_.clear_failure();
        return filter::RequestStatus::Continue;
      case SLUICE_FILTER_STOP:
        // Nothing pending means nothing will ever call resume: the request would hang.
        if (!req_.has_pending()) {
          return fail(ctx,
                      "returned STOP with no timer or http_call pending (nothing could "
                      "resume the request)");
        }
        req_.set_phase(Phase::Stopped);
        return filter::RequestStatus::Stop;
      case SLUICE_FILTER_RESPOND:
        if (!ctx.has_local_reply()) return fail(ctx, "returned RESPOND without calling respond");
        req_.cancel_all();
        req_.set_phase(Phase::Idle);
        return filter::RequestStatus::Respond;
      case SLUICE_FILTER_ERROR:
        return fail(ctx, "returned SLUICE_FILTER_ERROR");
      default:
        return fail(ctx, "returned an unknown result " + std::to_string(result));
    }
  }

  void on_response_headers(filter::RequestContext& ctx, int status) override {
    const auto& vt = bound_.vtable();
    if (vt.on_response_headers == nullptr) return;
    req_.set_phase(Phase::ResponseHeaders);
    req_.set_upstream_status(status);
    const sluice_status s =
        vt.on_response_headers(bound_.config(), req_.handle(), req_.data_slot());
    req_.set_phase(Phase::Idle);
    if (s != SLUICE_OK) req_.record_hook_error(Hook::OnResponseHeaders, status_text(s));
  }

  void on_response_chunk(filter::RequestContext& ctx, std::string_view chunk) override {
    const auto& vt = bound_.vtable();
    if (vt.on_response_chunk == nullptr) return;
    req_.set_phase(Phase::ResponseChunk);
    const sluice_status s = vt.on_response_chunk(bound_.config(), req_.handle(), req_.data_slot(),
                                                 sluice_str{chunk.data(), chunk.size()});
    req_.set_phase(Phase::Idle);
    if (s != SLUICE_OK) req_.record_hook_error(Hook::OnResponseChunk, status_text(s));
  }

  // The request ended (answered, refused, or the client left — then a stopped request is
  // cancelled): no async callback may run from here on.
  void on_complete(filter::RequestContext&) override {
    req_.cancel_all();
    req_.set_phase(Phase::Complete);
  }

  // The plugin's on_complete runs here, where usage, cost and status are final.
  void on_log(filter::RequestContext&) override {
    const auto& vt = bound_.vtable();
    req_.set_phase(Phase::Complete);
    if (vt.on_complete != nullptr) vt.on_complete(bound_.config(), req_.handle(), req_.data_slot());
  }

 private:
  static std::string status_text(sluice_status s) { return "returned status " + std::to_string(s); }

  filter::RequestStatus fail(filter::RequestContext& ctx, const std::string& why) {
    req_.cancel_all();
    req_.respond_plugin_error(Hook::OnRequest, why);
    req_.set_phase(Phase::Idle);
    req_.clear_failure();
    return filter::RequestStatus::Respond;
  }

  const plugin::BoundFilter& bound_;
  PluginRequest req_;
};

class PluginFilterFactory final : public filter::FilterFactory {
 public:
  PluginFilterFactory(std::shared_ptr<const plugin::PluginSet> plugins,
                      std::unique_ptr<plugin::BoundFilter> bound)
      : plugins_(std::move(plugins)), bound_(std::move(bound)) {}
  std::string_view name() const override { return "plugin"; }
  filter::Filter* create(filter::RequestContext& ctx) const override {
    return ctx.arena_make<PluginFilter>(ctx, *bound_);
  }

 private:
  // Declared first, destroyed last: the plugins' libraries stay loaded until bound_'s
  // destroy_config ran. Holding the whole set keeps every plugin of this config loaded (its
  // init ran once) while the snapshot lives.
  std::shared_ptr<const plugin::PluginSet> plugins_;
  std::unique_ptr<plugin::BoundFilter> bound_;
};

std::string unknown_filter_message(const std::string& name, const plugin::PluginSet& plugins) {
  std::string message = "no plugin registers a filter named \"" + name + "\"";
  const std::vector<std::string> names = plugins.filter_names();
  if (auto guess = config::did_you_mean(name, names)) {
    message += " (did you mean \"" + *guess + "\"?)";
  }
  if (!names.empty()) {
    message += "; the loaded plugins register:";
    for (size_t i = 0; i < names.size(); ++i) message += (i ? ", " : " ") + names[i];
  } else if (plugins.libraries().empty()) {
    message +=
        "; no shared-object plugin is loaded: declare it under plugins:, e.g. "
        "plugins: {hello: {file: libsluice_hello_filter.so}}";
  } else {
    message += "; the loaded plugins register no filter";
  }
  return message;
}

std::unique_ptr<filter::FilterFactory> build_plugin(config::NodeReader& reader,
                                                    const config::Config& config) {
  std::optional<std::string> name = reader.string("name");
  const YAML::Node plugin_config = reader.raw("config");
  reader.finish();
  if (!name) reader.fail_here("missing required key \"name\" (the filter a plugin registers)");
  if (name->empty()) reader.fail("name", "must not be empty");

  // Loaded (or shared with the live libraries of a previous load of the same files): throws
  // at the plugins: entry that failed.
  std::shared_ptr<const plugin::PluginSet> plugins = plugin::PluginSet::load(config);
  plugin::FoundFilter found = plugins->find_filter(*name);
  if (!found.library) reader.fail("name", unknown_filter_message(*name, *plugins));
  const config::SourceMark mark = reader.has("config") ? reader.mark_of("config") : reader.mark();
  auto bound =
      plugin::BoundFilter::create(std::move(found), config::yaml_to_json(plugin_config), mark,
                                  reader.has("config") ? reader.path_of("config") : reader.path());
  return std::make_unique<PluginFilterFactory>(std::move(plugins), std::move(bound));
}

const filter::FilterRegistrar kRegisterPlugin{"plugin", &build_plugin};

}  // namespace
}  // namespace sluice::filters::plugin_host
