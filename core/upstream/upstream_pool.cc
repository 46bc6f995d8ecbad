// UpstreamPool: hands exchanges to connections. The rules, in the order start() applies them:
//   1. Requests are served in arrival order: while anyone waits in the queue, a new request
//      queues behind them.
//   2. Otherwise it takes the most recently used idle connection (LIFO: the least recently
//      used ones age out through the keep-alive idle limit) that is still open: one the server
//      closed in the meantime is dropped before anything is written to it, and the next one
//      (or rule 3) serves the request instead — the only transparent re-route there is.
//   3. Otherwise, below max_connections, it opens a new connection bound to itself.
//   4. Otherwise it waits in a FIFO queue bounded to 4 x max_connections (over it, or after
//      waiting the connect timeout: Failure Overloaded).
// Once a request has been handed to a connection's socket, the pool never sends it again:
// whatever happens next (even a reset before any response byte on a reused connection) is the
// caller's failure to judge, because the provider may have read and billed the request (DESIGN
// §10; Go's net/http rule). Sinks are never called from inside start() or any dispatching:
// such failures are delivered on the next loop turn.
#include <algorithm>
#include <cstring>

#include "core/upstream/exchange.h"
#include "core/upstream/upstream_connection.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::upstream {
namespace {

constexpr size_t kQueuePerConnection = 4;
constexpr size_t kMaxFreeExchanges = 1024;

uint64_t ms(config::Duration d) {
  return d.count() > 0 ? static_cast<uint64_t>(d.count()) : 0;
}

bool is_ip_literal(const std::string& host) {
  unsigned char addr[16];
  return uv_inet_pton(AF_INET, host.c_str(), addr) == 0 ||
         uv_inet_pton(AF_INET6, host.c_str(), addr) == 0;
}

// Through a proxy, the DnsCache resolves the proxy: the provider's name is the proxy's to
// resolve (it may not even resolve from here).
const std::string& dial_host(const config::Provider& p) {
  return p.proxy ? p.proxy->host : p.url.host;
}
uint16_t dial_port(const config::Provider& p) {
  return p.proxy ? p.proxy->port : p.url.port;
}

}  // namespace

struct UpstreamPool::Impl final : ConnectionOwner {
  Impl(uv_loop_t* loop, const config::Provider& provider, const PoolOptions& options);
  ~Impl();

  Exchange* start(std::span<const uv_buf_t> request, ResponseSink* sink);
  void abort(Exchange* ex);
  void set_paused(Exchange* ex, bool paused);
  void shutdown(void (*done)(void*), void* arg);

  // ConnectionOwner
  void on_connection_idle(UpstreamConnection* c) override;
  void on_connection_closing(UpstreamConnection* c) override;
  void on_connection_closed(UpstreamConnection* c) override;
  void on_exchange_done(Exchange* ex) override;
  void on_exchange_failed(Exchange* ex, const Failure& failure) override;

  UpstreamConnection* take_idle();
  void dispatch(Exchange* ex);
  void pump();
  void enqueue(Exchange* ex);
  void fail_exchange(Exchange* ex, const Failure& failure);
  void defer(Exchange* ex, const Failure& failure);
  void deliver_deferred();
  void arm_queue_timer();
  void on_queue_timer();
  Exchange* alloc_exchange();
  void recycle(Exchange* ex);
  void maybe_finish_shutdown();

  static void on_queue_timer_cb(uv_timer_t* t);
  static void on_deferred_timer_cb(uv_timer_t* t);
  static void on_pool_timer_closed_cb(uv_handle_t* h);
  static void on_dns_idle_cb(void* arg);

  uv_loop_t* loop;
  DnsCache dns;
  ReadBufferPool buffers;
  ConnectionSettings settings;
  uint64_t total_ms;
  size_t max_connections;
  size_t max_queue;

  IntrusiveList<UpstreamConnection, AllConnectionsTag> all;    // until their close callback
  IntrusiveList<UpstreamConnection, IdleConnectionsTag> idle;  // back = most recently used
  size_t live = 0;  // connections not closing (idle ones included): bounded by max_connections

  IntrusiveList<Exchange> queue;      // waiting for a connection, in arrival order
  IntrusiveList<Exchange> deferred;   // failures to deliver on the next loop turn
  IntrusiveList<Exchange> free_list;  // recycled exchanges
  uv_timer_t queue_timer{};           // the earliest queue deadline
  uv_timer_t deferred_timer{};        // 0 ms: "next loop turn" for deferred failures
  std::string delivering_detail;      // a deferred failure's detail, during its callback

  int dispatch_depth = 0;  // > 0: inside start()/dispatching; sink calls must be deferred
  bool pumping = false;    // inside pump()
  bool shutting_down = false;
  bool pool_handles_closing = false;
  int pool_handles_open = 2;
  void (*done_cb)(void*) = nullptr;
  void* done_arg = nullptr;
};

UpstreamPool::Impl::Impl(uv_loop_t* l, const config::Provider& provider, const PoolOptions& options)
    : loop(l),
      dns(l, dial_host(provider), dial_port(provider)),
      total_ms(ms(provider.timeouts.total)),
      max_connections(provider.max_connections > 0 ? provider.max_connections : 1),
      max_queue(kQueuePerConnection * max_connections) {
  settings.loop = l;
  settings.host = provider.url.host;
  settings.port = provider.url.port;
  settings.tls = provider.url.tls;
  settings.tls_verify = provider.tls_verify;
  settings.tls_name =
      provider.tls.server_name.empty() ? provider.url.host : provider.tls.server_name;
  settings.tls_name_is_ip = is_ip_literal(settings.tls_name);
  settings.dial_port = dial_port(provider);
  if (provider.proxy) {
    settings.connect_request =
        connect_request(provider.url.host, provider.url.port, provider.proxy->authorization);
    const std::string& host = provider.proxy->host;
    const bool v6 = host.find(':') != std::string::npos;
    settings.proxy_label =
        "proxy " + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(provider.proxy->port);
  }
  settings.connect_ms = ms(provider.timeouts.connect);
  settings.first_byte_ms = ms(provider.timeouts.first_byte);
  settings.idle_ms = ms(provider.timeouts.idle);
  settings.dns = &dns;
  settings.buffers = &buffers;
  if (settings.tls) {
    std::string error;
    TlsContextSpec spec;
    spec.verify = settings.tls_verify;
    spec.min_version = provider.tls.min_version;
    spec.ca_file = options.tls_ca_file;
    spec.ca_pem = provider.tls.ca_pem;
    spec.cert_pem = provider.tls.cert_pem;
    spec.key_pem = provider.tls.key_pem;
    settings.ssl_ctx = acquire_tls_client_context(spec, &error);
    // Without a context every connect fails with ConnectFailure saying TLS is unavailable.
    // Loading a trust store can take long enough to leave the loop's cached time behind, and
    // deadlines are computed from it: refresh it (we are on the loop's thread).
    uv_update_time(loop);
  }
  uv_timer_init(loop, &queue_timer);
  uv_timer_init(loop, &deferred_timer);
  queue_timer.data = this;
  deferred_timer.data = this;
}

UpstreamPool::Impl::~Impl() {
  while (Exchange* ex = free_list.pop_front()) delete ex;
  if (settings.ssl_ctx) SSL_CTX_free(settings.ssl_ctx);
}

// ---- exchanges ----------------------------------------------------------------------------

Exchange* UpstreamPool::Impl::alloc_exchange() {
  Exchange* ex = free_list.pop_back();
  return ex ? ex : new Exchange();
}

void UpstreamPool::Impl::recycle(Exchange* ex) {
  ex->where = Exchange::Where::Free;
  ex->sink = nullptr;
  ex->conn = nullptr;
  ex->request.clear();  // keeps capacity
  ex->paused = ex->head_request = false;
  if (free_list.size() < kMaxFreeExchanges) {
    free_list.push_back(ex);
  } else {
    delete ex;
  }
}

Exchange* UpstreamPool::Impl::start(std::span<const uv_buf_t> request, ResponseSink* sink) {
  Exchange* ex = alloc_exchange();
  ex->sink = sink;
  ex->request.assign(request.begin(), request.end());
  ex->head_request =
      !request.empty() && request[0].len >= 5 && std::memcmp(request[0].base, "HEAD ", 5) == 0;
  ex->total_deadline_ms = uv_now(loop) + total_ms;
  ++dispatch_depth;
  if (shutting_down) {
    defer(ex, Failure{FailureKind::Overloaded, TimeoutKind::None, "upstream pool is shut down"});
  } else if (!queue.empty()) {
    enqueue(ex);  // rule 1: behind those already waiting
  } else {
    dispatch(ex);
  }
  --dispatch_depth;
  return ex;
}

// The most recently used idle connection that is still open (rule 2). A stale one closes
// here; its on_connection_closing frees its slot (its pump() is a no-op inside pump, and the
// queue is empty when start() dispatches).
UpstreamConnection* UpstreamPool::Impl::take_idle() {
  while (UpstreamConnection* c = idle.pop_back()) {
    if (c->verify_idle()) return c;
  }
  return nullptr;
}

void UpstreamPool::Impl::dispatch(Exchange* ex) {
  ++dispatch_depth;
  if (UpstreamConnection* c = take_idle()) {
    c->assign(ex);
  } else if (live < max_connections) {
    auto* c = new UpstreamConnection(&settings, this);
    all.push_back(c);
    ++live;
    c->open(ex);
  } else {
    enqueue(ex);
  }
  --dispatch_depth;
}

// A slot or an idle connection may have freed up: serve the head of the queue.
void UpstreamPool::Impl::pump() {
  // A dispatch can fail at once, close its connection and so call pump() again: the outer
  // loop carries on instead, so a long queue cannot recurse deeply.
  if (shutting_down || pumping) return;
  pumping = true;
  bool changed = false;
  while (!queue.empty() && (!idle.empty() || live < max_connections)) {
    Exchange* ex = queue.pop_front();
    changed = true;
    dispatch(ex);
  }
  pumping = false;
  if (changed) arm_queue_timer();
}

void UpstreamPool::Impl::enqueue(Exchange* ex) {
  if (queue.size() >= max_queue) {
    defer(ex, Failure{FailureKind::Overloaded, TimeoutKind::None,
                      "upstream pool queue is full (max_connections reached)"});
    return;
  }
  ex->where = Exchange::Where::Queued;
  ex->queue_deadline_ms = uv_now(loop) + settings.connect_ms;
  queue.push_back(ex);
  arm_queue_timer();
}

void UpstreamPool::Impl::abort(Exchange* ex) {
  switch (ex->where) {
    case Exchange::Where::Queued:
      queue.remove(ex);
      arm_queue_timer();
      break;
    case Exchange::Where::Deferred:
      deferred.remove(ex);
      break;
    case Exchange::Where::Attached:
      ++dispatch_depth;  // closing may pump the queue: no sink call from inside abort()
      ex->conn->abandon_exchange();
      --dispatch_depth;
      break;
    case Exchange::Where::Free:
      return;  // already ended (a caller bug, but a harmless one while it is still free)
  }
  recycle(ex);
}

void UpstreamPool::Impl::set_paused(Exchange* ex, bool paused) {
  if (ex->paused == paused) return;
  ex->paused = paused;
  if (ex->where == Exchange::Where::Attached) ex->conn->update_paused();
}

// ---- failures -----------------------------------------------------------------------------

void UpstreamPool::Impl::fail_exchange(Exchange* ex, const Failure& failure) {
  if (dispatch_depth > 0) {
    defer(ex, failure);
    return;
  }
  ResponseSink* sink = ex->sink;
  recycle(ex);
  sink->on_upstream_failure(failure);
}

void UpstreamPool::Impl::defer(Exchange* ex, const Failure& failure) {
  ex->where = Exchange::Where::Deferred;
  ex->deferred = failure;
  ex->deferred_detail = failure.detail ? failure.detail : "";
  deferred.push_back(ex);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&deferred_timer))) {
    uv_timer_start(&deferred_timer, &on_deferred_timer_cb, 0, 0);
  }
}

void UpstreamPool::Impl::deliver_deferred() {
  // Each callback may start or abort exchanges (which may add to or take from the list).
  while (Exchange* ex = deferred.pop_front()) {
    Failure f = ex->deferred;
    delivering_detail.swap(ex->deferred_detail);
    f.detail = delivering_detail.c_str();
    ResponseSink* sink = ex->sink;
    recycle(ex);
    sink->on_upstream_failure(f);
  }
  maybe_finish_shutdown();
}

void UpstreamPool::Impl::on_deferred_timer_cb(uv_timer_t* t) {
  static_cast<Impl*>(t->data)->deliver_deferred();
}

void UpstreamPool::Impl::arm_queue_timer() {
  if (pool_handles_closing) return;
  uint64_t earliest = UINT64_MAX;
  for (Exchange* ex = queue.front(); ex; ex = queue.next_of(ex)) {
    earliest = std::min({earliest, ex->queue_deadline_ms, ex->total_deadline_ms});
  }
  if (earliest == UINT64_MAX) {
    uv_timer_stop(&queue_timer);
    return;
  }
  uint64_t now = uv_now(loop);
  uv_timer_start(&queue_timer, &on_queue_timer_cb, earliest > now ? earliest - now : 0, 0);
}

void UpstreamPool::Impl::on_queue_timer_cb(uv_timer_t* t) {
  static_cast<Impl*>(t->data)->on_queue_timer();
}

void UpstreamPool::Impl::on_queue_timer() {
  uint64_t now = uv_now(loop);
  for (Exchange* ex = queue.front(); ex;) {
    Exchange* next = queue.next_of(ex);
    if (ex->total_deadline_ms <= now) {
      queue.remove(ex);
      defer(ex, Failure{FailureKind::Timeout, TimeoutKind::Total,
                        "total timeout while waiting for an upstream connection"});
    } else if (ex->queue_deadline_ms <= now) {
      queue.remove(ex);
      defer(ex, Failure{FailureKind::Overloaded, TimeoutKind::None,
                        "waited the connect timeout for a free upstream connection"});
    }
    ex = next;
  }
  arm_queue_timer();
  deliver_deferred();  // a timer callback: safe to call sinks now
}

// ---- ConnectionOwner ----------------------------------------------------------------------

void UpstreamPool::Impl::on_connection_idle(UpstreamConnection* c) {
  if (shutting_down) {
    c->close();
    return;
  }
  if (!queue.empty()) {
    // Checked like any idle connection: the server may have closed it right after its last
    // response. If so it is closing now, and on_connection_closing pumped the queue.
    if (!c->verify_idle()) return;
    Exchange* ex = queue.pop_front();
    ++dispatch_depth;
    c->assign(ex);
    --dispatch_depth;
    arm_queue_timer();
    return;
  }
  idle.push_back(c);
}

void UpstreamPool::Impl::on_connection_closing(UpstreamConnection* c) {
  if (static_cast<ListNode<IdleConnectionsTag>*>(c)->linked()) idle.remove(c);
  --live;
  pump();  // its slot is free
}

void UpstreamPool::Impl::on_connection_closed(UpstreamConnection* c) {
  all.remove(c);
  delete c;
  maybe_finish_shutdown();
}

void UpstreamPool::Impl::on_exchange_done(Exchange* ex) {
  ResponseSink* sink = ex->sink;
  recycle(ex);
  sink->on_upstream_done();
}

void UpstreamPool::Impl::on_exchange_failed(Exchange* ex, const Failure& failure) {
  fail_exchange(ex, failure);
}

// ---- shutdown -----------------------------------------------------------------------------

void UpstreamPool::Impl::shutdown(void (*done)(void*), void* arg) {
  shutting_down = true;
  done_cb = done;
  done_arg = arg;
  ++dispatch_depth;  // every failure below is delivered on the next loop turn
  while (Exchange* ex = queue.pop_front()) {
    defer(ex, Failure{FailureKind::Overloaded, TimeoutKind::None, "upstream pool shut down"});
  }
  uv_timer_stop(&queue_timer);
  for (UpstreamConnection* c = all.front(); c; c = all.next_of(c)) {
    if (Exchange* ex = c->close_and_detach()) {
      defer(ex, Failure{FailureKind::Reset, TimeoutKind::None, "upstream pool shut down"});
    }
  }
  --dispatch_depth;
  dns.shutdown(&on_dns_idle_cb, this);
  maybe_finish_shutdown();
}

void UpstreamPool::Impl::on_dns_idle_cb(void* arg) {
  static_cast<Impl*>(arg)->maybe_finish_shutdown();
}

void UpstreamPool::Impl::maybe_finish_shutdown() {
  if (!shutting_down || pool_handles_closing) return;
  if (!all.empty() || dns.busy() || !deferred.empty()) return;
  pool_handles_closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&queue_timer), &on_pool_timer_closed_cb);
  uv_close(reinterpret_cast<uv_handle_t*>(&deferred_timer), &on_pool_timer_closed_cb);
}

void UpstreamPool::Impl::on_pool_timer_closed_cb(uv_handle_t* h) {
  auto* self = static_cast<Impl*>(h->data);
  if (--self->pool_handles_open == 0) self->done_cb(self->done_arg);  // may delete the pool
}

// ---- public face --------------------------------------------------------------------------

UpstreamPool::UpstreamPool(uv_loop_t* loop, const config::Provider& provider)
    : UpstreamPool(loop, provider, PoolOptions{}) {}

UpstreamPool::UpstreamPool(uv_loop_t* loop, const config::Provider& provider,
                           const PoolOptions& options)
    : impl_(new Impl(loop, provider, options)) {}

UpstreamPool::~UpstreamPool() {
  delete impl_;
}

Exchange* UpstreamPool::start(std::span<const uv_buf_t> request, ResponseSink* sink) {
  return impl_->start(request, sink);
}
void UpstreamPool::abort(Exchange* exchange) {
  impl_->abort(exchange);
}
void UpstreamPool::pause(Exchange* exchange) {
  impl_->set_paused(exchange, true);
}
void UpstreamPool::resume(Exchange* exchange) {
  impl_->set_paused(exchange, false);
}
void UpstreamPool::shutdown(void (*done)(void* arg), void* arg) {
  impl_->shutdown(done, arg);
}
size_t UpstreamPool::idle_connections() const {
  return impl_->idle.size();
}
size_t UpstreamPool::active_connections() const {
  return impl_->live - impl_->idle.size();
}

}  // namespace sluice::upstream
