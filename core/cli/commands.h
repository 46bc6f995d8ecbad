// The command line (DESIGN §4): `sluice [run] -c FILE`, `sluice validate -c FILE`,
// `sluice hash-key [KEY]`, `sluice status` (status_command.h), `sluice usage`
// (usage_command.h), `sluice version`, `sluice --help`. Each returns the exit code.
//
// The verbs here only read files, a ledger or a running sluice's admin API. `run` is the one
// that serves: the command line is parsed here and the serving is handed to `serve` (main.cc
// passes core/server's Server), so this area never links the running process.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sluice::cli {

// Serves with the config file at `config_path` until asked to stop; returns the exit code.
using ServeFunction = std::function<int(const std::string& config_path)>;

// `args` are the words after the program name.
int run_cli(const std::vector<std::string>& args, const ServeFunction& serve);

}  // namespace sluice::cli
