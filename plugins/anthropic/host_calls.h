// The few things every hook does with sluice's host API, in C++ terms: turn sluice_str into
// std::string_view and back, hand a translator's output over (body, status, usage, events),
// and turn an Outcome into the sluice_translate_result the hook returns.
//
// Also the rule that no C++ exception crosses into sluice (plugin.h): every hook body runs
// inside guarded(), which turns an exception (std::bad_alloc, realistically) into ERROR with
// its message.
#pragma once

#include <sluice/plugin.h>

#include <exception>
#include <string_view>

#include "anthropic/outcome.h"

namespace anthropic {

inline std::string_view view(sluice_str s) {
  return s.len == 0 ? std::string_view() : std::string_view(s.data, s.len);
}
inline sluice_str str(std::string_view s) {
  return sluice_str{s.data(), s.size()};
}

// The verdict for sluice; for Invalid and Error, the message goes to translation_fail first.
sluice_translate_result report(const sluice_host_api* host, sluice_translation* t,
                               const Outcome& outcome);

// Tells sluice the usage if the answer reported any and it differs from `last` (the last
// report for this attempt, updated): sluice keeps the last report, so once per change is enough.
void report_usage(const sluice_host_api* host, sluice_translation* t, const Usage& usage,
                  Usage& last);

// A whole translated answer: status, body, usage.
sluice_translate_result send_response(const sluice_host_api* host, sluice_translation* t,
                                      const TranslatedResponse& response);

// Bytes for the client's stream (nothing when empty).
void emit(const sluice_host_api* host, sluice_translation* t, std::string_view bytes);

// ERROR for a response hook that finds no per-attempt state: sluice ran it for an attempt whose
// on_request made none (a native request, or one on_request refused) — a broken promise of
// the host, reported rather than crashed on.
sluice_translate_result no_attempt(const sluice_host_api* host, sluice_translation* t);

template <class Hook>
sluice_translate_result guarded(const sluice_host_api* host, sluice_translation* t, Hook&& hook) {
  try {
    return hook();
  } catch (const std::exception& e) {
    host->translation_fail(t, str(e.what()));
  } catch (...) {
    host->translation_fail(t, str("anthropic plugin: unexpected exception"));
  }
  return SLUICE_TRANSLATE_ERROR;
}

}  // namespace anthropic
