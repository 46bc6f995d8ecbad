#include "anthropic/client_api_hooks.h"

#include <optional>
#include <string>

#include "anthropic/chat_to_messages_response.h"
#include "anthropic/chat_to_messages_stream.h"
#include "anthropic/host_calls.h"
#include "anthropic/messages_to_chat_request.h"

namespace anthropic {

namespace {

// What every hook needs beyond its arguments. The client API has no config of its own; this
// lives as long as the library (a static below) and is only read by the hooks.
struct ClientApi {
  const sluice_host_api* host = nullptr;
};

// One attempt: made by on_request, freed by on_end.
struct Attempt {
  std::string request_id;                      // fallback for the message id
  std::string model;                           // fallback for the model (the target's)
  std::optional<ChatToMessagesStream> stream;  // made at the first stream event
  Usage last_usage;                            // what sluice was last told
};

const sluice_host_api* host_of(void* state) {
  return static_cast<const ClientApi*>(state)->host;
}

sluice_translate_result on_request(void* state, sluice_translation* t, void** data) {
  const sluice_host_api* host = host_of(state);
  return guarded(host, t, [&]() -> sluice_translate_result {
    std::string body;
    const std::string_view model = view(host->translation_model(t));
    if (auto r = messages_request_to_chat(view(host->translation_body(t)), model, body);
        !r.is_ok()) {
      return report(host, t, r);
    }
    host->translation_set_body(t, str(body));
    *data = new Attempt{
        std::string(view(host->translation_request_id(t))), std::string(model), std::nullopt, {}};
    return SLUICE_TRANSLATE_OK;
  });
}

sluice_translate_result on_response(void* state, sluice_translation* t, void** data, int32_t status,
                                    sluice_str body) {
  const sluice_host_api* host = host_of(state);
  return guarded(host, t, [&]() -> sluice_translate_result {
    if (*data == nullptr) return no_attempt(host, t);
    const auto& attempt = *static_cast<const Attempt*>(*data);
    TranslatedResponse response;
    const ChatResponseContext context{attempt.request_id, attempt.model};
    if (auto r = chat_response_to_messages(status, view(body), context, response); !r.is_ok()) {
      return report(host, t, r);
    }
    return send_response(host, t, response);
  });
}

sluice_translate_result on_stream_event(void* state, sluice_translation* t, void** data,
                                        sluice_str event, sluice_str payload) {
  const sluice_host_api* host = host_of(state);
  return guarded(host, t, [&]() -> sluice_translate_result {
    if (*data == nullptr) return no_attempt(host, t);
    auto& attempt = *static_cast<Attempt*>(*data);
    if (!attempt.stream) attempt.stream.emplace(attempt.request_id, attempt.model);
    std::string out;
    const Outcome r = attempt.stream->on_event(view(payload), out);  // OpenAI names no events
    emit(host, t, out);
    report_usage(host, t, attempt.stream->usage(), attempt.last_usage);
    return report(host, t, r);
  });
}

sluice_translate_result on_stream_end(void* state, sluice_translation* t, void** data) {
  const sluice_host_api* host = host_of(state);
  return guarded(host, t, [&]() -> sluice_translate_result {
    if (*data == nullptr) return no_attempt(host, t);
    auto& attempt = *static_cast<Attempt*>(*data);
    if (!attempt.stream) attempt.stream.emplace(attempt.request_id, attempt.model);
    std::string out;
    const Outcome r = attempt.stream->on_end(out);
    emit(host, t, out);
    return report(host, t, r);
  });
}

void on_end(void* state, void* data) {
  delete static_cast<Attempt*>(data);
}

}  // namespace

const sluice_client_api_vtable& client_api_vtable(const sluice_host_api* host) {
  static ClientApi state;
  static sluice_client_api_vtable table{};
  state.host = host;
  table.size = sizeof table;
  table.endpoint = SLUICE_ENDPOINT_MESSAGES;
  table.state = &state;
  table.on_request = on_request;
  table.on_response = on_response;
  table.on_stream_event = on_stream_event;
  table.on_stream_end = on_stream_end;
  table.on_end = on_end;
  return table;
}

}  // namespace anthropic
