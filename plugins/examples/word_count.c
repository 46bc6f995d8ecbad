/* A tool in plain C (docs/plugins-c.md "A tool in C"): `text.count_words` counts the words of
 * its argument `text` and answers {"words": N}. Synchronous — it finishes the call inside call();
 * a tool that waits for something finishes it later instead, from any thread.
 *
 *   plugins:
 *     examples: {file: libsluice_word_count.so}
 *   tools:
 *     text.count_words: {type: plugin, plugin: examples}
 */
#include <sluice/plugin.h>
#include <stdio.h>
#include <string.h>

SLUICE_PLUGIN_DEFINE_ABI_VERSION();

static const sluice_host_api* host;

static sluice_str S(const char* s) {
  sluice_str out;
  out.data = s;
  out.len = strlen(s);
  return out;
}

/* The value of "text" in the arguments: sluice checked them against the input_schema below,
 * so it is there and a string. A real tool would use a JSON parser; this one skips to the
 * string and counts words in its bytes (escapes count as letters). */
static size_t count_words(sluice_str args) {
  const char *p = args.data, *end = args.data + args.len;
  const char* key = "\"text\"";
  size_t words = 0;
  int in_word = 0;
  for (; p + 6 <= end && memcmp(p, key, 6) != 0; ++p) {
  }
  for (p += 6; p < end && *p != '"'; ++p) { /* to the value's opening quote */
  }
  for (++p; p < end && *p != '"'; ++p) {
    const int space = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
    if (*p == '\\' && p + 1 < end) ++p; /* an escaped quote does not end the string */
  }
  return words;
}

static void count_words_call(void* config, sluice_tool_call* call) {
  char answer[64];
  (void)config;
  snprintf(answer, sizeof answer, "{\"words\":%zu}", count_words(host->tool_call_arguments(call)));
  host->tool_finish_json(call, S(answer)); /* exactly once; `call` is gone after this */
}

SLUICE_PLUGIN_EXPORT sluice_status sluice_plugin_init(const sluice_host_api* h,
                                                      sluice_registry* reg) {
  static sluice_tool_vtable vtable;
  host = h;
  if (!SLUICE_HAS(sluice_host_api, host, tool_finish_json)) {
    host->registry_fail(reg, S("text.count_words needs a sluice with plugin ABI 1.2"));
    return SLUICE_UNSUPPORTED;
  }
  memset(&vtable, 0, sizeof vtable);
  vtable.size = sizeof vtable;
  vtable.description = "Count the words of a text.";
  vtable.input_schema =
      "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},"
      "\"required\":[\"text\"]}";
  vtable.call = count_words_call; /* no config, no cancel: it never waits */
  return host->register_tool(reg, S("text.count_words"), &vtable);
}
