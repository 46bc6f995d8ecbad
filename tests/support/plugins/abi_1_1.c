/* A plugin built against ABI 1.1 (before tools): it declares minor 1 and registers a filter.
 * sluice 1.2 must load it and run it unchanged. Its filter `old_hello` adds x-old-hello: 1. */
#include <sluice/plugin.h>
#include <string.h>

SLUICE_PLUGIN_EXPORT const sluice_abi_version sluice_plugin_abi_version = {SLUICE_PLUGIN_ABI_MAGIC,
                                                                           1, 1};

static const sluice_host_api* host;

static sluice_str S(const char* s) {
  sluice_str out;
  out.data = s;
  out.len = strlen(s);
  return out;
}

static sluice_status old_create(const sluice_host_api* h, sluice_str json, void** out,
                                sluice_buf* error) {
  (void)h;
  (void)json;
  (void)error;
  *out = NULL;
  return SLUICE_OK;
}

static sluice_filter_result old_on_request(void* config, sluice_request* req, void** data) {
  (void)config;
  (void)data;
  host->set_response_header(req, S("x-old-hello"), S("1"));
  return SLUICE_FILTER_CONTINUE;
}

SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* h,
                                                      sluice_registry* reg) {
  /* The 1.1 filter table: the same fields as today's (tables only grow at the end). */
  static sluice_filter_vtable vtable;
  host = h;
  memset(&vtable, 0, sizeof vtable);
  vtable.size = sizeof vtable;
  vtable.create_config = old_create;
  vtable.on_request = old_on_request;
  return host->register_filter(reg, S("old_hello"), &vtable);
}
