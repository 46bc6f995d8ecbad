// Test plugin: tools (ABI 1.2) and a filter that calls a model.
// Tools (each tools: entry may carry {label: "..."}; any other config is refused):
//   t.echo      finishes at once with JSON: its arguments, agent, request id, name, label and
//               whether time was left.
//   t.text      finishes at once with the text "plain answer".
//   t.thread    finishes from a thread of its own after {delay_ms} (default 20) with the text
//               "from a thread".
//   t.fail      finishes at once with the error "it failed on purpose".
//   t.bad_json  finishes with "{not json" as JSON (sluice turns it into a tool error).
//   t.hang      never finishes by itself; its cancel hook finishes it and counts the cancel in
//               the shared dictionary key "t.hang.cancelled".
//   t.late      no cancel hook: finishes from a thread after {delay_ms} whatever happened.
//   t.model     calls a model as the call's agent: {endpoint, model, input}; finishes with
//               {"status":S,"dims":N,"error":"..."} from the model callback.
// Filter:
//   model_caller  on_request calls the model {config: {model: embed}} as the request's agent
//                 (host->call_model, STOP), then resumes with x-model-status: <status> (0 when
//                 none) and x-model-dims: <length of data[0].embedding>, or x-model-refused:
//                 <status> when call_model refused to start.
#include <sluice/plugin.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

namespace {

const sluice_host_api* host = nullptr;

sluice_str S(const char* s) {
  return sluice_str{s, std::strlen(s)};
}
sluice_str S(const std::string& s) {
  return sluice_str{s.data(), s.size()};
}
std::string text(sluice_str s) {
  return s.data ? std::string(s.data, s.len) : std::string();
}

// The JSON value after "key": in `json`, crudely (test input only): a number or a string.
std::string field(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\"";
  size_t at = json.find(needle);
  if (at == std::string::npos) return {};
  at = json.find(':', at + needle.size());
  if (at == std::string::npos) return {};
  ++at;
  while (at < json.size() && json[at] == ' ') ++at;
  if (at < json.size() && json[at] == '"') {
    const size_t end = json.find('"', at + 1);
    return json.substr(at + 1, end - at - 1);
  }
  size_t end = at;
  while (end < json.size() && json[end] != ',' && json[end] != '}' && json[end] != ']') ++end;
  return json.substr(at, end - at);
}

// Threads the tools started; joined in fini (a thread may still be returning from the finish
// call when sluice closes the library).
std::mutex threads_mutex;
std::vector<std::thread>* threads = nullptr;

void spawn(std::thread t) {
  std::lock_guard<std::mutex> lock(threads_mutex);
  if (threads == nullptr) threads = new std::vector<std::thread>();
  threads->push_back(std::move(t));
}

struct ToolConfig {
  std::string label;
};

sluice_status create_config(const sluice_host_api* h, sluice_str json, void** out,
                            sluice_buf* error) {
  const std::string j = text(json);
  auto* config = new ToolConfig();
  if (j != "null" && j.find("\"label\"") == std::string::npos) {
    h->buf_set(error, S("t: the only config key is label"));
    delete config;
    return SLUICE_ERROR;
  }
  config->label = field(j, "label");
  *out = config;
  return SLUICE_OK;
}

void destroy_config(void* config) {
  delete static_cast<ToolConfig*>(config);
}

int delay_of(sluice_tool_call* c, int fallback) {
  const std::string d = field(text(host->tool_call_arguments(c)), "delay_ms");
  return d.empty() ? fallback : std::atoi(d.c_str());
}

void echo(void* cfg, sluice_tool_call* c) {
  const auto* config = static_cast<const ToolConfig*>(cfg);
  std::string out = "{\"args\":" + text(host->tool_call_arguments(c)) + ",\"agent\":\"" +
                    text(host->tool_call_agent(c)) + "\",\"request_id\":\"" +
                    text(host->tool_call_request_id(c)) + "\",\"tool\":\"" +
                    text(host->tool_call_name(c)) + "\",\"label\":\"" + config->label +
                    "\",\"time_left\":" + (host->tool_call_remaining_ms(c) > 0 ? "true" : "false") +
                    "}";
  host->tool_finish_json(c, S(out));
}

void plain(void*, sluice_tool_call* c) {
  host->tool_finish_text(c, S("plain answer"));
}

void from_thread(void*, sluice_tool_call* c) {
  const int delay = delay_of(c, 20);
  spawn(std::thread([c, delay] {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    host->tool_finish_text(c, S("from a thread"));
  }));
}

void fail(void*, sluice_tool_call* c) {
  host->tool_finish_error(c, S("it failed on purpose"));
}

void bad_json(void*, sluice_tool_call* c) {
  host->tool_finish_json(c, S("{not json"));
}

void hang(void*, sluice_tool_call*) {}

void hang_cancel(void*, sluice_tool_call* c) {
  double n = 0;
  host->shared_incr(S("t.hang.cancelled"), 1, 0, &n);
  host->tool_finish_error(c, S("cancelled"));
}

void late(void*, sluice_tool_call* c) {
  const int delay = delay_of(c, 300);
  spawn(std::thread([c, delay] {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    host->tool_finish_text(c, S("late"));
  }));
}

struct ModelCall {
  sluice_tool_call* call;
};

std::string json_escaped(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(ch) >= 0x20) out.push_back(ch);
  }
  return out;
}

// Numbers in data[0].embedding, counted crudely: commas + 1 inside the first [...] after it.
int dims_of(const std::string& body) {
  size_t at = body.find("\"embedding\"");
  if (at == std::string::npos) return 0;
  at = body.find('[', at);
  const size_t end = body.find(']', at);
  if (at == std::string::npos || end == std::string::npos || end == at + 1) return 0;
  int n = 1;
  for (size_t i = at; i < end; ++i) n += body[i] == ',';
  return n;
}

void model_done(void* user, const sluice_model_response* r) {
  auto* m = static_cast<ModelCall*>(user);
  const std::string body = text(r->body);
  std::string message = text(r->error);
  if (message.empty()) message = field(body, "message");
  const std::string out = "{\"status\":" + std::to_string(r->status) +
                          ",\"dims\":" + std::to_string(dims_of(body)) + ",\"error\":\"" +
                          json_escaped(message) + "\"}";
  host->tool_finish_json(m->call, S(out));
  delete m;
}

void model(void*, sluice_tool_call* c) {
  const std::string args = text(host->tool_call_arguments(c));
  std::string endpoint = field(args, "endpoint");
  if (endpoint.empty()) endpoint = "embeddings";
  const std::string body =
      "{\"model\":\"" + field(args, "model") + "\",\"input\":[\"" + field(args, "input") + "\"]}";
  sluice_model_request request{};
  request.size = sizeof request;
  request.endpoint = S(endpoint);
  request.body = S(body);
  request.timeout_ms = 5000;
  auto* m = new ModelCall{c};
  const sluice_status s = host->tool_call_model(c, &request, &model_done, m);
  if (s != SLUICE_OK) {
    delete m;
    host->tool_finish_error(c, S("tool_call_model refused: status " + std::to_string(s)));
  }
}

sluice_status add(sluice_registry* reg, const char* name, void (*call)(void*, sluice_tool_call*),
                  void (*cancel)(void*, sluice_tool_call*) = nullptr) {
  sluice_tool_vtable t;
  std::memset(&t, 0, sizeof t);
  t.size = sizeof t;
  t.description = "a test tool";
  t.input_schema = "{\"type\":\"object\"}";
  t.create_config = &create_config;
  t.destroy_config = &destroy_config;
  t.call = call;
  t.cancel = cancel;
  return host->register_tool(reg, S(name), &t);
}

// ---- model_caller filter -----------------------------------------------------------------

struct FilterConfig {
  std::string model;
};

sluice_status filter_create(const sluice_host_api*, sluice_str json, void** out, sluice_buf*) {
  auto* config = new FilterConfig();
  config->model = field(text(json), "model");
  if (config->model.empty()) config->model = "embed";
  *out = config;
  return SLUICE_OK;
}

void filter_destroy(void* config) {
  delete static_cast<FilterConfig*>(config);
}

void filter_model_done(void* user, const sluice_model_response* r) {
  auto* req = static_cast<sluice_request*>(user);
  host->set_response_header(req, S("x-model-status"), S(std::to_string(r->status)));
  host->set_response_header(req, S("x-model-dims"), S(std::to_string(dims_of(text(r->body)))));
  host->resume(req);
}

sluice_filter_result filter_on_request(void* cfg, sluice_request* req, void**) {
  const auto* config = static_cast<const FilterConfig*>(cfg);
  const std::string body = "{\"model\":\"" + config->model + "\",\"input\":[\"filter\"]}";
  sluice_model_request request{};
  request.size = sizeof request;
  request.endpoint = S("embeddings");
  request.body = S(body);
  request.timeout_ms = 5000;
  const sluice_status s = host->call_model(req, &request, &filter_model_done, req);
  if (s != SLUICE_OK) {
    host->set_response_header(req, S("x-model-refused"), S(std::to_string(s)));
    return SLUICE_FILTER_CONTINUE;
  }
  return SLUICE_FILTER_STOP;
}

}  // namespace

extern "C" SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* h,
                                                                 sluice_registry* reg) {
  host = h;
  if (add(reg, "t.echo", &echo) || add(reg, "t.text", &plain) ||
      add(reg, "t.thread", &from_thread) || add(reg, "t.fail", &fail) ||
      add(reg, "t.bad_json", &bad_json) || add(reg, "t.hang", &hang, &hang_cancel) ||
      add(reg, "t.late", &late) || add(reg, "t.model", &model)) {
    h->registry_fail(reg, S("could not register the test tools"));
    return SLUICE_ERROR;
  }
  sluice_filter_vtable f;
  std::memset(&f, 0, sizeof f);
  f.size = sizeof f;
  f.create_config = &filter_create;
  f.destroy_config = &filter_destroy;
  f.on_request = &filter_on_request;
  return h->register_filter(reg, S("model_caller"), &f);
}

extern "C" SLUICE_PLUGIN_EXPORT void sluice_plugin_fini(void) {
  std::vector<std::thread>* done = nullptr;
  {
    std::lock_guard<std::mutex> lock(threads_mutex);
    done = threads;
    threads = nullptr;
  }
  if (done == nullptr) return;
  for (auto& t : *done) t.join();
  delete done;
}
