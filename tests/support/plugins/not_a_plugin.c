/* A shared object that is not a sluice plugin at all. */
#include <sluice/plugin.h>

SLUICE_PLUGIN_EXPORT int not_a_plugin_answer(void) {
  return 42;
}
