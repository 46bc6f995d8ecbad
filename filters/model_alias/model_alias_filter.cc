// filters: - model_alias: {}
//
// Resolves the logical model a request names ("fast") to its group in `models:` and sets
// ctx.model_group; the router then picks a target of that group and splices the physical
// model name into the body per attempt (core/json/body_splice.h). Refuses:
//   404 invalid_request_error / model_not_found — no such group. The type is OpenAI's for
//       this case (what SDKs expect); DESIGN §5's not_found_error is the unknown-path reply.
//   403 permission_error / model_not_allowed — the agent's `models:` allow-list omits it.
// Without this filter in the chain, the model goes unchanged to default_provider.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config/node_reader.h"
#include "core/filter/filter.h"
#include "core/filter/registry.h"

namespace sluice::filters::model_alias {

namespace {

using filter::Endpoint;
using filter::RequestContext;
using filter::RequestStatus;

// The model name as quoted in an error message: a client may send a megabyte of "model";
// the reply carries at most the first 200 bytes, cut on a UTF-8 character boundary.
std::string quoted(std::string_view name) {
  constexpr size_t kMax = 200;
  std::string out = "\"";
  if (name.size() <= kMax) {
    out.append(name);
  } else {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    out.append(name.substr(0, cut)).append("...");
  }
  out.push_back('"');
  return out;
}

struct Group {
  const config::ModelGroup* group;
  size_t index;  // into an agent's allow bitmap
};

// What one agent with a `models:` list may use.
struct AllowList {
  std::vector<bool> allowed;  // by Group::index
  std::string names;          // "fast, quality", for the 403 message
};

class ModelAliasFilter final : public filter::Filter {
 public:
  ModelAliasFilter(const std::unordered_map<std::string, Group>& groups,
                   const std::unordered_map<const config::Agent*, AllowList>& allow)
      : groups_(groups), allow_(allow) {}

  RequestStatus on_request(RequestContext& ctx) override {
    if (!filter::goes_to_provider(ctx.endpoint)) return RequestStatus::Continue;
    if (!ctx.fields.has_model) {  // the session answers this first; kept as a safety net
      ctx.respond(400, "invalid_request_error", "", "Missing required parameter: \"model\".");
      return RequestStatus::Respond;
    }
    const std::string& model = ctx.fields.model;
    auto found = groups_.find(model);
    if (found == groups_.end()) {
      ctx.respond(
          404, "invalid_request_error", "model_not_found",
          "The model " + quoted(model) + " does not exist or you do not have access to it.");
      return RequestStatus::Respond;
    }
    if (ctx.agent != nullptr && !allowed(*ctx.agent, found->second)) {
      ctx.respond(403, "permission_error", "model_not_allowed", refusal(*ctx.agent, model));
      return RequestStatus::Respond;
    }
    ctx.model_group = found->second.group;
    return RequestStatus::Continue;
  }

 private:
  bool allowed(const config::Agent& agent, const Group& group) const {
    if (!agent.models) return true;  // no list: every model
    auto list = allow_.find(&agent);
    if (list != allow_.end()) return list->second.allowed[group.index];
    // An agent not from this snapshot's config (should not happen): read its list directly.
    for (const std::string& name : *agent.models) {
      if (name == group.group->name) return true;
    }
    return false;
  }

  std::string refusal(const config::Agent& agent, std::string_view model) const {
    std::string message =
        "Agent " + quoted(agent.name) + " is not allowed to use model " + quoted(model) + "; ";
    auto list = allow_.find(&agent);
    if (list == allow_.end() || list->second.names.empty()) {
      message += "it may not use any model.";
    } else {
      message += "its models are: " + list->second.names + ".";
    }
    return message;
  }

  const std::unordered_map<std::string, Group>& groups_;
  const std::unordered_map<const config::Agent*, AllowList>& allow_;
};

class ModelAliasFactory final : public filter::FilterFactory {
 public:
  explicit ModelAliasFactory(const config::Config& config) {
    size_t index = 0;
    for (const auto& [name, group] : config.models) groups_.emplace(name, Group{&group, index++});
    for (const auto& [name, agent] : config.agents) {
      if (!agent.models) continue;
      AllowList& list = allow_[&agent];
      list.allowed.assign(groups_.size(), false);
      for (const std::string& model : *agent.models) {
        auto found = groups_.find(model);
        if (found == groups_.end()) continue;  // the loader reports unknown names
        if (list.allowed[found->second.index]) continue;
        list.allowed[found->second.index] = true;
        if (!list.names.empty()) list.names += ", ";
        list.names += model;
      }
    }
    filter_ = std::make_unique<ModelAliasFilter>(groups_, allow_);
  }

  std::string_view name() const override { return "model_alias"; }
  // Stateless per request: one shared instance.
  filter::Filter* create(RequestContext&) const override { return filter_.get(); }

 private:
  // Pointers into the Config the snapshot pins: valid as long as this factory.
  std::unordered_map<std::string, Group> groups_;
  std::unordered_map<const config::Agent*, AllowList> allow_;
  std::unique_ptr<ModelAliasFilter> filter_;
};

std::unique_ptr<filter::FilterFactory> build_model_alias(config::NodeReader& reader,
                                                         const config::Config& config) {
  reader.finish();  // no settings: the mapping is `models:`
  if (config.models.empty()) {
    reader.fail_here(
        "model_alias is in the filter chain but no models are configured, so every request "
        "would get 404: add models, or remove model_alias to send requests to "
        "default_provider unchanged");
  }
  return std::make_unique<ModelAliasFactory>(config);
}

const filter::FilterRegistrar kRegisterModelAlias{"model_alias", &build_model_alias};

}  // namespace

}  // namespace sluice::filters::model_alias
