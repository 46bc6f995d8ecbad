#include "core/server/request_slot.h"

#include <cassert>
#include <string>
#include <vector>

#include "core/server/worker.h"  // loop()

namespace sluice::server {
namespace {

// Frees a buffer whose capacity grew past `max_bytes` (one big request must not stay pinned
// in a pooled slot); smaller ones are kept for the next request.
void trim(std::string& s, size_t max_bytes) {
  if (s.capacity() > max_bytes) std::string().swap(s);
}

template <typename T>
void trim(std::vector<T>& v, size_t max_bytes) {
  if (v.capacity() * sizeof(T) > max_bytes) std::vector<T>().swap(v);
}

}  // namespace

const char* RequestSlot::to_string(State s) {
  switch (s) {
    case State::Free:
      return "free";
    case State::InUse:
      return "in_use";
    case State::Closing:
      return "closing";
  }
  return "?";
}

RequestSlot::RequestSlot(Worker& worker, RequestSlotPool& owner)
    : pool(owner), parser(http::ParserLimits{}, &request), session(worker) {}

RequestSlotPool::~RequestSlotPool() {
  assert(alive_ == 0);
}

RequestSlot* RequestSlotPool::acquire(DownstreamConnection& connection,
                                      const http::ParserLimits& limits) {
  RequestSlot* slot = free_;
  if (slot != nullptr) {
    assert(slot->state == RequestSlot::State::Free);
    free_ = slot->next_free;
    slot->next_free = nullptr;
    add(free_count_, -1);
    slot->state = RequestSlot::State::InUse;
  } else {
    slot = new RequestSlot(worker_, *this);
    ++alive_;
    // Opened once per slot and kept open while the slot is pooled: an inactive timer costs
    // nothing, and closing it per request would cost a loop iteration before reuse.
    uv_timer_init(worker_.loop(), slot->session.retry_timer());
    slot->session.retry_timer()->data = &slot->session;
  }
  add(in_use_, 1);
  slot->parser.reset(limits);
  slot->session.bind(&connection);
  return slot;
}

void RequestSlotPool::release(RequestSlot* slot) {
  assert(slot->state == RequestSlot::State::InUse);
  assert(!slot->session.active());
  add(in_use_, -1);
  slot->session.bind(nullptr);
  // The parser and request are reset by the next acquire(), with the next connection's limits.
  if (closed_ || free_count() >= kMaxFree) {
    close_slot(slot);
    return;
  }
  trim(slot->request.body, kMaxRetainedBuffer);
  trim(slot->request.head_storage, kMaxRetainedBuffer);
  trim(slot->request.headers_, kMaxRetainedBuffer);
  trim(slot->request.connection_tokens_, kMaxRetainedBuffer);
  slot->session.trim_buffers(kMaxRetainedBuffer);
  slot->state = RequestSlot::State::Free;
  slot->next_free = free_;
  free_ = slot;
  add(free_count_, 1);
}

void RequestSlotPool::close_all() {
  closed_ = true;
  while (free_ != nullptr) {
    RequestSlot* slot = free_;
    free_ = slot->next_free;
    add(free_count_, -1);
    close_slot(slot);
  }
}

void RequestSlotPool::close_slot(RequestSlot* slot) {
  slot->state = RequestSlot::State::Closing;
  slot->next_free = nullptr;
  uv_timer_t* timer = slot->session.retry_timer();
  uv_timer_stop(timer);
  timer->data = slot;  // from here on the close callback's, not the session's
  uv_close(reinterpret_cast<uv_handle_t*>(timer), &RequestSlotPool::on_timer_closed);
}

void RequestSlotPool::on_timer_closed(uv_handle_t* handle) {
  // libuv rule: a handle's memory is freed only once its close callback ran.
  auto* slot = static_cast<RequestSlot*>(handle->data);
  assert(slot->state == RequestSlot::State::Closing);
  --slot->pool.alive_;
  delete slot;
}

}  // namespace sluice::server
