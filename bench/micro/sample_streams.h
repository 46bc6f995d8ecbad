// Streamed answers the micro-benchmarks feed through sluice's stream path, shaped like what the
// providers send (their field order, their ids), as the reads a proxy gets them in: one
// element per read. `n` is the number of content (text) deltas; the two dialects carry the same
// text, so an Anthropic stream translated to OpenAI's shape can be set against the OpenAI
// stream passed through.
#pragma once

#include <string>
#include <vector>

namespace sluice::bench {

// Anthropic Messages (event: + data: lines): message_start, content_block_start, n
// content_block_delta text_deltas, content_block_stop, message_delta, message_stop — one event
// per read, as the API flushes them.
std::vector<std::string> anthropic_sse_stream(int n);
// OpenAI chat completions (data: lines only, include_usage): a role chunk, n content chunks, the
// finish chunk, the usage-only chunk, [DONE] — one event per read.
std::vector<std::string> openai_sse_stream(int n);
// Ollama's native /api/chat stream (NDJSON): n content lines and the final "done" line.
std::vector<std::string> ollama_ndjson_stream(int n);

// The reads joined into one (a proxy that reads a whole burst at once).
std::vector<std::string> in_one_read(const std::vector<std::string>& reads);
// Every read cut in two at its middle (a provider's flush landing mid-event).
std::vector<std::string> halved(const std::vector<std::string>& reads);

// An Anthropic Messages answer (not streamed) and the same answer as an OpenAI chat.completion:
// a text of ~1.3 KiB, usage with cache reads.
std::string anthropic_message_json();
std::string openai_completion_json();

}  // namespace sluice::bench
