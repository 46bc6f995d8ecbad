// UpstreamPool against small HTTP servers written here (threads + blocking loopback sockets on
// ephemeral ports; OpenSSL for the TLS ones). It lives in tests/unit because unit tests link
// the sluice libraries; unlike the other unit tests it does use real (loopback) sockets.
//
// Every test ends with the pool shut down and uv_loop_close() == 0: no handle leaks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/upstream/idle_probe.h"
#include "core/upstream/upstream_pool.h"

namespace sluice::upstream {
namespace {

using namespace std::chrono_literals;

// A peer closing first must be an error return, not a signal (as in sluice itself).
const bool kSigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

// ---- the loopback server --------------------------------------------------------------------

// One accepted connection, as its handler sees it (runs on the server's thread for it).
class ServerConn {
 public:
  ServerConn(int fd, SSL* ssl, int index) : fd_(fd), ssl_(ssl), index_(index) {}

  int index() const { return index_; }  // 0 for the server's first connection, 1 next...

  // One request: head and Content-Length body. nullopt when the peer closed first.
  std::optional<std::string> read_request() {
    std::string req;
    size_t head_end;
    while ((head_end = buffered_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    size_t body_len = 0;
    std::string head = buffered_.substr(0, head_end + 4);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (size_t p = head.find("content-length:"); p != std::string::npos) {
      body_len = std::strtoul(head.c_str() + p + 15, nullptr, 10);
    }
    while (buffered_.size() < head_end + 4 + body_len) {
      if (!fill()) return std::nullopt;
    }
    req = buffered_.substr(0, head_end + 4 + body_len);
    buffered_.erase(0, req.size());
    return req;
  }

  bool write(std::string_view s) {
    while (!s.empty()) {
      ssize_t n;
      if (ssl_) {
        n = SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
      } else {
        n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      }
      if (n <= 0) return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Blocks until the client closes the connection (or the server stops). True if it was
  // the client.
  bool wait_for_close() {
    while (fill()) {
    }
    return !stopping_->load();
  }

  // An abortive close: the client sees ECONNRESET.
  void reset() {
    linger lg{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);  // close() below sends RST
    closed_by_handler_ = true;
  }
  // Sends FIN but keeps reading: what the client writes afterwards still arrives here.
  void half_close() { ::shutdown(fd_, SHUT_WR); }
  // A graceful close (FIN) now, before the handler returns.
  void close() {
    ::shutdown(fd_, SHUT_RDWR);
    closed_by_handler_ = true;
  }

  std::atomic<bool>* stopping_ = nullptr;
  bool closed_by_handler_ = false;

 private:
  bool fill() {
    char buf[16384];
    ssize_t n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  SSL* ssl_;
  int index_;
  std::string buffered_;
};

// Accepts on 127.0.0.1:<ephemeral>, one thread per connection running `handler`. With a
// server SSL_CTX, each connection does a TLS handshake first.
class TestServer {
 public:
  using Handler = std::function<void(ServerConn&)>;

  explicit TestServer(Handler handler, SSL_CTX* tls = nullptr)
      : handler_(std::move(handler)), tls_(tls) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
      ADD_FAILURE() << "bind/listen failed";
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() { stop(); }

  uint16_t port() const { return port_; }
  int connections() const { return accepted_.load(); }
  int closed_by_client() const { return closed_by_client_.load(); }

  void stop() {
    if (stopping_.exchange(true)) return;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
  }

 private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        if (stopping_.load()) return;
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      int index = accepted_.fetch_add(1);
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.insert(fd);
      workers_.emplace_back([this, fd, index] { serve(fd, index); });
    }
  }

  void serve(int fd, int index) {
    SSL* ssl = nullptr;
    bool ok = true;
    if (tls_) {
      ssl = SSL_new(tls_);
      SSL_set_fd(ssl, fd);
      ok = SSL_accept(ssl) == 1;
      if (!ok) ERR_clear_error();
    }
    if (ok) {
      ServerConn conn(fd, ssl, index);
      conn.stopping_ = &stopping_;
      handler_(conn);
      if (!conn.closed_by_handler_ && !stopping_.load()) {
        // Handler done without closing: keep the connection open until the client closes it
        // (a keep-alive server), so tests can tell who closed.
        if (conn.wait_for_close()) closed_by_client_.fetch_add(1);
      }
    }
    if (ssl) SSL_free(ssl);
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(fd);
    ::close(fd);
  }

  Handler handler_;
  SSL_CTX* tls_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> closed_by_client_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::set<int> open_fds_;
  std::vector<std::thread> workers_;
};

// A handler that answers every request on the connection with `response` (keep-alive).
TestServer::Handler answer_all(std::string response) {
  return [response](ServerConn& c) {
    while (c.read_request()) {
      if (!c.write(response)) return;
    }
  };
}

std::string ok_response(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

uint16_t unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // nothing listens there now: connects are refused
  return ntohs(addr.sin_port);
}

// ---- the client side --------------------------------------------------------------------

// Records everything a sink is told, and anything it is told after the end.
struct Recorder : ResponseSink {
  void on_upstream_head(int s, std::span<const ResponseHeader> hs,
                        std::optional<uint64_t> cl) override {
    note_call();
    ++heads;
    status = s;
    headers.clear();
    for (const ResponseHeader& h : hs) headers.emplace_back(h.name, h.value);
    content_length = cl;
    if (on_head) on_head();
  }
  void on_upstream_body(const char* data, size_t len) override {
    note_call();
    body.append(data, len);
    if (paused) bytes_while_paused += len;
    if (on_body) on_body(len);
  }
  void on_upstream_done() override {
    note_call();
    done = true;
  }
  void on_upstream_failure(const Failure& f) override {
    note_call();
    failed = true;
    failure_kind = f.kind;
    timeout_kind = f.timeout;
    detail = f.detail ? f.detail : "";
  }

  bool finished() const { return done || failed; }
  std::optional<std::string> header(std::string_view name) const {
    for (auto& [n, v] : headers) {
      if (strcasecmp(n.c_str(), std::string(name).c_str()) == 0) return v;
    }
    return std::nullopt;
  }
  void note_call() {
    if (finished() || aborted) ++late_calls;
    ++calls;
  }

  int heads = 0;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<uint64_t> content_length;
  std::string body;
  bool done = false;
  bool failed = false;
  FailureKind failure_kind = FailureKind::Reset;
  TimeoutKind timeout_kind = TimeoutKind::None;
  std::string detail;
  int calls = 0;
  int late_calls = 0;  // callbacks after done/failure/abort: must stay 0
  bool aborted = false;
  bool paused = false;
  size_t bytes_while_paused = 0;
  std::function<void()> on_head;
  std::function<void(size_t)> on_body;
};

// One exchange: the request text (kept alive for the pool) and what came back.
struct Call {
  explicit Call(std::string req) : request(std::move(req)) {
    buf = uv_buf_init(request.data(), static_cast<unsigned>(request.size()));
  }
  std::string request;
  uv_buf_t buf;
  Recorder rec;
  Exchange* ex = nullptr;
};

std::string get(std::string_view path = "/v1/models") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: upstream\r\n\r\n";
}

class UpstreamPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }

  void TearDown() override {
    if (pool_) shutdown_pool();
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open";
  }

  config::Provider provider(uint16_t port, std::string host = "127.0.0.1") {
    config::Provider p;
    p.name = "test";
    p.type = "openai";
    p.url.host = std::move(host);
    p.url.port = port;
    p.url.tls = false;
    p.timeouts.connect = 1000ms;
    p.timeouts.first_byte = 2000ms;
    p.timeouts.idle = 2000ms;
    p.timeouts.total = 5000ms;
    p.max_connections = 8;
    return p;
  }

  UpstreamPool& make_pool(const config::Provider& p) {
    pool_ = std::make_unique<UpstreamPool>(&loop_, p);
    return *pool_;
  }

  void start(Call& c) { c.ex = pool_->start({&c.buf, 1}, &c.rec); }

  // Runs the loop until `pred` holds or `timeout` passes; returns pred().
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    uv_timer_t tick;
    uv_timer_init(&loop_, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 5, 5);  // wakes the loop to re-check pred
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return pred();
  }
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }
  bool run_call(Call& c, std::chrono::milliseconds timeout = 5s) {
    return run_until([&] { return c.rec.finished(); }, timeout);
  }

  void shutdown_pool() {
    bool done = false;
    pool_->shutdown([](void* arg) { *static_cast<bool*>(arg) = true; }, &done);
    EXPECT_TRUE(run_until([&] { return done; })) << "shutdown did not complete";
    pool_.reset();
  }

  uv_loop_t loop_;
  std::unique_ptr<UpstreamPool> pool_;
};

// ---- plain HTTP ---------------------------------------------------------------------------

TEST_F(UpstreamPoolTest, GetWithContentLengthDeliversHeadAndBodyWithoutHopByHopHeaders) {
  std::mutex mu;
  std::string seen;
  TestServer server([&](ServerConn& c) {
    auto req = c.read_request();
    {
      std::lock_guard<std::mutex> lock(mu);
      seen = req.value_or("");
    }
    c.write(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\nConnection: keep-alive\r\n"
        "Keep-Alive: timeout=5\r\nContent-Type: text/plain\r\n\r\nhello");
  });
  make_pool(provider(server.port()));
  Call call(get("/v1/models"));
  start(call);
  EXPECT_FALSE(call.rec.finished()) << "no callback may come from inside start()";
  ASSERT_TRUE(run_call(call));

  EXPECT_TRUE(call.rec.done) << call.rec.detail;
  EXPECT_EQ(call.rec.status, 200);
  EXPECT_EQ(call.rec.body, "hello");
  EXPECT_EQ(call.rec.content_length, std::optional<uint64_t>(5));
  EXPECT_EQ(call.rec.header("x-test"), "yes");
  EXPECT_EQ(call.rec.header("content-type"), "text/plain");
  EXPECT_FALSE(call.rec.header("content-length"));
  EXPECT_FALSE(call.rec.header("connection"));
  EXPECT_FALSE(call.rec.header("keep-alive"));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(seen, call.request) << "the request goes upstream byte for byte";
  }
  EXPECT_EQ(pool_->idle_connections(), 1u);
  EXPECT_EQ(pool_->active_connections(), 0u);
}

TEST_F(UpstreamPoolTest, PostGetsChunkedResponseDechunkedAsItArrives) {
  std::atomic<bool> body_ok{false};
  TestServer server([&](ServerConn& c) {
    auto req = c.read_request();
    body_ok = req && req->ends_with("\r\n\r\n{\"ping\":1}");
    c.write(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: X-Hop\r\nX-Hop: 1\r\n"
        "X-Kept: 2\r\n\r\n");
    for (std::string_view piece : {"5\r\nhel", "lo\r\n", "6\r\n world\r\n", "0\r\n\r\n"}) {
      std::this_thread::sleep_for(10ms);
      c.write(piece);
    }
  });
  make_pool(provider(server.port()));
  std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: upstream\r\nContent-Length: 10\r\n\r\n";
  std::string body = "{\"ping\":1}";
  Call call(head);
  uv_buf_t bufs[2] = {uv_buf_init(head.data(), head.size()), uv_buf_init(body.data(), body.size())};
  int body_calls = 0;
  call.rec.on_body = [&](size_t) { ++body_calls; };
  call.ex = pool_->start(bufs, &call.rec);
  ASSERT_TRUE(run_call(call));

  EXPECT_TRUE(call.rec.done) << call.rec.detail;
  EXPECT_TRUE(body_ok.load()) << "head and body buffers both reached the server";
  EXPECT_EQ(call.rec.body, "hello world");
  EXPECT_GE(body_calls, 2) << "body bytes are passed on as they arrive, not buffered";
  EXPECT_EQ(call.rec.content_length, std::nullopt);
  EXPECT_FALSE(call.rec.header("transfer-encoding"));
  EXPECT_FALSE(call.rec.header("x-hop")) << "named in Connection: hop-by-hop";
  EXPECT_EQ(call.rec.header("x-kept"), "2");
  EXPECT_EQ(pool_->idle_connections(), 1u) << "a complete chunked response keeps the connection";
}

TEST_F(UpstreamPoolTest, KeepAliveReusesOneConnectionForSequentialRequests) {
  TestServer server(answer_all(ok_response("ok")));
  make_pool(provider(server.port()));
  for (int i = 0; i < 3; ++i) {
    Call call(get());
    start(call);
    ASSERT_TRUE(run_call(call));
    EXPECT_TRUE(call.rec.done) << call.rec.detail;
    EXPECT_EQ(call.rec.body, "ok");
    EXPECT_EQ(pool_->idle_connections(), 1u);
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(UpstreamPoolTest, IdleConnectionClosedByServerIsDroppedAndNextRequestUsesANewOne) {
  TestServer server([](ServerConn& c) {
    if (c.read_request()) c.write(ok_response("first"));
    c.close();  // no "Connection: close": the client learns it from the EOF while idle
  });
  make_pool(provider(server.port()));
  Call first(get());
  start(first);
  ASSERT_TRUE(run_call(first));
  EXPECT_TRUE(first.rec.done);
  EXPECT_TRUE(run_until([&] { return pool_->idle_connections() == 0; }))
      << "EOF on an idle connection removes it from the pool";

  Call second(get());
  start(second);
  ASSERT_TRUE(run_call(second));
  EXPECT_TRUE(second.rec.done) << second.rec.detail;
  EXPECT_EQ(second.rec.body, "first");
  EXPECT_EQ(server.connections(), 2);
}

// DESIGN §10: a request written to a reused connection is never sent again by the pool, even
// when the server dies before any response byte — it may have read (and billed) the request.
// The failure goes to the sink (the retry filter decides); the server saw the request once.
TEST_F(UpstreamPoolTest, ResetAfterTheWholeRequestOnAReusedConnectionIsNotResent) {
  for (bool rst : {false, true}) {
    SCOPED_TRACE(rst ? "RST" : "FIN");
    std::atomic<int> requests_read{0};
    TestServer server([&](ServerConn& c) {
      while (c.read_request()) {
        if (requests_read.fetch_add(1) == 1) {  // the second request: read whole, then die
          if (rst) {
            c.reset();
          } else {
            c.close();
          }
          return;
        }
        c.write(ok_response("one"));
      }
    });
    make_pool(provider(server.port()));
    Call first(get());
    start(first);
    ASSERT_TRUE(run_call(first));
    ASSERT_TRUE(first.rec.done);

    Call second(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: upstream\r\nContent-Length: 2\r\n\r\n{}");
    start(second);
    ASSERT_TRUE(run_call(second));
    EXPECT_TRUE(second.rec.failed) << "the pool re-sent a request the server had read";
    EXPECT_EQ(second.rec.failure_kind, FailureKind::Reset) << second.rec.detail;
    run_for(50ms);  // a re-send, if any, would reach the server now
    EXPECT_EQ(requests_read.load(), 2) << "the server must see the second request once";
    EXPECT_EQ(server.connections(), 1) << "no fresh connection for a re-send";
    EXPECT_EQ(second.rec.late_calls, 0);
    shutdown_pool();
  }
}

// The keep-alive race itself: the server closed the pooled connection and its FIN is already
// in sluice's socket, but the loop has not read it yet when the next request picks the
// connection. Nothing of the request is written to it: the request goes on a fresh connection
// as if the stale one had never been pooled, and the server sees it exactly once.
TEST_F(UpstreamPoolTest, StaleKeepAliveConnectionIsReplacedBeforeAnythingIsWritten) {
  std::atomic<int> requests_on_first{0};
  std::atomic<bool> may_close{false};
  std::atomic<bool> first_closed{false};
  TestServer server([&](ServerConn& c) {
    if (c.index() == 0) {
      if (c.read_request()) {
        ++requests_on_first;
        c.write(ok_response("one"));
      }
      while (!may_close.load()) std::this_thread::sleep_for(1ms);
      c.half_close();  // FIN right after the response, without "Connection: close"
      first_closed = true;
      if (c.read_request()) ++requests_on_first;  // would be a request sent to a stale conn
      return;
    }
    while (c.read_request()) c.write(ok_response("two"));
  });
  make_pool(provider(server.port()));
  Call first(get());
  start(first);
  ASSERT_TRUE(run_call(first));
  ASSERT_TRUE(first.rec.done);
  ASSERT_EQ(pool_->idle_connections(), 1u);

  // The loop does not run from here on, so the pool cannot see the FIN; give it time to arrive.
  may_close = true;
  for (int i = 0; i < 200 && !first_closed.load(); ++i) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(first_closed.load());
  std::this_thread::sleep_for(50ms);
  ASSERT_EQ(pool_->idle_connections(), 1u) << "the test needs the FIN not yet processed";

  Call second(get());
  start(second);
  ASSERT_TRUE(run_call(second));
  EXPECT_TRUE(second.rec.done) << "a stale pooled connection must not surface as an error: "
                               << second.rec.detail;
  EXPECT_EQ(second.rec.body, "two");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(requests_on_first.load(), 1) << "nothing may be written to the stale connection";
}

TEST_F(UpstreamPoolTest, CloseBeforeResponseOnAFreshConnectionIsReset) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.close();
  });
  make_pool(provider(server.port()));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::Reset) << call.rec.detail;
  EXPECT_EQ(server.connections(), 1) << "no retry: the connection was not a reused one";
}

TEST_F(UpstreamPoolTest, RefusedConnectionIsConnectFailure) {
  make_pool(provider(unused_port()));
  Call call(get());
  start(call);
  EXPECT_FALSE(call.rec.finished());
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::ConnectFailure);
  EXPECT_NE(call.rec.detail.find("refused"), std::string::npos) << call.rec.detail;
  EXPECT_EQ(pool_->active_connections(), 0u);
}

TEST_F(UpstreamPoolTest, LocalhostIsResolvedThroughDns) {
  TestServer server(answer_all(ok_response("dns")));
  make_pool(provider(server.port(), "localhost"));
  for (int i = 0; i < 2; ++i) {  // the second one from the cache, on the kept connection
    Call call(get());
    start(call);
    ASSERT_TRUE(run_call(call));
    EXPECT_TRUE(call.rec.done) << call.rec.detail;
    EXPECT_EQ(call.rec.body, "dns");
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(UpstreamPoolTest, UnknownHostIsConnectFailureNamingDns) {
  make_pool(provider(80, "no-such-host.invalid"));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call, 10s));
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::ConnectFailure);
  EXPECT_NE(call.rec.detail.find("DNS"), std::string::npos) << call.rec.detail;
}

// ---- timeouts -----------------------------------------------------------------------------

TEST_F(UpstreamPoolTest, SilentServerIsFirstByteTimeout) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.wait_for_close();
  });
  auto p = provider(server.port());
  p.timeouts.first_byte = 100ms;
  make_pool(p);
  Call call(get());
  auto t0 = std::chrono::steady_clock::now();
  start(call);
  ASSERT_TRUE(run_call(call));
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::Timeout);
  EXPECT_EQ(call.rec.timeout_kind, TimeoutKind::FirstByte);
  EXPECT_GE(elapsed, 90ms);
  EXPECT_TRUE(run_until([&] { return server.closed_by_client() == 1; }))
      << "the timed-out connection is closed";
}

TEST_F(UpstreamPoolTest, StallMidBodyIsIdleTimeout) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    c.wait_for_close();
  });
  auto p = provider(server.port());
  p.timeouts.idle = 100ms;
  make_pool(p);
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_EQ(call.rec.status, 200);
  EXPECT_EQ(call.rec.body, "0123456789");
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::Timeout);
  EXPECT_EQ(call.rec.timeout_kind, TimeoutKind::Idle);
}

TEST_F(UpstreamPoolTest, SlowDripIsTotalTimeout) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    for (int i = 0; i < 100 && c.write("x"); ++i) std::this_thread::sleep_for(20ms);
  });
  auto p = provider(server.port());
  p.timeouts.idle = 150ms;
  p.timeouts.total = 300ms;
  make_pool(p);
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::Timeout);
  EXPECT_EQ(call.rec.timeout_kind, TimeoutKind::Total) << "each byte resets idle, not total";
  EXPECT_GT(call.rec.body.size(), 3u);
}

TEST_F(UpstreamPoolTest, KeepAliveConnectionsCloseAfterTheIdleTimeout) {
  TestServer server(answer_all(ok_response("ok")));
  auto p = provider(server.port());
  p.timeouts.idle = 100ms;
  make_pool(p);
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_EQ(pool_->idle_connections(), 1u);
  EXPECT_TRUE(run_until([&] { return pool_->idle_connections() == 0; }, 2s));
  EXPECT_TRUE(run_until([&] { return server.closed_by_client() == 1; }))
      << "the client closed the idle connection";
}

// ---- broken servers -------------------------------------------------------------------------

TEST_F(UpstreamPoolTest, ResetMidBodyIsReset) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    std::this_thread::sleep_for(50ms);
    c.reset();
  });
  make_pool(provider(server.port()));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_EQ(call.rec.body, "partial");
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::Reset) << call.rec.detail;
}

TEST_F(UpstreamPoolTest, GarbageResponseIsProtocolError) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  make_pool(provider(server.port()));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::Protocol);
  EXPECT_EQ(call.rec.heads, 0);
  EXPECT_EQ(pool_->idle_connections(), 0u);
}

TEST_F(UpstreamPoolTest, ContentLengthWithChunkedIsProtocolError) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write(
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n");
  });
  make_pool(provider(server.port()));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::Protocol) << "llhttp stays strict";
}

TEST_F(UpstreamPoolTest, InformationalResponsesAreSkipped) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
    std::this_thread::sleep_for(10ms);
    c.write(ok_response("final"));
  });
  make_pool(provider(server.port()));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.done) << call.rec.detail;
  EXPECT_EQ(call.rec.heads, 1);
  EXPECT_EQ(call.rec.status, 200);
  EXPECT_EQ(call.rec.body, "final");
  EXPECT_FALSE(call.rec.header("link"));
}

TEST_F(UpstreamPoolTest, BodyDelimitedByCloseCompletesAndIsNotReused) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ");
    std::this_thread::sleep_for(10ms);
    c.write("close");
    c.close();
  });
  make_pool(provider(server.port()));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.done) << call.rec.detail;
  EXPECT_EQ(call.rec.content_length, std::nullopt);
  EXPECT_EQ(call.rec.body, "until close");
  EXPECT_EQ(pool_->idle_connections(), 0u);
}

TEST_F(UpstreamPoolTest, BytesAfterTheResponseMakeTheConnectionUnusable) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write(ok_response("ok") + "HTTP/1.1 200 OK\r\n");
  });
  make_pool(provider(server.port()));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.done);
  EXPECT_EQ(call.rec.body, "ok");
  EXPECT_EQ(pool_->idle_connections(), 0u);
}

TEST_F(UpstreamPoolTest, HeadResponseHasNoBodyAndKeepsTheConnection) {
  TestServer server(answer_all("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"));
  make_pool(provider(server.port()));
  Call call("HEAD /v1/models HTTP/1.1\r\nHost: upstream\r\n\r\n");
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.done) << call.rec.detail;
  EXPECT_EQ(call.rec.body, "");
  EXPECT_EQ(pool_->idle_connections(), 1u);
}

TEST_F(UpstreamPoolTest, ConnectionCloseResponseIsNotReused) {
  TestServer server([](ServerConn& c) {
    while (c.read_request())
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  });
  make_pool(provider(server.port()));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.done);
  EXPECT_EQ(pool_->idle_connections(), 0u);
}

// ---- limits and queueing --------------------------------------------------------------------

TEST_F(UpstreamPoolTest, MaxConnectionsMakesTheSecondRequestWaitForTheFirst) {
  TestServer server([](ServerConn& c) {
    while (c.read_request()) {
      std::this_thread::sleep_for(50ms);
      if (!c.write(ok_response("ok"))) return;
    }
  });
  auto p = provider(server.port());
  p.max_connections = 1;
  make_pool(p);
  Call a(get("/a")), b(get("/b"));
  start(a);
  start(b);
  EXPECT_EQ(pool_->active_connections(), 1u);
  ASSERT_TRUE(run_until([&] { return a.rec.finished() && b.rec.finished(); }));
  EXPECT_TRUE(a.rec.done) << a.rec.detail;
  EXPECT_TRUE(b.rec.done) << b.rec.detail;
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(UpstreamPoolTest, QueueOverItsBoundIsOverloaded) {
  TestServer server(answer_all(ok_response("ok")));
  auto p = provider(server.port());
  p.max_connections = 1;  // queue bound: 4
  make_pool(p);
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < 6; ++i) {
    calls.push_back(std::make_unique<Call>(get()));
    start(*calls.back());
  }
  EXPECT_FALSE(calls[5]->rec.finished()) << "even Overloaded comes from the loop";
  ASSERT_TRUE(run_until([&] {
    for (auto& c : calls) {
      if (!c->rec.finished()) return false;
    }
    return true;
  }));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(calls[i]->rec.done) << i << calls[i]->rec.detail;
  EXPECT_TRUE(calls[5]->rec.failed);
  EXPECT_EQ(calls[5]->rec.failure_kind, FailureKind::Overloaded);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(UpstreamPoolTest, WaitingLongerThanTheConnectTimeoutIsOverloaded) {
  TestServer server([](ServerConn& c) {
    while (c.read_request()) {
      std::this_thread::sleep_for(400ms);
      if (!c.write(ok_response("slow"))) return;
    }
  });
  auto p = provider(server.port());
  p.max_connections = 1;
  p.timeouts.connect = 100ms;
  make_pool(p);
  Call a(get()), b(get());
  start(a);
  start(b);
  ASSERT_TRUE(run_call(b));
  EXPECT_TRUE(b.rec.failed);
  EXPECT_EQ(b.rec.failure_kind, FailureKind::Overloaded);
  EXPECT_FALSE(a.rec.finished());
  ASSERT_TRUE(run_call(a));
  EXPECT_TRUE(a.rec.done) << a.rec.detail;
}

// ---- abort, pause, shutdown -----------------------------------------------------------------

TEST_F(UpstreamPoolTest, AbortMidResponseStopsCallbacksAndClosesTheConnection) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nfirst");
    for (int i = 0; i < 50; ++i) {
      std::this_thread::sleep_for(5ms);
      if (!c.write(std::string(1000, 'x'))) break;
    }
  });
  make_pool(provider(server.port()));
  Call call(get());
  call.rec.on_body = [&](size_t) {
    pool_->abort(call.ex);  // from inside the callback, as a session would on client close
    call.rec.aborted = true;
  };
  start(call);
  ASSERT_TRUE(run_until([&] { return call.rec.aborted; }));
  run_for(100ms);
  EXPECT_EQ(call.rec.late_calls, 0);
  EXPECT_FALSE(call.rec.finished());
  EXPECT_EQ(pool_->idle_connections(), 0u);
  EXPECT_EQ(pool_->active_connections(), 0u);
}

TEST_F(UpstreamPoolTest, AbortWhileConnectingOrQueuedNeverCallsBack) {
  TestServer server(answer_all(ok_response("ok")));
  auto p = provider(server.port());
  p.max_connections = 1;
  make_pool(p);
  Call connecting(get()), queued(get()), later(get());
  start(connecting);
  start(queued);
  pool_->abort(queued.ex);
  pool_->abort(connecting.ex);
  queued.rec.aborted = connecting.rec.aborted = true;
  // The connection opened for the aborted request becomes idle and serves the next one.
  ASSERT_TRUE(run_until([&] { return pool_->idle_connections() == 1; }));
  start(later);
  ASSERT_TRUE(run_call(later));
  EXPECT_TRUE(later.rec.done);
  EXPECT_EQ(connecting.rec.calls, 0);
  EXPECT_EQ(queued.rec.calls, 0);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(UpstreamPoolTest, PauseStopsReadingAndResumeDeliversEverything) {
  constexpr size_t kBody = 2 << 20;
  TestServer server([&](ServerConn& c) {
    c.read_request();
    std::string body(kBody, '\0');
    for (size_t i = 0; i < kBody; ++i) body[i] = static_cast<char>('a' + i % 26);
    c.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n");
    c.write(body);
  });
  make_pool(provider(server.port()));
  Call call(get());
  bool resumed = false;
  call.rec.on_body = [&](size_t) {
    if (!resumed && !call.rec.paused) {
      pool_->pause(call.ex);
      call.rec.paused = true;
    }
  };
  start(call);
  ASSERT_TRUE(run_until([&] { return call.rec.paused; }));
  size_t at_pause = call.rec.body.size();
  run_for(150ms);  // paused: the server's bytes wait in the kernel
  size_t while_paused = call.rec.body.size() - at_pause;
  pool_->resume(call.ex);
  call.rec.paused = false;
  resumed = true;
  ASSERT_TRUE(run_call(call));

  EXPECT_LE(while_paused, 64u * 1024) << "at most one read buffer after pause()";
  EXPECT_TRUE(call.rec.done) << call.rec.detail;
  ASSERT_EQ(call.rec.body.size(), kBody);
  bool intact = true;
  for (size_t i = 0; i < kBody; ++i) intact &= call.rec.body[i] == static_cast<char>('a' + i % 26);
  EXPECT_TRUE(intact);
}

TEST_F(UpstreamPoolTest, PausedExchangeDoesNotHitTheIdleTimeout) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
    std::this_thread::sleep_for(300ms);
    c.write("cd");
  });
  auto p = provider(server.port());
  p.timeouts.idle = 100ms;
  make_pool(p);
  Call call(get());
  call.rec.on_head = [&] { pool_->pause(call.ex); };
  start(call);
  ASSERT_TRUE(run_until([&] { return call.rec.heads == 1; }));
  run_for(400ms);  // longer than idle: the client is slow, not the upstream
  EXPECT_FALSE(call.rec.failed) << call.rec.detail;
  pool_->resume(call.ex);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.done) << call.rec.detail;
  EXPECT_EQ(call.rec.body, "abcd");
}

TEST_F(UpstreamPoolTest, ShutdownFailsExchangesInFlightAndClosesEverything) {
  TestServer server([](ServerConn& c) {
    c.read_request();
    c.wait_for_close();
  });
  make_pool(provider(server.port()));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_until([&] { return server.connections() == 1; }));
  run_for(20ms);
  shutdown_pool();
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::Reset);
  EXPECT_EQ(call.rec.late_calls, 0);
}

// ---- TLS ------------------------------------------------------------------------------------

// A self-signed certificate for "localhost", made at test time.
struct TestCert {
  TestCert() {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert, key, EVP_sha256());

    server_ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(server_ctx, cert);
    SSL_CTX_use_PrivateKey(server_ctx, key);

    char tmpl[] = "/tmp/sluice-upstream-test-cert-XXXXXX";
    int fd = mkstemp(tmpl);
    pem_path = tmpl;
    FILE* f = fdopen(fd, "w");
    PEM_write_X509(f, cert);
    fclose(f);
  }
  ~TestCert() {
    SSL_CTX_free(server_ctx);
    X509_free(cert);
    EVP_PKEY_free(key);
    std::remove(pem_path.c_str());
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  SSL_CTX* server_ctx = nullptr;
  std::string pem_path;
};

class UpstreamPoolTlsTest : public UpstreamPoolTest {
 protected:
  config::Provider tls_provider(uint16_t port, bool verify, std::string host = "127.0.0.1") {
    config::Provider p = provider(port, std::move(host));
    p.url.tls = true;
    p.tls_verify = verify;
    p.timeouts.connect = 5000ms;  // handshakes are slow under valgrind
    return p;
  }
  TestCert cert_;
};

TEST_F(UpstreamPoolTlsTest, WithoutVerificationTheSelfSignedServerAnswersAndIsReused) {
  std::string big(200 * 1024, 'z');  // several TLS records and reads
  TestServer server(answer_all(ok_response(big)), cert_.server_ctx);
  make_pool(tls_provider(server.port(), false));
  for (int i = 0; i < 2; ++i) {
    Call call(get());
    start(call);
    ASSERT_TRUE(run_call(call));
    EXPECT_TRUE(call.rec.done) << call.rec.detail;
    EXPECT_EQ(call.rec.status, 200);
    EXPECT_EQ(call.rec.body, big);
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(UpstreamPoolTlsTest, WithVerificationAnUntrustedCertificateIsConnectFailure) {
  TestServer server(answer_all(ok_response("secret")), cert_.server_ctx);
  make_pool(tls_provider(server.port(), true, "localhost"));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::ConnectFailure);
  EXPECT_NE(call.rec.detail.find("verification failed"), std::string::npos) << call.rec.detail;
  EXPECT_EQ(call.rec.body, "");
}

// With the test certificate as the trust store, verification passes for the name it was
// issued to and fails for another one: the hostname is checked, not only the chain.
TEST_F(UpstreamPoolTlsTest, VerificationChecksTheHostName) {
  TestServer server(answer_all(ok_response("trusted")), cert_.server_ctx);
  PoolOptions trust_test_cert{cert_.pem_path};
  auto good = std::make_unique<UpstreamPool>(&loop_, tls_provider(server.port(), true, "localhost"),
                                             trust_test_cert);
  auto bad = std::make_unique<UpstreamPool>(&loop_, tls_provider(server.port(), true, "127.0.0.1"),
                                            trust_test_cert);
  Call ok(get()), wrong_name(get());
  ok.ex = good->start({&ok.buf, 1}, &ok.rec);
  wrong_name.ex = bad->start({&wrong_name.buf, 1}, &wrong_name.rec);
  ASSERT_TRUE(run_until([&] { return ok.rec.finished() && wrong_name.rec.finished(); }));
  EXPECT_TRUE(ok.rec.done) << ok.rec.detail;
  EXPECT_EQ(ok.rec.body, "trusted");
  EXPECT_TRUE(wrong_name.rec.failed);
  EXPECT_EQ(wrong_name.rec.failure_kind, FailureKind::ConnectFailure);
  EXPECT_NE(wrong_name.rec.detail.find("verification failed"), std::string::npos)
      << wrong_name.rec.detail;

  int done = 0;
  auto count = [](void* arg) { ++*static_cast<int*>(arg); };
  good->shutdown(count, &done);
  bad->shutdown(count, &done);
  ASSERT_TRUE(run_until([&] { return done == 2; }));
}

TEST_F(UpstreamPoolTlsTest, PlainTextServerIsATlsHandshakeFailure) {
  TestServer server([](ServerConn& c) { c.write("HTTP/1.1 400 Bad Request\r\n\r\n"); });
  make_pool(tls_provider(server.port(), false));
  Call call(get());
  start(call);
  ASSERT_TRUE(run_call(call));
  EXPECT_TRUE(call.rec.failed);
  EXPECT_EQ(call.rec.failure_kind, FailureKind::ConnectFailure) << call.rec.detail;
  EXPECT_NE(call.rec.detail.find("TLS"), std::string::npos) << call.rec.detail;
}

TEST(UpstreamFailureNames, MatchTheRetryOnSpelling) {
  EXPECT_STREQ(to_string(FailureKind::ConnectFailure), "connect_failure");
  EXPECT_STREQ(to_string(FailureKind::Reset), "reset");
  EXPECT_STREQ(to_string(FailureKind::Timeout), "timeout");
  EXPECT_STREQ(to_string(TimeoutKind::FirstByte), "first_byte");
}

// What the pool checks before it writes to a pooled connection: only Open lets it through, and
// peeking consumes nothing.
TEST(IdleProbeTest, TellsOpenFromClosedFromSpokenWithoutConsuming) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  EXPECT_EQ(probe_idle_socket(fds[0]), IdleProbe::Open);
  ASSERT_EQ(::send(fds[1], "x", 1, MSG_NOSIGNAL), 1);
  EXPECT_EQ(probe_idle_socket(fds[0]), IdleProbe::PeerSpoke);
  EXPECT_EQ(probe_idle_socket(fds[0]), IdleProbe::PeerSpoke) << "the byte must still be there";
  char c;
  ASSERT_EQ(::recv(fds[0], &c, 1, 0), 1);
  ::close(fds[1]);
  EXPECT_EQ(probe_idle_socket(fds[0]), IdleProbe::PeerClosed);
  ::close(fds[0]);
  EXPECT_EQ(probe_idle_socket(fds[0]), IdleProbe::Failed) << "a closed descriptor";
  EXPECT_STREQ(to_string(IdleProbe::PeerClosed), "peer_closed");
}

}  // namespace
}  // namespace sluice::upstream
