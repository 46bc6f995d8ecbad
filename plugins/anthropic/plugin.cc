// libsluice_anthropic.so: Anthropic's Messages API for sluice, both ways (DESIGN §9 "Providers
// and tools as plugins").
//
//   providers:
//     claude: {type: anthropic, api_key: ${ANTHROPIC_API_KEY}, config: {max_tokens: 8192}}
//
// It registers two things:
//   - the provider type `anthropic` (provider_hooks.h): /v1/messages goes to Anthropic as the
//     client sent it (native), /v1/chat/completions is translated to a Messages request and the
//     answer — JSON or stream — back to OpenAI's shape, with Anthropic's usage incl. cache;
//   - the client API for /v1/messages (client_api_hooks.h): an Anthropic client's request is
//     translated to OpenAI chat so that any provider can answer it, and the answer back.
//
// The translators are plain C++ (string in → string out + usage + a message) with no sluice
// type in them; this file and the *_hooks.cc only adapt them to the C ABI of sluice/plugin.h.
// What is translated, dropped and refused, field by field: docs/anthropic.md.
#include <sluice/plugin.h>

#include <string_view>

#include "anthropic/client_api_hooks.h"
#include "anthropic/host_calls.h"
#include "anthropic/provider_hooks.h"

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

extern "C" SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* host,
                                                                 sluice_registry* reg) {
  using anthropic::str;
  // sluice refuses a plugin built for a newer minor than its own, so a 1.0 host never gets
  // here; checking costs nothing and names the problem if it ever does.
  if (!SLUICE_HAS(sluice_host_api, host, translation_fail)) {
    host->registry_fail(reg, str("the anthropic plugin needs a sluice with plugin ABI 1.1"));
    return SLUICE_UNSUPPORTED;
  }
  if (host->register_provider(reg, str("anthropic"), &anthropic::provider_vtable()) != SLUICE_OK) {
    host->registry_fail(reg, str("could not register the provider type anthropic"));
    return SLUICE_ERROR;
  }
  if (host->register_client_api(reg, &anthropic::client_api_vtable(host)) != SLUICE_OK) {
    host->registry_fail(reg, str("could not register the /v1/messages client API (does another "
                                 "plugin serve it?)"));
    return SLUICE_ERROR;
  }
  return SLUICE_OK;
}
