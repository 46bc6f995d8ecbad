/* Must NOT compile as a plugin (ctest sdk.plugin_cannot_include_core): plugins build against
 * sdk/include only, so a core header is not found. */
#include <sluice/plugin.h>

#include "core/config/config.h"

SLUICE_PLUGIN_DEFINE_ABI_VERSION();
