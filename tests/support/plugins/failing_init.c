/* A plugin whose init refuses to start, with a reason that quotes its name and its own
 * `plugins: {NAME: {config: ...}}` as sluice handed them over. */
#include <sluice/plugin.h>
#include <stdio.h>

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* host,
                                                      sluice_registry* reg) {
  char why[512];
  sluice_str name = host->plugin_name(reg);
  sluice_str config = host->plugin_config(reg);
  sluice_str s;
  s.len = (size_t)snprintf(why, sizeof why, "%.*s cannot start with config %.*s", (int)name.len,
                           name.data, (int)config.len, config.data);
  s.data = why;
  host->registry_fail(reg, s);
  return SLUICE_ERROR;
}
