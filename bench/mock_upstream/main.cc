// bench_mock_upstream: the upstream every contender of bench/run.sh proxies to: OpenAI chat
// completions, Anthropic Messages on POST .../messages, and an http tool's JSON result on
// /tools/... (canned.h).
//
//   bench_mock_upstream --listen 127.0.0.1:18080 [--delay-ms 20] [--chunks 20]
//                       [--chunk-delay-ms 1]
//
// Runs until SIGINT/SIGTERM. See mock_server.h for what it answers.
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/mock_upstream/mock_server.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: bench_mock_upstream --listen HOST:PORT [--delay-ms N] [--chunks N] "
               "[--chunk-delay-ms N]\n"
               "  --delay-ms        hold every answer N ms before its first byte (default 0)\n"
               "  --chunks          content events per stream, >= 1 (default 20)\n"
               "  --chunk-delay-ms  N ms between stream events; 0 = all at once (default 0)\n");
  std::exit(2);
}

bool parse_u64(const char* text, uint64_t* out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0') return false;
  *out = v;
  return true;
}

uv_signal_t g_sigint, g_sigterm;

void on_signal(uv_signal_t* handle, int) {
  auto* server = static_cast<sluice::bench::MockServer*>(handle->data);
  server->stop();
  uv_stop(handle->loop);  // open connections are the peers' business; the process exits
}

}  // namespace

int main(int argc, char** argv) {
  sluice::bench::MockOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) usage();
    const char* value = argv[++i];
    uint64_t n = 0;
    if (arg == "--listen") {
      std::string hp = value;
      size_t colon = hp.rfind(':');
      if (colon == std::string::npos || !parse_u64(hp.c_str() + colon + 1, &n) || n > 65535)
        usage();
      options.host = hp.substr(0, colon);
      options.port = static_cast<int>(n);
    } else if (arg == "--delay-ms" && parse_u64(value, &n)) {
      options.delay_ms = n;
    } else if (arg == "--chunks" && parse_u64(value, &n) && n >= 1) {
      options.chunks = static_cast<uint32_t>(n);
    } else if (arg == "--chunk-delay-ms" && parse_u64(value, &n)) {
      options.chunk_delay_ms = n;
    } else {
      usage();
    }
  }
  uv_loop_t* loop = uv_default_loop();
  sluice::bench::MockServer server(loop, options);
  if (int rc = server.start(); rc != 0) {
    std::fprintf(stderr, "bench_mock_upstream: listen %s:%d: %s\n", options.host.c_str(),
                 options.port, uv_strerror(rc));
    return 1;
  }
  for (uv_signal_t* s : {&g_sigint, &g_sigterm}) {
    uv_signal_init(loop, s);
    s->data = &server;
  }
  uv_signal_start(&g_sigint, &on_signal, SIGINT);
  uv_signal_start(&g_sigterm, &on_signal, SIGTERM);
  std::fprintf(
      stderr, "bench_mock_upstream: listening on %s:%d (delay %llu ms, %u chunks, %llu ms apart)\n",
      options.host.c_str(), options.port, static_cast<unsigned long long>(options.delay_ms),
      options.chunks, static_cast<unsigned long long>(options.chunk_delay_ms));
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
