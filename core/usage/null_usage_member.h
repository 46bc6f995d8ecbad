// Where an OpenAI chunk's `"usage": null` member is, so that a client who did not ask for
// stream usage does not see it. With stream_options.include_usage on, OpenAI puts
// "usage": null in every chunk of the stream (the numbers come in a last, usage-only chunk);
// when sluice itself turned it on (DESIGN §8), the client must get the chunks it would have got
// without: the same bytes minus that member and the comma that separates it.
//
// Only what can be taken out safely is found — anything else is left for the client as it came:
//   - the member must be a key of the top-level object (followed by a walk of the document's
//     strings and nesting from its start), written "usage" without escapes, its value the
//     literal null, whitespace allowed around the ':';
//   - the separating comma goes with it: the one before it (`,"usage":null`) when another
//     member precedes it, else the one after it and the whitespace that follows
//     (`"usage":null, `); alone in its object it leaves `{}`;
//   - in an SSE event, only one made of a single data line (data: <json> and its line end and
//     blank line): the member's bytes are then one stretch of the event.
// Neither function reads outside its input, whatever it holds; both cost one pass over the
// document up to the member, 64 bytes at a time (bit masks of quotes, escapes and brackets).
// Internal to core/usage.
#pragma once

#include <cstddef>
#include <string_view>

namespace sluice::usage::detail {

// A stretch [begin, end) of the input to leave out; none when begin == end.
struct Cut {
  size_t begin = 0, end = 0;
  bool empty() const { return begin == end; }
};

// In one JSON document (an event's data). `first_candidate`, when not npos: where the first
// `"usage" : null` of the document starts (found by an earlier pass over it), so that the
// search for it need not be done again.
Cut find_null_usage_member(std::string_view json, size_t first_candidate = std::string_view::npos);

// In one whole SSE event, from its first line through the blank line that ends it.
// `first_candidate` as above, an offset in the event's data (its data line's value).
Cut find_null_usage_in_event(std::string_view event,
                             size_t first_candidate = std::string_view::npos);

}  // namespace sluice::usage::detail
