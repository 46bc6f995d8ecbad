#include "core/cli/status_command.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>

#include "core/cli/admin_fetch.h"
#include "core/config/loader.h"
#include "core/config/node_reader.h"

namespace sluice::cli {
namespace {

constexpr std::chrono::seconds kTimeout{5};
constexpr int kNoAnswer = 3;  // the verdicts' codes are exit_code_of()'s (0, 1, 2)

constexpr const char* kReportPath = "/status?format=report";
constexpr const char* kStatusUsage =
    "usage: sluice status [-c FILE] [--admin HOST:PORT] [--token TOKEN] [--json]\n";

struct StatusOptions {
  std::string config_path = "conf/sluice.yaml";
  bool config_given = false;
  std::string admin;  // HOST:PORT from --admin ("" = from the config)
  std::optional<std::string> token;
  bool json = false;
};

// Accepts "--name VALUE" and "--name=VALUE".
bool take_value(const std::vector<std::string>& args, size_t& i, std::string_view name,
                std::string_view short_name, std::string* value) {
  const std::string& a = args[i];
  if (a == name || (!short_name.empty() && a == short_name)) {
    if (i + 1 >= args.size()) return false;
    *value = args[++i];
    return true;
  }
  const std::string prefix = std::string(name) + "=";
  if (a.rfind(prefix, 0) == 0) {
    *value = a.substr(prefix.size());
    return true;
  }
  return false;
}

bool parse_options(const std::vector<std::string>& args, StatusOptions* o) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--json") {
      o->json = true;
    } else if (take_value(args, i, "--config", "-c", &value)) {
      o->config_path = value;
      o->config_given = true;
    } else if (take_value(args, i, "--admin", "", &value)) {
      o->admin = value;
    } else if (take_value(args, i, "--token", "", &value)) {
      o->token = value;
    } else {
      std::fprintf(stderr, "sluice status: unexpected argument \"%s\"\n", args[i].c_str());
      return false;
    }
  }
  return true;
}

// `admin` and `admin_token` of the config file, with ${VAR} substitution. Only these two keys
// are read: the full loader would also insist on every provider's ${API_KEY}.
bool read_admin_settings(const std::string& path, config::HostPort* admin, std::string* token,
                         std::string* error) {
  YAML::Node root;
  try {
    std::ifstream probe(path);
    if (!probe) {
      *error = "cannot read " + path;
      return false;
    }
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    *error = path + ": " + e.what();
    return false;
  }
  const config::EnvLookup env = config::process_env();
  auto scalar = [&](const char* key, std::string* out) {
    const YAML::Node node = root.IsMap() ? root[key] : YAML::Node();
    if (!node || node.IsNull()) return true;
    if (!node.IsScalar()) {
      *error = path + ": " + key + ": expected a string";
      return false;
    }
    std::string sub_error;
    auto value = config::substitute_env(node.Scalar(), env, sub_error);
    if (!value) {
      *error = path + ": " + key + ": " + sub_error;
      return false;
    }
    *out = *value;
    return true;
  };
  std::string address;
  if (!scalar("admin", &address) || !scalar("admin_token", token)) return false;
  if (!address.empty()) {
    std::string parse_error;
    auto hp = config::parse_host_port(address, parse_error);
    if (!hp) {
      *error = path + ": admin: " + parse_error;
      return false;
    }
    *admin = *hp;
  }
  return true;
}

}  // namespace

int status_command(const std::vector<std::string>& args) {
  StatusOptions o;
  if (!parse_options(args, &o)) {
    std::fputs(kStatusUsage, stderr);
    return kNoAnswer;
  }

  config::HostPort admin{"127.0.0.1", 9901};  // the schema's default
  std::string token;
  // The config file is needed unless --admin and --token say everything; a missing default
  // file is fine when --admin was given (no token, then).
  if (o.config_given || o.admin.empty() || !o.token) {
    std::string error;
    if (!read_admin_settings(o.config_path, &admin, &token, &error)) {
      if (o.config_given || o.admin.empty()) {
        std::fprintf(stderr, "sluice status: %s (use -c FILE or --admin HOST:PORT)\n",
                     error.c_str());
        return kNoAnswer;
      }
    }
  }
  if (!o.admin.empty()) {
    std::string error;
    auto hp = config::parse_host_port(o.admin, error);
    if (!hp) {
      std::fprintf(stderr, "sluice status: --admin %s: %s\n", o.admin.c_str(), error.c_str());
      return kNoAnswer;
    }
    admin = *hp;
  }
  if (o.token) token = *o.token;
  if (admin.port == 0) {
    std::fprintf(stderr,
                 "sluice status: the config's admin port is 0 (chosen at start-up): "
                 "pass --admin HOST:PORT\n");
    return kNoAnswer;
  }

  // One GET, with its failures told on stderr; nullopt unless a 200 came back.
  auto fetch = [&](const char* path) -> std::optional<AdminAnswer> {
    std::string error;
    auto answer =
        admin_get(admin.host, admin.port, path, token,
                  std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout), &error);
    if (!answer) {
      std::fprintf(stderr, "sluice status: admin API unreachable: %s\n", error.c_str());
      return std::nullopt;
    }
    if (answer->status != 200) {
      std::string body = answer->body.substr(0, 300);
      std::fprintf(stderr, "sluice status: admin API at %s answered HTTP %d to %s: %s\n",
                   admin.to_string().c_str(), answer->status, path, body.c_str());
      return std::nullopt;
    }
    return answer;
  };

  if (o.json) {
    // The health report itself, for scripts: its verdict is the exit code.
    auto answer = fetch(kReportPath);
    if (!answer) return kNoAnswer;
    auto report = parse_report(answer->body);
    if (!report) {
      std::fprintf(stderr,
                   "sluice status: the answer to %s is not a health report (a sluice older "
                   "than the report? `curl .../status` gives its full document)\n",
                   kReportPath);
      return kNoAnswer;
    }
    std::fputs(answer->body.c_str(), stdout);
    std::fputs("\n", stdout);
    return exit_code_of(report->verdict);
  }

  auto answer = fetch("/status");
  if (!answer) return kNoAnswer;
  // The report gives the verdict and its sources; a sluice that predates it sends the full
  // document again (no "verdict"), and the table then judges from /status alone.
  std::optional<ReportSummary> report;
  if (auto report_answer = fetch(kReportPath)) report = parse_report(report_answer->body);
  std::string error;
  auto table = render_status(answer->body, std::chrono::system_clock::now(), &error,
                             report ? &*report : nullptr);
  if (!table) {
    std::fprintf(stderr, "sluice status: %s\n", error.c_str());
    return kNoAnswer;
  }
  std::fputs(table->text.c_str(), stdout);
  return exit_code_of(table->verdict);
}

}  // namespace sluice::cli
