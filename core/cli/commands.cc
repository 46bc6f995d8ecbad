#include "core/cli/commands.h"

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "core/cli/status_command.h"
#include "core/cli/usage_command.h"
#include "core/config/loader.h"
#include "core/config/node_reader.h"
#include "core/filter/snapshot.h"
#include "core/mcp/upstream_registry.h"
#include "sluice_version.h"

namespace sluice::cli {
namespace {

constexpr const char* kUsage = R"(sluice — a sidecar gateway for AI agents

Usage:
  sluice [run] -c FILE         serve with the config FILE (default: conf/sluice.yaml)
  sluice validate -c FILE      check FILE without starting (exit 0 valid, 1 invalid)
  sluice hash-key [KEY]        print sha256:<hex> for an agent key (reads stdin without KEY)
  sluice status [-c FILE] [--admin HOST:PORT] [--token TOKEN] [--json]
                               ask a running sluice (its admin API) for provider health,
                               circuits, load and agent usage; exit 0 all providers up,
                               1 some provider down, 2 admin API unreachable or refused
  sluice usage --ledger FILE [--ledger FILE...] [--since 24h]
               [--by agent|model|provider|tool] [--json]
                               spend from the ledger (state.ledger): requests, tokens, cost
                               and estimated share per agent, model or provider, or tool
                               calls by outcome and duration per tool; several --ledger:
                               one report over all of them (a fleet's sidecars); exit 1
                               when a FILE cannot be read as a sluice ledger
  sluice version               print the version
  sluice --help                this text

Signals: SIGTERM/SIGINT drain in-flight requests and exit 0; SIGHUP reloads the config.
Docs: docs/configuration.md, docs/operations.md
)";

// Finds "-c FILE" / "--config FILE" / "--config=FILE"; returns false on a malformed line.
bool config_path_of(const std::vector<std::string>& args, size_t from, std::string* path) {
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-c" || a == "--config") {
      if (i + 1 >= args.size()) return false;
      *path = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      *path = a.substr(9);
    } else {
      std::fprintf(stderr, "sluice: unexpected argument \"%s\"\n", a.c_str());
      return false;
    }
  }
  return true;
}

int validate(const std::string& path) {
  // A check contacts no upstream MCP server: their entries are built, never fetched.
  mcp::UpstreamRegistry::process().stop();
  try {
    auto config = config::load_config_file(path);
    auto snapshot = filter::ConfigSnapshot::build(config, 1);
    std::printf("%s: ok (%zu provider(s), %zu model(s), %zu agent(s), %zu filter(s))\n",
                config->source_path.c_str(), config->providers.size(), config->models.size(),
                config->agents.size(), config->filters.size());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

int hash_key(const std::vector<std::string>& args) {
  std::string key;
  if (args.size() > 2) {
    std::fprintf(stderr, "sluice hash-key: takes at most one KEY\n");
    return 2;
  }
  if (args.size() == 2) {
    key = args[1];
  } else {
    key.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  }
  if (key.empty()) {
    std::fprintf(stderr, "sluice hash-key: the key is empty\n");
    return 1;
  }
  std::printf("%s\n", config::hash_key(key).c_str());
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, const ServeFunction& serve) {
  std::string verb = args.empty() ? "run" : args[0];
  size_t rest = 1;
  if (!args.empty() && (verb == "-c" || verb == "--config" || verb.rfind("--config=", 0) == 0)) {
    verb = "run";
    rest = 0;
  }
  if (verb == "--help" || verb == "-h" || verb == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (verb == "version" || verb == "--version") {
    std::printf("sluice %s\n", SLUICE_VERSION);
    return 0;
  }
  if (verb == "hash-key") return hash_key(args);
  if (verb == "status")
    return status_command(std::vector<std::string>(args.begin() + 1, args.end()));
  if (verb == "usage") return usage_command(std::vector<std::string>(args.begin() + 1, args.end()));
  if (verb == "run" || verb == "validate") {
    std::string path = "conf/sluice.yaml";
    if (!config_path_of(args, rest, &path)) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    if (verb == "validate") return validate(path);
    return serve(path);
  }
  std::fprintf(stderr, "sluice: unknown command \"%s\"\n\n%s", verb.c_str(), kUsage);
  return 2;
}

}  // namespace sluice::cli
