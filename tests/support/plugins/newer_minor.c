/* A plugin built against a newer minor version than this sluice: refused (it may call what
 * this sluice lacks); init aborts if it is ever called. */
#include <sluice/plugin.h>
#include <stdlib.h>

SLUICE_PLUGIN_EXPORT const sluice_abi_version sluice_plugin_abi_version = {
    SLUICE_PLUGIN_ABI_MAGIC, SLUICE_PLUGIN_ABI_VERSION_MAJOR, SLUICE_PLUGIN_ABI_VERSION_MINOR + 7};

SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* host,
                                                      sluice_registry* reg) {
  (void)host;
  (void)reg;
  abort();
}
