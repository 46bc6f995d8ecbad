// sluice entry point: everything is in core/server/commands.cc.
#include <string>
#include <vector>

#include "core/server/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return sluice::server::run_cli(args);
}
