// Why a message ended, in each API's words: Anthropic's stop_reason and OpenAI's finish_reason.
//
//   Anthropic stop_reason            OpenAI finish_reason
//   end_turn, stop_sequence          stop
//   max_tokens,                      length
//     model_context_window_exceeded
//   tool_use                         tool_calls
//   refusal                          content_filter
//   pause_turn                       stop   (a server tool paused a long turn; the client may
//                                            send the turn back to continue — OpenAI has no
//                                            word for it, and the text so far is whole)
//   anything newer                   stop   (forward compatible: the answer did end)
//
// Back (OpenAI → Anthropic): stop → end_turn (OpenAI does not say whether a stop sequence
// matched), length → max_tokens, tool_calls and the legacy function_call → tool_use,
// content_filter → refusal, anything else → end_turn.
#pragma once

#include <string_view>

namespace anthropic {

std::string_view finish_reason_for(std::string_view stop_reason);
std::string_view stop_reason_for(std::string_view finish_reason);

}  // namespace anthropic
