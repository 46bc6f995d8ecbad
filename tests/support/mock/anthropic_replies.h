// The mock provider's replies on Anthropic's Messages API (POST /v1/messages), in their shapes:
// a message JSON, or the SSE sequence message_start, content_block_start, ping,
// content_block_delta…, content_block_stop, message_delta, message_stop. Usage reports
// input_tokens (uncached) plus the behaviour's `cached:<n>` as cache_read_input_tokens and
// `cache_write:<n>` as cache_creation_input_tokens, so cost tests can price cached tokens;
// `no_usage` leaves every usage object out. Failures use Anthropic's error body
// {"type":"error","error":{"type","message"}} with their status → type table.
// A request that offers tools is answered with tool_use blocks (tool_use.h: stop_reason
// tool_use, input_json_delta fragments in a stream); the behaviours error_event, cut_in_tool,
// unknown_events, thinking and strict (behavior.h) give translators the hard cases.
#pragma once

#include <cstdint>
#include <string_view>

#include "tests/support/mock/behavior.h"
#include "tests/support/mock/openai_replies.h"

namespace sluice::mock {

// Whether `path` (no query string) is the Messages endpoint, with or without the /v1 prefix.
bool is_anthropic_path(std::string_view path);

Reply anthropic_reply(std::string_view method, std::string_view path, std::string_view body,
                      const Behavior& behavior, uint64_t sequence);

// {"type":"error","error":{"type":<by status>,"message":...}}; 429 carries retry-after.
Reply anthropic_error_reply(int status, std::string_view message);

}  // namespace sluice::mock
