// The command line (DESIGN §4): `sluice [run] -c FILE`, `sluice validate -c FILE`,
// `sluice hash-key [KEY]`, `sluice status` (status_command.h), `sluice usage`
// (usage_command.h), `sluice version`, `sluice --help`. Each returns the exit code.
#pragma once

#include <string>
#include <vector>

namespace sluice::server {

int run_cli(const std::vector<std::string>& args);

}  // namespace sluice::server
