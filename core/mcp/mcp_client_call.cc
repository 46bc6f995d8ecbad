#include "core/mcp/mcp_client_call.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cctype>

#include "core/log/log.h"
#include "core/mcp/mcp_client_results.h"

namespace sluice::mcp {
namespace {

constexpr std::string_view kSessionHeader = "Mcp-Session-Id";
constexpr std::string_view kVersionHeader = "MCP-Protocol-Version";
// A session id longer than this is refused (the spec bounds only its bytes, not its length).
constexpr size_t kMaxSessionIdBytes = 1024;
// How much of a refusing answer's body a message quotes.
constexpr size_t kMaxQuotedBody = 200;

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const std::string* header_of(const plugin::HttpCallResult& result, std::string_view name) {
  for (const auto& [n, v] : result.headers) {
    if (same_name(n, name)) return &v;
  }
  return nullptr;
}

std::string content_type_of(const plugin::HttpCallResult& result) {
  const std::string* value = header_of(result, "content-type");
  return value != nullptr ? *value : std::string();
}

// "HTTP 503" plus what the body says, cut, on one line: the server's own words help the
// operator ("Bad Request: Mcp-Session-Id header is required").
std::string describe_status(const plugin::HttpCallResult& result) {
  std::string out = "HTTP " + std::to_string(result.status);
  std::string_view body = result.body;
  if (!body.empty()) {
    ServerMessage m = read_server_message(body);
    if (m.kind == ServerMessage::Kind::Response && m.is_error && !m.error_message.empty()) {
      body = m.error_message;
      out += ": " + std::string(body.substr(0, kMaxQuotedBody));
      return out;
    }
    std::string quoted;
    for (char c : body.substr(0, kMaxQuotedBody)) {
      quoted.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    }
    out += ": " + quoted;
    if (body.size() > kMaxQuotedBody) out += "...";
  }
  return out;
}

bool is_2xx(int status) {
  return status >= 200 && status < 300;
}

bool valid_session_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxSessionIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7e;
  });
}

}  // namespace

const char* to_string(McpOutcome::Status s) {
  switch (s) {
    case McpOutcome::Status::Result:
      return "result";
    case McpOutcome::Status::RpcError:
      return "rpc_error";
    case McpOutcome::Status::Timeout:
      return "timeout";
    case McpOutcome::Status::Unreachable:
      return "unreachable";
    case McpOutcome::Status::Malformed:
      return "malformed";
  }
  return "?";
}

const char* McpClientCall::to_string(State s) {
  switch (s) {
    case State::Initializing:
      return "initializing";
    case State::Notifying:
      return "notifying";
    case State::Requesting:
      return "requesting";
    case State::Waiting:
      return "waiting";
    case State::Resuming:
      return "resuming";
    case State::Delivering:
      return "delivering";
    case State::Done:
      return "done";
    case State::Cancelled:
      return "cancelled";
  }
  return "?";
}

plugin::HttpCallRequest mcp_http_request(const McpEndpoint& endpoint, const SessionTicket* session,
                                         std::string method, std::string body) {
  plugin::HttpCallRequest request;
  request.method = std::move(method);
  request.url = endpoint.url;
  request.headers = endpoint.headers;
  if (request.method == "GET") {
    request.headers.emplace_back("Accept", "text/event-stream");
  } else {
    request.headers.emplace_back("Accept", "application/json, text/event-stream");
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  }
  if (session != nullptr && !session->protocol_version.empty()) {
    request.headers.emplace_back(kVersionHeader, session->protocol_version);
    if (!session->id.empty()) request.headers.emplace_back(kSessionHeader, session->id);
  }
  request.body = std::move(body);
  return request;
}

int64_t next_request_id() {
  static std::atomic<int64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

McpClientCall* McpClientCall::start(uv_loop_t* loop, plugin::HttpCaller* http,
                                    std::shared_ptr<const McpEndpoint> endpoint,
                                    std::shared_ptr<SessionStore> sessions, McpRequest request,
                                    Done done, void* arg) {
  auto* call = new McpClientCall();
  call->loop_ = loop;
  call->http_ = http;
  call->endpoint_ = std::move(endpoint);
  call->sessions_ = std::move(sessions);
  call->request_ = std::move(request);
  call->done_ = done;
  call->arg_ = arg;
  uv_timer_init(loop, &call->timer_);
  call->timer_.data = call;
  call->ticket_ = call->sessions_->current();
  if (call->ticket_.established()) {
    call->begin_request();
  } else {
    call->begin_initialize(call->ticket_.generation);
  }
  return call;
}

void McpClientCall::set_state(State to) {
  const bool ok = [&] {
    switch (to) {
      case State::Initializing:  // at start, or renewing after a 404
        return state_ == State::Requesting;
      case State::Notifying:
        return state_ == State::Initializing;
      case State::Requesting:
        return state_ == State::Notifying || state_ == State::Requesting;
      case State::Waiting:
        return state_ == State::Requesting || state_ == State::Resuming;
      case State::Resuming:
        return state_ == State::Waiting;
      case State::Delivering:
        return state_ != State::Done && state_ != State::Cancelled && state_ != State::Delivering;
      case State::Cancelled:  // also while Delivering: the caller gave up first, `done` never runs
        return state_ != State::Done && state_ != State::Cancelled;
      case State::Done:
        return state_ == State::Delivering;
    }
    return false;
  }();
  if (!ok) {
    log::error(std::string("McpClientCall: transition ") + to_string(state_) + " -> " +
               to_string(to) + " not allowed");
    assert(false && "McpClientCall: transition not allowed");
  }
  state_ = to;
}

std::chrono::milliseconds McpClientCall::time_left() const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      request_.deadline - std::chrono::steady_clock::now());
  return std::min(left, plugin::HttpCaller::kMaxTimeout);
}

void McpClientCall::begin_initialize(uint64_t replaces) {
  set_state(State::Initializing);
  replaces_ = replaces;
  fresh_ = SessionTicket{};
  rpc_id_ = next_request_id();
  send(mcp_http_request(*endpoint_, nullptr, "POST",
                        rpc_request(rpc_id_, "initialize", initialize_params())));
}

void McpClientCall::begin_request() {
  set_state(State::Requesting);
  rpc_id_ = next_request_id();
  send(mcp_http_request(*endpoint_, &ticket_, "POST",
                        rpc_request(rpc_id_, request_.method, request_.params_json)));
}

void McpClientCall::begin_resume(const RpcAnswer& answer) {
  set_state(State::Waiting);
  ++resumes_;
  last_event_id_ = answer.last_event_id;
  // WHATWG leaves the default reconnection time to the client; MCP servers that poll send one.
  auto wait = std::chrono::milliseconds(std::min<uint64_t>(
      answer.retry_ms.value_or(0), static_cast<uint64_t>(kMaxRetryWait.count())));
  if (wait >= time_left()) {
    finish(McpOutcome::Status::Timeout, "timeout: the server asked to wait " +
                                            std::to_string(wait.count()) +
                                            "ms before resuming its answer");
    return;
  }
  uv_timer_start(&timer_, &McpClientCall::on_timer, static_cast<uint64_t>(wait.count()), 0);
}

void McpClientCall::send(plugin::HttpCallRequest request) {
  const auto left = time_left();
  if (left.count() <= 0) {
    finish(McpOutcome::Status::Timeout, "timeout: the deadline passed");
    return;
  }
  request.timeout = left;
  request.max_response_bytes = request_.max_response_bytes;
  if (http_ == nullptr) {
    finish(McpOutcome::Status::Unreachable, "no HTTP client on this loop");
    return;
  }
  std::string error;
  http_call_ = http_->start(std::move(request), &McpClientCall::on_http_done, this, &error);
  if (http_call_ == nullptr) finish(McpOutcome::Status::Unreachable, error);
}

void McpClientCall::on_http_done(void* arg, plugin::HttpCallResult& result) {
  auto* self = static_cast<McpClientCall*>(arg);
  self->http_call_ = nullptr;
  self->on_answer(result);
}

void McpClientCall::on_answer(plugin::HttpCallResult& result) {
  outcome_.http_status = result.status;
  if (!result.error.empty()) {
    const char* step = state_ == State::Initializing ? "initialize: "
                       : state_ == State::Notifying  ? "notifications/initialized: "
                       : state_ == State::Resuming   ? "resuming the answer: "
                                                     : "";
    const bool timeout = result.error.rfind("timeout", 0) == 0;
    finish(timeout ? McpOutcome::Status::Timeout : McpOutcome::Status::Unreachable,
           step + result.error);
    return;
  }
  switch (state_) {
    case State::Initializing:
      on_initialize_answer(result);
      return;
    case State::Notifying:
      on_notify_answer(result);
      return;
    case State::Requesting:
    case State::Resuming:
      on_request_answer(result);
      return;
    default:
      assert(false && "McpClientCall: an HTTP answer in a state that sent nothing");
  }
}

void McpClientCall::on_initialize_answer(plugin::HttpCallResult& result) {
  if (!is_2xx(result.status)) {
    finish(McpOutcome::Status::Unreachable, "initialize: " + describe_status(result));
    return;
  }
  RpcAnswer answer =
      read_rpc_answer(content_type_of(result), result.body, rpc_id_, &outcome_.traffic);
  if (answer.status == RpcAnswer::Status::Error) {
    finish(McpOutcome::Status::Unreachable, "initialize refused: " + answer.message);
    return;
  }
  if (answer.status != RpcAnswer::Status::Result) {
    finish(McpOutcome::Status::Malformed, "initialize: " + answer.message);
    return;
  }
  InitializeResult init;
  std::string error;
  if (!read_initialize_result(answer.result_json, &init, &error)) {
    finish(McpOutcome::Status::Malformed, "initialize: " + error);
    return;
  }
  fresh_.protocol_version = init.protocol_version;
  fresh_.tools_list_changed = init.tools_list_changed;
  fresh_.server_name = init.server_name;
  if (const std::string* id = header_of(result, kSessionHeader)) {
    if (!valid_session_id(*id)) {
      finish(McpOutcome::Status::Malformed,
             "initialize: the Mcp-Session-Id header is empty, too long or has bytes outside "
             "0x21-0x7E");
      return;
    }
    fresh_.id = *id;
  }
  set_state(State::Notifying);
  send(
      mcp_http_request(*endpoint_, &fresh_, "POST", rpc_notification("notifications/initialized")));
}

void McpClientCall::on_notify_answer(plugin::HttpCallResult& result) {
  if (!is_2xx(result.status)) {
    finish(McpOutcome::Status::Unreachable,
           "notifications/initialized: " + describe_status(result));
    return;
  }
  // Unpublished (someone else renewed meanwhile), it is still valid for this request.
  ticket_ = sessions_->publish(replaces_, fresh_);
  begin_request();
}

void McpClientCall::on_request_answer(plugin::HttpCallResult& result) {
  if (result.status == 404 && state_ == State::Requesting && !ticket_.id.empty() &&
      !outcome_.renewed) {
    // The server ended the session (MCP: 404 to a request with its id). Once per call: use a
    // session someone else already made, or make one; then repeat the request, which the
    // server never processed.
    outcome_.renewed = true;
    SessionTicket now = sessions_->current();
    if (now.established() && now.generation != ticket_.generation) {
      ticket_ = now;
      begin_request();
    } else {
      begin_initialize(now.generation);
    }
    return;
  }
  if (!is_2xx(result.status)) {
    std::string what = describe_status(result);
    if (result.status == 404 && !ticket_.id.empty()) what += " (the session was renewed once)";
    finish(McpOutcome::Status::Unreachable,
           state_ == State::Resuming ? "resuming the answer: " + what : what);
    return;
  }
  if (result.status == 202 || result.body.empty()) {
    finish(McpOutcome::Status::Malformed,
           "HTTP " + std::to_string(result.status) + " with no body: no response to the request");
    return;
  }
  RpcAnswer answer =
      read_rpc_answer(content_type_of(result), result.body, rpc_id_, &outcome_.traffic);
  switch (answer.status) {
    case RpcAnswer::Status::Result:
      outcome_.result_json = std::move(answer.result_json);
      finish(McpOutcome::Status::Result, "");
      return;
    case RpcAnswer::Status::Error:
      finish(McpOutcome::Status::RpcError, answer.message);
      return;
    case RpcAnswer::Status::Malformed:
      finish(McpOutcome::Status::Malformed, answer.message);
      return;
    case RpcAnswer::Status::Unfinished:
      if (!answer.last_event_id.empty() && resumes_ < kMaxResumes) {
        begin_resume(answer);
      } else {
        finish(McpOutcome::Status::Malformed,
               answer.message + (answer.last_event_id.empty()
                                     ? std::string(" (and gave no event id to resume from)")
                                     : " (after " + std::to_string(resumes_) + " resumptions)"));
      }
      return;
  }
}

void McpClientCall::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<McpClientCall*>(timer->data);
  if (self->state_ == State::Delivering) {
    self->deliver();
    return;
  }
  if (self->state_ != State::Waiting) return;
  self->set_state(State::Resuming);
  plugin::HttpCallRequest request = mcp_http_request(*self->endpoint_, &self->ticket_, "GET", "");
  request.headers.emplace_back("Last-Event-ID", self->last_event_id_);
  self->send(std::move(request));
}

void McpClientCall::finish(McpOutcome::Status status, std::string message) {
  outcome_.status = status;
  outcome_.message = std::move(message);
  finish_soon();
}

// The outcome goes out from the timer: never from inside start(), and from an HTTP callback
// only one loop turn later, which keeps every path alike.
void McpClientCall::finish_soon() {
  set_state(State::Delivering);
  uv_timer_stop(&timer_);
  uv_timer_start(&timer_, &McpClientCall::on_timer, 0, 0);
}

void McpClientCall::deliver() {
  set_state(State::Done);
  if (done_ != nullptr) done_(arg_, outcome_);
  close();
}

void McpClientCall::cancel() {
  if (state_ == State::Done || state_ == State::Cancelled) return;
  set_state(State::Cancelled);
  if (http_call_ != nullptr) {
    http_->cancel(http_call_);
    http_call_ = nullptr;
  }
  close();
}

void McpClientCall::close() {
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &McpClientCall::on_closed);
}

void McpClientCall::on_closed(uv_handle_t* handle) {
  delete static_cast<McpClientCall*>(handle->data);
}

}  // namespace sluice::mcp
