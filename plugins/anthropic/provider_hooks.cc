#include "anthropic/provider_hooks.h"

#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "anthropic/chat_to_messages_request.h"
#include "anthropic/host_calls.h"
#include "anthropic/messages_to_chat_response.h"
#include "anthropic/messages_to_chat_stream.h"
#include "anthropic/provider_config.h"

namespace anthropic {

namespace {

// One `type: anthropic` provider entry: made by create_config on the main thread, then only
// read, by every worker at once, until destroy_config.
struct Provider {
  const sluice_host_api* host;
  ProviderConfig config;
};

// One attempt at a translated endpoint (chat completions): made by on_request, freed by on_end.
// The native endpoint (/v1/messages) needs none — no response hook runs for it.
struct Attempt {
  int64_t created;                             // the answer's "created": when the attempt began
  std::optional<MessagesToChatStream> stream;  // made at the first stream event
  Usage last_usage;                            // what sluice was last told
};

sluice_status create_config(const sluice_host_api* host, sluice_str provider_json,
                            void** out_config, sluice_buf* error) {
  try {
    auto provider = std::make_unique<Provider>();
    provider->host = host;
    if (auto r = parse_provider_config(view(provider_json), provider->config); !r.is_ok()) {
      host->buf_set(error, str(r.message));
      return SLUICE_ERROR;
    }
    *out_config = provider.release();
    return SLUICE_OK;
  } catch (const std::exception& e) {
    host->buf_set(error, str(e.what()));
    return SLUICE_ERROR;
  }
}

void destroy_config(void* config) {
  delete static_cast<Provider*>(config);
}

// Path and headers, for both endpoints. Anthropic authenticates with x-api-key (not Bearer)
// and needs anthropic-version on every request.
sluice_translate_result set_head(const Provider& p, sluice_translation* t) {
  const sluice_host_api* host = p.host;
  if (host->translation_set_path(t, str("/messages")) != SLUICE_OK ||
      host->translation_add_header(t, str("anthropic-version"), str(p.config.version)) !=
          SLUICE_OK) {
    host->translation_fail(t, str("anthropic plugin: sluice refused the path or a header"));
    return SLUICE_TRANSLATE_ERROR;
  }
  if (!p.config.api_key.empty()) {
    host->translation_add_header(t, str("x-api-key"), str(p.config.api_key));
  }
  if (!p.config.beta.empty()) {
    host->translation_add_header(t, str("anthropic-beta"), str(p.config.beta));
  }
  return SLUICE_TRANSLATE_OK;
}

sluice_translate_result on_request(void* config, sluice_translation* t, void** data) {
  const auto& p = *static_cast<const Provider*>(config);
  const sluice_host_api* host = p.host;
  return guarded(host, t, [&]() -> sluice_translate_result {
    const sluice_endpoint endpoint = host->translation_endpoint(t);
    if (endpoint == SLUICE_ENDPOINT_MESSAGES) return set_head(p, t);  // native: body as sent
    if (endpoint != SLUICE_ENDPOINT_CHAT_COMPLETIONS) {
      host->translation_fail(t, str("the anthropic provider serves /v1/messages and "
                                    "/v1/chat/completions only"));
      return SLUICE_TRANSLATE_INVALID;
    }
    std::string body;
    const ChatToMessagesOptions options{view(host->translation_model(t)),
                                        p.config.default_max_tokens};
    if (auto r = chat_request_to_messages(view(host->translation_body(t)), options, body);
        !r.is_ok()) {
      return report(host, t, r);
    }
    if (const auto head = set_head(p, t); head != SLUICE_TRANSLATE_OK) return head;
    host->translation_set_body(t, str(body));
    *data = new Attempt{static_cast<int64_t>(std::time(nullptr)), std::nullopt, {}};
    return SLUICE_TRANSLATE_OK;
  });
}

sluice_translate_result on_response(void* config, sluice_translation* t, void** data,
                                    int32_t status, sluice_str body) {
  const sluice_host_api* host = static_cast<const Provider*>(config)->host;
  return guarded(host, t, [&]() -> sluice_translate_result {
    if (*data == nullptr) return no_attempt(host, t);
    auto& attempt = *static_cast<Attempt*>(*data);
    TranslatedResponse response;
    if (auto r = messages_response_to_chat(status, view(body), attempt.created, response);
        !r.is_ok()) {
      return report(host, t, r);
    }
    return send_response(host, t, response);
  });
}

sluice_translate_result on_stream_event(void* config, sluice_translation* t, void** data,
                                        sluice_str event, sluice_str payload) {
  const sluice_host_api* host = static_cast<const Provider*>(config)->host;
  return guarded(host, t, [&]() -> sluice_translate_result {
    if (*data == nullptr) return no_attempt(host, t);
    auto& attempt = *static_cast<Attempt*>(*data);
    if (!attempt.stream) attempt.stream.emplace(attempt.created);
    std::string out;
    const Outcome r = attempt.stream->on_event(view(event), view(payload), out);
    emit(host, t, out);
    report_usage(host, t, attempt.stream->usage(), attempt.last_usage);
    return report(host, t, r);
  });
}

sluice_translate_result on_stream_end(void* config, sluice_translation* t, void** data) {
  const sluice_host_api* host = static_cast<const Provider*>(config)->host;
  return guarded(host, t, [&]() -> sluice_translate_result {
    if (*data == nullptr) return no_attempt(host, t);
    auto& attempt = *static_cast<Attempt*>(*data);
    if (!attempt.stream) attempt.stream.emplace(attempt.created);  // a stream with no event
    std::string out;
    const Outcome r = attempt.stream->on_end(host->translation_stream_usage(t) != 0, out);
    emit(host, t, out);
    return report(host, t, r);
  });
}

void on_end(void* config, void* data) {
  delete static_cast<Attempt*>(data);
}

}  // namespace

const sluice_provider_vtable& provider_vtable() {
  static const sluice_provider_vtable table = [] {
    sluice_provider_vtable vt{};
    vt.size = sizeof vt;
    vt.native_endpoints = SLUICE_ENDPOINT_MESSAGES;
    vt.translated_endpoints = SLUICE_ENDPOINT_CHAT_COMPLETIONS;
    vt.stream_framing = SLUICE_STREAM_SSE;
    vt.default_base_url = "https://api.anthropic.com/v1";
    vt.create_config = create_config;
    vt.destroy_config = destroy_config;
    vt.on_request = on_request;
    vt.on_response = on_response;
    vt.on_stream_event = on_stream_event;
    vt.on_stream_end = on_stream_end;
    vt.on_end = on_end;
    return vt;
  }();
  return table;
}

}  // namespace anthropic
