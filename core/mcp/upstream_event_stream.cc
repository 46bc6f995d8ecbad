#include "core/mcp/upstream_event_stream.h"

#include <cassert>

#include "core/http/request.h"
#include "core/log/log.h"
#include "core/plugin/http_call_request.h"

namespace sluice::mcp {

const char* UpstreamEventStream::to_string(End e) {
  switch (e) {
    case End::NotOffered:
      return "not_offered";
    case End::SessionGone:
      return "session_gone";
    case End::Broken:
      return "broken";
    case End::Ended:
      return "ended";
  }
  return "?";
}

const char* UpstreamEventStream::to_string(State s) {
  switch (s) {
    case State::Idle:
      return "idle";
    case State::Opening:
      return "opening";
    case State::Open:
      return "open";
    case State::Closing:
      return "closing";
    case State::Closed:
      return "closed";
  }
  return "?";
}

UpstreamEventStream::UpstreamEventStream(uv_loop_t* loop, Events& events)
    : loop_(loop), events_(events) {}

UpstreamEventStream::~UpstreamEventStream() {
  assert((state_ == State::Closed || (state_ == State::Idle && !pool_)) &&
         "UpstreamEventStream destroyed before close() finished");
}

void UpstreamEventStream::set_state(State to) {
  const bool ok = [&] {
    switch (to) {
      case State::Idle:
        return state_ == State::Opening || state_ == State::Open;
      case State::Opening:
        return state_ == State::Idle;
      case State::Open:
        return state_ == State::Opening;
      case State::Closing:
        return state_ != State::Closing && state_ != State::Closed;
      case State::Closed:
        return state_ == State::Closing;
    }
    return false;
  }();
  if (!ok) {
    log::error(std::string("UpstreamEventStream: transition ") + to_string(state_) + " -> " +
               to_string(to) + " not allowed");
    assert(false && "UpstreamEventStream: transition not allowed");
  }
  state_ = to;
}

bool UpstreamEventStream::open(const McpEndpoint& endpoint, const SessionTicket& session,
                               std::string* error) {
  if (state_ != State::Idle) {
    *error = std::string("the stream is ") + to_string(state_);
    return false;
  }
  plugin::HttpCallRequest request = mcp_http_request(endpoint, &session, "GET", "");
  request.timeout = kMaxLifetime > plugin::HttpCaller::kMaxTimeout ? plugin::HttpCaller::kMaxTimeout
                                                                   : kMaxLifetime;
  plugin::PreparedHttpCall prepared;
  if (!plugin::prepare_http_call(request, &prepared, error)) return false;
  if (!pool_) {
    // The pool's timeouts are the stream's bounds (see the header).
    config::Provider provider;
    provider.name = prepared.origin_key;
    provider.type = "mcp_stream";
    provider.base_url = prepared.origin_key;
    provider.url = prepared.origin;
    provider.timeouts.connect = config::Duration{kConnectTimeout.count()};
    provider.timeouts.first_byte = config::Duration{kFirstByteTimeout.count()};
    provider.timeouts.idle = config::Duration{kIdleTimeout.count()};
    provider.timeouts.total = config::Duration{kMaxLifetime.count()};
    provider.max_connections = 1;
    pool_ = std::make_unique<upstream::UpstreamPool>(loop_, provider);
    pool_origin_ = prepared.origin_key;
  }
  head_ = std::move(prepared.head);
  reader_ = SseReader{};
  set_state(State::Opening);
  uv_buf_t buf = uv_buf_init(head_.data(), static_cast<unsigned>(head_.size()));
  exchange_ = pool_->start(std::span<const uv_buf_t>(&buf, 1), this);
  return true;
}

void UpstreamEventStream::end(End how, std::string why) {
  if (exchange_ != nullptr) {
    pool_->abort(exchange_);
    exchange_ = nullptr;
  }
  set_state(State::Idle);
  events_.on_stream_end(how, why);
}

void UpstreamEventStream::on_upstream_head(int status,
                                           std::span<const upstream::ResponseHeader> headers,
                                           std::optional<uint64_t>) {
  if (status == 405) return end(End::NotOffered, "HTTP 405");
  if (status == 404) return end(End::SessionGone, "HTTP 404");
  if (status < 200 || status >= 300) return end(End::Broken, "HTTP " + std::to_string(status));
  std::string type;
  for (const auto& h : headers) {
    if (http::iequals(h.name, "content-type")) type = media_type(h.value);
  }
  if (type != "text/event-stream") {
    return end(End::NotOffered, "HTTP " + std::to_string(status) + " " +
                                    (type.empty() ? "without a content type" : type) +
                                    ", not an event stream");
  }
  set_state(State::Open);
  events_.on_stream_open();
}

void UpstreamEventStream::on_upstream_body(const char* data, size_t len) {
  if (state_ != State::Open) return;
  const bool ok = reader_.feed(std::string_view(data, len), [this](const SseEvent& event) {
    if (event.data.empty()) return true;                                // a priming event
    if (!event.event.empty() && event.event != "message") return true;  // not MCP's
    events_.on_stream_message(read_server_message(event.data));
    return state_ == State::Open;  // the keeper may have closed it meanwhile
  });
  if (!ok && reader_.too_long() && state_ == State::Open) {
    end(End::Broken,
        "an event longer than " + std::to_string(SseReader::kMaxEventBytes) + " bytes");
  }
}

void UpstreamEventStream::on_upstream_done() {
  exchange_ = nullptr;
  if (state_ == State::Open || state_ == State::Opening) end(End::Ended, "the stream ended");
}

void UpstreamEventStream::on_upstream_failure(const upstream::Failure& failure) {
  exchange_ = nullptr;
  std::string why = upstream::to_string(failure.kind);
  if (failure.kind == upstream::FailureKind::Timeout) {
    why += std::string(" (") + upstream::to_string(failure.timeout) + ")";
  }
  if (failure.detail != nullptr && *failure.detail != '\0')
    why += std::string(": ") + failure.detail;
  if (state_ == State::Open || state_ == State::Opening) end(End::Broken, why);
}

void UpstreamEventStream::close(void (*done)(void*), void* arg) {
  closed_done_ = done;
  closed_arg_ = arg;
  if (exchange_ != nullptr) {
    pool_->abort(exchange_);
    exchange_ = nullptr;
  }
  set_state(State::Closing);
  if (!pool_) {  // nothing was ever opened: nothing to close
    set_state(State::Closed);
    if (done != nullptr) done(arg);
    return;
  }
  pool_->shutdown(&UpstreamEventStream::on_pool_closed, this);
}

void UpstreamEventStream::on_pool_closed(void* arg) {
  auto* self = static_cast<UpstreamEventStream*>(arg);
  self->set_state(State::Closed);
  if (self->closed_done_ != nullptr) self->closed_done_(self->closed_arg_);
}

}  // namespace sluice::mcp
