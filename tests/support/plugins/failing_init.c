/* A plugin whose init refuses to start, with a reason. */
#include <sluice/plugin.h>
#include <string.h>

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* host,
                                                      sluice_registry* reg) {
  const char* why = "cannot start: the license file is missing";
  sluice_str s;
  s.data = why;
  s.len = strlen(why);
  host->registry_fail(reg, s);
  return SLUICE_ERROR;
}
