// A: an OpenAI chat completions request → an Anthropic Messages request (the provider's
// on_request for /v1/chat/completions).
//
// Field by field (docs/anthropic.md has the same table for operators):
//   model                          the target's model (options.model), whatever the client sent
//   messages                       `system` + `messages` (chat_messages_to_anthropic.h)
//   max_completion_tokens,         max_tokens (the first if both are given); neither →
//     max_tokens                     options.default_max_tokens (Anthropic requires one)
//   temperature                    temperature; above 1 (Anthropic's maximum, OpenAI's is 2) is
//                                    refused rather than changed
//   top_p, top_k (an extension     the same
//     some clients send)
//   stop                           stop_sequences (a string becomes a one-element list)
//   stream                         stream
//   user, metadata.user            metadata.user_id (`user` first)
//   tools                          tools: {name, description, input_schema: parameters, or
//                                    {"type":"object","properties":{}} when absent}
//   tool_choice                    "auto" → {type:auto}, "required" → {type:any},
//                                    "none" → {type:none}, {type:function,function:{name}} →
//                                    {type:tool,name}; sent only with tools
//   parallel_tool_calls: false     tool_choice.disable_parallel_tool_use: true (with tools; not
//                                    on {type:none}, which has no such field)
//
// Refused (Invalid, naming the field), because the answer could not be what was asked for:
//   n > 1, logprobs: true, top_logprobs > 0, response_format json_object / json_schema
//   (Anthropic has no JSON mode; emulating one with a forced tool call would change the answer's
//   shape), audio, modalities other than "text", web_search_options, the legacy functions /
//   function_call, a tool that is not of type "function", a tool_choice we cannot name.
// Dropped, because Anthropic has nothing like them and the answer is still a faithful one:
//   seed, frequency_penalty, presence_penalty, logit_bias, service_tier, store, stream_options
//   (Anthropic streams always carry usage), prediction, reasoning_effort, verbosity,
//   prompt_cache_key, safety_identifier, metadata other than `user`, tools[].function.strict,
//   parallel_tool_calls: true, and any field this translator does not know (forward compatible,
//   as OpenAI adds fields; the list above is what it knows it drops).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "anthropic/outcome.h"

namespace anthropic {

struct ChatToMessagesOptions {
  std::string_view model;       // the target's model: Anthropic's name for it
  uint64_t default_max_tokens;  // when the client gives none (ProviderConfig)
};

// Writes the Anthropic request into `out` (replacing it). Invalid for a body that is not a JSON
// object or has no `messages` array, and for everything listed as refused above.
Outcome chat_request_to_messages(std::string_view chat_body, const ChatToMessagesOptions& options,
                                 std::string& out);

}  // namespace anthropic
