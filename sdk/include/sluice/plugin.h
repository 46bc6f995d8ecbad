/* sluice plugin ABI: what a shared-object plugin (a .so) is built against, and nothing else.
 *
 * Pure C99, only libc headers; compiles as C and as C++. A plugin exports two symbols:
 *
 *   SLUICE_PLUGIN_DEFINE_ABI_VERSION();       -- sluice_plugin_abi_version, read BEFORE init
 *   SLUICE_PLUGIN_EXPORT sluice_status
 *   sluice_plugin_init(const sluice_host_api *host, sluice_registry *reg);
 *
 * and, optionally, `void sluice_plugin_fini(void)`: called once, just before sluice closes the
 * library (on whichever thread let go of it last), to free process-wide state.
 *
 * sluice reads sluice_plugin_abi_version first and refuses the plugin unless its major equals
 * SLUICE_PLUGIN_ABI_VERSION_MAJOR and its minor is <= sluice's minor (a plugin built against a
 * newer header may call what this sluice does not have). Then init registers what the plugin
 * implements: filters, provider types, client APIs and tools.
 *
 * Compatibility rules (SQLite's sqlite3_api_routines, Envoy's dynamic-modules abi.h):
 *  - every table (struct of function pointers or of fields) starts with `size`, its sizeof in
 *    the build that filled it, and only ever grows at the end; a reader checks
 *    SLUICE_HAS(type, table, field) before touching a field added after 1.0;
 *  - a minor version adds fields at the end of tables, never changes or removes one;
 *  - strings are pointer + length (sluice_str), never NUL-terminated unless said, UTF-8 as
 *    received (headers are bytes);
 *  - handles are opaque both ways: sluice gives sluice_request* / sluice_registry* /
 *    sluice_buf* / sluice_async*, the plugin gives void* config / request data;
 *  - nothing allocated on one side is freed on the other; no C++ type, no exception crosses.
 *
 * Threads: init, create_config and destroy_config run on sluice's main (reload) thread.
 * Request hooks and async callbacks run on the worker thread that owns the request, several
 * workers at once: a filter config is shared by every worker and must be read-only after
 * create_config (or synchronized by the plugin). Nothing may block a worker (no sleep, no
 * blocking I/O): use host->http_call / host->timer and return SLUICE_FILTER_STOP instead.
 * A tool call may be finished from any thread (host->tool_finish_*), so a tool's blocking work
 * runs on a thread of the plugin's own ("tools" below).
 *
 * The guide: docs/plugins-c.md; the smallest examples: plugins/examples/hello_filter.c (a
 * filter), plugins/examples/word_count.c (a tool); a full tool plugin: plugins/memory/.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version --------------------------------------------------------------------------- */

#define SLUICE_PLUGIN_ABI_VERSION_MAJOR 1
#define SLUICE_PLUGIN_ABI_VERSION_MINOR 2
/* "SLPG": tells a real sluice_plugin_abi_version from an unrelated symbol of that name. */
#define SLUICE_PLUGIN_ABI_MAGIC 0x534C5047u

#if defined(__GNUC__) || defined(__clang__)
#define SLUICE_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SLUICE_PLUGIN_EXPORT
#endif

/* The ABI a plugin was built against. Static, read-only data owned by the plugin; sluice
 * reads it with dlsym before calling anything. */
typedef struct sluice_abi_version {
  uint32_t magic; /* SLUICE_PLUGIN_ABI_MAGIC */
  uint32_t major; /* SLUICE_PLUGIN_ABI_VERSION_MAJOR of the header the plugin was built with */
  uint32_t minor; /* SLUICE_PLUGIN_ABI_VERSION_MINOR of that header */
} sluice_abi_version;

/* Put this once at file scope in one source file of the plugin. */
#ifdef __cplusplus
#define SLUICE_PLUGIN_DEFINE_ABI_VERSION()                                               \
  extern "C" SLUICE_PLUGIN_EXPORT const sluice_abi_version sluice_plugin_abi_version = { \
      SLUICE_PLUGIN_ABI_MAGIC, SLUICE_PLUGIN_ABI_VERSION_MAJOR, SLUICE_PLUGIN_ABI_VERSION_MINOR}
#else
#define SLUICE_PLUGIN_DEFINE_ABI_VERSION()                                    \
  SLUICE_PLUGIN_EXPORT const sluice_abi_version sluice_plugin_abi_version = { \
      SLUICE_PLUGIN_ABI_MAGIC, SLUICE_PLUGIN_ABI_VERSION_MAJOR, SLUICE_PLUGIN_ABI_VERSION_MINOR}
#endif

/* True when `table` (a pointer to a size-prefixed table of type `type`) is large enough to
 * contain `field`: check it before using a field added in a later minor version than the one
 * you require, e.g. SLUICE_HAS(sluice_host_api, host, call_model). */
#define SLUICE_HAS(type, table, field) \
  ((table)->size >= offsetof(type, field) + sizeof(((const type*)0)->field))

/* ---- basic types ----------------------------------------------------------------------- */

/* A borrowed byte string: `data` is NOT NUL-terminated (unless a function says so) and may be
 * NULL when len == 0. Who owns the bytes and for how long is said where a sluice_str is
 * passed or returned; a plugin never frees one it got from sluice, and sluice copies what it
 * keeps of one it got from a plugin before the call returns. */
typedef struct sluice_str {
  const char* data;
  size_t len;
} sluice_str;

/* Status of host calls and of the hooks that can fail. int32_t, not an enum type, so its size
 * is fixed across compilers. New codes may be added in a minor version: treat an unknown
 * non-zero code as an error. */
typedef int32_t sluice_status;
#define SLUICE_OK 0
#define SLUICE_ERROR 1     /* generic failure; a message says more where one is given */
#define SLUICE_NOT_FOUND 2 /* no such header / key; the out value is left empty */
#define SLUICE_INVALID 3   /* a bad argument (header name with CR/LF, status 42, ...) */
#define SLUICE_WRONG_PHASE                                                             \
  4                          /* not allowed in this hook (e.g. set a request header in \
                              * on_response_headers); nothing was changed */
#define SLUICE_UNSUPPORTED 5 /* not in this version of sluice (reserved entries) */
#define SLUICE_TRUNCATED 6   /* the caller's buffer was too small; see the full length */
#define SLUICE_UNAVAILABLE                                       \
  7 /* the facility exists but cannot be used here (e.g. no HTTP \
     * client on this worker) */

/* Log levels for host->log. */
typedef int32_t sluice_log_level;
#define SLUICE_LOG_DEBUG 0
#define SLUICE_LOG_INFO 1
#define SLUICE_LOG_WARN 2
#define SLUICE_LOG_ERROR 3

/* ---- opaque handles (owned by sluice) ------------------------------------------------- */

/* The registry given to sluice_plugin_init; valid only during that call. */
typedef struct sluice_registry sluice_registry;
/* An output buffer sluice owns (error messages). Write to it only with host->buf_set, only
 * during the call that handed it to you. */
typedef struct sluice_buf sluice_buf;
/* One request as one plugin filter sees it. Valid from the first hook of that request until
 * on_complete returns; between hooks only where a callback of host->http_call / host->timer
 * hands it back. Never keep it past on_complete. */
typedef struct sluice_request sluice_request;
/* An async operation started by host->http_call or host->timer; valid until its callback ran,
 * it was cancelled, or the request ended (which cancels it: the callback never runs then). */
typedef struct sluice_async sluice_async;

typedef struct sluice_host_api sluice_host_api;

/* ---- filters --------------------------------------------------------------------------- */

/* What on_request returns.
 *   CONTINUE — go on with the next filter.
 *   STOP     — the plugin started async work (host->http_call / host->timer) and will call
 *              host->resume(req) exactly once, later, from a callback on the worker (after
 *              host->respond if it decided to answer, after host->fail if it failed). If the
 *              request ends first (client gone), on_complete runs and pending callbacks are
 *              cancelled: never call resume for it afterwards.
 *   RESPOND  — the plugin called host->respond(...): the chain ends with that reply.
 *   ERROR    — the hook failed (say why with host->fail first): the client gets 500
 *              {"error":{"type":"api_error","code":"plugin_error",...}} naming the plugin
 *              filter and the hook, and sluice_plugin_errors_total{plugin,hook} counts it. */
typedef int32_t sluice_filter_result;
#define SLUICE_FILTER_CONTINUE 0
#define SLUICE_FILTER_STOP 1
#define SLUICE_FILTER_RESPOND 2
#define SLUICE_FILTER_ERROR 3

/* A filter's functions, given to host->register_filter (sluice copies the table; the
 * functions must stay valid as long as the library is loaded, which sluice guarantees while a
 * config uses them). NULL hooks are skipped. `config` is what create_config made; `request_data`
 * points to a per-request slot (starts NULL, the plugin may store its own pointer there, sluice
 * never looks at it): the plugin frees what it put there in on_complete, which runs exactly once
 * for every request that reached the filter chain — even when this filter's on_request never ran
 * (an earlier filter answered) or the client left. */
typedef struct sluice_filter_vtable {
  uint32_t size; /* sizeof(sluice_filter_vtable) */

  /* Builds this filter's per-config object from its `config` (JSON text: the YAML of
   * `- plugin: {name: ..., config: {...}}`, or "null" when absent; borrowed, valid during the
   * call). Main thread, at config load, once per filter entry and config generation. On
   * success store your object in *out_config (may be NULL) and return SLUICE_OK; to refuse
   * the config, host->buf_set(error, "why") and return SLUICE_ERROR: the config load fails
   * with that message and the config's file:line (a reload is then refused whole). */
  sluice_status (*create_config)(const sluice_host_api* host, sluice_str config_json,
                                 void** out_config, sluice_buf* error);
  /* Frees what create_config made, when the last request of that config generation ended
   * (main or a worker thread; never concurrently with a hook using it). */
  void (*destroy_config)(void* config);

  /* The request on its way in: request headers and body may be read and changed here (and
   * while STOPped, from async callbacks, until resume). */
  sluice_filter_result (*on_request)(void* config, sluice_request* req, void** request_data);
  /* The response head before it goes downstream: host->response_status/response_header,
   * set/remove_response_header, and host->rewrite_response_body to be allowed to replace chunks.
   * A returned SLUICE_ERROR is counted and logged (the head cannot be replaced by a 500 any
   * more if the upstream's status is to be kept honest) and the response goes on. */
  sluice_status (*on_response_headers)(void* config, sluice_request* req, void** request_data);
  /* Each response body chunk as it passes (streaming: SSE bytes as received). `chunk` is
   * borrowed for this call. To change it, call host->replace_chunk (only if
   * rewrite_response_body was called in on_response_headers). An error is counted and logged;
   * the chunk passes unchanged. */
  sluice_status (*on_response_chunk)(void* config, sluice_request* req, void** request_data,
                                     sluice_str chunk);
  /* Exactly once per request, last: host->response_status, host->usage, host->cost_usd,
   * host->duration_ms are final. Free *request_data here. No async work may start. */
  void (*on_complete)(void* config, sluice_request* req, void** request_data);
} sluice_filter_vtable;

/* ---- providers (ABI 1.1) --------------------------------------------------------------- */

/* A provider plugin teaches sluice another provider API (DESIGN §9 "Providers and tools as
 * plugins"). It only translates; sluice keeps the connection, pool, TLS, timeouts, retries,
 * fallbacks, health checks and cost accounting. Two directions, two tables:
 *
 *   sluice_provider_vtable   (host->register_provider, per `providers.*.type`)
 *       the client's OpenAI-shaped request  -> the provider's request (path, headers, body)
 *       the provider's answer (JSON, or each stream event) -> OpenAI's shape, plus its usage
 *
 *   sluice_client_api_vtable (host->register_client_api, per client endpoint)
 *       a request in another API's shape (Anthropic's /v1/messages) -> OpenAI chat, so any
 *       provider can answer it, and the OpenAI-shaped answer back into that API's shape.
 *
 * Both translate through the same opaque handle, one per attempt: sluice_translation. Its
 * input is read and its output written only with the host->translation_* functions, only
 * during the hook that received it. Hooks run on the worker of the request (several workers at
 * once: the provider config is read-only after create_config); they must not block.
 *
 * Per attempt, in order: on_request; then either on_response (a whole answer, any status:
 * errors come here too) or on_stream_event for each event and on_stream_end when the stream
 * ended cleanly; then on_end, exactly once, even when an earlier hook failed or the client
 * left (free *data there). A retry or fallback is a new attempt with a new translation. */

/* Client endpoints, as bits of a mask. */
typedef uint32_t sluice_endpoint;
#define SLUICE_ENDPOINT_CHAT_COMPLETIONS (1u << 0) /* POST /v1/chat/completions */
#define SLUICE_ENDPOINT_COMPLETIONS (1u << 1)      /* POST /v1/completions */
#define SLUICE_ENDPOINT_EMBEDDINGS (1u << 2)       /* POST /v1/embeddings */
#define SLUICE_ENDPOINT_RESPONSES (1u << 3)        /* POST /v1/responses */
#define SLUICE_ENDPOINT_MESSAGES (1u << 4)         /* POST /v1/messages (Anthropic's API) */

/* How the provider frames a streamed answer (a 2xx whose content type is text/event-stream
 * or application/x-ndjson): SSE events (each hook call gets the `event:` name and the data
 * lines joined by "\n"), or newline-delimited JSON (one line per call, empty event name). */
typedef int32_t sluice_stream_framing;
#define SLUICE_STREAM_SSE 0
#define SLUICE_STREAM_NDJSON 1

/* What a translation hook returns.
 *   OK      - go on.
 *   INVALID - on_request only: the client's request cannot be expressed for this API (a
 *             content type it lacks, a field out of range). The client gets 400
 *             invalid_request_error with the message given to host->translation_fail (name the
 *             field: "messages[2].content[0].type: 'input_audio' has no Anthropic equivalent");
 *             nothing is sent upstream.
 *   ERROR   - the plugin could not translate (the provider's answer is not what its API
 *             promises, a bug): the attempt fails like a protocol error - 502 upstream_error
 *             naming the plugin and the message of host->translation_fail, or, once a stream
 *             has started, an error event that ends it. */
typedef int32_t sluice_translate_result;
#define SLUICE_TRANSLATE_OK 0
#define SLUICE_TRANSLATE_INVALID 1
#define SLUICE_TRANSLATE_ERROR 2

/* One attempt's translation (opaque, owned by sluice): valid from on_request until on_end
 * returns. */
typedef struct sluice_translation sluice_translation;

/* A provider type: `providers: {NAME: {type: TYPE, base_url, api_key, headers, config}}`. */
typedef struct sluice_provider_vtable {
  uint32_t size; /* sizeof(sluice_provider_vtable) */
  /* Endpoints the provider's API serves as the client sent them (SLUICE_ENDPOINT_* mask): the
   * body goes upstream with only "model" replaced by the target's model, the answer comes
   * back byte for byte and sluice reads its usage (OpenAI and Anthropic usage shapes).
   * on_request still runs, to set the path and headers (it must not set a body); no response
   * hook runs. */
  uint32_t native_endpoints;
  /* Endpoints it translates (today: SLUICE_ENDPOINT_CHAT_COMPLETIONS): the request arrives in
   * OpenAI's shape, the answer must leave in it. Requests of a client API (Anthropic's
   * /v1/messages) reach a translating provider through that API's client_api table first. */
  uint32_t translated_endpoints;
  sluice_stream_framing stream_framing;
  /* base_url used when the provider entry has none (NUL-terminated, static), or NULL to make
   * base_url required. Its path ("/v1") prefixes every path on_request sets. */
  const char* default_base_url;

  /* Builds the per-provider object from the provider entry, as JSON text:
   *   {"name":"claude","type":"anthropic","base_url":"https://api.anthropic.com/v1",
   *    "api_key":"...","config":{...}|null}
   * (`config` is the entry's free-form `config:`; api_key is secret: never log it). Main
   * thread, at config load, once per provider entry and config generation. To refuse it,
   * host->buf_set(error, "why") and return SLUICE_ERROR: the load fails at that entry. The
   * entry's `headers:` are added to every request by sluice; they override the plugin's. */
  sluice_status (*create_config)(const sluice_host_api* host, sluice_str provider_json,
                                 void** out_config, sluice_buf* error);
  void (*destroy_config)(void* config);

  /* The upstream request: read host->translation_endpoint/_body/_model/_stream; set the path
   * (required; relative to base_url's path: "/messages"), headers (auth and version headers
   * are the plugin's to add) and, for a translated endpoint, the body (required). */
  sluice_translate_result (*on_request)(void* config, sluice_translation* t, void** data);
  /* A whole answer of any status (JSON as the provider sent it; not necessarily valid).
   * Write the client's body with host->translation_emit, its status with
   * host->translation_set_status (default: the provider's; map the provider's error statuses
   * and shapes to OpenAI's), the usage with host->translation_set_usage. sluice sends it with
   * Content-Length and content-type application/json. */
  sluice_translate_result (*on_response)(void* config, sluice_translation* t, void** data,
                                         int32_t status, sluice_str body);
  /* One stream event (see sluice_stream_framing); `event` and `payload` are borrowed for the
   * call. Emit zero or more complete client events (OpenAI chat chunks: "data: {...}\n\n");
   * report usage as it becomes known (the last report wins). */
  sluice_translate_result (*on_stream_event)(void* config, sluice_translation* t, void** data,
                                             sluice_str event, sluice_str payload);
  /* The provider's stream ended cleanly: emit what closes the client's stream ("data:
   * [DONE]\n\n", and the usage chunk when host->translation_stream_usage says the client
   * asked for one). Not called when the stream was cut: sluice ends it with an error event. */
  sluice_translate_result (*on_stream_end)(void* config, sluice_translation* t, void** data);
  /* Exactly once per on_request: free *data. No host->translation_* call is allowed here. */
  void (*on_end)(void* config, void* data);
} sluice_provider_vtable;

/* A client API: requests in another API's shape, answered by any provider through OpenAI's.
 * on_request reads the client's body (host->translation_body) and sets an OpenAI chat
 * completions body (model: host->translation_model; stream_options.include_usage: true when
 * streaming, so the answer carries usage). The answer arrives in OpenAI's shape - a whole JSON
 * (any status) in on_response, or each SSE event's data (including "[DONE]") in
 * on_stream_event - and leaves in the client's shape, like a provider's. `state` is the
 * table's own field, handed to every hook: the plugin sets it in init (from its own config,
 * host->plugin_config, if it needs any) and frees it in sluice_plugin_fini; may be NULL. */
typedef struct sluice_client_api_vtable {
  uint32_t size;            /* sizeof(sluice_client_api_vtable) */
  sluice_endpoint endpoint; /* the one client endpoint it serves: SLUICE_ENDPOINT_MESSAGES */
  void* state;              /* handed to every hook; the plugin owns and frees it in fini */
  sluice_translate_result (*on_request)(void* state, sluice_translation* t, void** data);
  sluice_translate_result (*on_response)(void* state, sluice_translation* t, void** data,
                                         int32_t status, sluice_str body);
  sluice_translate_result (*on_stream_event)(void* state, sluice_translation* t, void** data,
                                             sluice_str event, sluice_str payload);
  sluice_translate_result (*on_stream_end)(void* state, sluice_translation* t, void** data);
  void (*on_end)(void* state, void* data);
} sluice_client_api_vtable;

/* ---- tools (ABI 1.2) -------------------------------------------------------------------- */

/* A tool plugin offers agents a tool (DESIGN §5 "Tools", §9), called over MCP (/mcp) and REST
 * (/v1/tools/NAME) by the agents whose allow-list names it:
 *
 *   tools:
 *     memory.query: {type: plugin}          # from plugin "memory": its name's part before '.'
 *     notes.add: {type: plugin, plugin: my_notes, timeout: 2s, config: {...}}
 *
 * The plugin registers each tool name with host->register_tool in init. A tools: entry whose
 * plugin did not register its name fails the load, listing the names it registers.
 *
 * One call, as the plugin sees it:
 *
 *   1. call(config, c) runs on the worker that serves the agent's request. The arguments are
 *      already checked against the tool's input_schema. Read the call with host->tool_call_*.
 *   2. Finish it EXACTLY ONCE with host->tool_finish_text / _json / _error: right away inside
 *      call(), later from a callback on the worker (host->tool_call_model), or from a thread of
 *      your own. Finishing is allowed from ANY thread: sluice hands the result back to the
 *      worker's loop itself. Blocking work (a database, a file) belongs on a thread of the
 *      plugin's own, never on the worker: call() must return at once.
 *   3. If sluice stops waiting first (the deadline passed, the client left, the worker is
 *      stopping), cancel(config, c) tells the plugin, once, on the worker. Stop the work if you
 *      can, and finish the call anyway (with anything: the result is ignored).
 *
 * Lifetime rules:
 *  - `c` is valid from call() until the finish function returns; never touch it afterwards. A
 *    call that timed out or whose client left stays valid until the plugin finishes it:
 *    finishing it late is allowed, and sluice ignores that result.
 *  - The tool's config, and the library, stay alive while any call started with them is not
 *    finished: destroy_config never runs before every call of that config was finished. So a
 *    plugin must finish every call, at the latest when cancel tells it to; a call never
 *    finished keeps its config (and the library) loaded for the life of the process.
 *  - sluice never calls into the plugin from inside a finish function, and never runs
 *    destroy_config or sluice_plugin_fini on a thread the plugin made: a plugin may join its own
 *    threads there. */

/* One tool call (opaque, owned by sluice). See the lifetime rules above. */
typedef struct sluice_tool_call sluice_tool_call;

/* A tool's functions, given to host->register_tool (sluice copies the table and the strings). */
typedef struct sluice_tool_vtable {
  uint32_t size; /* sizeof(sluice_tool_vtable) */

  /* What agents read in tools/list and GET /v1/tools. NUL-terminated, UTF-8, copied at
   * registration. A tools: entry's own `description:` / `input_schema:` replaces them.
   * input_schema: a JSON Schema object ({"type":"object","properties":{...},"required":[...]});
   * NULL means {"type":"object"}. */
  const char* description;
  const char* input_schema;

  /* Optional. Builds the per-entry object from the tools: entry's `config:` (JSON text, "null"
   * when absent; borrowed for the call). Main thread, at config load, once per entry and config
   * generation. To refuse it: host->buf_set(error, "why") and return SLUICE_ERROR — the load
   * fails at that entry. Without create_config, `config` is NULL in every call. */
  sluice_status (*create_config)(const sluice_host_api* host, sluice_str config_json,
                                 void** out_config, sluice_buf* error);
  /* Optional. Frees what create_config made, once the config generation is gone AND every
   * call started with it was finished (main or a worker thread, never one of the plugin's). */
  void (*destroy_config)(void* config);

  /* Required. Starts one call (worker thread; must not block). Finish `c` exactly once,
   * now or later, from any thread. Several workers call it at once: `config` is shared. */
  void (*call)(void* config, sluice_tool_call* c);
  /* Optional. sluice stopped waiting for `c` (deadline, client gone, worker stopping): at most
   * once per call, on the worker, and only if sluice has not seen `c` finished. A thread of the
   * plugin may be finishing `c` at that very moment: `c` stays valid during cancel either way,
   * but it must still be finished exactly once — so cancel should only ask whoever owns the
   * call to stop and finish it (now or soon); its result is ignored. */
  void (*cancel)(void* config, sluice_tool_call* c);
} sluice_tool_vtable;

/* ---- calling a model through sluice (ABI 1.2) --------------------------------------------- */

/* host->tool_call_model and host->call_model send a request to a logical model of sluice itself,
 * AS THE AGENT of the tool call (or of the filter's request): it goes through the whole filter
 * chain like a request of that agent — auth, its model allow-list, rate limits (it counts
 * against its rpm and tpm), model_alias, budget and cost, retries and fallbacks — and gets a
 * ledger row, metrics and an access-log line with that agent's name. So a plugin's model use is
 * routed, limited and costed like the agent's own.
 *
 * How: sluice sends the request to its own listener over loopback, from the worker's HTTP client,
 * with an internal credential (a random secret made at start-up that never leaves the process)
 * naming the agent. sluice removes that credential from the request as soon as it arrives: it
 * is never forwarded upstream, logged, or visible to filters. A request made this way may not
 * call a model again (no loops): call_model from a filter running for it is SLUICE_UNAVAILABLE.
 *
 * (ABI 1.0 and 1.1 reserved host->call_model with placeholder argument types and answered
 * SLUICE_UNSUPPORTED, so no plugin could use it; ABI 1.2 gives it the types below.) */

/* What to ask. Borrowed for the call only: sluice copies it. */
typedef struct sluice_model_request {
  uint32_t size; /* sizeof(sluice_model_request) */
  /* "embeddings" (POST /v1/embeddings) or "chat.completions" (POST /v1/chat/completions). */
  sluice_str endpoint;
  /* The OpenAI request body, naming a LOGICAL model of the config:
   * {"model":"embed","input":["some text"]}. "stream": true is refused (SLUICE_INVALID). */
  sluice_str body;
  /* Required, > 0. Bounds the whole exchange. For a tool call it is cut to the time left until
   * the call's deadline. */
  uint32_t timeout_ms;
} sluice_model_request;

/* What came back, handed to the callback; everything borrowed for the callback only.
 * `error` is empty when sluice answered: `status` and `body` are its answer in OpenAI's shape —
 * 200 with the result, or an error status with {"error":{"message","type","code",...}} (401,
 * 403 model not allowed, 429 rate limited, 504, ...). Else `error` says why there is no answer
 * ("timeout after 2000ms", "worker shutting down") and status is 0. */
typedef struct sluice_model_response {
  uint32_t size; /* sizeof(sluice_model_response) */
  int32_t status;
  sluice_str body;
  sluice_str error;
} sluice_model_response;

/* Called once, on the worker, with the `user` given to call_model.
 *  - From a filter (host->call_model): never after the request ended.
 *  - From a tool call (host->tool_call_model): always, exactly once — also when the call's
 *    deadline passed meanwhile (finish the call from here), and also when the plugin already
 *    finished the call (then `c` is gone: do not touch it). */
typedef void (*sluice_model_callback)(void* user, const sluice_model_response* response);

/* ---- async ----------------------------------------------------------------------------- */

/* One header of an HTTP call (both strings borrowed for the call that receives them). */
typedef struct sluice_header {
  sluice_str name;
  sluice_str value;
} sluice_header;

/* An outgoing HTTP call (host->http_call). Everything is borrowed for the call only: sluice
 * copies it before http_call returns. */
typedef struct sluice_http_request {
  uint32_t size;     /* sizeof(sluice_http_request) */
  sluice_str method; /* "GET", "POST", ... (empty: GET) */
  sluice_str url;    /* absolute http:// or https:// URL */
  const sluice_header* headers;
  size_t header_count;
  sluice_str body;     /* sent with Content-Length */
  uint32_t timeout_ms; /* required, > 0: bounds connect + the whole exchange */
} sluice_http_request;

/* What an HTTP call produced, handed to its callback. Everything is borrowed for the callback
 * only: copy what you keep. `error` is empty when an answer arrived (any status, 5xx
 * included), else it says why there is none ("timeout after 200ms", "connect failed: ...") and
 * status is 0. */
typedef struct sluice_http_response {
  uint32_t size; /* sizeof(sluice_http_response) */
  int32_t status;
  const sluice_header* headers;
  size_t header_count;
  sluice_str body;
  sluice_str error;
} sluice_http_response;

/* Called once on the request's worker when the call finished, with the request it was started
 * for (still valid; call host->resume(req) from here after a STOP). Never called after the
 * request ended or the call was cancelled. */
typedef void (*sluice_http_callback)(void* user, sluice_request* req,
                                     const sluice_http_response* response);
/* Called once on the request's worker when the timer fired; never after the request ended or
 * the timer was cancelled. */
typedef void (*sluice_timer_callback)(void* user, sluice_request* req);

/* ---- shared dictionary values ----------------------------------------------------------- */

typedef int32_t sluice_value_type;
#define SLUICE_VALUE_NUMBER 0
#define SLUICE_VALUE_BOOL 1
#define SLUICE_VALUE_STRING 2

/* A value of the shared dictionary. For set: everything borrowed for the call (sluice copies).
 * For get: `str` points into the caller's buffer (see host->shared_get). */
typedef struct sluice_value {
  sluice_value_type type;
  int32_t boolean; /* SLUICE_VALUE_BOOL: 0 or 1 */
  double number;   /* SLUICE_VALUE_NUMBER */
  sluice_str str;  /* SLUICE_VALUE_STRING */
} sluice_value;

/* Token usage: of the attempt that answered (host->usage in on_complete), or as a provider's
 * answer reports it (host->translation_set_usage; `estimated` is ignored there). Anthropic's
 * input_tokens excludes its cache reads and writes: add them to input_tokens here. */
typedef struct sluice_usage {
  uint32_t size; /* sizeof(sluice_usage): the caller sets it, sluice fills what fits */
  uint64_t input_tokens; /* every prompt token, cached ones and cache writes included */
  uint64_t output_tokens;
  uint64_t cached_tokens;      /* part of input_tokens: read from the provider's cache */
  int32_t estimated; /* 1: counted by sluice from the bytes, the provider reported none */
  /* ABI 1.1 */
  uint64_t cache_write_tokens; /* part of input_tokens: written to the provider's cache */
} sluice_usage;

/* ---- the host API ---------------------------------------------------------------------- */

/* What sluice gives a plugin. One static table owned by sluice, valid from sluice_plugin_init
 * until the library is closed (keep the pointer). Every sluice_str a getter returns is owned by
 * sluice and valid until the current hook or callback returns, unless said otherwise. */
struct sluice_host_api {
  uint32_t size;      /* sizeof(sluice_host_api) in this sluice: see SLUICE_HAS */
  uint32_t abi_major; /* sluice's SLUICE_PLUGIN_ABI_VERSION_MAJOR */
  uint32_t abi_minor; /* sluice's SLUICE_PLUGIN_ABI_VERSION_MINOR */

  /* -- registry: only during sluice_plugin_init ---------------------------------------- */

  /* Registers a filter that `- plugin: {name: NAME, config: {...}}` uses. `name` is copied;
   * `vtable` is copied (its first `size` bytes). SLUICE_INVALID for an empty name or a NULL
   * vtable or create_config; SLUICE_ERROR when this plugin already registered that name. */
  sluice_status (*register_filter)(sluice_registry* reg, sluice_str name,
                                   const sluice_filter_vtable* vtable);
  /* Registers provider type `type` (ABI 1.1; 1.0 returned SLUICE_UNSUPPORTED). `type` and the
   * table are copied. SLUICE_INVALID for an empty type, a NULL table or a table without
   * create_config/on_request; SLUICE_ERROR when the type is a built-in one (openai, mock) or
   * this plugin registered it already. */
  sluice_status (*register_provider)(sluice_registry* reg, sluice_str type,
                                     const sluice_provider_vtable* vtable);
  /* Registers tool `name` (ABI 1.2; 1.0 and 1.1 returned SLUICE_UNSUPPORTED), the name agents
   * call and tools: entries use ("memory.query"). `name` and the table are copied.
   * SLUICE_INVALID for a name that is not a tool name (letters, digits, '_', '-', '.'; at most
   * 64 bytes), a NULL table or one without call, or an input_schema that is not a JSON object;
   * SLUICE_ERROR when this plugin registered that name already. */
  sluice_status (*register_tool)(sluice_registry* reg, sluice_str name,
                                 const sluice_tool_vtable* vtable);
  /* The plugin's own `plugins: {NAME: {config: ...}}` as JSON text ("null" when absent) and
   * its NAME; valid during sluice_plugin_init. */
  sluice_str (*plugin_config)(sluice_registry* reg);
  sluice_str (*plugin_name)(sluice_registry* reg);
  /* Why init failed: the message sluice reports (with the file) when init returns an error. */
  void (*registry_fail)(sluice_registry* reg, sluice_str message);

  /* -- buffers and logging ------------------------------------------------------------- */

  /* Replaces the content of a sluice-owned buffer with a copy of `text`. */
  void (*buf_set)(sluice_buf* buf, sluice_str text);
  /* One log line on sluice's log (stderr), prefixed with "plugin: ". Any thread. */
  void (*log)(sluice_log_level level, sluice_str message);

  /* -- request: information (any hook) ------------------------------------------------- */

  sluice_str (*request_id)(sluice_request* req); /* x-request-id (the client's or sluice's) */
  sluice_str (*agent)(sluice_request* req);      /* agent name; empty before auth/anonymous */
  sluice_str (*model)(sluice_request* req);      /* logical model asked for; may be empty */
  /* "chat.completions", "completions", "embeddings", "responses", "models", "messages",
   * "unknown" */
  sluice_str (*endpoint)(sluice_request* req);
  sluice_str (*method)(sluice_request* req);
  sluice_str (*path)(sluice_request* req); /* the request target, query included */

  /* -- request: headers and body (on_request, and async callbacks until resume) ------------ */

  /* First header of that name (case-insensitive) into *value (valid until the hook returns or
   * the request headers are changed); SLUICE_NOT_FOUND if none. Any hook. */
  sluice_status (*request_header)(sluice_request* req, sluice_str name, sluice_str* value);
  /* Replaces every header of that name with one (name and value are checked: SLUICE_INVALID
   * for CR/LF/NUL or a bad name). Later filters and the upstream see the change. */
  sluice_status (*set_request_header)(sluice_request* req, sluice_str name, sluice_str value);
  sluice_status (*remove_request_header)(sluice_request* req, sluice_str name);
  /* The whole request body as received (or as last replaced); valid until the hook returns or
   * the body is replaced. Any hook. */
  sluice_status (*request_body)(sluice_request* req, sluice_str* body);
  /* Replaces the body (copied). For an endpoint that goes to a provider it must be a JSON
   * object with a non-empty string "model": else SLUICE_INVALID and host->last_error says why. */
  sluice_status (*set_request_body)(sluice_request* req, sluice_str body);

  /* -- response (on_response_headers; status also in on_complete) ------------------------ */

  /* In on_response_headers: the upstream's status; in on_complete: what went downstream
   * (499 when the client left first); 0 before either is known. */
  int32_t (*response_status)(sluice_request* req);
  /* An upstream response header (on_response_headers only). */
  sluice_status (*response_header)(sluice_request* req, sluice_str name, sluice_str* value);
  /* Response head edits (on_request — they apply to whatever reply goes out — and
   * on_response_headers). */
  sluice_status (*set_response_header)(sluice_request* req, sluice_str name, sluice_str value);
  sluice_status (*remove_response_header)(sluice_request* req, sluice_str name);
  /* In on_response_headers: the body will be rewritten, send it chunked. */
  sluice_status (*rewrite_response_body)(sluice_request* req);
  /* In on_response_chunk, after rewrite_response_body: the client sees `chunk` (copied)
   * instead of the current one. */
  sluice_status (*replace_chunk)(sluice_request* req, sluice_str chunk);

  /* -- ending or continuing the chain -------------------------------------------------- */

  /* A local reply (on_request, or an async callback before resume): `body` (JSON text,
   * copied) is sent as is, as application/json, with the response header edits made so far.
   * Then return SLUICE_FILTER_RESPOND (or call host->resume after a STOP). status must be
   * 200..599; the body is not checked. */
  sluice_status (*respond)(sluice_request* req, int32_t status, sluice_str body);
  /* The same in OpenAI's error shape: {"error":{"message","type","code","param":null}}. */
  sluice_status (*respond_error)(sluice_request* req, int32_t status, sluice_str type,
                                 sluice_str code, sluice_str message);
  /* Records why the current hook (or the STOPped request) failed: the message of the 500
   * plugin_error. Then return SLUICE_FILTER_ERROR (or call host->resume after a STOP). */
  void (*fail)(sluice_request* req, sluice_str message);
  /* After on_request returned STOP: continue the chain (or send the reply set by respond, or
   * the 500 set by fail). Exactly once, on the worker, from an async callback. SLUICE_ERROR
   * if the request is not stopped. The chain goes on inside this call and may finish the
   * request (on_complete runs, `req` is freed) before it returns: after resume, do not touch
   * `req` again in that callback. */
  sluice_status (*resume)(sluice_request* req);
  /* Why the last host call on this request returned an error (borrowed, until the next host
   * call on it); empty if none. */
  sluice_str (*last_error)(sluice_request* req);

  /* -- async work (on_request and async callbacks until resume) -------------------------- */

  /* Starts an HTTP call on the request's worker (never blocks). `done` runs later on the
   * worker; *out (if non-NULL) receives a handle for host->cancel. SLUICE_UNAVAILABLE when
   * this sluice has no HTTP client for plugins; SLUICE_INVALID for a bad request (see
   * last_error). Calls still running when the request ends are cancelled. */
  sluice_status (*http_call)(sluice_request* req, const sluice_http_request* request,
                             sluice_http_callback done, void* user, sluice_async** out);
  /* Runs `done` on the worker after `delay_ms` (0: on the next loop iteration). */
  sluice_status (*timer)(sluice_request* req, uint64_t delay_ms, sluice_timer_callback done,
                         void* user, sluice_async** out);
  /* Cancels an http_call or timer whose callback has not run: it never will. */
  void (*cancel)(sluice_request* req, sluice_async* op);

  /* -- shared dictionary: shared by every worker, kept across reloads (any thread) ------- */

  /* Reads `key`. A string value is copied into buf (cap bytes): value->str points there and
   * value->str.len is the full length; SLUICE_TRUNCATED if it did not fit (read again with a
   * bigger buffer). SLUICE_NOT_FOUND for a missing or expired key. */
  sluice_status (*shared_get)(sluice_str key, sluice_value* value, char* buf, size_t cap);
  /* ttl_seconds <= 0: no expiry. SLUICE_ERROR when it cannot be stored (key too long, value
   * larger than the dictionary). */
  sluice_status (*shared_set)(sluice_str key, const sluice_value* value, double ttl_seconds);
  /* Adds `by` to a number (a missing key counts from 0 and gets the ttl); the new value in
   * *result. SLUICE_INVALID when the value is not a number. */
  sluice_status (*shared_incr)(sluice_str key, double by, double ttl_seconds, double* result);
  /* SLUICE_NOT_FOUND if the key was not there. */
  sluice_status (*shared_delete)(sluice_str key);

  /* -- on_complete ------------------------------------------------------------------------ */

  /* Tokens of the attempt that answered (zeros when none did). */
  sluice_status (*usage)(sluice_request* req, sluice_usage* usage);
  double (*cost_usd)(sluice_request* req);      /* set by the cost filter; 0 without it */
  uint64_t (*duration_ms)(sluice_request* req); /* since the request arrived */

  /* -- calling a model (see "calling a model through sluice" above) ------------------------ */

  /* From a filter (on_request, or an async callback while STOPped): calls a logical model as
   * the request's agent (set by auth, which must come earlier in the chain). `done` runs later
   * on the worker; then call host->resume as after host->http_call. Calls still running when
   * the request ends are cancelled (done never runs). ABI 1.2: before that it was reserved and
   * answered SLUICE_UNSUPPORTED. SLUICE_INVALID for a bad request (see last_error);
   * SLUICE_UNAVAILABLE when the request is itself a plugin's model call, or sluice has no
   * listener to send it to. */
  sluice_status (*call_model)(sluice_request* req, const sluice_model_request* request,
                              sluice_model_callback done, void* user);

  /* -- providers and client APIs (ABI 1.1; check SLUICE_HAS before use on an older host) --- */

  /* Registers a client API (only during sluice_plugin_init; the table is copied). SLUICE_ERROR
   * when another plugin of the config serves that endpoint already. */
  sluice_status (*register_client_api)(sluice_registry* reg, const sluice_client_api_vtable* api);

  /* Inputs (any translation hook; strings valid until the hook returns). */
  sluice_endpoint (*translation_endpoint)(sluice_translation* t); /* the client's endpoint */
  /* on_request: the body to translate - the client's (or the client API's OpenAI body). */
  sluice_str (*translation_body)(sluice_translation* t);
  sluice_str (*translation_model)(sluice_translation* t); /* the target's model */
  int32_t (*translation_stream)(sluice_translation* t);   /* 1: the client asked to stream */
  /* 1: the client asked for the usage chunk (stream_options.include_usage). */
  int32_t (*translation_stream_usage)(sluice_translation* t);
  sluice_str (*translation_request_id)(sluice_translation* t);

  /* Outputs of on_request (SLUICE_WRONG_PHASE elsewhere; SLUICE_INVALID for CR/LF in a
   * header or a path not starting with "/"). Everything is copied. */
  sluice_status (*translation_set_path)(sluice_translation* t, sluice_str path);
  sluice_status (*translation_add_header)(sluice_translation* t, sluice_str name,
                                          sluice_str value);
  sluice_status (*translation_set_body)(sluice_translation* t, sluice_str body);

  /* Outputs of the response hooks. emit appends (copied) to what the client gets. */
  sluice_status (*translation_emit)(sluice_translation* t, sluice_str bytes);
  sluice_status (*translation_set_status)(sluice_translation* t, int32_t status);
  sluice_status (*translation_set_usage)(sluice_translation* t, const sluice_usage* usage);
  /* Why the hook returns INVALID or ERROR (copied; the last call wins). */
  void (*translation_fail)(sluice_translation* t, sluice_str message);

  /* -- tools (ABI 1.2; check SLUICE_HAS before use on an older host) ------------------------ */

  /* The directory of the config file that loaded the plugin (absolute, no trailing '/'): where
   * the plugin's relative paths are relative to. During sluice_plugin_init. */
  sluice_str (*config_dir)(sluice_registry* reg);

  /* Reading a call: any thread, until the call is finished. The strings are owned by the call
   * and do not change: copy what you keep past the finish. */
  sluice_str (*tool_call_name)(sluice_tool_call* c);       /* the name called: "memory.query" */
  sluice_str (*tool_call_arguments)(sluice_tool_call* c);  /* a JSON object, schema-checked */
  sluice_str (*tool_call_agent)(sluice_tool_call* c);      /* the caller; "" when anonymous */
  sluice_str (*tool_call_request_id)(sluice_tool_call* c); /* x-request-id of the call */
  /* Milliseconds left until the call's deadline (the entry's `timeout:`); <= 0 once it passed. */
  int64_t (*tool_call_remaining_ms)(sluice_tool_call* c);

  /* Finishing a call: exactly once per call, from any thread. `c` is gone when it returns. The
   * content is copied.
   *   text  — the tool's answer as plain text (MCP: one text content; REST: {"result":"..."}).
   *   json  — a JSON value (MCP: structuredContent + the same text; REST: {"result": <it>}). Not
   *           valid JSON: the call ends as a tool error saying so, and SLUICE_INVALID is returned.
   *   error — the tool ran and failed: the message reaches the agent (MCP: isError: true; REST:
   *           502 tool_error). Say what went wrong and what to do about it. */
  sluice_status (*tool_finish_text)(sluice_tool_call* c, sluice_str text);
  sluice_status (*tool_finish_json)(sluice_tool_call* c, sluice_str json);
  sluice_status (*tool_finish_error)(sluice_tool_call* c, sluice_str message);

  /* Calls a logical model as the call's agent (see "calling a model through sluice"). On the
   * call's worker thread only (inside call() or a sluice_model_callback), before the call is
   * finished. The timeout is cut to the time left until the call's deadline. When it returns
   * SLUICE_OK, `done` runs exactly once, later, on the worker (never inside this function);
   * otherwise it never runs: SLUICE_INVALID (a bad request: endpoint, body, timeout),
   * SLUICE_WRONG_PHASE (not on the worker), SLUICE_UNAVAILABLE (the deadline passed, or no
   * listener to send it to). */
  sluice_status (*tool_call_model)(sluice_tool_call* c, const sluice_model_request* request,
                                   sluice_model_callback done, void* user);
};

/* ---- what a plugin exports -------------------------------------------------------------- */

/* Declarations of the entry points (define them in the plugin). */
SLUICE_PLUGIN_EXPORT extern const sluice_abi_version sluice_plugin_abi_version;
/* Registers what the plugin implements. Main thread, once per loaded copy of the library.
 * `host` stays valid until the library is closed. Return SLUICE_OK, or an error after
 * host->registry_fail(reg, "why"): the config load fails naming the file. */
SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* host,
                                                      sluice_registry* reg);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SLUICE_PLUGIN_H */
