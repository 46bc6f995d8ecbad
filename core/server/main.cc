// sluice entry point: the command line is core/cli (commands.h); `run` serves with
// core/server's Server.
#include <string>
#include <vector>

#include "core/cli/commands.h"
#include "core/server/server.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return sluice::cli::run_cli(args, [](const std::string& config_path) {
    sluice::server::Server server(config_path);
    return server.run();
  });
}
