// UpstreamBody: the request body one attempt sends to an OpenAI-type provider — the client's
// body with at most two splices (DESIGN §8, §11), never copied or re-serialised:
//   - "model" becomes the physical model (when it differs from what the client sent);
//   - stream_options.include_usage becomes true when the session asks for stream usage
//     (AttemptRequest::ask_stream_usage) and the client had not turned it on itself.
// The result is a list of pieces (views into the client's body and into the edits' text) for
// one writev; size() is the Content-Length to send.
#pragma once

#include <span>
#include <string_view>

#include "core/json/body_splice.h"
#include "core/providers/backend.h"

namespace sluice::providers {

class UpstreamBody {
 public:
  // Computes the pieces for `request`. Views only: the request's body must outlive the pieces,
  // and the next prepare() replaces them (the edits' buffers are reused, keeping capacity).
  void prepare(const AttemptRequest& request);

  std::span<const std::string_view> pieces() const { return spliced_.pieces(); }
  size_t size() const { return spliced_.size(); }
  // Whether this body turned include_usage on (false when the client had, or nobody asked).
  bool asks_usage() const { return asks_usage_; }

 private:
  json::BodyEdit model_;
  json::BodyEdit usage_;
  json::SplicedBody spliced_;
  bool asks_usage_ = false;
};

}  // namespace sluice::providers
