// Error answers (any non-2xx) from one API's shape into the other's.
//
//   Anthropic  {"type":"error","error":{"type":"rate_limit_error","message":"..."}}
//   OpenAI     {"error":{"message":"...","type":"rate_limit_error","param":null,"code":"..."}}
//
// Statuses are kept, with one exception each way:
//   - Anthropic's 529 overloaded_error becomes 503 for an OpenAI client. 529 is not a status
//     OpenAI clients or sluice's retry policy know; 503 keeps it a 5xx, so the retry filter and
//     the SDKs retry it as they retry any server error, and it says the same thing.
//   - no status becomes 529 for an Anthropic client: behind the client API the provider is not
//     Anthropic, so "Anthropic is overloaded" would be a lie; a 503 stays 503 (api_error), which
//     the Anthropic SDKs retry like 529.
// A body that is not the expected JSON (an HTML page from a proxy, an empty body) still maps:
// the message is the start of the body as text (printable_prefix, at most 512 bytes), or a
// sentence naming the status when there is no body.
#pragma once

#include <string_view>

#include "anthropic/outcome.h"

namespace anthropic {

// Anthropic's error.type for a status, as Anthropic documents them (and as sluice answers
// /v1/messages itself): 400 and unlisted 4xx invalid_request_error, 401 authentication_error,
// 402 billing_error, 403 permission_error, 404 not_found_error, 413 request_too_large,
// 429 rate_limit_error, 529 overloaded_error, other 5xx api_error.
std::string_view anthropic_error_type_for(int status);

// B (errors): an Anthropic error answer for an OpenAI client. error.type is Anthropic's type
// (the same words as sluice's own for 400–429), error.code repeats it so that code-matching
// clients see it too (null when the body gave none).
TranslatedResponse anthropic_error_to_openai(int status, std::string_view body);

// E (errors): an OpenAI-shaped error answer for an Anthropic client. error.type is chosen by
// status (anthropic_error_type_for); the message is OpenAI's error.message (or a bare string
// "error", as some OpenAI-compatible servers send).
TranslatedResponse openai_error_to_anthropic(int status, std::string_view body);

}  // namespace anthropic
