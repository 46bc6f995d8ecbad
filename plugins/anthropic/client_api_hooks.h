// The client API for POST /v1/messages (sluice_client_api_vtable): an Anthropic client's
// request goes to any provider as an OpenAI chat request, and the OpenAI-shaped answer comes
// back in Anthropic's shape. The hooks only adapt — the work is in the translators
// (D: messages_to_chat_request.h, E: chat_to_messages_response.h, F: chat_to_messages_stream.h).
#pragma once

#include <sluice/plugin.h>

namespace anthropic {

// The table to give host->register_client_api. Its `state` carries `host` to the hooks.
// Call once, from sluice_plugin_init (main thread).
const sluice_client_api_vtable& client_api_vtable(const sluice_host_api* host);

}  // namespace anthropic
