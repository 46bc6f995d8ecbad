// RedisClient: construction, the public calls, commands' admission (client_impl.h has the
// rules every part keeps).
#include <cstdio>
#include <cstdlib>

#include "core/log/log.h"
#include "core/redis/client_impl.h"
#include "core/redis/client_state.h"

namespace sluice::redis {

std::string RedisClient::Impl::uv_error_text(int err) {
  char name[32];
  char text[128];
  uv_err_name_r(err, name, sizeof name);
  uv_strerror_r(err, text, sizeof text);
  return std::string(text) + " (" + name + ")";
}

RedisResult RedisClient::Impl::result_of(Status s) {
  RedisResult r;
  r.status = s;
  return r;
}

// ---- construction and the public calls ----------------------------------------------------

RedisClient::Impl::Impl(uv_loop_t* loop, Options options, Observer observer)
    : loop_(loop),
      opt_(std::move(options)),
      obs_(std::move(observer)),
      backoff_(opt_.backoff_min),
      dns_(loop, opt_.url.host, opt_.url.port) {
  if (opt_.url.tls)
    ssl_ctx_ = upstream::acquire_tls_client_context(upstream::TlsContextSpec{}, &tls_error_);
  uv_timer_init(loop_, &deadline_timer_);
  deadline_timer_.data = this;
  uv_timer_init(loop_, &backoff_timer_);
  backoff_timer_.data = this;
  uv_idle_init(loop_, &idle_);
  idle_.data = this;
  flags_ |= kDeadlineOpen | kBackoffOpen | kIdleOpen;
  // The first connect starts on the loop's next turn, not here: whatever it reports (even a
  // failure found at once) reaches an owner that has finished constructing the client.
  uv_timer_start(&backoff_timer_, &on_backoff_cb, 0, 0);
}

RedisClient::Impl::~Impl() {
  if (state_ != State::Closed ||
      (flags_ & (kTcpOpen | kDeadlineOpen | kBackoffOpen | kIdleOpen | kDnsBusy))) {
    std::fprintf(stderr, "sluice: RedisClient destroyed before close() finished (state %s)\n",
                 to_string(state_));
    std::abort();
  }
  if (ssl_ctx_) SSL_CTX_free(ssl_ctx_);
}

// A transition outside the table is a bug in this file: stop loudly, as HAProxy's BUG_ON does.
void RedisClient::Impl::set_state(State to) {
  if (!transition_allowed(state_, to)) {
    std::fprintf(stderr, "sluice: redis client: illegal transition %s -> %s\n", to_string(state_),
                 to_string(to));
    std::abort();
  }
  state_ = to;
  std::string url = config::redacted(opt_.url);
  switch (to) {
    case State::Connecting:
      log::info("redis: connecting to " + url);
      break;
    case State::Ready:
      log::info("redis: ready: " + url);
      break;
    case State::Down:
      log::warn("redis: down: " + url + ": " + last_error_ + " (next attempt in " +
                std::to_string(uv_timer_get_due_in(&backoff_timer_)) + "ms)");
      break;
    case State::Closed:
      log::info("redis: closed: " + url);
      break;
  }
  if (obs_.on_state) obs_.on_state(to);
}

RedisResult::Status RedisClient::Impl::admission() const {
  switch (state_) {
    case State::Ready:
      // Entries whose caller already got Timeout count too: they hold memory until their
      // reply comes (or hung_after drops the connection).
      return inflight_.size() >= opt_.max_pending ? Status::Busy : Status::Ok;
    case State::Closed:
      return Status::Closed;
    default:  // Connecting counts as not connected: the simple rule (no queue to bound)
      return Status::Down;
  }
}

void RedisClient::Impl::defer(Callback cb, Status s) {
  deferred_.push_back({std::move(cb), s});
  // Once the idle handle is closing, its close callback answers what is left.
  if (!(flags_ & kIdleClosing)) uv_idle_start(&idle_, &on_idle_cb);
}

void RedisClient::Impl::command(std::span<const std::string_view> argv, Callback cb) {
  Status s = admission();
  if (s == Status::Ok && (argv.empty() || !append_command(argv, &out_))) s = Status::Down;
  if (s != Status::Ok) {
    defer(std::move(cb), s);
    return;
  }
  PendingCommand p;
  p.cb = std::move(cb);
  push(std::move(p));
}

void RedisClient::Impl::eval(const RedisScript& script, std::span<const std::string_view> keys,
                             std::span<const std::string_view> args, Callback cb) {
  Status s = admission();
  if (s != Status::Ok) {
    defer(std::move(cb), s);
    return;
  }
  std::string numkeys = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.insert(argv.end(), {"EVALSHA", script.sha1(), numkeys});
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  PendingCommand p;
  if (!append_command(argv, &p.evalsha)) {
    defer(std::move(cb), Status::Down);
    return;
  }
  ScriptSource& known = scripts_[script.sha1()];
  if (known.source.empty()) known.source = script.source();
  p.script = &known;  // unordered_map entries never move
  p.cb = std::move(cb);
  out_ += p.evalsha;
  push(std::move(p));
}

// A command whose bytes are in out_: it takes its place in the reply order and goes out.
void RedisClient::Impl::push(PendingCommand p) {
  if (p.kind != PendingCommand::Kind::Setup) {
    p.deadline_ms = now() + static_cast<uint64_t>(opt_.timeout.count());
  }
  inflight_.push_back(std::move(p));
  flush();
  arm_timer();
}

// ---- RedisClient --------------------------------------------------------------------------

RedisClient::RedisClient(uv_loop_t* loop, Options options, Observer observer)
    : impl_(std::make_unique<Impl>(loop, std::move(options), std::move(observer))) {}

RedisClient::~RedisClient() = default;

void RedisClient::command(std::span<const std::string_view> argv, Callback cb) {
  impl_->command(argv, std::move(cb));
}

void RedisClient::eval(const RedisScript& script, std::span<const std::string_view> keys,
                       std::span<const std::string_view> args, Callback cb) {
  impl_->eval(script, keys, args, std::move(cb));
}

RedisClient::State RedisClient::state() const {
  return impl_->state_;
}

const std::string& RedisClient::last_error() const {
  return impl_->last_error_;
}

void RedisClient::close(std::function<void()> done) {
  impl_->close(std::move(done));
}

}  // namespace sluice::redis
