// MockServer: the benchmark's upstream, on one libuv loop. HTTP/1.1 keep-alive (requests parsed
// with llhttp, pipelined ones answered in order), every POST answered with the canned OpenAI
// completion, or — when the JSON body says "stream": true — with an SSE stream of `chunks`
// content events `chunk_delay_ms` apart. A POST to a path ending in /messages gets the same
// answers in Anthropic's Messages shape (canned.h); a POST or GET under /tools/ gets an http
// tool's canned JSON result. `delay_ms` holds every answer back that long before its first
// byte, so a proxy in front has that many milliseconds' worth of requests in flight.
//
// GET /__stats answers {"requests","in_flight","max_in_flight","connections","max_connections"}
// and, with ?reset, starts the maxima over: the bench reads how many requests a proxy really
// held open upstream.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

namespace sluice::bench {

struct MockOptions {
  std::string host = "127.0.0.1";
  int port = 18080;
  uint64_t delay_ms = 0;        // before the head of every answer
  uint32_t chunks = 20;         // content events per stream (then usage + [DONE], or
                                // content_block_stop + message_delta + message_stop)
  uint64_t chunk_delay_ms = 0;  // between content events; 0 = all in one write
};

struct MockStats {
  uint64_t requests = 0;       // answers started
  uint64_t in_flight = 0;      // answers started and not fully written
  uint64_t max_in_flight = 0;  // since start or the last reset
  uint64_t connections = 0;    // open now
  uint64_t max_connections = 0;
};

class MockServer {
 public:
  MockServer(uv_loop_t* loop, MockOptions options);
  // Binds and listens; a libuv error code (negative) on failure.
  int start();
  // Closes the listener; connections close as their peers go away (the loop is then stopped).
  void stop();

  const MockOptions& options() const { return options_; }
  MockStats& stats() { return stats_; }

 private:
  static void on_connection(uv_stream_t* server, int status);

  uv_loop_t* loop_;
  MockOptions options_;
  MockStats stats_;
  uv_tcp_t listener_;
};

}  // namespace sluice::bench
