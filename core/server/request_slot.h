// RequestSlot: what one request needs while it is read and answered — the parsed request, the
// parser (llhttp state) and the proxy session (its context, arena, relay buffers, scanners,
// retry timer) — apart from the connection it arrived on. A connection takes a slot from its
// worker's RequestSlotPool when the first byte of a request arrives and gives it back once the
// response is done, so an idle keep-alive connection holds only its socket, its timer and a
// few words (issue 14: nginx frees its buffers on keep-alive and allocates them again on the
// next read). Given-back slots are reused, so the steady state allocates nothing new.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/http/request.h"
#include "core/http/request_parser.h"
#include "core/server/proxy_session.h"

namespace sluice::server {

class DownstreamConnection;
class RequestSlotPool;
class Worker;

struct RequestSlot {
  // Free    — in the pool's free list: session idle, parser fresh, retry timer open but stopped.
  // InUse   — held by one connection, from a request's first byte to its response's end.
  // Closing — its retry timer is closing; the slot is deleted in that close callback.
  // Transitions: Free ⇄ InUse; Free → Closing (pool full, or the worker shuts down).
  // A slot is created InUse (acquire() found none free) with its timer initialised.
  enum class State : uint8_t { Free, InUse, Closing };
  static const char* to_string(State s);

  RequestSlot(Worker& worker, RequestSlotPool& pool);
  RequestSlot(const RequestSlot&) = delete;
  RequestSlot& operator=(const RequestSlot&) = delete;

  RequestSlotPool& pool;  // the pool that made it (its close callback reports there)
  State state = State::InUse;
  http::HttpRequest request;
  http::RequestParser parser;        // parses into `request`; limits set by each acquire()
  ProxySession session;              // its retry timer's data is the session while the slot lives
  RequestSlot* next_free = nullptr;  // the pool's free list (Free only)
};

// One per worker, used on its loop only. Bounded: at most kMaxFree given-back slots are kept
// (trimmed, see kMaxRetainedBuffer); a slot given back beyond that is closed and freed, so
// 10,000 connections that were busy once do not keep 10,000 slots.
class RequestSlotPool {
 public:
  // Enough to absorb the ups and downs of requests in flight under steady load without
  // allocating a slot per request; small next to what one connection used to hold (~12 KiB each).
  static constexpr size_t kMaxFree = 64;
  // A given-back slot's buffers (request head and body, relay strings) above this capacity are
  // released, so a pooled slot never pins one big request's memory.
  static constexpr size_t kMaxRetainedBuffer = size_t{64} * 1024;

  explicit RequestSlotPool(Worker& worker) : worker_(worker) {}
  ~RequestSlotPool();  // every slot must be gone: given back and closed (close_all())
  RequestSlotPool(const RequestSlotPool&) = delete;
  RequestSlotPool& operator=(const RequestSlotPool&) = delete;

  // A slot for a request arriving on `connection`, its parser set to `limits`.
  RequestSlot* acquire(DownstreamConnection& connection, const http::ParserLimits& limits);
  // Takes a slot back. Its session must be idle (the request finished or was told the client
  // left); its parser and request are reset when it is next acquired.
  void release(RequestSlot* slot);
  // The worker is shutting down: closes every free slot (all slots must have been given back).
  void close_all();

  // Read by the admin thread at scrape time too (sluice_request_slots): single writer (the
  // worker), so the worker updates them with plain relaxed stores, no locked instruction.
  size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  size_t free_count() const { return free_count_.load(std::memory_order_relaxed); }
  // Slots alive in any state (in use, free or closing): what the pool costs in memory.
  size_t alive() const { return alive_; }

 private:
  void close_slot(RequestSlot* slot);
  static void add(std::atomic<size_t>& counter, int delta) {
    counter.store(counter.load(std::memory_order_relaxed) + static_cast<size_t>(delta),
                  std::memory_order_relaxed);
  }
  static void on_timer_closed(uv_handle_t* handle);

  Worker& worker_;
  RequestSlot* free_ = nullptr;  // singly linked through next_free
  std::atomic<size_t> free_count_{0};
  std::atomic<size_t> in_use_{0};
  size_t alive_ = 0;
  bool closed_ = false;  // close_all() ran: released slots are closed, not kept
};

}  // namespace sluice::server
