#include "core/plugin/worker_mailbox.h"

#include <string>

#include "core/log/log.h"

namespace sluice::plugin {

WorkerMailbox::WorkerMailbox(uv_loop_t* loop) : loop_(loop) {
  uv_async_init(loop_, &async_, &WorkerMailbox::on_async);
  async_.data = this;
  uv_timer_init(loop_, &grace_timer_);
  grace_timer_.data = this;
  box_ = std::make_shared<Box>(&async_);
}

WorkerMailbox::~WorkerMailbox() = default;

bool WorkerMailbox::post(Box& box, std::unique_ptr<Letter>& letter) {
  std::lock_guard<std::mutex> lock(box.mutex_);
  if (box.closed_) return false;
  box.queue_.push_back(std::move(letter));
  // Under the lock: close_now() marks the box closed under it before closing the handle.
  uv_async_send(box.async_);
  return true;
}

void WorkerMailbox::on_async(uv_async_t* handle) {
  static_cast<WorkerMailbox*>(handle->data)->drain();
}

void WorkerMailbox::drain() {
  std::deque<std::unique_ptr<Letter>> letters;
  {
    std::lock_guard<std::mutex> lock(box_->mutex_);
    letters.swap(box_->queue_);
  }
  for (auto& letter : letters) {
    if (owed_ > 0) --owed_;
    letter->deliver();
    letter.reset();  // on the loop: what it held (a plugin's config) is released here
  }
  if (shutting_down_ && owed_ == 0) close_now();
}

void WorkerMailbox::shutdown(void (*done)(void* arg), void* arg) {
  done_ = done;
  done_arg_ = arg;
  shutting_down_ = true;
  if (owed_ == 0) {
    close_now();
    return;
  }
  uv_timer_start(&grace_timer_, &WorkerMailbox::on_grace_timeout,
                 static_cast<uint64_t>(kShutdownGrace.count()), 0);
}

void WorkerMailbox::on_grace_timeout(uv_timer_t* timer) {
  auto* self = static_cast<WorkerMailbox*>(timer->data);
  self->drain();  // whatever arrived meanwhile
  if (self->owed_ > 0) {
    log::warn(std::to_string(self->owed_) + " plugin tool call(s) not finished by their plugin " +
              std::to_string(kShutdownGrace.count()) +
              "ms after they were cancelled; the worker stops without them (their plugin "
              "configs stay loaded)");
  }
  self->close_now();
}

void WorkerMailbox::close_now() {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&async_))) return;
  std::deque<std::unique_ptr<Letter>> late;
  {
    std::lock_guard<std::mutex> lock(box_->mutex_);
    box_->closed_ = true;
    late.swap(box_->queue_);
  }
  for (auto& letter : late) letter->deliver();  // posted between the last drain and now
  late.clear();
  uv_timer_stop(&grace_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), &WorkerMailbox::on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&grace_timer_), &WorkerMailbox::on_closed);
}

void WorkerMailbox::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<WorkerMailbox*>(handle->data);
  if (--self->open_handles_ == 0 && self->done_ != nullptr) self->done_(self->done_arg_);
}

}  // namespace sluice::plugin
