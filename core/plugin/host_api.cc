// The sluice_host_api table. Each entry checks its handle's phase and arguments and answers
// with a status (never throws: this is the request path); a refused call records why, for
// host->last_error. Argument strings are copied before an entry returns.
#include "core/plugin/host_api.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <variant>

#include <simdjson.h>

#include "core/http/request.h"
#include "core/log/log.h"
#include "core/plugin/plugin_request.h"
#include "core/plugin/shared_dict.h"

namespace sluice::plugin {
namespace {

// ---- registry ----------------------------------------------------------------------------

sluice_status register_filter(sluice_registry* reg, sluice_str name,
                              const sluice_filter_vtable* vtable) {
  if (reg == nullptr || reg->filters == nullptr) return SLUICE_WRONG_PHASE;
  const std::string_view n = view(name);
  if (n.empty() || vtable == nullptr) return SLUICE_INVALID;
  // A table from an older (smaller) or newer (larger) header: copy what both know.
  if (vtable->size < offsetof(sluice_filter_vtable, create_config) + sizeof(void*) ||
      vtable->create_config == nullptr) {
    return SLUICE_INVALID;
  }
  for (const auto& existing : *reg->filters) {
    if (existing.name == n) return SLUICE_ERROR;
  }
  FilterRegistration registration;
  registration.name.assign(n);
  std::memset(&registration.vtable, 0, sizeof registration.vtable);
  std::memcpy(&registration.vtable, vtable,
              std::min<size_t>(vtable->size, sizeof registration.vtable));
  registration.vtable.size = sizeof registration.vtable;
  reg->filters->push_back(std::move(registration));
  return SLUICE_OK;
}

// A table from an older (smaller) or newer (larger) header: copy what both know, zero the rest.
template <typename Table>
Table normalised(const Table* from) {
  Table out;
  std::memset(&out, 0, sizeof out);
  std::memcpy(&out, from, std::min<size_t>(from->size, sizeof out));
  out.size = sizeof out;
  return out;
}

sluice_status register_provider(sluice_registry* reg, sluice_str type,
                                const sluice_provider_vtable* vtable) {
  if (reg == nullptr || reg->providers == nullptr) return SLUICE_WRONG_PHASE;
  const std::string_view t = view(type);
  if (t.empty() || vtable == nullptr ||
      vtable->size < offsetof(sluice_provider_vtable, on_request) + sizeof(void*) ||
      vtable->create_config == nullptr || vtable->on_request == nullptr) {
    return SLUICE_INVALID;
  }
  if (t == "openai" || t == "mock") return SLUICE_ERROR;
  for (const auto& existing : *reg->providers) {
    if (existing.type == t) return SLUICE_ERROR;
  }
  ProviderRegistration registration;
  registration.type.assign(t);
  registration.vtable = normalised(vtable);
  if (registration.vtable.default_base_url != nullptr) {
    registration.default_base_url = registration.vtable.default_base_url;
  }
  registration.vtable.default_base_url = nullptr;
  reg->providers->push_back(std::move(registration));
  return SLUICE_OK;
}

sluice_status register_client_api(sluice_registry* reg, const sluice_client_api_vtable* api) {
  if (reg == nullptr || reg->client_apis == nullptr) return SLUICE_WRONG_PHASE;
  if (api == nullptr || api->size < offsetof(sluice_client_api_vtable, on_end) + sizeof(void*) ||
      api->on_request == nullptr || api->endpoint != SLUICE_ENDPOINT_MESSAGES) {
    return SLUICE_INVALID;  // today only Anthropic's Messages API is a client API
  }
  for (const auto& existing : *reg->client_apis) {
    if (existing.vtable.endpoint == api->endpoint) return SLUICE_ERROR;
  }
  reg->client_apis->push_back(ClientApiRegistration{normalised(api)});
  return SLUICE_OK;
}

// A tool name as tools: keys spell it (and OpenAI function names allow, once '.' became '_').
bool is_tool_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool is_json_object(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return !parser.parse(text.data(), text.size()).get(doc) && doc.is_object();
}

// ABI 1.2 (1.0 and 1.1 answered SLUICE_UNSUPPORTED).
sluice_status register_tool(sluice_registry* reg, sluice_str name,
                            const sluice_tool_vtable* vtable) {
  if (reg == nullptr || reg->tools == nullptr) return SLUICE_WRONG_PHASE;
  const std::string_view n = view(name);
  if (!is_tool_name(n) || vtable == nullptr ||
      vtable->size < offsetof(sluice_tool_vtable, call) + sizeof(void*) ||
      vtable->call == nullptr) {
    return SLUICE_INVALID;
  }
  ToolRegistration registration;
  registration.name.assign(n);
  registration.vtable = normalised(vtable);
  if (registration.vtable.description != nullptr) {
    registration.description = registration.vtable.description;
  }
  if (registration.vtable.input_schema != nullptr) {
    registration.input_schema_json = registration.vtable.input_schema;
    if (!is_json_object(registration.input_schema_json)) return SLUICE_INVALID;
  }
  // The strings may live in the plugin's memory: only the copies are used.
  registration.vtable.description = nullptr;
  registration.vtable.input_schema = nullptr;
  for (const auto& existing : *reg->tools) {
    if (existing.name == n) return SLUICE_ERROR;
  }
  reg->tools->push_back(std::move(registration));
  return SLUICE_OK;
}

sluice_str config_dir(sluice_registry* reg) {
  return reg != nullptr ? str(reg->config_dir) : sluice_str{nullptr, 0};
}

sluice_str plugin_config(sluice_registry* reg) {
  return reg != nullptr ? str(reg->config_json) : str("null");
}
sluice_str plugin_name(sluice_registry* reg) {
  return reg != nullptr ? str(reg->plugin_name) : sluice_str{nullptr, 0};
}
void registry_fail(sluice_registry* reg, sluice_str message) {
  if (reg != nullptr) reg->error.assign(view(message));
}

// ---- buffers, log ------------------------------------------------------------------------

void buf_set(sluice_buf* buf, sluice_str text) {
  if (buf != nullptr) buf->text.assign(view(text));
}

void log_line(sluice_log_level level, sluice_str message) {
  const std::string line = "plugin: " + std::string(view(message));
  switch (level) {
    case SLUICE_LOG_DEBUG:
      log::debug(line);
      return;
    case SLUICE_LOG_INFO:
      log::info(line);
      return;
    case SLUICE_LOG_WARN:
      log::warn(line);
      return;
    default:
      log::error(line);
  }
}

// ---- request info ------------------------------------------------------------------------

PluginRequest& R(sluice_request* req) {
  return *PluginRequest::from(req);
}

sluice_str request_id(sluice_request* req) {
  return str(R(req).ctx().request_id);
}
sluice_str agent(sluice_request* req) {
  const auto* a = R(req).ctx().agent;
  return a != nullptr ? str(a->name) : sluice_str{nullptr, 0};
}
sluice_str model(sluice_request* req) {
  return str(R(req).ctx().fields.model);
}
sluice_str endpoint(sluice_request* req) {
  return str(filter::to_string(R(req).ctx().endpoint));
}
sluice_str method(sluice_request* req) {
  const auto* r = R(req).ctx().request;
  return r != nullptr ? str(r->method()) : sluice_str{nullptr, 0};
}
sluice_str path(sluice_request* req) {
  const auto* r = R(req).ctx().request;
  return r != nullptr ? str(r->target()) : sluice_str{nullptr, 0};
}

// ---- request headers and body ------------------------------------------------------------

bool edits_request(const PluginRequest& r) {
  return r.phase() == Phase::Request || r.phase() == Phase::Stopped;
}

sluice_status wrong_phase(PluginRequest& r, const char* what, const char* allowed) {
  return r.error(SLUICE_WRONG_PHASE,
                 std::string(what) + ": only " + allowed + ", not in " + to_string(r.phase()));
}

sluice_status check_header(PluginRequest& r, const char* what, std::string_view name,
                           std::string_view value) {
  if (!http::valid_header_name(name)) {
    return r.error(SLUICE_INVALID,
                   std::string(what) + ": invalid header name \"" + std::string(name) + "\"");
  }
  if (!http::valid_header_value(value)) {
    return r.error(SLUICE_INVALID, std::string(what) + ": header value has CR, LF or NUL (" +
                                       std::string(name) + ")");
  }
  return SLUICE_OK;
}

sluice_status request_header(sluice_request* req, sluice_str name, sluice_str* value) {
  PluginRequest& r = R(req);
  if (value != nullptr) *value = sluice_str{nullptr, 0};
  const auto* request = r.ctx().request;
  if (request == nullptr) return SLUICE_NOT_FOUND;
  auto found = request->header(view(name));
  if (!found) return SLUICE_NOT_FOUND;
  if (value != nullptr) *value = str(*found);
  return SLUICE_OK;
}

sluice_status set_request_header(sluice_request* req, sluice_str name, sluice_str value) {
  PluginRequest& r = R(req);
  if (!edits_request(r))
    return wrong_phase(r, "set_request_header", "in on_request or while stopped");
  if (auto s = check_header(r, "set_request_header", view(name), view(value))) return s;
  if (r.ctx().request == nullptr) return r.error(SLUICE_UNAVAILABLE, "no request");
  r.ctx().request->set_header(view(name), view(value));
  return SLUICE_OK;
}

sluice_status remove_request_header(sluice_request* req, sluice_str name) {
  PluginRequest& r = R(req);
  if (!edits_request(r))
    return wrong_phase(r, "remove_request_header", "in on_request or while stopped");
  if (r.ctx().request == nullptr) return r.error(SLUICE_UNAVAILABLE, "no request");
  r.ctx().request->remove_header(view(name));
  return SLUICE_OK;
}

sluice_status request_body(sluice_request* req, sluice_str* body) {
  PluginRequest& r = R(req);
  const auto* request = r.ctx().request;
  *body = request != nullptr ? str(request->body) : sluice_str{nullptr, 0};
  return SLUICE_OK;
}

sluice_status set_request_body(sluice_request* req, sluice_str body) {
  PluginRequest& r = R(req);
  if (!edits_request(r))
    return wrong_phase(r, "set_request_body", "in on_request or while stopped");
  std::string why;
  if (!r.ctx().replace_request_body(std::string(view(body)), &why)) {
    return r.error(SLUICE_INVALID, "set_request_body: " + why);
  }
  return SLUICE_OK;
}

// ---- response ----------------------------------------------------------------------------

int32_t response_status(sluice_request* req) {
  PluginRequest& r = R(req);
  return r.ctx().response_status != 0 ? r.ctx().response_status : r.upstream_status();
}

sluice_status response_header(sluice_request* req, sluice_str name, sluice_str* value) {
  PluginRequest& r = R(req);
  if (value != nullptr) *value = sluice_str{nullptr, 0};
  if (r.phase() != Phase::ResponseHeaders)
    return wrong_phase(r, "response_header", "in on_response_headers");
  auto found = r.ctx().upstream_response_header(view(name));
  if (!found) return SLUICE_NOT_FOUND;
  if (value != nullptr) *value = str(*found);
  return SLUICE_OK;
}

bool edits_response_head(const PluginRequest& r) {
  return edits_request(r) || r.phase() == Phase::ResponseHeaders;
}

sluice_status set_response_header(sluice_request* req, sluice_str name, sluice_str value) {
  PluginRequest& r = R(req);
  if (!edits_response_head(r))
    return wrong_phase(r, "set_response_header", "in on_request or on_response_headers");
  if (auto s = check_header(r, "set_response_header", view(name), view(value))) return s;
  r.ctx().set_response_header(view(name), view(value));
  return SLUICE_OK;
}

sluice_status remove_response_header(sluice_request* req, sluice_str name) {
  PluginRequest& r = R(req);
  if (!edits_response_head(r))
    return wrong_phase(r, "remove_response_header", "in on_request or on_response_headers");
  if (!http::valid_header_name(view(name)))
    return r.error(SLUICE_INVALID, "remove_response_header: invalid header name");
  r.ctx().remove_response_header(view(name));
  return SLUICE_OK;
}

sluice_status rewrite_response_body(sluice_request* req) {
  PluginRequest& r = R(req);
  if (r.phase() != Phase::ResponseHeaders)
    return wrong_phase(r, "rewrite_response_body", "in on_response_headers");
  r.ctx().rewrite_response_body();
  return SLUICE_OK;
}

sluice_status replace_chunk(sluice_request* req, sluice_str chunk) {
  PluginRequest& r = R(req);
  if (r.phase() != Phase::ResponseChunk)
    return wrong_phase(r, "replace_chunk", "in on_response_chunk");
  if (!r.ctx().rewrites_response_body()) {
    return r.error(SLUICE_WRONG_PHASE,
                   "replace_chunk: call rewrite_response_body in on_response_headers first");
  }
  r.ctx().replace_response_chunk(std::string(view(chunk)));
  return SLUICE_OK;
}

// ---- ending or continuing the chain -------------------------------------------------------

sluice_status respond(sluice_request* req, int32_t status, sluice_str body) {
  PluginRequest& r = R(req);
  if (!edits_request(r)) return wrong_phase(r, "respond", "in on_request or while stopped");
  if (status < 200 || status > 599)
    return r.error(SLUICE_INVALID,
                   "respond: status " + std::to_string(status) + " not in 200..599");
  r.ctx().respond_json(status, std::string(view(body)));
  return SLUICE_OK;
}

sluice_status respond_error(sluice_request* req, int32_t status, sluice_str type, sluice_str code,
                            sluice_str message) {
  PluginRequest& r = R(req);
  if (!edits_request(r)) return wrong_phase(r, "respond_error", "in on_request or while stopped");
  if (status < 200 || status > 599) {
    return r.error(SLUICE_INVALID,
                   "respond_error: status " + std::to_string(status) + " not in 200..599");
  }
  r.ctx().respond(status, view(type), view(code), std::string(view(message)));
  return SLUICE_OK;
}

void fail(sluice_request* req, sluice_str message) {
  R(req).set_failure(view(message));
}

sluice_status resume(sluice_request* req) {
  return R(req).resume();
}

sluice_str last_error(sluice_request* req) {
  return str(R(req).last_error());
}

// ---- async -------------------------------------------------------------------------------

sluice_status http_call(sluice_request* req, const sluice_http_request* request,
                        sluice_http_callback done, void* user, sluice_async** out) {
  PluginRequest& r = R(req);
  if (request == nullptr || request->size < sizeof(sluice_http_request)) {
    return r.error(SLUICE_INVALID, "http_call: request missing or its size too small");
  }
  return r.start_http_call(*request, done, user, out);
}

sluice_status timer(sluice_request* req, uint64_t delay_ms, sluice_timer_callback done, void* user,
                    sluice_async** out) {
  return R(req).start_timer(delay_ms, done, user, out);
}

void cancel(sluice_request* req, sluice_async* op) {
  R(req).cancel(op);
}

// ---- shared dictionary -------------------------------------------------------------------

std::optional<double> ttl_of(double ttl_seconds) {
  return ttl_seconds > 0 ? std::optional<double>(ttl_seconds) : std::nullopt;
}

sluice_status shared_get(sluice_str key, sluice_value* value, char* buf, size_t cap) {
  if (value == nullptr) return SLUICE_INVALID;
  *value = sluice_value{};
  auto found = SharedDict::process().get(view(key));
  if (!found) return SLUICE_NOT_FOUND;
  if (const double* n = std::get_if<double>(&*found)) {
    value->type = SLUICE_VALUE_NUMBER;
    value->number = *n;
  } else if (const bool* b = std::get_if<bool>(&*found)) {
    value->type = SLUICE_VALUE_BOOL;
    value->boolean = *b ? 1 : 0;
  } else {
    const std::string& s = std::get<std::string>(*found);
    value->type = SLUICE_VALUE_STRING;
    const size_t n = std::min(cap, s.size());
    // Pointer + length, as every sluice_str (plugin.h): no NUL terminator is promised.
    if (n > 0 && buf != nullptr)
      std::memcpy(buf, s.data(), n);  // NOLINT(bugprone-not-null-terminated-result)
    value->str = sluice_str{buf, s.size()};
    if (s.size() > cap) return SLUICE_TRUNCATED;
  }
  return SLUICE_OK;
}

sluice_status shared_set(sluice_str key, const sluice_value* value, double ttl_seconds) {
  if (value == nullptr) return SLUICE_INVALID;
  SharedValue v;
  switch (value->type) {
    case SLUICE_VALUE_NUMBER:
      v = value->number;
      break;
    case SLUICE_VALUE_BOOL:
      v = value->boolean != 0;
      break;
    case SLUICE_VALUE_STRING:
      v = std::string(view(value->str));
      break;
    default:
      return SLUICE_INVALID;
  }
  std::string why;
  return SharedDict::process().set(view(key), std::move(v), ttl_of(ttl_seconds), &why)
             ? SLUICE_OK
             : SLUICE_ERROR;
}

sluice_status shared_incr(sluice_str key, double by, double ttl_seconds, double* result) {
  std::string why;
  auto v = SharedDict::process().incr(view(key), by, ttl_of(ttl_seconds), &why);
  if (!v) return SLUICE_INVALID;
  if (result != nullptr) *result = *v;
  return SLUICE_OK;
}

sluice_status shared_delete(sluice_str key) {
  return SharedDict::process().remove(view(key)) ? SLUICE_OK : SLUICE_NOT_FOUND;
}

// ---- on_complete -------------------------------------------------------------------------

sluice_status usage(sluice_request* req, sluice_usage* out) {
  if (out == nullptr || out->size < offsetof(sluice_usage, input_tokens)) return SLUICE_INVALID;
  const auto& u = R(req).ctx().usage;
  sluice_usage full{};
  full.size = sizeof full;
  full.input_tokens = u.input_tokens;
  full.output_tokens = u.output_tokens;
  full.cached_tokens = u.cached_input_tokens;
  full.cache_write_tokens = u.cache_write_tokens;
  full.estimated = u.source == usage::Usage::Source::Estimated ? 1 : 0;
  // Fill what the caller's (possibly older, smaller) struct has room for.
  const uint32_t size = out->size;
  std::memcpy(reinterpret_cast<char*>(out) + sizeof(uint32_t),
              reinterpret_cast<const char*>(&full) + sizeof(uint32_t),
              std::min<size_t>(size, sizeof full) - sizeof(uint32_t));
  return SLUICE_OK;
}

double cost_usd(sluice_request* req) {
  return R(req).ctx().cost_usd;
}

uint64_t duration_ms(sluice_request* req) {
  const auto started = R(req).ctx().started_at;
  if (started == std::chrono::steady_clock::time_point{}) return 0;
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - started)
                                   .count());
}

// ABI 1.2 (reserved before, with placeholder types): see model_call.h.
sluice_status call_model(sluice_request* req, const sluice_model_request* request,
                         sluice_model_callback done, void* user) {
  PluginRequest& r = R(req);
  if (request == nullptr) return r.error(SLUICE_INVALID, "call_model: no request");
  return r.start_model_call(*request, done, user);
}

sluice_host_api make_table() {
  sluice_host_api t{};
  t.size = sizeof t;
  t.abi_major = SLUICE_PLUGIN_ABI_VERSION_MAJOR;
  t.abi_minor = SLUICE_PLUGIN_ABI_VERSION_MINOR;
  t.register_filter = &register_filter;
  t.register_provider = &register_provider;
  t.register_tool = &register_tool;
  t.plugin_config = &plugin_config;
  t.plugin_name = &plugin_name;
  t.registry_fail = &registry_fail;
  t.buf_set = &buf_set;
  t.log = &log_line;
  t.request_id = &request_id;
  t.agent = &agent;
  t.model = &model;
  t.endpoint = &endpoint;
  t.method = &method;
  t.path = &path;
  t.request_header = &request_header;
  t.set_request_header = &set_request_header;
  t.remove_request_header = &remove_request_header;
  t.request_body = &request_body;
  t.set_request_body = &set_request_body;
  t.response_status = &response_status;
  t.response_header = &response_header;
  t.set_response_header = &set_response_header;
  t.remove_response_header = &remove_response_header;
  t.rewrite_response_body = &rewrite_response_body;
  t.replace_chunk = &replace_chunk;
  t.respond = &respond;
  t.respond_error = &respond_error;
  t.fail = &fail;
  t.resume = &resume;
  t.last_error = &last_error;
  t.http_call = &http_call;
  t.timer = &timer;
  t.cancel = &cancel;
  t.shared_get = &shared_get;
  t.shared_set = &shared_set;
  t.shared_incr = &shared_incr;
  t.shared_delete = &shared_delete;
  t.usage = &usage;
  t.cost_usd = &cost_usd;
  t.duration_ms = &duration_ms;
  t.call_model = &call_model;
  t.register_client_api = &register_client_api;
  fill_translation_api(t);
  t.config_dir = &config_dir;
  fill_tool_api(t);
  return t;
}

}  // namespace

const sluice_host_api& host_api() {
  static const sluice_host_api table = make_table();
  return table;
}

}  // namespace sluice::plugin
