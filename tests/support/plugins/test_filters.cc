// Test plugin written in C++ (the ABI header must work from C++ too; entry points extern "C").
// Filters:
//   picky    — create_config accepts only {level: ok}; anything else is refused with a message.
//   async    — {mode: resume|respond|fail|error|stop_nothing}: on_request waits on a host timer
//              (STOP) and then resumes / answers 403 / fails (500), or fails at once, or
//              returns STOP with nothing pending. Keeps per-request data freed in on_complete,
//              where it logs the final status and usage.
//              mode http ({mode: http, url: U}): GETs U with host->http_call, then resumes
//              with `x-http-status: <status>` on the response, or fails with the call's error.
//              mode count: increments "count:hits" in the shared dictionary and sets
//              `x-hits: <n>` on the response.
//   shout    — upper-cases every response body chunk (rewrite_response_body + replace_chunk)
//              and tells the upstream status it saw in `x-upstream-status`.
#include <sluice/plugin.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>

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

// ---- picky -----------------------------------------------------------------------------

sluice_status picky_create(const sluice_host_api* h, sluice_str json, void** out,
                           sluice_buf* error) {
  const std::string config = text(json);
  if (config.find("\"level\":\"ok\"") == std::string::npos) {
    h->buf_set(error, S("level must be \"ok\" (got " + config + ")"));
    return SLUICE_ERROR;
  }
  *out = new int(1);
  return SLUICE_OK;
}

void picky_destroy(void* config) {
  delete static_cast<int*>(config);
}

// ---- async -----------------------------------------------------------------------------

enum class Mode { Resume, Respond, Fail, Error, StopNothing, Http, Count };

struct AsyncConfig {
  Mode mode;
  std::string url;  // mode http
};

struct RequestData {
  std::string note = "allocated in on_request";
};

sluice_status async_create(const sluice_host_api* h, sluice_str json, void** out,
                           sluice_buf* error) {
  const std::string config = text(json);
  auto has = [&](const char* mode) {
    return config.find(std::string("\"mode\":\"") + mode + "\"") != std::string::npos;
  };
  static const std::pair<const char*, Mode> kModes[] = {
      {"resume", Mode::Resume}, {"respond", Mode::Respond},          {"fail", Mode::Fail},
      {"error", Mode::Error},   {"stop_nothing", Mode::StopNothing}, {"http", Mode::Http},
      {"count", Mode::Count}};
  const std::pair<const char*, Mode>* found = nullptr;
  for (const auto& m : kModes) {
    if (has(m.first)) found = &m;
  }
  if (found == nullptr) {
    h->buf_set(error, S("mode must be resume, respond, fail, error, stop_nothing, http or count"));
    return SLUICE_ERROR;
  }
  std::string url;
  if (const size_t at = config.find("\"url\":\""); at != std::string::npos) {
    url = config.substr(at + 7, config.find('"', at + 7) - (at + 7));
  }
  *out = new AsyncConfig{found->second, url};
  return SLUICE_OK;
}

void async_destroy(void* config) {
  delete static_cast<AsyncConfig*>(config);
}

void after_wait(void* user, sluice_request* req) {
  const auto* config = static_cast<const AsyncConfig*>(user);
  switch (config->mode) {
    case Mode::Resume:
      host->set_request_header(req, S("x-async-tag"), S("resumed"));
      host->set_response_header(req, S("x-async"), S("resumed"));
      break;
    case Mode::Respond:
      host->respond_error(req, 403, S("permission_error"), S("policy_blocked"),
                          S("blocked after a wait"));
      break;
    case Mode::Fail:
      host->fail(req, S("the policy service said no"));
      break;
    default:
      break;
  }
  host->resume(req);  // req may be gone after this: nothing below uses it
}

void after_http(void*, sluice_request* req, const sluice_http_response* response) {
  if (response->error.len > 0) {
    host->fail(req, S("policy service: " + text(response->error)));
  } else {
    host->set_response_header(req, S("x-http-status"), S(std::to_string(response->status)));
  }
  host->resume(req);
}

sluice_filter_result async_on_request(void* cfg, sluice_request* req, void** data) {
  auto* config = static_cast<AsyncConfig*>(cfg);
  *data = new RequestData();
  switch (config->mode) {
    case Mode::Error:
      host->fail(req, S("refusing on purpose"));
      return SLUICE_FILTER_ERROR;
    case Mode::StopNothing:
      return SLUICE_FILTER_STOP;
    case Mode::Http: {
      sluice_http_request call{};
      call.size = sizeof call;
      call.method = S("GET");
      call.url = S(config->url);
      call.timeout_ms = 2000;
      if (host->http_call(req, &call, &after_http, nullptr, nullptr) != SLUICE_OK) {
        host->fail(req, S(text(host->last_error(req))));
        return SLUICE_FILTER_ERROR;
      }
      return SLUICE_FILTER_STOP;
    }
    case Mode::Count: {
      double hits = 0;
      if (host->shared_incr(S("count:hits"), 1, 0, &hits) != SLUICE_OK) {
        host->fail(req, S("shared_incr failed"));
        return SLUICE_FILTER_ERROR;
      }
      host->set_response_header(req, S("x-hits"), S(std::to_string(static_cast<long>(hits))));
      return SLUICE_FILTER_CONTINUE;
    }
    default:
      if (host->timer(req, 30, &after_wait, config, nullptr) != SLUICE_OK) {
        host->fail(req, S(text(host->last_error(req))));
        return SLUICE_FILTER_ERROR;
      }
      return SLUICE_FILTER_STOP;
  }
}

void async_on_complete(void* cfg, sluice_request* req, void** data) {
  sluice_usage usage{};
  usage.size = sizeof usage;
  host->usage(req, &usage);
  char line[256];
  std::snprintf(line, sizeof line, "async on_complete: request %s status=%d input=%llu data=%s",
                text(host->request_id(req)).c_str(), host->response_status(req),
                static_cast<unsigned long long>(usage.input_tokens),
                *data ? static_cast<RequestData*>(*data)->note.c_str() : "none");
  host->log(SLUICE_LOG_INFO, S(line));
  delete static_cast<RequestData*>(*data);
  *data = nullptr;
}

// ---- shout -----------------------------------------------------------------------------

sluice_status shout_create(const sluice_host_api*, sluice_str, void** out, sluice_buf*) {
  *out = nullptr;
  return SLUICE_OK;
}

sluice_status shout_headers(void*, sluice_request* req, void**) {
  host->set_response_header(req, S("x-upstream-status"),
                            S(std::to_string(host->response_status(req))));
  return host->rewrite_response_body(req);
}

sluice_status shout_chunk(void*, sluice_request* req, void**, sluice_str chunk) {
  std::string upper = text(chunk);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return host->replace_chunk(req, S(upper));
}

}  // namespace

extern "C" SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* h,
                                                                 sluice_registry* reg) {
  host = h;
  sluice_filter_vtable picky{};
  picky.size = sizeof picky;
  picky.create_config = &picky_create;
  picky.destroy_config = &picky_destroy;

  sluice_filter_vtable async{};
  async.size = sizeof async;
  async.create_config = &async_create;
  async.destroy_config = &async_destroy;
  async.on_request = &async_on_request;
  async.on_complete = &async_on_complete;

  sluice_filter_vtable shout{};
  shout.size = sizeof shout;
  shout.create_config = &shout_create;
  shout.on_response_headers = &shout_headers;
  shout.on_response_chunk = &shout_chunk;

  // A tool or provider table without its required hooks is refused as invalid, not kept.
  sluice_tool_vtable tool{};
  tool.size = sizeof tool;
  if (h->register_tool(reg, S("later"), &tool) != SLUICE_INVALID) {
    h->registry_fail(reg, S("a tool without call should be invalid"));
    return SLUICE_ERROR;
  }
  sluice_provider_vtable provider{};
  provider.size = sizeof provider;
  if (h->register_provider(reg, S("hookless"), &provider) != SLUICE_INVALID) {
    h->registry_fail(reg, S("a provider without create_config/on_request should be invalid"));
    return SLUICE_ERROR;
  }
  if (h->register_filter(reg, S("picky"), &picky) != SLUICE_OK ||
      h->register_filter(reg, S("async"), &async) != SLUICE_OK ||
      h->register_filter(reg, S("shout"), &shout) != SLUICE_OK) {
    h->registry_fail(reg, S("register_filter failed"));
    return SLUICE_ERROR;
  }
  return SLUICE_OK;
}
