// RedisClient: the connection state machine (client_state.h) over a socket of our own, with
// hiredis only encoding and parsing (reply_reader.h). The rules it keeps:
//
// - A caller's callback runs exactly once, never from inside command()/eval(): a command
//   refused at once (Down, Busy, Closed) is queued in deferred_ and answered from an idle
//   handle on the next loop turn. Everything else is answered from a libuv callback.
// - Every call out (a caller's callback, the Observer) may call command(), eval() or close().
//   So a call out is made only once the client's own bookkeeping is done, and afterwards the
//   code checks gen_ (bumped whenever the connection is dropped or the client closed) before
//   touching the connection again.
// - Handles (tcp_, the two timers, the idle handle) are freed only by their close callbacks;
//   close()'s `done` runs after the last of them (the idle handle, closed last so that commands
//   refused meanwhile are still answered).
// - Writes to a Redis that died fail with EPIPE, which assumes SIGPIPE is ignored in the
//   process (core/server/server.cc does so at start-up; the tests do it too).
// - Connecting (DNS, TCP, TLS, AUTH/SELECT) is bounded by hung_after: the Options have no
//   connect timeout of their own, and hung_after is already "how long Redis may not answer".
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <unordered_map>

#include "core/log/log.h"
#include "core/redis/client_state.h"
#include "core/redis/pending_command.h"
#include "core/redis/redis_client.h"
#include "core/redis/reply_reader.h"
#include "core/upstream/dns_cache.h"
#include "core/upstream/read_buffer_pool.h"
#include "core/upstream/transport.h"

namespace sluice::redis {
namespace {

using State = RedisClient::State;
using Status = RedisResult::Status;

std::string uv_error_text(int err) {
  char name[32];
  char text[128];
  uv_err_name_r(err, name, sizeof name);
  uv_strerror_r(err, text, sizeof text);
  return std::string(text) + " (" + name + ")";
}

RedisResult result_of(Status s) {
  RedisResult r;
  r.status = s;
  return r;
}

}  // namespace

struct RedisClient::Impl final : private upstream::DnsWaiter {
  // Where Connecting is (None outside Connecting): callbacks of an abandoned step are ignored.
  enum class Step : uint8_t { None, Resolving, TcpConnecting, Handshaking, SettingUp };

  // One flag word instead of many bools (HAProxy-style).
  enum Flag : uint16_t {
    kTcpOpen = 1 << 0,           // tcp_ initialized; its close callback has not run
    kTcpClosing = 1 << 1,        // uv_close(tcp_) issued
    kDeadlineOpen = 1 << 2,      // deadline_timer_ initialized, close callback not run
    kBackoffOpen = 1 << 3,       // backoff_timer_ likewise
    kIdleOpen = 1 << 4,          // idle_ likewise
    kIdleClosing = 1 << 5,       // uv_close(idle_) issued: the last step of close()
    kDnsBusy = 1 << 6,           // DnsCache::shutdown has not called back
    kWriteInFlight = 1 << 7,     // a uv_write has not called back
    kNextAddress = 1 << 8,       // tcp_ closing after a failed connect: try the next address
    kConnectWhenClosed = 1 << 9  // the backoff ended while tcp_ was still closing
  };

  Impl(uv_loop_t* loop, Options options, Observer observer);
  ~Impl();

  void command(std::span<const std::string_view> argv, Callback cb);
  void eval(const RedisScript& script, std::span<const std::string_view> keys,
            std::span<const std::string_view> args, Callback cb);
  void close(std::function<void()> done);

  // libuv callbacks
  static void on_connect_cb(uv_connect_t* req, int status);
  static void on_alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write_cb(uv_write_t* req, int status);
  static void on_plaintext_cb(void* arg, const char* data, size_t len);
  static void on_deadline_cb(uv_timer_t* t);
  static void on_backoff_cb(uv_timer_t* t);
  static void on_idle_cb(uv_idle_t* h);
  static void on_tcp_closed_cb(uv_handle_t* h);
  static void on_timer_closed_cb(uv_handle_t* h);
  static void on_idle_closed_cb(uv_handle_t* h);
  static void on_dns_idle(void* arg);

  // DnsWaiter
  void on_resolved(int status, std::span<const sockaddr_storage> addrs) override;

  void set_state(State to);
  uint64_t now() const { return uv_now(loop_); }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  std::string where() const { return opt_.url.host + ":" + std::to_string(opt_.url.port); }
  void report(std::string_view kind) {
    if (obs_.on_error) obs_.on_error(kind);
  }

  // connecting
  void start_connect();
  void connect_next();
  void on_connected();
  void on_transport_ready();
  void on_setup_reply(const PendingCommand& p, const RedisReply& reply);
  void become_ready();

  // commands and replies
  Status admission() const;
  void defer(Callback cb, Status s);
  void push(PendingCommand p);
  void flush();
  void fail_soon(const char* kind, std::string detail);
  void on_bytes(const char* data, size_t len);
  void on_plaintext(const char* data, size_t len);
  void on_reply(RedisReply&& reply);
  void reload_and_retry(PendingCommand&& p);

  // timers and endings
  uint64_t next_deadline() const;
  void arm_timer();
  void on_deadline();
  void drop(const char* kind, std::string detail);
  void close_tcp();
  void maybe_finish_close();

  uv_loop_t* loop_;
  Options opt_;
  Observer obs_;
  State state_ = State::Connecting;
  Step step_ = Step::None;
  uint16_t flags_ = 0;
  uint64_t gen_ = 0;  // bumped by drop() and close(): "the connection I was serving is gone"
  std::string last_error_;
  std::chrono::milliseconds backoff_;  // the next reconnect's delay

  upstream::DnsCache dns_;
  upstream::ReadBufferPool buffers_;
  SSL_CTX* ssl_ctx_ = nullptr;  // rediss:// only; nullptr then means every connect fails
  std::string tls_error_;       // why ssl_ctx_ could not be made

  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  uv_write_t write_req_{};
  uv_timer_t deadline_timer_{};  // the connect deadline, then the oldest command's
  uv_timer_t backoff_timer_{};   // the next reconnect
  uv_idle_t idle_{};             // runs while deferred_ (or a failure for later) waits
  std::vector<sockaddr_storage> addrs_;
  size_t addr_index_ = 0;
  int last_connect_error_ = 0;
  uint64_t connect_deadline_ms_ = 0;

  std::unique_ptr<upstream::Transport> transport_;  // per connection, from TCP connect on
  std::unique_ptr<ReplyReader> reader_;             // per connection
  std::string out_;      // encoded commands not yet handed to the transport
  std::string writing_;  // what the write in flight holds (TCP writes from it, zero copy)
  uv_buf_t send_buf_{};  // the transport keeps a view of this (TCP) until take_output

  std::deque<PendingCommand> inflight_;  // written (or in out_), not answered, in order
  size_t timed_out_ = 0;  // inflight_'s first entries whose deadline passed (a prefix: deadlines
                          // never decrease along the queue)
  std::unordered_map<std::string, ScriptSource> scripts_;  // by SHA-1

  struct Deferred {
    Callback cb;
    Status status;
  };
  std::vector<Deferred> deferred_;  // answered by on_idle_cb, never by the call that queued them

  const char* failure_kind_ = nullptr;  // a failure found inside command(): dropped next turn
  std::string failure_detail_;
  uint64_t failure_gen_ = 0;

  std::function<void()> done_;  // close()'s callback
};

// ---- construction and the public calls ----------------------------------------------------

RedisClient::Impl::Impl(uv_loop_t* loop, Options options, Observer observer)
    : loop_(loop),
      opt_(std::move(options)),
      obs_(std::move(observer)),
      backoff_(opt_.backoff_min),
      dns_(loop, opt_.url.host, opt_.url.port) {
  if (opt_.url.tls) ssl_ctx_ = upstream::acquire_tls_client_context(true, "", &tls_error_);
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
  std::string url = redacted(opt_.url);
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

// ---- connecting: DNS, TCP (address after address), TLS, AUTH/SELECT ------------------------

void RedisClient::Impl::on_backoff_cb(uv_timer_t* t) {
  auto* c = static_cast<Impl*>(t->data);
  if (c->state_ != State::Down && c->state_ != State::Connecting) return;
  if (c->flags_ & kTcpOpen) {  // the last connection's handle is still closing
    c->flags_ |= kConnectWhenClosed;
    return;
  }
  c->start_connect();
}

void RedisClient::Impl::start_connect() {
  if (state_ == State::Down) {
    set_state(State::Connecting);
    if (state_ != State::Connecting) return;  // the observer closed the client
  }
  step_ = Step::Resolving;
  connect_deadline_ms_ = now() + static_cast<uint64_t>(opt_.hung_after.count());
  arm_timer();
  std::span<const sockaddr_storage> cached = dns_.cached();
  if (!cached.empty()) {
    on_resolved(0, cached);
    return;
  }
  int r = dns_.wait(this);
  if (r < 0) on_resolved(r, {});
}

void RedisClient::Impl::on_resolved(int status, std::span<const sockaddr_storage> addrs) {
  if (state_ != State::Connecting || step_ != Step::Resolving) return;
  if (status < 0) {
    drop("connect", "DNS lookup of " + opt_.url.host + " failed: " + uv_error_text(status));
    return;
  }
  addrs_.assign(addrs.begin(), addrs.end());
  addr_index_ = 0;
  step_ = Step::TcpConnecting;
  connect_next();
}

void RedisClient::Impl::connect_next() {
  if (addr_index_ >= addrs_.size()) {
    drop("connect", "connect to " + where() + " failed: " + uv_error_text(last_connect_error_));
    return;
  }
  if (flags_ & kTcpOpen) {
    // A handle whose connect failed may hold a socket of the other address family: the next
    // address gets a fresh one, from the close callback of this one.
    flags_ |= kNextAddress;
    close_tcp();
    return;
  }
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  flags_ |= kTcpOpen;
  connect_req_.data = this;
  int r = uv_tcp_connect(&connect_req_, &tcp_,
                         reinterpret_cast<const sockaddr*>(&addrs_[addr_index_]), &on_connect_cb);
  if (r < 0) {
    last_connect_error_ = r;
    ++addr_index_;
    connect_next();
  }
}

void RedisClient::Impl::on_connect_cb(uv_connect_t* req, int status) {
  auto* c = static_cast<Impl*>(req->data);
  // Given up meanwhile (timeout, close()): status is UV_ECANCELED and tcp_ is closing.
  if (c->state_ != State::Connecting || c->step_ != Step::TcpConnecting) return;
  if (status < 0) {
    c->last_connect_error_ = status;
    ++c->addr_index_;
    c->connect_next();
    return;
  }
  c->on_connected();
}

void RedisClient::Impl::on_connected() {
  uv_tcp_nodelay(&tcp_, 1);
  uv_tcp_keepalive(&tcp_, 1, 60);  // notice a dead Redis behind a NAT while idle
  reader_ = std::make_unique<ReplyReader>();
  if (opt_.url.tls) {
    if (!ssl_ctx_) {
      drop("connect", "TLS is not available: " + tls_error_);
      return;
    }
    transport_ = upstream::make_tls_transport(ssl_ctx_, opt_.url.host, dns_.is_ip_literal(),
                                              /*verify=*/true, &buffers_);
  } else {
    transport_ = upstream::make_tcp_transport();
  }
  step_ = Step::Handshaking;
  if (transport_->start() == upstream::Transport::Status::Failed) {
    drop("connect", std::string("TLS with ") + where() + ": " + transport_->error_detail());
    return;
  }
  uv_read_start(stream(), &on_alloc_cb, &on_read_cb);
  flush();  // the ClientHello
  if (transport_->handshake_complete()) on_transport_ready();
}

void RedisClient::Impl::on_transport_ready() {
  step_ = Step::SettingUp;
  const RedisUrl& u = opt_.url;
  if (!u.password.empty()) {
    std::vector<std::string_view> argv{"AUTH"};
    if (!u.username.empty()) argv.push_back(u.username);
    argv.push_back(u.password);
    PendingCommand p;
    p.kind = PendingCommand::Kind::Setup;
    p.setup = "AUTH";
    p.deadline_ms = connect_deadline_ms_;
    append_command(argv, &out_);
    inflight_.push_back(std::move(p));
  }
  if (u.db != 0) {
    std::string db = std::to_string(u.db);
    std::string_view argv[] = {"SELECT", db};
    PendingCommand p;
    p.kind = PendingCommand::Kind::Setup;
    p.setup = "SELECT";
    p.deadline_ms = connect_deadline_ms_;
    append_command(argv, &out_);
    inflight_.push_back(std::move(p));
  }
  if (inflight_.empty()) {
    become_ready();
    return;
  }
  flush();  // pipelined: both go out in one write
}

void RedisClient::Impl::on_setup_reply(const PendingCommand& p, const RedisReply& reply) {
  if (reply.type == RedisReply::Type::Error) {
    bool auth = std::string_view(p.setup) == "AUTH";
    std::string what = auth ? "AUTH" : "SELECT " + std::to_string(opt_.url.db);
    drop(auth ? "auth" : "connect", what + " refused: " + reply.str);
    return;
  }
  if (inflight_.empty()) become_ready();  // that was the last set-up reply
}

void RedisClient::Impl::become_ready() {
  step_ = Step::None;
  last_error_.clear();
  backoff_ = opt_.backoff_min;
  set_state(State::Ready);
}

// ---- writing ------------------------------------------------------------------------------

void RedisClient::Impl::flush() {
  if ((flags_ & (kWriteInFlight | kTcpClosing)) || !transport_ || failure_kind_) return;
  if (!out_.empty() && transport_->handshake_complete()) {
    writing_.swap(out_);  // out_ gets the old, empty buffer (and keeps its capacity)
    send_buf_ = uv_buf_init(writing_.data(), static_cast<unsigned>(writing_.size()));
    if (transport_->send({&send_buf_, 1}) == upstream::Transport::Status::Failed) {
      fail_soon("protocol", std::string("TLS: ") + transport_->error_detail());
      return;
    }
  }
  std::span<const uv_buf_t> bufs = transport_->take_output();
  if (bufs.empty()) {
    writing_.clear();
    return;
  }
  write_req_.data = this;
  int r = uv_write(&write_req_, stream(), bufs.data(), static_cast<unsigned>(bufs.size()),
                   &on_write_cb);
  if (r < 0) {
    transport_->output_written();
    writing_.clear();
    fail_soon("connect", "writing to Redis failed: " + uv_error_text(r));
    return;
  }
  flags_ |= kWriteInFlight;
}

void RedisClient::Impl::on_write_cb(uv_write_t* req, int status) {
  auto* c = static_cast<Impl*>(req->data);
  c->flags_ &= ~kWriteInFlight;
  c->transport_->output_written();
  c->writing_.clear();
  if (c->flags_ & kTcpClosing) return;  // UV_ECANCELED from uv_close
  if (status < 0) {
    c->drop("connect", "writing to Redis failed: " + uv_error_text(status));
    return;
  }
  c->flush();  // what accumulated during the write
}

// flush() may run inside command(), where no callback may be called: a failure it finds
// drops the connection on the next loop turn, and nothing more is written meanwhile.
void RedisClient::Impl::fail_soon(const char* kind, std::string detail) {
  failure_kind_ = kind;
  failure_detail_ = std::move(detail);
  failure_gen_ = gen_;
  uv_idle_start(&idle_, &on_idle_cb);
}

// ---- reading ------------------------------------------------------------------------------

void RedisClient::Impl::on_alloc_cb(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<Impl*>(h->data);
  *buf = uv_buf_init(c->buffers_.take(), upstream::ReadBufferPool::kBufferSize);
}

void RedisClient::Impl::on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Impl*>(s->data);
  if (nread > 0) c->on_bytes(buf->base, static_cast<size_t>(nread));
  if (buf->base) c->buffers_.give(buf->base);
  if (nread < 0 && !(c->flags_ & kTcpClosing)) {
    const char* what = c->state_ == State::Connecting
                           ? "Redis closed the connection during set-up: "
                           : "Redis closed the connection: ";
    c->drop("connect", what + uv_error_text(static_cast<int>(nread)));
  }
}

void RedisClient::Impl::on_bytes(const char* data, size_t len) {
  if (flags_ & kTcpClosing) return;
  uint64_t gen = gen_;
  upstream::Transport::Status st = transport_->receive(data, len, &on_plaintext_cb, this);
  if (gen != gen_) return;  // a reply's callback dropped or closed the connection
  if (st == upstream::Transport::Status::Failed) {
    bool handshake = step_ == Step::Handshaking;
    drop(handshake ? "connect" : "protocol",
         std::string(handshake ? "TLS handshake with " : "TLS with ") + where() + ": " +
             transport_->error_detail());
    return;
  }
  if (st == upstream::Transport::Status::Closed) {
    drop("connect", "Redis ended the TLS session");
    return;
  }
  flush();  // handshake messages, alerts, key updates
  if (step_ == Step::Handshaking && transport_->handshake_complete()) on_transport_ready();
}

void RedisClient::Impl::on_plaintext_cb(void* arg, const char* data, size_t len) {
  static_cast<Impl*>(arg)->on_plaintext(data, len);
}

void RedisClient::Impl::on_plaintext(const char* data, size_t len) {
  if (flags_ & kTcpClosing) return;  // bytes decrypted after a reply dropped the connection
  uint64_t gen = gen_;
  if (!reader_->feed(data, len)) {
    drop("protocol", "invalid reply from Redis: " + reader_->error());
    return;
  }
  RedisReply reply;
  while (gen == gen_) {
    switch (reader_->next(&reply)) {
      case ReplyReader::Result::NeedMore:
        return;
      case ReplyReader::Result::Error:
        drop("protocol", "invalid reply from Redis: " + reader_->error());
        return;
      case ReplyReader::Result::Reply:
        on_reply(std::move(reply));
        reply = RedisReply{};
        break;
    }
  }
}

void RedisClient::Impl::on_reply(RedisReply&& reply) {
  if (inflight_.empty()) {
    drop("protocol", "Redis sent a reply to no command");
    return;
  }
  PendingCommand p = std::move(inflight_.front());
  inflight_.pop_front();
  bool timed_out = timed_out_ > 0;
  if (timed_out) --timed_out_;
  switch (p.kind) {
    case PendingCommand::Kind::Setup:
      on_setup_reply(p, reply);
      return;
    case PendingCommand::Kind::ScriptLoad:
      p.script->loading = false;
      // The EVALSHA behind it fails NOSCRIPT again and, retried already, reaches its caller.
      if (reply.type == RedisReply::Type::Error) report("reply");
      return;
    case PendingCommand::Kind::User:
      break;
  }
  bool error = reply.type == RedisReply::Type::Error;
  if (error && p.script && !p.retried && !timed_out && reply.str.starts_with("NOSCRIPT")) {
    reload_and_retry(std::move(p));
    return;
  }
  if (timed_out) return;  // its caller has had Timeout: the reply only kept the order
  Callback cb = std::move(p.cb);
  if (error) report("reply");
  RedisResult r;
  r.status = Status::Ok;
  r.reply = std::move(reply);
  cb(std::move(r));
}

// Redis lost the script (restart, SCRIPT FLUSH, failover): SCRIPT LOAD it, then the same
// EVALSHA once more. Both go behind whatever is in flight; the caller hears only the final
// answer. The EVALSHA gets a fresh deadline (at most one more `timeout` for the caller, on a
// rare event) so that deadlines stay in queue order.
void RedisClient::Impl::reload_and_retry(PendingCommand&& p) {
  ScriptSource* script = p.script;
  bool load = !script->loading;
  if (load) {
    std::string_view argv[] = {"SCRIPT", "LOAD", script->source};
    append_command(argv, &out_);
    PendingCommand loader;
    loader.kind = PendingCommand::Kind::ScriptLoad;
    loader.script = script;
    script->loading = true;
    push(std::move(loader));
  }
  out_ += p.evalsha;
  p.retried = true;
  push(std::move(p));
  if (load) report("noscript");
}

// ---- deadlines ----------------------------------------------------------------------------

uint64_t RedisClient::Impl::next_deadline() const {
  if (state_ == State::Connecting) return step_ == Step::None ? UINT64_MAX : connect_deadline_ms_;
  if (state_ != State::Ready || inflight_.empty()) return UINT64_MAX;
  uint64_t d = UINT64_MAX;
  if (timed_out_ < inflight_.size()) d = inflight_[timed_out_].deadline_ms;
  if (timed_out_ > 0) {
    d = std::min(d, inflight_.front().deadline_ms + static_cast<uint64_t>(opt_.hung_after.count()));
  }
  return d;
}

// A running timer due no later than the new deadline stays (it re-arms itself when it fires
// early): a command costs no timer operation unless it is the only one in flight.
void RedisClient::Impl::arm_timer() {
  if (!(flags_ & kDeadlineOpen) || state_ == State::Closed) return;
  uint64_t at = next_deadline();
  if (at == UINT64_MAX) return;  // a running timer finds nothing due and stops by itself
  uint64_t t = now();
  uint64_t due_in = at > t ? at - t : 0;
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&deadline_timer_)) &&
      uv_timer_get_due_in(&deadline_timer_) <= due_in) {
    return;
  }
  uv_timer_start(&deadline_timer_, &on_deadline_cb, due_in, 0);
}

void RedisClient::Impl::on_deadline_cb(uv_timer_t* t) {
  static_cast<Impl*>(t->data)->on_deadline();
}

void RedisClient::Impl::on_deadline() {
  uint64_t t = now();
  if (state_ == State::Connecting) {
    if (step_ == Step::None) return;
    if (t < connect_deadline_ms_) {
      arm_timer();
      return;
    }
    std::string limit = std::to_string(opt_.hung_after.count()) + "ms";
    switch (step_) {
      case Step::Resolving:
        drop("connect", "DNS lookup of " + opt_.url.host + " timed out after " + limit);
        break;
      case Step::TcpConnecting:
        drop("connect", "connecting to " + where() + " timed out after " + limit);
        break;
      case Step::Handshaking:
        drop("connect", "TLS handshake with " + where() + " timed out after " + limit);
        break;
      default:
        drop("timeout", std::string("no answer to ") +
                            (inflight_.empty() ? "set-up" : inflight_.front().setup) + " within " +
                            limit);
        break;
    }
    return;
  }
  if (state_ != State::Ready) return;
  uint64_t gen = gen_;
  while (timed_out_ < inflight_.size() && inflight_[timed_out_].deadline_ms <= t) {
    PendingCommand& p = inflight_[timed_out_++];
    if (!p.cb) continue;  // a SCRIPT LOAD: nobody waits for it
    Callback cb = std::move(p.cb);
    p.cb = nullptr;
    report("timeout");
    cb(result_of(Status::Timeout));
    if (gen != gen_) return;
  }
  if (timed_out_ > 0 &&
      inflight_.front().deadline_ms + static_cast<uint64_t>(opt_.hung_after.count()) <= t) {
    drop("timeout", "no answer from Redis for " +
                        std::to_string((opt_.timeout + opt_.hung_after).count()) +
                        "ms: taken for hung");
    return;
  }
  arm_timer();
}

// ---- endings ------------------------------------------------------------------------------

// The connection is lost or refused (→ Down): the socket closes, a reconnect is scheduled,
// and every unanswered command fails with Down.
void RedisClient::Impl::drop(const char* kind, std::string detail) {
  if (state_ != State::Connecting && state_ != State::Ready) return;
  ++gen_;
  if (step_ == Step::Resolving) dns_.cancel(this);
  step_ = Step::None;
  last_error_ = std::move(detail);
  failure_kind_ = nullptr;
  close_tcp();
  out_.clear();
  std::deque<PendingCommand> unanswered;
  unanswered.swap(inflight_);
  timed_out_ = 0;
  for (auto& [sha, script] : scripts_) script.loading = false;
  uv_timer_stop(&deadline_timer_);
  uv_timer_start(&backoff_timer_, &on_backoff_cb, static_cast<uint64_t>(backoff_.count()), 0);
  backoff_ = std::min(backoff_ * 2, opt_.backoff_max);

  // Calls out, last: each may close the client (then the rest fail with Closed).
  set_state(State::Down);
  report(kind);
  for (PendingCommand& p : unanswered) {
    if (!p.cb) continue;
    Callback cb = std::move(p.cb);
    p.cb = nullptr;
    cb(result_of(state_ == State::Closed ? Status::Closed : Status::Down));
  }
}

void RedisClient::Impl::close_tcp() {
  if (!(flags_ & kTcpOpen) || (flags_ & kTcpClosing)) return;
  flags_ |= kTcpClosing;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &on_tcp_closed_cb);
}

void RedisClient::Impl::close(std::function<void()> done) {
  if (state_ == State::Closed) {  // closing already: both callbacks run, the first first
    if (done) {
      done_ = [first = std::move(done_), then = std::move(done)] {
        if (first) first();
        then();
      };
    }
    return;
  }
  ++gen_;
  done_ = std::move(done);
  if (step_ == Step::Resolving) dns_.cancel(this);
  step_ = Step::None;
  failure_kind_ = nullptr;
  for (PendingCommand& p : inflight_) {
    if (p.cb) deferred_.push_back({std::move(p.cb), Status::Closed});
  }
  inflight_.clear();
  timed_out_ = 0;
  out_.clear();
  close_tcp();
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline_timer_), &on_timer_closed_cb);
  uv_close(reinterpret_cast<uv_handle_t*>(&backoff_timer_), &on_timer_closed_cb);
  flags_ |= kDnsBusy;
  dns_.shutdown(&on_dns_idle, this);
  if (!deferred_.empty()) uv_idle_start(&idle_, &on_idle_cb);
  set_state(State::Closed);
  maybe_finish_close();
}

void RedisClient::Impl::on_dns_idle(void* arg) {
  auto* c = static_cast<Impl*>(arg);
  c->flags_ &= ~kDnsBusy;
  c->maybe_finish_close();
}

// The idle handle closes last, once every other handle has and nothing waits in deferred_.
void RedisClient::Impl::maybe_finish_close() {
  if (state_ != State::Closed || (flags_ & kIdleClosing) || !deferred_.empty()) return;
  if (flags_ & (kTcpOpen | kDeadlineOpen | kBackoffOpen | kDnsBusy)) return;
  flags_ |= kIdleClosing;
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), &on_idle_closed_cb);
}

void RedisClient::Impl::on_idle_cb(uv_idle_t* h) {
  auto* c = static_cast<Impl*>(h->data);
  if (c->failure_kind_) {
    const char* kind = c->failure_kind_;
    c->failure_kind_ = nullptr;
    if (c->failure_gen_ == c->gen_) c->drop(kind, std::move(c->failure_detail_));
  }
  // Callbacks may queue more: those wait for the next turn (no loop inside one turn).
  std::vector<Deferred> batch;
  batch.swap(c->deferred_);
  for (Deferred& d : batch) d.cb(result_of(d.status));
  if (c->deferred_.empty() && !c->failure_kind_) {
    uv_idle_stop(&c->idle_);
    c->maybe_finish_close();
  }
}

void RedisClient::Impl::on_tcp_closed_cb(uv_handle_t* h) {
  auto* c = static_cast<Impl*>(h->data);
  c->flags_ &= ~(kTcpOpen | kTcpClosing);
  c->transport_.reset();  // only now: a cancelled write's callback still used it
  c->writing_.clear();
  if (c->flags_ & kNextAddress) {
    c->flags_ &= ~kNextAddress;
    if (c->state_ == State::Connecting && c->step_ == Step::TcpConnecting) c->connect_next();
  }
  if (c->flags_ & kConnectWhenClosed) {
    c->flags_ &= ~kConnectWhenClosed;
    if (c->state_ == State::Down) c->start_connect();
  }
  c->maybe_finish_close();
}

void RedisClient::Impl::on_timer_closed_cb(uv_handle_t* h) {
  auto* c = static_cast<Impl*>(h->data);
  c->flags_ &=
      h == reinterpret_cast<uv_handle_t*>(&c->deadline_timer_) ? ~kDeadlineOpen : ~kBackoffOpen;
  c->maybe_finish_close();
}

void RedisClient::Impl::on_idle_closed_cb(uv_handle_t* h) {
  auto* c = static_cast<Impl*>(h->data);
  c->flags_ &= ~(kIdleOpen | kIdleClosing);
  // Commands refused between uv_close and now (from other handles' callbacks) are answered
  // here: after `done` the client may be gone.
  while (!c->deferred_.empty()) {
    std::vector<Deferred> batch;
    batch.swap(c->deferred_);
    for (Deferred& d : batch) d.cb(result_of(d.status));
  }
  std::function<void()> done = std::move(c->done_);
  if (done) done();  // may delete the client: nothing after this
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
