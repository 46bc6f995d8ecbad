// What every translator returns and reports, in plain C++ (no sluice types), so that the
// translators can be tested, fuzzed and benchmarked without sluice. plugin.cc maps these onto
// sluice_translate_result and sluice_usage.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace anthropic {

// The verdict of one translation step; the rules are sluice_translate_result's (plugin.h).
enum class Verdict : uint8_t {
  Ok,       // go on
  Invalid,  // requests only: the client asked for something the target API cannot express;
            // the client gets 400 invalid_request_error with the message, nothing is sent
  Error,    // the answer is not what the API promises (or a bug): the attempt fails as a
            // protocol error (502, or an error event once a stream has started)
};

// A verdict and, unless Ok, why. The message names the field at fault, JSON-path style:
// `messages[3].content[1].type: "input_audio" has no Anthropic equivalent`.
struct Outcome {
  Verdict verdict = Verdict::Ok;
  std::string message;

  static Outcome ok() { return {}; }
  static Outcome invalid(std::string why) { return {Verdict::Invalid, std::move(why)}; }
  static Outcome error(std::string why) { return {Verdict::Error, std::move(why)}; }
  bool is_ok() const { return verdict == Verdict::Ok; }
};

// Token counts as sluice accounts them (sluice_usage): input_tokens is the WHOLE prompt,
// cached_tokens and cache_write_tokens are parts of it. Anthropic's own input_tokens excludes
// both cache counts; the readers in usage.h add them in.
struct Usage {
  bool reported = false;  // the answer carried usage; all zeros otherwise
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  uint64_t cached_tokens = 0;       // read from the provider's prompt cache
  uint64_t cache_write_tokens = 0;  // written to it (Anthropic's cache_creation_input_tokens)
};

// A whole (non-streamed) answer after translation.
struct TranslatedResponse {
  int status = 200;  // what the client gets
  std::string body;  // JSON in the client's API shape
  Usage usage;       // as the answer reported it
};

}  // namespace anthropic
