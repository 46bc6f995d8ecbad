#include "bench/mock_upstream/mock_server.h"

#include <cstdio>

#include "bench/mock_upstream/mock_connection.h"

namespace sluice::bench {

MockServer::MockServer(uv_loop_t* loop, MockOptions options)
    : loop_(loop), options_(std::move(options)) {
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
}

int MockServer::start() {
  sockaddr_in addr;
  if (int rc = uv_ip4_addr(options_.host.c_str(), options_.port, &addr); rc != 0) return rc;
  if (int rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0); rc != 0) {
    return rc;
  }
  // A deep backlog: the 1,000-connection scenario opens its connections all at once.
  return uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 4096, &on_connection);
}

void MockServer::stop() {
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
}

void MockServer::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<MockServer*>(server->data);
  if (status < 0) {
    std::fprintf(stderr, "bench_mock_upstream: accept: %s\n", uv_strerror(status));
    return;
  }
  auto* conn = new MockConnection(self->loop_, self);
  if (uv_accept(server, conn->stream()) != 0) {
    conn->close();
    return;
  }
  conn->start();
}

}  // namespace sluice::bench
