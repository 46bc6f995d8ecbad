// The `anthropic` provider type's function table (sluice_provider_vtable): sluice calls these
// for every attempt that goes to a `type: anthropic` provider. They only adapt — the work is
// in the translators (A: chat_to_messages_request.h, B: messages_to_chat_response.h,
// C: messages_to_chat_stream.h).
#pragma once

#include <sluice/plugin.h>

namespace anthropic {

// The table to give host->register_provider (static data; valid while the library is loaded).
const sluice_provider_vtable& provider_vtable();

}  // namespace anthropic
