// sluice_mock_mcp: an MCP server (Streamable HTTP) that fails on command, for integration and
// end-to-end tests of sluice's `type: mcp` tools. Prints "listening on 127.0.0.1:<port>" on
// stdout once bound, so a test can start it with --port 0 and learn the port. Its endpoint is
// POST/GET/DELETE /mcp; the tools, faults and control endpoints are described in
// mcp_mock/mcp_mock_state.h.
//
//   sluice_mock_mcp [--host 127.0.0.1] [--port 0] [--sse] [--no-sessions] [--no-get-stream]
//                   [--protocol VERSION] [--page-size N] [--extra-tools N]
#include <uv.h>

#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/support/mcp_mock/mcp_mock_server.h"

namespace {

void usage(FILE* out) {
  std::fputs(
      "usage: sluice_mock_mcp [--host H] [--port P] [--sse] [--no-sessions] [--no-get-stream]\n"
      "                       [--protocol VERSION] [--page-size N] [--extra-tools N]\n",
      out);
}

bool parse_uint(const char* text, unsigned long max, unsigned long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoul(text, &end, 10);
  return errno == 0 && end && *end == '\0' && end != text && out <= max;
}

void on_stop_signal(uv_signal_t*, int) {
  std::fflush(stdout);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned long port = 0;
  sluice::mcp_mock::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sluice_mock_mcp: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto number = [&](unsigned long max) {
      const char* v = value();
      unsigned long n = 0;
      if (!parse_uint(v, max, n)) {
        std::fprintf(stderr, "sluice_mock_mcp: bad number for %s: %s\n", arg.c_str(), v);
        std::exit(2);
      }
      return n;
    };
    if (arg == "--host") {
      host = value();
    } else if (arg == "--port") {
      port = number(65535);
    } else if (arg == "--sse") {
      options.sse = true;
    } else if (arg == "--no-sessions") {
      options.sessions = false;
    } else if (arg == "--no-get-stream") {
      options.get_stream = false;
    } else if (arg == "--protocol") {
      options.force_protocol = value();
    } else if (arg == "--page-size") {
      options.page_size = number(100'000);
    } else if (arg == "--extra-tools") {
      options.extra_tools = number(100'000);
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "sluice_mock_mcp: unknown argument %s\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }

  std::signal(SIGPIPE, SIG_IGN);
  uv_loop_t* loop = uv_default_loop();
  sluice::mcp_mock::McpMockServer server(loop, options);
  int bound = server.listen(host, static_cast<uint16_t>(port));
  if (bound < 0) {
    std::fprintf(stderr, "sluice_mock_mcp: cannot listen on %s:%lu: %s\n", host.c_str(), port,
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
