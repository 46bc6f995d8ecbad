// Plain TCP: bytes pass straight through, and a request is written from the caller's own
// buffers (one writev, no copy).
#include "core/upstream/transport.h"

namespace sluice::upstream {
namespace {

class TcpTransport final : public Transport {
 public:
  Status start() override { return Status::Ok; }
  bool handshake_complete() const override { return true; }
  Status receive(const char* data, size_t len, PlaintextFn fn, void* arg) override {
    fn(arg, data, len);
    return Status::Ok;
  }
  Status send(std::span<const uv_buf_t> plaintext) override {
    pending_ = plaintext;
    return Status::Ok;
  }
  std::span<const uv_buf_t> take_output() override {
    std::span<const uv_buf_t> out = pending_;
    pending_ = {};
    return out;
  }
  void output_written() override {}
  const char* error_detail() const override { return ""; }

 private:
  std::span<const uv_buf_t> pending_;  // the caller's request buffers, not yet handed out
};

}  // namespace

std::unique_ptr<Transport> make_tcp_transport() {
  return std::make_unique<TcpTransport>();
}

}  // namespace sluice::upstream
