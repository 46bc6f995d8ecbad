#include "core/mcp/upstream_keeper.h"

#include <algorithm>
#include <cassert>

#include "core/log/log.h"

namespace sluice::mcp {
namespace {

// How long a DELETE of the session may take when the keeper retires (it is not waited for).
constexpr std::chrono::milliseconds kDeleteTimeout{2'000};
// Answers to the server's own requests (ping); like the DELETE, short enough that a thread
// leaving waits for them well within the registry's stop bound.
constexpr std::chrono::milliseconds kAnswerTimeout{2'000};
// A GET stream that lived this long before it broke reopens after stream_retry_min again.
constexpr uint64_t kStreamHealthyMs = 60'000;

void ignore_result(void*, plugin::HttpCallResult&) {}

}  // namespace

const char* UpstreamKeeper::to_string(State s) {
  switch (s) {
    case State::Connecting:
      return "connecting";
    case State::Listing:
      return "listing";
    case State::Ready:
      return "ready";
    case State::Down:
      return "down";
    case State::Closing:
      return "closing";
    case State::Closed:
      return "closed";
  }
  return "?";
}

UpstreamKeeper::UpstreamKeeper(uv_loop_t* loop, plugin::HttpCaller* http,
                               std::shared_ptr<Upstream> upstream, KeeperOptions options)
    : loop_(loop),
      http_(http),
      upstream_(std::move(upstream)),
      options_(options),
      stream_(loop, *this),
      stream_retry_(options.stream_retry_min) {
  uv_timer_init(loop_, &timer_);
  uv_timer_init(loop_, &stream_timer_);
  timer_.data = this;
  stream_timer_.data = this;
}

UpstreamKeeper::~UpstreamKeeper() {
  assert(state_ == State::Closed && "UpstreamKeeper destroyed before close() finished");
}

std::string UpstreamKeeper::who() const {
  return "mcp upstream \"" + upstream_->endpoint().name + "\"";
}

void UpstreamKeeper::set_state(State to) {
  const bool ok = [&] {
    switch (to) {
      case State::Connecting:
        return state_ == State::Down || (state_ == State::Connecting && !started_);
      case State::Listing:
        return state_ == State::Ready;
      case State::Ready:
      case State::Down:
        return state_ == State::Connecting || state_ == State::Listing;
      case State::Closing:
        return state_ != State::Closing && state_ != State::Closed;
      case State::Closed:
        return state_ == State::Closing;
    }
    return false;
  }();
  if (!ok) {
    log::error("UpstreamKeeper: transition " + std::string(to_string(state_)) + " -> " +
               to_string(to) + " not allowed");
    assert(false && "UpstreamKeeper: transition not allowed");
  }
  state_ = to;
  report_health();
}

void UpstreamKeeper::report_health() {
  health_.state = to_string(state_);
  upstream_->set_health(health_);
}

void UpstreamKeeper::start() {
  begin_fetch();
  started_ = true;
}

void UpstreamKeeper::wake() {
  if (upstream_->take_refresh_request()) refresh_wanted();
}

void UpstreamKeeper::refresh_wanted() {
  switch (state_) {
    case State::Ready:
    case State::Down:
      begin_fetch();
      return;
    case State::Connecting:
    case State::Listing:
      again_ = true;
      return;
    case State::Closing:
    case State::Closed:
      return;
  }
}

// ---- the list --------------------------------------------------------------------------------

void UpstreamKeeper::begin_fetch() {
  uv_timer_stop(&timer_);
  set_state(state_ == State::Ready ? State::Listing : State::Connecting);
  fetched_.clear();
  skipped_.clear();
  cursor_.clear();
  seen_cursors_.clear();
  pages_ = 0;
  truncated_ = false;
  again_ = false;
  fetch_page();
}

void UpstreamKeeper::fetch_page() {
  McpRequest request;
  request.method = "tools/list";
  request.params_json = tools_list_params(cursor_);
  request.deadline = std::chrono::steady_clock::now() + options_.page_timeout;
  request.max_response_bytes = options_.max_page_bytes;
  call_ = McpClientCall::start(loop_, http_, upstream_->endpoint_ptr(), upstream_->sessions(),
                               std::move(request), &UpstreamKeeper::on_page_cb, this);
}

void UpstreamKeeper::on_page_cb(void* arg, McpOutcome& outcome) {
  auto* self = static_cast<UpstreamKeeper*>(arg);
  self->call_ = nullptr;
  self->on_page(outcome);
}

void UpstreamKeeper::on_page(McpOutcome& outcome) {
  handle_traffic(outcome.traffic);
  if (outcome.renewed) log::info(who() + ": the server ended the session; renewed");
  if (outcome.status != McpOutcome::Status::Result) {
    fail("tools/list: " + std::string(mcp::to_string(outcome.status)) + ": " + outcome.message);
    return;
  }
  ToolsPage page;
  std::string error;
  if (!read_tools_page(outcome.result_json, &page, &error)) {
    fail("tools/list: " + error);
    return;
  }
  ++pages_;
  for (UpstreamTool& tool : page.tools) {
    if (fetched_.size() >= options_.max_tools) {
      truncated_ = true;
      break;
    }
    fetched_.push_back(std::move(tool));
  }
  for (std::string& s : page.skipped) {
    if (skipped_.size() < 20) skipped_.push_back(std::move(s));
  }
  if (!page.next_cursor.empty() && !truncated_) {
    if (pages_ >= options_.max_pages) {
      truncated_ = true;
    } else if (!seen_cursors_.insert(page.next_cursor).second) {
      fail("tools/list: the server gave the cursor \"" + page.next_cursor.substr(0, 64) +
           "\" twice (a loop)");
      return;
    } else {
      cursor_ = std::move(page.next_cursor);
      fetch_page();
      return;
    }
  }
  finish_fetch();
}

void UpstreamKeeper::finish_fetch() {
  const size_t count = fetched_.size();
  const bool changed = upstream_->publish(std::move(fetched_));
  fetched_.clear();
  if (changed) {
    // Warnings only with a new list: the periodic refresh of an unchanged one stays quiet.
    for (const std::string& s : skipped_) log::warn(who() + ": skipped: " + s);
    if (truncated_) {
      log::warn(who() + ": the list was cut at " + std::to_string(count) + " tools (at most " +
                std::to_string(options_.max_tools) + " tools in " +
                std::to_string(options_.max_pages) + " pages)");
    }
    SessionTicket ticket = upstream_->sessions()->current();
    log::info(who() + ": " + std::to_string(count) + " tool(s) listed" +
              (ticket.server_name.empty() ? "" : " by \"" + ticket.server_name + "\"") +
              ", protocol " + ticket.protocol_version);
  }
  failures_in_a_row_ = 0;
  logged_error_.clear();
  ++health_.fetches;
  health_.last_error.clear();
  set_state(State::Ready);
  if (again_) {
    begin_fetch();
    return;
  }
  uv_timer_start(&timer_, &UpstreamKeeper::on_timer,
                 static_cast<uint64_t>(options_.refresh_interval.count()), 0);
  maybe_open_stream();
}

void UpstreamKeeper::fail(std::string why) {
  ++failures_in_a_row_;
  ++health_.failures;
  health_.last_error = why;
  // Doubling from retry_min, capped (the shift is bounded so it cannot overflow).
  const uint64_t shift = std::min<uint64_t>(failures_in_a_row_ - 1, 20);
  const auto delay = std::min<std::chrono::milliseconds>(
      options_.retry_max, options_.retry_min * (uint64_t{1} << shift));
  if (why != logged_error_) {
    log::warn(who() + ": " + why + "; its tools are " +
              (upstream_->tools()->version == 0 ? "not offered" : "kept from the last list") +
              " until it answers (retrying in " + std::to_string(delay.count()) + "ms)");
    logged_error_ = why;
  }
  set_state(State::Down);
  uv_timer_start(&timer_, &UpstreamKeeper::on_timer, static_cast<uint64_t>(delay.count()), 0);
}

void UpstreamKeeper::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<UpstreamKeeper*>(timer->data);
  if (self->state_ == State::Ready || self->state_ == State::Down) self->begin_fetch();
}

// ---- what the server asks of us --------------------------------------------------------------

void UpstreamKeeper::handle_traffic(const ServerTraffic& traffic) {
  for (const auto& [id, method] : traffic.requests) answer_request(id, method);
  if (traffic.tools_list_changed) refresh_wanted();
}

void UpstreamKeeper::answer_request(const std::string& id_json, const std::string& method) {
  if (state_ == State::Closing || state_ == State::Closed) return;
  const SessionTicket ticket = upstream_->sessions()->current();
  std::string body = method == "ping" ? rpc_result(id_json, "{}")
                                      : rpc_error(id_json, -32601, "Method not found: " + method);
  plugin::HttpCallRequest request =
      mcp_http_request(upstream_->endpoint(), &ticket, "POST", std::move(body));
  request.timeout = kAnswerTimeout;
  request.max_response_bytes = 64 << 10;
  std::string error;
  if (http_->start(std::move(request), &ignore_result, nullptr, &error) == nullptr) {
    log::warn(who() + ": cannot answer the server's " + method + ": " + error);
  }
}

// ---- the GET stream --------------------------------------------------------------------------

void UpstreamKeeper::maybe_open_stream() {
  if (state_ != State::Ready || stream_.state() != UpstreamEventStream::State::Idle ||
      uv_is_active(reinterpret_cast<uv_handle_t*>(&stream_timer_))) {
    return;
  }
  const SessionTicket ticket = upstream_->sessions()->current();
  if (!ticket.established() || !ticket.tools_list_changed) return;
  if (ticket.generation == stream_refused_generation_) return;
  std::string error;
  stream_generation_ = ticket.generation;
  if (!stream_.open(upstream_->endpoint(), ticket, &error)) {
    log::warn(who() + ": cannot open the notification stream: " + error);
    stream_refused_generation_ = ticket.generation;
  }
}

void UpstreamKeeper::on_stream_open() {
  stream_opened_at_ms_ = uv_now(loop_);
  if (stream_was_open_) {
    refresh_wanted();  // a notification may have been sent while it was down
  } else {
    log::info(who() + ": listening for notifications (GET stream)");
  }
  stream_was_open_ = true;
}

void UpstreamKeeper::on_stream_message(const ServerMessage& message) {
  if (message.kind == ServerMessage::Kind::Notification ||
      message.kind == ServerMessage::Kind::Request) {
    ServerTraffic traffic;
    traffic.note(message);
    handle_traffic(traffic);
  }
}

void UpstreamKeeper::on_stream_end(UpstreamEventStream::End end, const std::string& why) {
  if (state_ == State::Closing || state_ == State::Closed) return;
  switch (end) {
    case UpstreamEventStream::End::NotOffered:
      stream_refused_generation_ = stream_generation_;
      log::info(who() + ": offers no notification stream (" + why +
                "); list changes are seen on answers and by the periodic refresh");
      return;
    case UpstreamEventStream::End::SessionGone:
      // The fetch renews the session (its POST gets the 404 too), and Ready opens the stream
      // again with the new one. Not with this one: a server that refuses the GET but still
      // takes POSTs with it would make a loop.
      stream_refused_generation_ = stream_generation_;
      refresh_wanted();
      return;
    case UpstreamEventStream::End::Broken:
    case UpstreamEventStream::End::Ended:
      break;
  }
  const bool lived =
      stream_opened_at_ms_ != 0 && uv_now(loop_) - stream_opened_at_ms_ >= kStreamHealthyMs;
  stream_opened_at_ms_ = 0;
  if (lived) stream_retry_ = options_.stream_retry_min;
  log::debug(who() + ": notification stream " + UpstreamEventStream::to_string(end) + " (" + why +
             "); reopening in " + std::to_string(stream_retry_.count()) + "ms");
  uv_timer_start(&stream_timer_, &UpstreamKeeper::on_stream_timer,
                 static_cast<uint64_t>(stream_retry_.count()), 0);
  stream_retry_ = std::min(options_.stream_retry_max, stream_retry_ * 2);
}

void UpstreamKeeper::on_stream_timer(uv_timer_t* timer) {
  static_cast<UpstreamKeeper*>(timer->data)->maybe_open_stream();
}

// ---- closing ---------------------------------------------------------------------------------

void UpstreamKeeper::close(void (*done)(UpstreamKeeper*, void*), void* arg) {
  closed_done_ = done;
  closed_arg_ = arg;
  set_state(State::Closing);
  if (call_ != nullptr) {
    call_->cancel();
    call_ = nullptr;
  }
  // The server may forget the session now (MCP: a client that no longer needs it SHOULD).
  const SessionTicket ticket = upstream_->sessions()->current();
  if (ticket.established() && !ticket.id.empty()) {
    plugin::HttpCallRequest request =
        mcp_http_request(upstream_->endpoint(), &ticket, "DELETE", "");
    request.timeout = kDeleteTimeout;
    request.max_response_bytes = 64 << 10;
    std::string error;
    http_->start(std::move(request), &ignore_result, nullptr, &error);
  }
  closing_left_ = 3;  // two timers and the stream
  uv_timer_stop(&timer_);
  uv_timer_stop(&stream_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &UpstreamKeeper::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&stream_timer_), &UpstreamKeeper::on_handle_closed);
  stream_.close(&UpstreamKeeper::on_stream_closed, this);
}

void UpstreamKeeper::on_handle_closed(uv_handle_t* handle) {
  static_cast<UpstreamKeeper*>(handle->data)->one_closed();
}

void UpstreamKeeper::on_stream_closed(void* arg) {
  static_cast<UpstreamKeeper*>(arg)->one_closed();
}

void UpstreamKeeper::one_closed() {
  if (--closing_left_ > 0) return;
  set_state(State::Closed);
  if (closed_done_ != nullptr) closed_done_(this, closed_arg_);
}

}  // namespace sluice::mcp
