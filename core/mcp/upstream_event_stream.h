// UpstreamEventStream: the optional GET stream of an upstream MCP server (Streamable HTTP,
// "listening for messages from the server"), through which it sends notifications — for sluice,
// notifications/tools/list_changed — and requests (ping) that relate to no POST. One per
// UpstreamKeeper, on the upstream thread's loop. It reads the stream as it arrives (an
// HttpCaller would wait for the body's end), through an UpstreamPool of its own.
//
//   Idle ──open()──► Opening ──2xx text/event-stream──► Open ──(events)──► ...
//     ▲                 │                                 │
//     └─── on_stream_end(End, why) ◄──────────────────────┘   any status but that, a failure,
//                                                              the end of the body
//   Idle|Opening|Open ──close()──► Closing ──(pool shut down)──► Closed
//
// Bounds: connect kConnectTimeout; the answer's head within kFirstByteTimeout; the stream is
// dropped (End::Broken, for the keeper to open it again) after kIdleTimeout without a byte —
// comments count, which is what servers send to keep a stream up — and after kMaxLifetime
// whatever happens. An event longer than SseReader::kMaxEventBytes breaks the stream.
//
// Not thread-safe: one loop.
#pragma once

#include <uv.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/mcp/mcp_client_call.h"
#include "core/mcp/mcp_client_rpc.h"
#include "core/mcp/mcp_client_sse.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::mcp {

class UpstreamEventStream final : private upstream::ResponseSink {
 public:
  static constexpr std::chrono::milliseconds kConnectTimeout{10'000};
  static constexpr std::chrono::milliseconds kFirstByteTimeout{30'000};
  static constexpr std::chrono::milliseconds kIdleTimeout{600'000};
  static constexpr std::chrono::milliseconds kMaxLifetime{3'600'000};

  // How a stream ended. Rules (what the keeper does next):
  //   NotOffered  — 405, or a 2xx that is not an event stream: the server offers no stream;
  //                 do not ask again while this session lasts.
  //   SessionGone — 404 to the session's id: the server ended the session; renew it (a list
  //                 fetch does), then open again.
  //   Broken      — connect failure, reset, a timeout above, another status, a too long event:
  //                 open again after a backoff.
  //   Ended       — the server ended the body: open again (after a short pause).
  enum class End : uint8_t { NotOffered, SessionGone, Broken, Ended };
  static const char* to_string(End e);

  class Events {
   public:
    virtual ~Events() = default;
    virtual void on_stream_open() = 0;
    virtual void on_stream_message(const ServerMessage& message) = 0;
    // The stream is Idle again when this runs; open() may be called from inside.
    virtual void on_stream_end(End end, const std::string& why) = 0;
  };

  enum class State : uint8_t { Idle, Opening, Open, Closing, Closed };
  static const char* to_string(State s);

  UpstreamEventStream(uv_loop_t* loop, Events& events);
  ~UpstreamEventStream();  // only once Closed (or never opened)
  UpstreamEventStream(const UpstreamEventStream&) = delete;
  UpstreamEventStream& operator=(const UpstreamEventStream&) = delete;

  // Opens the stream with `session`'s headers. Only when Idle. False with *error when the
  // request cannot be made (then nothing else happens).
  bool open(const McpEndpoint& endpoint, const SessionTicket& session, std::string* error);
  // Stops the stream (no callback after this) and shuts the pool down; `done(arg)` runs (from
  // a close callback) once every handle is closed — or at once, inside close(), when the
  // stream was never opened. Once.
  void close(void (*done)(void* arg), void* arg);

  State state() const { return state_; }

 private:
  void set_state(State to);
  void end(End end, std::string why);  // aborts the exchange if needed, then reports
  // upstream::ResponseSink
  void on_upstream_head(int status, std::span<const upstream::ResponseHeader> headers,
                        std::optional<uint64_t> content_length) override;
  void on_upstream_body(const char* data, size_t len) override;
  void on_upstream_done() override;
  void on_upstream_failure(const upstream::Failure& failure) override;
  static void on_pool_closed(void* arg);

  uv_loop_t* loop_;
  Events& events_;
  std::unique_ptr<upstream::UpstreamPool> pool_;  // made at the first open(), for its origin
  std::string pool_origin_;                       // "http://host:port" the pool serves
  upstream::Exchange* exchange_ = nullptr;        // Opening/Open
  std::string head_;                              // the GET's bytes, alive while exchanging
  SseReader reader_;
  State state_ = State::Idle;
  void (*closed_done_)(void*) = nullptr;
  void* closed_arg_ = nullptr;
};

}  // namespace sluice::mcp
