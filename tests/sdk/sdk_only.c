/* Must compile as a plugin (the control of ctest sdk.plugin_cannot_include_core): the SDK
 * header alone is self-contained C99 (built with -std=c99 -pedantic-errors). */
#include <sluice/plugin.h>

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* host,
                                                      sluice_registry* reg) {
  (void)reg;
  return SLUICE_HAS(sluice_host_api, host, call_model) ? SLUICE_OK : SLUICE_UNSUPPORTED;
}
