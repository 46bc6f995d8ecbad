// sluice_mock_provider: an OpenAI-compatible HTTP/1.1 server that fails on command, for
// integration tests and bench/ (DESIGN §13). Prints "listening on 127.0.0.1:<port>" on stdout
// once bound, so a test can start it with --port 0 and learn the port.
//
//   sluice_mock_provider [--host 127.0.0.1] [--port 0] [--delay-ms N] [--chunk-delay-ms N]
//                        [--chunks N] [--behavior SPEC]
//
// Per request, the behaviour comes from the `x-mock-behavior` header, else from the rules queued
// with POST /__control {"behavior": "status:500", "count": 2, "path": "/v1/chat"}, else from
// the command line. Behaviours (comma-separated; the full list in mock/behavior.h): ok,
// status:<code>, reset, hang, cut, cut_after:<n>, cut_in_tool, garbage, slow:<ms>,
// slow_chunks:<ms>, chunks:<n>, pad:<bytes>, tool_calls:<n>, tool_preamble, no_tools,
// arg_chunk:<bytes>, error_event, unknown_events, thinking, strict, ... A request that offers
// tools gets a tool call (mock/tool_use.h). GET /__requests returns the last 100 requests
// (headers, body, and the reply each got), POST /__reset clears rules and that log, GET
// /__stats counts connections.
#include <uv.h>

#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/support/mock/behavior.h"
#include "tests/support/mock/mock_server.h"

namespace {

void usage(FILE* out) {
  std::fputs(
      "usage: sluice_mock_provider [--host H] [--port P] [--delay-ms N] [--chunk-delay-ms N]\n"
      "                            [--chunks N] [--behavior SPEC]\n",
      out);
}

bool parse_uint(const char* text, unsigned long max, unsigned long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoul(text, &end, 10);
  return errno == 0 && end && *end == '\0' && end != text && out <= max;
}

void on_stop_signal(uv_signal_t*, int) {
  // Nothing to drain: the mock keeps no state worth saving.
  std::fflush(stdout);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned long port = 0;
  std::string spec;
  sluice::mock::Behavior defaults;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sluice_mock_provider: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    unsigned long n = 0;
    auto number = [&](unsigned long max) {
      const char* v = value();
      if (!parse_uint(v, max, n)) {
        std::fprintf(stderr, "sluice_mock_provider: bad number for %s: %s\n", arg.c_str(), v);
        std::exit(2);
      }
      return n;
    };
    if (arg == "--host")
      host = value();
    else if (arg == "--port")
      port = number(65535);
    else if (arg == "--delay-ms")
      defaults.delay_ms = static_cast<uint32_t>(number(3'600'000));
    else if (arg == "--chunk-delay-ms")
      defaults.chunk_delay_ms = static_cast<uint32_t>(number(3'600'000));
    else if (arg == "--chunks")
      defaults.chunks = static_cast<int>(number(10'000));
    else if (arg == "--behavior")
      spec = value();
    else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "sluice_mock_provider: unknown argument %s\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (!spec.empty()) {
    std::string error;
    auto parsed = sluice::mock::parse_behavior(spec, defaults, &error);
    if (!parsed) {
      std::fprintf(stderr, "sluice_mock_provider: --behavior: %s\n", error.c_str());
      return 2;
    }
    defaults = *parsed;
  }

  std::signal(SIGPIPE, SIG_IGN);
  uv_loop_t* loop = uv_default_loop();
  sluice::mock::MockServer server(loop, defaults);
  int bound = server.listen(host, static_cast<uint16_t>(port));
  if (bound < 0) {
    std::fprintf(stderr, "sluice_mock_provider: cannot listen on %s:%lu: %s\n", host.c_str(), port,
                 uv_strerror(bound));
    return 1;
  }
  uv_signal_t sigterm, sigint;
  uv_signal_init(loop, &sigterm);
  uv_signal_init(loop, &sigint);
  uv_signal_start(&sigterm, on_stop_signal, SIGTERM);
  uv_signal_start(&sigint, on_stop_signal, SIGINT);

  std::printf("listening on %s:%d\n", host.c_str(), bound);
  std::fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
