#include "core/providers/upstream_body.h"

namespace sluice::providers {

void UpstreamBody::prepare(const AttemptRequest& request) {
  const std::string_view body = request.request->body;
  const json::RequestFields& f = *request.fields;
  // The model is replaced only where the client wrote one (the router resolved the physical
  // model from it); a body that already names the physical model goes as it is.
  const bool model =
      f.has_model && f.model_end > f.model_begin && request.physical_model != f.model;
  if (model) json::set_model_edit(model_, body, f, request.physical_model);
  asks_usage_ = request.ask_stream_usage && json::set_include_usage_edit(usage_, body, f);
  const json::BodyEdit* model_edit = model ? &model_ : nullptr;
  const json::BodyEdit* usage_edit = asks_usage_ ? &usage_ : nullptr;
  if (spliced_.assign(body, {model_edit, usage_edit})) return;
  // The two edits are on different top-level members, so they cannot overlap for a body that
  // parse_request_fields accepted; should they ever, the model splice alone is the one the
  // provider cannot do without (the stream is then charged from an estimate).
  asks_usage_ = false;
  if (!spliced_.assign(body, {model_edit})) spliced_.assign(body, {});
}

}  // namespace sluice::providers
