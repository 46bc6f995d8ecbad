#include "core/plugin/plugin_translation.h"

#include <cstring>

#include "core/config/node_reader.h"
#include "core/http/request.h"
#include "core/http/response_builder.h"
#include "core/plugin/host_api.h"

namespace sluice::plugin {
namespace {

using providers::TranslateStatus;

// The hooks of either table (a provider's and a client API's have the same signatures), and
// the first argument they take: the provider's config, or the client API's state.
struct Hooks {
  void* first = nullptr;
  sluice_translate_result (*on_request)(void*, sluice_translation*, void**) = nullptr;
  sluice_translate_result (*on_response)(void*, sluice_translation*, void**, int32_t,
                                         sluice_str) = nullptr;
  sluice_translate_result (*on_stream_event)(void*, sluice_translation*, void**, sluice_str,
                                             sluice_str) = nullptr;
  sluice_translate_result (*on_stream_end)(void*, sluice_translation*, void**) = nullptr;
  void (*on_end)(void*, void*) = nullptr;
};

template <typename Table>
Hooks hooks_of(const Table& table, void* first) {
  return Hooks{
      first,       table.on_request, table.on_response, table.on_stream_event, table.on_stream_end,
      table.on_end};
}

// One attempt through a plugin's table. on_end runs exactly once if on_request ran.
class PluginTranslation final : public providers::Translation {
 public:
  explicit PluginTranslation(Hooks hooks) : hooks_(hooks) {}
  ~PluginTranslation() override {
    if (started_ && hooks_.on_end != nullptr) {
      handle_.phase = sluice_translation::Phase::Closed;
      hooks_.on_end(hooks_.first, data_);
    }
  }

  TranslateStatus request(const providers::TranslateInput& in,
                          providers::TranslatedRequest& out) override {
    handle_.endpoint = endpoint_bit(in.endpoint);
    handle_.model.assign(in.model);
    handle_.request_id.assign(in.request_id);
    handle_.stream = in.stream;
    handle_.stream_usage = in.stream_usage;
    handle_.in = &in;
    handle_.request = &out;
    handle_.phase = sluice_translation::Phase::Request;
    started_ = true;
    const sluice_translate_result r = hooks_.on_request(hooks_.first, &handle_, &data_);
    handle_.phase = sluice_translation::Phase::Closed;
    handle_.in = nullptr;
    handle_.request = nullptr;
    return status_of(r, /*request=*/true);
  }

  TranslateStatus response(int& status, std::string_view body, std::string& out) override {
    if (hooks_.on_response == nullptr) {
      out.assign(body);  // a plugin without on_response passes answers through
      return TranslateStatus::Ok;
    }
    answer_phase(&out, &status);
    const sluice_translate_result r =
        hooks_.on_response(hooks_.first, &handle_, &data_, status, str(body));
    close_phase();
    return status_of(r, false);
  }

  TranslateStatus event(std::string_view name, std::string_view data, std::string& out) override {
    if (hooks_.on_stream_event == nullptr) {
      handle_.message = "the plugin cannot translate streams (no on_stream_event)";
      return TranslateStatus::Failed;
    }
    answer_phase(&out, nullptr);
    const sluice_translate_result r =
        hooks_.on_stream_event(hooks_.first, &handle_, &data_, str(name), str(data));
    close_phase();
    return status_of(r, false);
  }

  TranslateStatus end(std::string& out) override {
    if (hooks_.on_stream_end == nullptr) return TranslateStatus::Ok;
    answer_phase(&out, nullptr);
    const sluice_translate_result r = hooks_.on_stream_end(hooks_.first, &handle_, &data_);
    close_phase();
    return status_of(r, false);
  }

  const usage::Usage& usage() const override { return handle_.usage; }
  const std::string& message() const override { return handle_.message; }

 private:
  void answer_phase(std::string* out, int* status) {
    handle_.out = out;
    handle_.status = status;
    handle_.phase = sluice_translation::Phase::Answer;
  }
  void close_phase() {
    handle_.phase = sluice_translation::Phase::Closed;
    handle_.out = nullptr;
    handle_.status = nullptr;
  }
  TranslateStatus status_of(sluice_translate_result r, bool request) {
    if (r == SLUICE_TRANSLATE_OK) return TranslateStatus::Ok;
    if (r == SLUICE_TRANSLATE_INVALID && request) {
      if (handle_.message.empty()) handle_.message = "the request cannot be translated";
      return TranslateStatus::Invalid;
    }
    if (handle_.message.empty()) {
      handle_.message = "translation failed (result " + std::to_string(r) + ")";
    }
    return TranslateStatus::Failed;
  }

  Hooks hooks_;
  sluice_translation handle_;
  void* data_ = nullptr;
  bool started_ = false;
};

std::string provider_json(const config::Provider& provider) {
  std::string json = "{\"name\":\"";
  http::append_json_escaped(json, provider.name);
  json.append("\",\"type\":\"");
  http::append_json_escaped(json, provider.type);
  json.append("\",\"base_url\":\"");
  http::append_json_escaped(json, provider.base_url);
  json.append("\",\"api_key\":\"");
  http::append_json_escaped(json, provider.api_key);
  json.append("\",\"config\":").append(provider.config_json).append("}");
  return json;
}

}  // namespace

sluice_endpoint endpoint_bit(filter::Endpoint endpoint) {
  switch (endpoint) {
    case filter::Endpoint::ChatCompletions:
      return SLUICE_ENDPOINT_CHAT_COMPLETIONS;
    case filter::Endpoint::Completions:
      return SLUICE_ENDPOINT_COMPLETIONS;
    case filter::Endpoint::Embeddings:
      return SLUICE_ENDPOINT_EMBEDDINGS;
    case filter::Endpoint::Responses:
      return SLUICE_ENDPOINT_RESPONSES;
    case filter::Endpoint::Messages:
      return SLUICE_ENDPOINT_MESSAGES;
    case filter::Endpoint::Models:
    case filter::Endpoint::Mcp:
    case filter::Endpoint::ToolList:
    case filter::Endpoint::ToolCall:
    case filter::Endpoint::Unknown:
      break;
  }
  return 0;
}

PluginProviderCodec::PluginProviderCodec(std::shared_ptr<PluginLibrary> library,
                                         const ProviderRegistration& type,
                                         const config::Provider& provider)
    : library_(std::move(library)), type_(type), name_("plugin " + library_->name()) {
  sluice_buf error;
  const std::string json = provider_json(provider);
  const sluice_status st = type_.vtable.create_config(&host_api(), str(json), &config_, &error);
  if (st != SLUICE_OK) {
    std::string why = error.text.empty() ? "status " + std::to_string(st) : error.text;
    throw config::ConfigError(provider.mark, "providers." + provider.name,
                              name_ + " refused provider " + provider.name + ": " + why);
  }
}

PluginProviderCodec::~PluginProviderCodec() {
  if (type_.vtable.destroy_config != nullptr) type_.vtable.destroy_config(config_);
}

bool PluginProviderCodec::native(filter::Endpoint endpoint) const {
  return (type_.vtable.native_endpoints & endpoint_bit(endpoint)) != 0;
}

bool PluginProviderCodec::translates(filter::Endpoint endpoint) const {
  return (type_.vtable.translated_endpoints & endpoint_bit(endpoint)) != 0;
}

providers::StreamFraming PluginProviderCodec::framing() const {
  return type_.vtable.stream_framing == SLUICE_STREAM_NDJSON ? providers::StreamFraming::Ndjson
                                                             : providers::StreamFraming::Sse;
}

std::unique_ptr<providers::Translation> PluginProviderCodec::begin(unsigned) const {
  return std::make_unique<PluginTranslation>(hooks_of(type_.vtable, config_));
}

PluginClientApiCodec::PluginClientApiCodec(std::shared_ptr<PluginLibrary> library,
                                           const ClientApiRegistration& api)
    : library_(std::move(library)), api_(api), name_("plugin " + library_->name()) {}

std::unique_ptr<providers::Translation> PluginClientApiCodec::begin(unsigned) const {
  return std::make_unique<PluginTranslation>(hooks_of(api_.vtable, api_.vtable.state));
}

// ---- the host->translation_* entries ------------------------------------------------------

namespace {

using Phase = sluice_translation::Phase;

sluice_endpoint t_endpoint(sluice_translation* t) {
  return t != nullptr ? t->endpoint : 0;
}
sluice_str t_body(sluice_translation* t) {
  return t != nullptr && t->in != nullptr ? str(t->in->body) : sluice_str{nullptr, 0};
}
sluice_str t_model(sluice_translation* t) {
  return t != nullptr ? str(t->model) : sluice_str{nullptr, 0};
}
int32_t t_stream(sluice_translation* t) {
  return t != nullptr && t->stream ? 1 : 0;
}
int32_t t_stream_usage(sluice_translation* t) {
  return t != nullptr && t->stream_usage ? 1 : 0;
}
sluice_str t_request_id(sluice_translation* t) {
  return t != nullptr ? str(t->request_id) : sluice_str{nullptr, 0};
}

bool clean(std::string_view s) {
  return s.find_first_of("\r\n", 0) == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

sluice_status t_set_path(sluice_translation* t, sluice_str path) {
  if (t == nullptr || t->phase != Phase::Request) return SLUICE_WRONG_PHASE;
  const std::string_view p = view(path);
  if (p.empty() || p.front() != '/' || !clean(p) || p.find(' ') != std::string_view::npos) {
    return SLUICE_INVALID;
  }
  t->request->path.assign(p);
  return SLUICE_OK;
}

sluice_status t_add_header(sluice_translation* t, sluice_str name, sluice_str value) {
  if (t == nullptr || t->phase != Phase::Request) return SLUICE_WRONG_PHASE;
  if (!http::valid_header_name(view(name)) || !http::valid_header_value(view(value))) {
    return SLUICE_INVALID;
  }
  t->request->headers.emplace_back(std::string(view(name)), std::string(view(value)));
  return SLUICE_OK;
}

sluice_status t_set_body(sluice_translation* t, sluice_str body) {
  if (t == nullptr || t->phase != Phase::Request) return SLUICE_WRONG_PHASE;
  t->request->body.emplace(view(body));
  return SLUICE_OK;
}

sluice_status t_emit(sluice_translation* t, sluice_str bytes) {
  if (t == nullptr || t->phase != Phase::Answer) return SLUICE_WRONG_PHASE;
  t->out->append(view(bytes));
  return SLUICE_OK;
}

sluice_status t_set_status(sluice_translation* t, int32_t status) {
  if (t == nullptr || t->phase != Phase::Answer || t->status == nullptr) {
    return SLUICE_WRONG_PHASE;  // a stream's status went out with its head
  }
  if (status < 200 || status > 599) return SLUICE_INVALID;
  *t->status = status;
  return SLUICE_OK;
}

sluice_status t_set_usage(sluice_translation* t, const sluice_usage* u) {
  if (t == nullptr || t->phase != Phase::Answer) return SLUICE_WRONG_PHASE;
  if (u == nullptr || u->size < offsetof(sluice_usage, estimated)) return SLUICE_INVALID;
  sluice_usage full{};
  std::memcpy(&full, u, std::min<size_t>(u->size, sizeof full));
  usage::Usage& out = t->usage;
  out.input_tokens = full.input_tokens;
  out.output_tokens = full.output_tokens;
  out.cached_input_tokens = full.cached_tokens;
  out.cache_write_tokens = u->size >= offsetof(sluice_usage, cache_write_tokens) + sizeof(uint64_t)
                               ? full.cache_write_tokens
                               : 0;
  out.source = usage::Usage::Source::Reported;
  return SLUICE_OK;
}

void t_fail(sluice_translation* t, sluice_str message) {
  if (t != nullptr) t->message.assign(view(message));
}

}  // namespace

void fill_translation_api(sluice_host_api& table) {
  table.translation_endpoint = &t_endpoint;
  table.translation_body = &t_body;
  table.translation_model = &t_model;
  table.translation_stream = &t_stream;
  table.translation_stream_usage = &t_stream_usage;
  table.translation_request_id = &t_request_id;
  table.translation_set_path = &t_set_path;
  table.translation_add_header = &t_add_header;
  table.translation_set_body = &t_set_body;
  table.translation_emit = &t_emit;
  table.translation_set_status = &t_set_status;
  table.translation_set_usage = &t_set_usage;
  table.translation_fail = &t_fail;
}

}  // namespace sluice::plugin
