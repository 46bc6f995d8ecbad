/* A plugin with a good ABI record but no sluice_plugin_init. */
#include <sluice/plugin.h>

SLUICE_PLUGIN_DEFINE_ABI_VERSION();
