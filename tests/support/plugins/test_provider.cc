// A provider type for the tests of core's translation machinery (not a real API): `relay`
// sends the OpenAI chat request on unchanged (model replaced) and hands the answer back
// unchanged, reporting usage numbers no scanner could read in the bytes (input 11, output 7,
// cached 2, cache writes 3 for a whole answer; 5/9 for a stream) — so a test can tell that
// the translation's usage is what sluice charged. `config: {mode: ...}` makes it misbehave:
//   invalid_request — on_request refuses the request (INVALID, naming a field)
//   fail_request    — on_request fails (ERROR)
//   fail_response   — on_response fails
//   fail_event      — the second stream event fails
//   overloaded      — every whole answer becomes a 529-like 503 (status mapping)
#include <sluice/plugin.h>

#include <cstring>
#include <string>
#include <string_view>

namespace {

const sluice_host_api* g_host = nullptr;

std::string_view sv(sluice_str s) {
  return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.len);
}
sluice_str ss(std::string_view s) {
  return sluice_str{s.data(), s.size()};
}

struct Config {
  std::string mode;
};

struct Attempt {
  int events = 0;
};

sluice_status create_config(const sluice_host_api*, sluice_str json, void** out,
                            sluice_buf* error) {
  auto* c = new Config;
  const std::string_view j = sv(json);
  const size_t at = j.find("\"mode\":\"");
  if (at != std::string_view::npos) {
    const size_t begin = at + 8;
    c->mode.assign(j.substr(begin, j.find('"', begin) - begin));
  }
  if (c->mode == "refuse_config") {
    g_host->buf_set(error, ss("mode refuse_config refuses every provider"));
    delete c;
    return SLUICE_ERROR;
  }
  *out = c;
  return SLUICE_OK;
}

void destroy_config(void* config) {
  delete static_cast<Config*>(config);
}

// The client's body with "model" set to the target's (the tests' bodies name it once).
std::string with_model(std::string_view body, std::string_view model) {
  std::string out(body);
  const size_t key = out.find("\"model\"");
  if (key == std::string::npos) return out;
  const size_t open = out.find('"', out.find(':', key) + 1);
  const size_t close = out.find('"', open + 1);
  out.replace(open + 1, close - open - 1, model);
  return out;
}

sluice_translate_result on_request(void* config, sluice_translation* t, void** data) {
  const auto& c = *static_cast<Config*>(config);
  *data = new Attempt;
  if (c.mode == "invalid_request") {
    g_host->translation_fail(t, ss("messages[0].content: relay cannot carry this"));
    return SLUICE_TRANSLATE_INVALID;
  }
  if (c.mode == "fail_request") {
    g_host->translation_fail(t, ss("on_request broke"));
    return SLUICE_TRANSLATE_ERROR;
  }
  g_host->translation_set_path(t, ss("/chat/completions"));
  g_host->translation_add_header(t, ss("x-relay"), g_host->translation_model(t));
  const std::string body =
      with_model(sv(g_host->translation_body(t)), sv(g_host->translation_model(t)));
  g_host->translation_set_body(t, ss(body));
  return SLUICE_TRANSLATE_OK;
}

void report(sluice_translation* t, uint64_t in, uint64_t out, uint64_t cached, uint64_t write) {
  sluice_usage u;
  std::memset(&u, 0, sizeof u);
  u.size = sizeof u;
  u.input_tokens = in;
  u.output_tokens = out;
  u.cached_tokens = cached;
  u.cache_write_tokens = write;
  g_host->translation_set_usage(t, &u);
}

sluice_translate_result on_response(void* config, sluice_translation* t, void**, int32_t status,
                                    sluice_str body) {
  const auto& c = *static_cast<Config*>(config);
  if (c.mode == "fail_response") {
    g_host->translation_fail(t, ss("the answer made no sense"));
    return SLUICE_TRANSLATE_ERROR;
  }
  if (c.mode == "overloaded") {
    g_host->translation_set_status(t, 503);
    g_host->translation_emit(t, ss("{\"error\":{\"message\":\"overloaded\",\"type\":"
                                   "\"server_error\",\"param\":null,\"code\":\"overloaded\"}}"));
    return SLUICE_TRANSLATE_OK;
  }
  g_host->translation_emit(t, body);
  if (status == 200) report(t, 11, 7, 2, 3);
  return SLUICE_TRANSLATE_OK;
}

sluice_translate_result on_stream_event(void* config, sluice_translation* t, void** data,
                                        sluice_str, sluice_str payload) {
  const auto& c = *static_cast<Config*>(config);
  auto* a = static_cast<Attempt*>(*data);
  if (c.mode == "fail_event" && ++a->events == 2) {
    g_host->translation_fail(t, ss("event 2 was unreadable"));
    return SLUICE_TRANSLATE_ERROR;
  }
  if (sv(payload) == "[DONE]") return SLUICE_TRANSLATE_OK;  // on_stream_end sends it
  std::string event = "data: ";
  event.append(sv(payload)).append("\n\n");
  g_host->translation_emit(t, ss(event));
  return SLUICE_TRANSLATE_OK;
}

sluice_translate_result on_stream_end(void*, sluice_translation* t, void**) {
  report(t, 5, 9, 0, 0);
  g_host->translation_emit(t, ss("data: [DONE]\n\n"));
  return SLUICE_TRANSLATE_OK;
}

void on_end(void*, void* data) {
  delete static_cast<Attempt*>(data);
}

}  // namespace

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

extern "C" SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* host,
                                                                 sluice_registry* reg) {
  g_host = host;
  sluice_provider_vtable vt;
  std::memset(&vt, 0, sizeof vt);
  vt.size = sizeof vt;
  vt.native_endpoints = 0;
  vt.translated_endpoints = SLUICE_ENDPOINT_CHAT_COMPLETIONS;
  vt.stream_framing = SLUICE_STREAM_SSE;
  vt.default_base_url = nullptr;
  vt.create_config = &create_config;
  vt.destroy_config = &destroy_config;
  vt.on_request = &on_request;
  vt.on_response = &on_response;
  vt.on_stream_event = &on_stream_event;
  vt.on_stream_end = &on_stream_end;
  vt.on_end = &on_end;
  return host->register_provider(reg, ss("relay"), &vt);
}
