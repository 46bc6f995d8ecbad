// The built-in mock provider's answer on POST /v1/messages, in the shape of Anthropic's
// Messages API: one JSON message, or the SSE event sequence their streaming docs describe
// (message_start, content_block_start, ping, content_block_delta…, content_block_stop,
// message_delta, message_stop). The mock does no prompt caching, so its cache token counts
// are always 0 — present, as Anthropic sends them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/providers/mock_backend.h"

namespace sluice::providers {

// `words` are the reply's stream pieces (their concatenation is the reply text);
// `input_tokens` the mock's estimate of the prompt.
void build_mock_messages_script(const AttemptRequest& request,
                                const std::vector<std::string_view>& words, uint64_t input_tokens,
                                uint64_t sequence, MockScript& out);

}  // namespace sluice::providers
