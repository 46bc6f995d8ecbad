// UpstreamKeeper: keeps one upstream MCP server's tool list fresh, on the upstream thread
// (upstream_registry.h), with that thread's HttpCaller. It fetches tools/list (every page, with
// its cursor) at start, publishes each list that differs from the last (Upstream::publish), and
// fetches it again when the server says it changed (notifications/tools/list_changed, on the GET
// stream or riding on any answer, a worker's included), when the GET stream comes back after a
// break (a notification may have been missed), and every refresh_interval as a safety net.
// Sessions are set up and renewed by the list calls themselves (McpClientCall).
//
//   Connecting ──list fetched──► Ready ──refresh wanted, or the timer──► Listing
//   Listing ──list fetched──► Ready   (at once Listing again when a change was announced
//                                      while it fetched)
//   Connecting | Listing ──failed──► Down ──backoff timer, or refresh wanted──► Connecting
//   any ──close()──► Closing ──(timers, stream and list call closed)──► Closed
//
// Down keeps the last list (a server that blinks does not make its tools vanish from agents'
// lists; calls meanwhile fail as unavailable); a server never reached has no tools. Retries
// back off from retry_min, doubling, to retry_max. A refresh wanted while Down (a worker saw
// the server answer) tries at once.
//
// The GET stream (upstream_event_stream.h) is opened once Ready, when the server said at
// initialize that it sends tools/list_changed; a 405 means it offers none (not asked again
// while that session lasts); a 404 means the session is gone (the list is fetched again, which
// renews it, and the stream reopens with the new one); a break is followed by a new open after
// a backoff.
//
// The server's requests (on the stream or an answer) are answered: ping with an empty result,
// anything else with -32601 (sluice declares no client capabilities).
//
// Not thread-safe: the upstream thread only.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/mcp/upstream.h"
#include "core/mcp/upstream_event_stream.h"

namespace sluice::mcp {

struct KeeperOptions {
  std::chrono::milliseconds refresh_interval{300'000};  // the safety-net refresh
  std::chrono::milliseconds retry_min{500};             // first retry after a failed fetch
  std::chrono::milliseconds retry_max{30'000};          // backoff cap
  std::chrono::milliseconds page_timeout{30'000};       // one tools/list page (incl. initialize)
  std::chrono::milliseconds stream_retry_min{1'000};    // reopening a broken GET stream
  std::chrono::milliseconds stream_retry_max{60'000};
  size_t max_page_bytes = size_t{16} << 20;  // one page's answer
  size_t max_pages = 200;                    // pages of one list
  size_t max_tools = 10'000;                 // tools of one list (the rest is dropped, warned)
};

class UpstreamKeeper final : private UpstreamEventStream::Events {
 public:
  enum class State : uint8_t { Connecting, Listing, Ready, Down, Closing, Closed };
  static const char* to_string(State s);

  UpstreamKeeper(uv_loop_t* loop, plugin::HttpCaller* http, std::shared_ptr<Upstream> upstream,
                 KeeperOptions options);
  ~UpstreamKeeper();  // only Closed
  UpstreamKeeper(const UpstreamKeeper&) = delete;
  UpstreamKeeper& operator=(const UpstreamKeeper&) = delete;

  void start();
  // The upstream thread was woken: acts on a refresh the Upstream was asked for.
  void wake();
  // Retires the keeper: the list call is cancelled, the stream and timers closed; the session,
  // if the server gave it an id, is ended with a DELETE (not waited for). `done(this, arg)`
  // runs once everything is closed (from a close callback).
  void close(void (*done)(UpstreamKeeper* keeper, void* arg), void* arg);

  State state() const { return state_; }
  const std::shared_ptr<Upstream>& upstream() const { return upstream_; }

 private:
  void set_state(State to);
  void report_health();
  void refresh_wanted();
  void begin_fetch();
  void fetch_page();
  void on_page(McpOutcome& outcome);
  void finish_fetch();
  void fail(std::string why);
  void handle_traffic(const ServerTraffic& traffic);
  void answer_request(const std::string& id_json, const std::string& method);
  void maybe_open_stream();
  std::string who() const;  // `mcp upstream "github"` for log lines

  static void on_page_cb(void* arg, McpOutcome& outcome);
  static void on_timer(uv_timer_t* timer);
  static void on_stream_timer(uv_timer_t* timer);
  static void on_handle_closed(uv_handle_t* handle);
  static void on_stream_closed(void* arg);
  void one_closed();

  // UpstreamEventStream::Events
  void on_stream_open() override;
  void on_stream_message(const ServerMessage& message) override;
  void on_stream_end(UpstreamEventStream::End end, const std::string& why) override;

  uv_loop_t* loop_;
  plugin::HttpCaller* http_;
  std::shared_ptr<Upstream> upstream_;
  KeeperOptions options_;
  State state_ = State::Connecting;
  bool started_ = false;

  uv_timer_t timer_{};         // Ready: the periodic refresh; Down: the retry
  uv_timer_t stream_timer_{};  // the pause before reopening the GET stream
  UpstreamEventStream stream_;
  McpClientCall* call_ = nullptr;  // the tools/list page in flight

  // The fetch under way.
  std::vector<UpstreamTool> fetched_;
  std::vector<std::string> skipped_;  // warnings about entries that could not be read
  std::string cursor_;
  std::set<std::string> seen_cursors_;
  size_t pages_ = 0;
  bool truncated_ = false;  // max_tools reached: later pages were not fetched
  bool again_ = false;      // a change was announced during the fetch: fetch once more

  uint64_t failures_in_a_row_ = 0;
  Upstream::Health health_;
  std::string logged_error_;  // the last failure logged (the same one is not repeated)

  // The GET stream.
  uint64_t stream_refused_generation_ = 0;  // the session whose GET got 405/404 (0: none)
  uint64_t stream_generation_ = 0;          // the session the stream was opened with
  bool stream_was_open_ = false;            // opened at least once (a reopen refreshes)
  std::chrono::milliseconds stream_retry_{0};
  uint64_t stream_opened_at_ms_ = 0;

  // Closing.
  int closing_left_ = 0;
  void (*closed_done_)(UpstreamKeeper*, void*) = nullptr;
  void* closed_arg_ = nullptr;
};

}  // namespace sluice::mcp
