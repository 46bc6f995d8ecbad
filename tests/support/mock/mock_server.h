// The mock provider's HTTP/1.1 server: one libuv loop, keep-alive, pipelined requests answered
// in order, every buffer bounded. API calls get replies in the shape their path asks for —
// OpenAI's (openai_replies.h), Anthropic's (anthropic_replies.h) or Ollama's (ollama_replies.h)
// — played through a script (exchange_script.h) chosen by the request's behaviour; /__control,
// /__requests, /__reset and /__stats let tests steer and inspect it.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

#include "tests/support/mock/behavior.h"
#include "tests/support/mock/control_state.h"

namespace sluice::mock {

class MockServer {
 public:
  MockServer(uv_loop_t* loop, Behavior defaults);
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  // Binds host:port (0 = ephemeral) and starts accepting. Returns the bound port, or a negative
  // libuv error code.
  int listen(const std::string& host, uint16_t port);

  ControlState& control() { return control_; }
  uv_loop_t* loop() const { return loop_; }

  // Counters for GET /__stats (the connections an upstream pool really opened).
  uint64_t connections_open = 0;
  uint64_t connections_total = 0;

 private:
  static void on_connection(uv_stream_t* listener, int status);

  uv_loop_t* loop_;
  uv_tcp_t listener_;  // lives as long as the process; never closed
  ControlState control_;
};

}  // namespace sluice::mock
