#include "anthropic/host_calls.h"

namespace anthropic {

sluice_translate_result report(const sluice_host_api* host, sluice_translation* t,
                               const Outcome& outcome) {
  switch (outcome.verdict) {
    case Verdict::Ok:
      return SLUICE_TRANSLATE_OK;
    case Verdict::Invalid:
      host->translation_fail(t, str(outcome.message));
      return SLUICE_TRANSLATE_INVALID;
    case Verdict::Error:
      break;
  }
  host->translation_fail(t, str(outcome.message));
  return SLUICE_TRANSLATE_ERROR;
}

void report_usage(const sluice_host_api* host, sluice_translation* t, const Usage& usage,
                  Usage& last) {
  if (!usage.reported) return;
  if (last.reported && usage.input_tokens == last.input_tokens &&
      usage.output_tokens == last.output_tokens && usage.cached_tokens == last.cached_tokens &&
      usage.cache_write_tokens == last.cache_write_tokens) {
    return;
  }
  last = usage;
  sluice_usage u{};
  u.size = sizeof u;
  u.input_tokens = usage.input_tokens;
  u.output_tokens = usage.output_tokens;
  u.cached_tokens = usage.cached_tokens;
  u.cache_write_tokens = usage.cache_write_tokens;
  host->translation_set_usage(t, &u);
}

sluice_translate_result send_response(const sluice_host_api* host, sluice_translation* t,
                                      const TranslatedResponse& response) {
  host->translation_set_status(t, response.status);
  emit(host, t, response.body);
  Usage none;
  report_usage(host, t, response.usage, none);
  return SLUICE_TRANSLATE_OK;
}

sluice_translate_result no_attempt(const sluice_host_api* host, sluice_translation* t) {
  host->translation_fail(t, str("anthropic plugin: a response hook ran for an attempt that "
                                "on_request did not translate"));
  return SLUICE_TRANSLATE_ERROR;
}

void emit(const sluice_host_api* host, sluice_translation* t, std::string_view bytes) {
  if (!bytes.empty()) host->translation_emit(t, str(bytes));
}

}  // namespace anthropic
