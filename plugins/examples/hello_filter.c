/* hello_filter: a sluice filter in plain C (C99), built against sluice/plugin.h only.
 *
 *   plugins:
 *     hello: {file: ../build/plugins/libsluice_hello_filter.so}
 *   filters:
 *     - plugin: {name: hello, config: {greeting: hi, require_header: x-team}}
 *
 * What it does:
 *   - every proxied response gets the header `x-hello: <greeting>`;
 *   - with `require_header`, a request without that header is refused before it goes anywhere:
 *     400 {"error":{"type":"invalid_request_error","code":"missing_header",...}}.
 *   - a bad config (not a mapping, an unknown key, a value that is not a string, a missing
 *     greeting) fails the config load with a message sluice shows at the config's file:line.
 *
 * Walk-through: docs/plugins-c.md. Copy this file to start your own filter.
 */
#include <sluice/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

/* sluice's function table: valid from sluice_plugin_init until sluice closes this library. */
static const sluice_host_api* host;

/* Builds a sluice_str from a C string literal or array. */
static sluice_str S(const char* text) {
  sluice_str s;
  s.data = text;
  s.len = strlen(text);
  return s;
}

/* The per-config object: built once per config load by create_config, then only read (every
 * worker thread uses it at the same time), freed by destroy_config. */
typedef struct hello_config {
  char greeting[128];       /* value of the x-hello header */
  char require_header[128]; /* "" = no header required */
} hello_config;

/* ---- reading the config: a flat JSON object whose values are strings ------------------- */

/* A tiny reader for what this filter accepts ({"key": "string", ...}); sluice hands the
 * `config:` YAML over as JSON text. Fills `error` and returns 0 on anything else. */
typedef struct reader {
  const char *p, *end;
  char* error;
  size_t error_cap;
} reader;

static void skip_space(reader* r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')) r->p++;
}

/* Reads a JSON string into out (cap bytes, NUL-terminated). */
static int read_string(reader* r, char* out, size_t cap, const char* what) {
  size_t n = 0;
  skip_space(r);
  if (r->p >= r->end || *r->p != '"') {
    snprintf(r->error, r->error_cap, "%s must be a string", what);
    return 0;
  }
  r->p++;
  while (r->p < r->end && *r->p != '"') {
    char c = *r->p++;
    if (c == '\\') {
      if (r->p >= r->end) break;
      c = *r->p++;
      if (c == 'n')
        c = '\n';
      else if (c == 't')
        c = '\t';
      else if (c != '"' && c != '\\' && c != '/') {
        snprintf(r->error, r->error_cap, "%s: unsupported escape \\%c", what, c);
        return 0;
      }
    }
    if (n + 1 >= cap) {
      snprintf(r->error, r->error_cap, "%s is too long (at most %u bytes)", what,
               (unsigned)(cap - 1));
      return 0;
    }
    out[n++] = c;
  }
  if (r->p >= r->end) {
    snprintf(r->error, r->error_cap, "%s: unterminated string", what);
    return 0;
  }
  r->p++; /* the closing quote */
  out[n] = '\0';
  return 1;
}

static int parse_config(sluice_str json, hello_config* config, char* error, size_t error_cap) {
  reader r;
  int has_greeting = 0;
  r.p = json.data;
  r.end = json.data + json.len;
  r.error = error;
  r.error_cap = error_cap;
  skip_space(&r);
  if (r.p >= r.end || *r.p != '{') {
    snprintf(error, error_cap,
             "config must be a mapping, e.g. {greeting: hi, require_header: x-team}");
    return 0;
  }
  r.p++;
  skip_space(&r);
  while (r.p < r.end && *r.p != '}') {
    char key[64];
    if (!read_string(&r, key, sizeof key, "a key")) return 0;
    skip_space(&r);
    if (r.p >= r.end || *r.p++ != ':') {
      snprintf(error, error_cap, "malformed config");
      return 0;
    }
    if (strcmp(key, "greeting") == 0) {
      if (!read_string(&r, config->greeting, sizeof config->greeting, "greeting")) return 0;
      has_greeting = 1;
    } else if (strcmp(key, "require_header") == 0) {
      if (!read_string(&r, config->require_header, sizeof config->require_header, "require_header"))
        return 0;
    } else {
      snprintf(error, error_cap, "unknown key \"%s\" (expected greeting, require_header)", key);
      return 0;
    }
    skip_space(&r);
    if (r.p < r.end && *r.p == ',') r.p++;
    skip_space(&r);
  }
  if (!has_greeting || config->greeting[0] == '\0') {
    snprintf(error, error_cap, "greeting is required, e.g. {greeting: hi}");
    return 0;
  }
  return 1;
}

/* ---- the filter -------------------------------------------------------------------------- */

static sluice_status hello_create_config(const sluice_host_api* h, sluice_str config_json,
                                         void** out_config, sluice_buf* error) {
  char why[256];
  hello_config* config = (hello_config*)calloc(1, sizeof *config);
  if (config == NULL) {
    h->buf_set(error, S("out of memory"));
    return SLUICE_ERROR;
  }
  if (!parse_config(config_json, config, why, sizeof why)) {
    h->buf_set(error, S(why)); /* sluice copies it */
    free(config);
    return SLUICE_ERROR;
  }
  *out_config = config;
  return SLUICE_OK;
}

static void hello_destroy_config(void* config) {
  free(config);
}

static sluice_filter_result hello_on_request(void* cfg, sluice_request* req, void** request_data) {
  const hello_config* config = (const hello_config*)cfg;
  sluice_str value;
  char message[200];
  (void)request_data;
  if (config->require_header[0] == '\0') return SLUICE_FILTER_CONTINUE;
  if (host->request_header(req, S(config->require_header), &value) == SLUICE_OK && value.len > 0)
    return SLUICE_FILTER_CONTINUE;

  snprintf(message, sizeof message, "missing required header %s", config->require_header);
  host->respond_error(req, 400, S("invalid_request_error"), S("missing_header"), S(message));
  return SLUICE_FILTER_RESPOND;
}

static sluice_status hello_on_response_headers(void* cfg, sluice_request* req,
                                               void** request_data) {
  const hello_config* config = (const hello_config*)cfg;
  (void)request_data;
  return host->set_response_header(req, S("x-hello"), S(config->greeting));
}

/* ---- entry point -------------------------------------------------------------------------- */

SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* h,
                                                      sluice_registry* reg) {
  /* Static: sluice copies the table at registration, and nothing here changes. */
  static sluice_filter_vtable vtable;
  host = h;
  memset(&vtable, 0, sizeof vtable);
  vtable.size = sizeof vtable;
  vtable.create_config = hello_create_config;
  vtable.destroy_config = hello_destroy_config;
  vtable.on_request = hello_on_request;
  vtable.on_response_headers = hello_on_response_headers;
  /* on_response_chunk and on_complete: not needed (NULL hooks are skipped). */
  return host->register_filter(reg, S("hello"), &vtable);
}
