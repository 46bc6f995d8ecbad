/* Built twice (VERSION_TAG "v1" and "v2") for the reload tests: filter "versioned" adds
 * `x-plugin-version: <tag>` to every proxied response. */
#include <sluice/plugin.h>
#include <string.h>

#ifndef VERSION_TAG
#error VERSION_TAG must be defined
#endif

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

static const sluice_host_api* host;

static sluice_str S(const char* s) {
  sluice_str r;
  r.data = s;
  r.len = strlen(s);
  return r;
}

static sluice_status create_config(const sluice_host_api* h, sluice_str json, void** out,
                                   sluice_buf* error) {
  (void)h;
  (void)json;
  (void)error;
  *out = NULL;
  return SLUICE_OK;
}

static sluice_status on_response_headers(void* config, sluice_request* req, void** data) {
  (void)config;
  (void)data;
  return host->set_response_header(req, S("x-plugin-version"), S(VERSION_TAG));
}

SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* h,
                                                      sluice_registry* reg) {
  static sluice_filter_vtable vt;
  host = h;
  memset(&vt, 0, sizeof vt);
  vt.size = sizeof vt;
  vt.create_config = create_config;
  vt.on_response_headers = on_response_headers;
  return host->register_filter(reg, S("versioned"), &vt);
}
