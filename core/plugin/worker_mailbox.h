// WorkerMailbox: how a thread that is not a worker's hands work back to that worker's loop. A
// tool plugin may finish a call from a thread of its own (plugin.h: blocking work never runs on
// a worker); the call's end must still reach its sink on the worker that started it. One per
// worker, owned by the Worker, reached by filters and executors through WorkerContext.
//
// A Letter is posted from any thread and delivered on the loop (a uv_async the mailbox owns).
// Letters are counted from the moment the worker expects one (expect(), on the loop) to their
// delivery, so that shutdown() can wait for the ones still owed — bounded by kShutdownGrace:
// a plugin that never finishes cannot hold the worker's exit forever.
//
// States:
//   Open     — post() queues and wakes the loop.
//   Closing  — shutdown() began: letters are still taken and delivered while some are owed,
//              until none is or the grace period ends.
//   Closed   — the async handle is closed: post() refuses (returns false) and the poster keeps
//              its letter. Only a letter posted after its worker stopped meets this.
//
// The state is shared (shared_ptr) with every poster, so a post after the worker and its loop
// are gone is safe: it is refused.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

namespace sluice::plugin {

class WorkerMailbox {
 public:
  static constexpr std::chrono::milliseconds kShutdownGrace{2'000};

  // Something to run on the loop. Delivered at most once; deleted by the mailbox after deliver().
  class Letter {
   public:
    virtual ~Letter() = default;
    virtual void deliver() = 0;  // on the worker's loop
  };

  explicit WorkerMailbox(uv_loop_t* loop);
  ~WorkerMailbox();  // only after shutdown() finished
  WorkerMailbox(const WorkerMailbox&) = delete;
  WorkerMailbox& operator=(const WorkerMailbox&) = delete;

  // The part posters hold: thread-safe, outlives the mailbox.
  class Box;
  std::shared_ptr<Box> box() const { return box_; }

  // On the loop: one more letter is owed (a call started whose end will be posted).
  void expect() { ++owed_; }
  // Any thread: queues `letter` (the mailbox takes it) and wakes the loop. false when the
  // mailbox is closed: the caller still owns the letter.
  static bool post(Box& box, std::unique_ptr<Letter>& letter);

  // On the loop, once: waits (at most kShutdownGrace) for the letters owed, then closes its
  // handles and calls done(arg) from a close callback.
  void shutdown(void (*done)(void* arg), void* arg);

  size_t owed() const { return owed_; }

 private:
  static void on_async(uv_async_t* handle);
  static void on_grace_timeout(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);
  void drain();
  void close_now();

  uv_loop_t* loop_;
  std::shared_ptr<Box> box_;
  uv_async_t async_;
  uv_timer_t grace_timer_;
  size_t owed_ = 0;  // loop thread only
  bool shutting_down_ = false;
  int open_handles_ = 2;
  void (*done_)(void*) = nullptr;
  void* done_arg_ = nullptr;
};

class WorkerMailbox::Box {
 public:
  explicit Box(uv_async_t* async) : async_(async) {}

 private:
  friend class WorkerMailbox;
  std::mutex mutex_;
  bool closed_ = false;                        // guarded by mutex_
  uv_async_t* async_;                          // valid while !closed_
  std::deque<std::unique_ptr<Letter>> queue_;  // guarded by mutex_
};

}  // namespace sluice::plugin
