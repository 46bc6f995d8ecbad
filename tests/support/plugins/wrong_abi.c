/* A plugin built for another major ABI version: sluice must refuse it without running any of
 * its code (init aborts the process if it is ever called). */
#include <sluice/plugin.h>
#include <stdlib.h>

SLUICE_PLUGIN_EXPORT const sluice_abi_version sluice_plugin_abi_version = {
    SLUICE_PLUGIN_ABI_MAGIC, SLUICE_PLUGIN_ABI_VERSION_MAJOR + 1, 0};

SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* host,
                                                      sluice_registry* reg) {
  (void)host;
  (void)reg;
  abort();
}
