// Request heads and bodies the micro-benchmarks feed through sluice's hot path, shaped like what
// the official OpenAI SDK sends (its headers, its JSON layout), in three body sizes.
#pragma once

#include <string>

namespace sluice::bench {

// The head of a chat completion request as openai-node sends it (17 headers, ~560 bytes),
// with the given Content-Length. Its key is kAgentKey.
std::string sdk_request_head(size_t content_length);

inline constexpr const char* kAgentKey = "sk-bench-agent-0000";

// {"model":"fast","messages":[...]} bodies:
std::string small_body();  // one short user message (~80 bytes)
std::string agent_body();  // system prompt, a few turns, two tools (~4 KiB): a typical agent step
std::string large_body();  // a long conversation (~64 KiB), model last

}  // namespace sluice::bench
