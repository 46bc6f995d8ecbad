// Shared-object plugins (DESIGN §9, issue 11): loading, the ABI check, the errors a user sees
// at config load (with file:line and key path), private copies per content, the old library
// kept while a snapshot uses it, and the `plugin` filter driving the C hooks. The .so files
// are built from tests/support/plugins/ and plugins/examples/ (paths from CMake).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/config/loader.h"
#include "core/config/node_reader.h"
#include "core/config/yaml_json.h"
#include "core/filter/snapshot.h"
#include "core/http/request.h"
#include "core/metrics/metrics.h"
#include "core/plugin/plugin_library.h"
#include "core/plugin/plugin_set.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

config::EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// A config with one plugin `t` (file `so`) and `filters` (YAML lines under filters:).
std::string config_text(const std::string& so, const std::string& filters = "") {
  std::string y =
      "listen: 127.0.0.1:0\n"
      "providers:\n"
      "  demo: {type: mock}\n"
      "default_provider: demo\n"
      "plugins:\n"
      "  t: {file: \"" +
      so + "\"}\n";
  if (!filters.empty()) y += "filters:\n" + filters;
  return y;
}

std::shared_ptr<const filter::ConfigSnapshot> build(const std::string& yaml) {
  return filter::ConfigSnapshot::build(config::load_config_text(yaml, "/etc/sluice.yaml", no_env()),
                                       1);
}

std::string load_error(const std::string& yaml) {
  try {
    auto config = config::load_config_text(yaml, "/etc/sluice.yaml", no_env());
    plugin::PluginSet::load(*config);
    filter::ConfigSnapshot::build(config, 1);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// ---- refusals at load ---------------------------------------------------------------------

TEST(PluginLoad, WrongMajorVersionIsRefusedNamingBothVersionsAndTheFile) {
  const std::string so = SLUICE_TEST_PLUGIN_WRONG_ABI;
  // The plugin's init aborts the process if called: passing means it never ran.
  const std::string error = load_error(config_text(so));
  EXPECT_THAT(error, HasSubstr("/etc/sluice.yaml:6:"));
  EXPECT_THAT(error, HasSubstr("plugins.t.file"));
  EXPECT_THAT(error, HasSubstr("plugin " + so +
                               " was built for sluice plugin ABI 2.0, but this "
                               "sluice speaks ABI 1.2"));
}

TEST(PluginLoad, APluginNoFilterUsesIsStillOpenedWhenTheConfigLoads) {
  // No `- plugin:` filter: the snapshot itself opens every plugins: entry (sluice validate too).
  std::string error = "<no error>";
  try {
    build(config_text(SLUICE_TEST_PLUGIN_NO_ENTRY));
  } catch (const config::ConfigError& e) {
    error = e.what();
  }
  EXPECT_THAT(error, HasSubstr("plugins.t.file"));
  EXPECT_THAT(error, HasSubstr("sluice_plugin_init"));
}

TEST(PluginLoad, NewerMinorVersionIsRefused) {
  const std::string so = SLUICE_TEST_PLUGIN_NEWER_MINOR;
  EXPECT_THAT(load_error(config_text(so)),
              HasSubstr("plugin " + so +
                        " was built for sluice plugin ABI 1.9, newer than this "
                        "sluice's ABI 1.2"));
}

TEST(PluginLoad, MissingEntryPointNamesTheFileAndTheSymbol) {
  const std::string so = SLUICE_TEST_PLUGIN_NO_ENTRY;
  EXPECT_THAT(load_error(config_text(so)),
              HasSubstr("plugin " + so + " does not export its entry point sluice_plugin_init"));
}

TEST(PluginLoad, ASharedObjectThatIsNoPluginIsRefused) {
  const std::string so = SLUICE_TEST_PLUGIN_NOT_A_PLUGIN;
  EXPECT_THAT(load_error(config_text(so)),
              HasSubstr("plugin " + so + " does not export sluice_plugin_abi_version"));
}

TEST(PluginLoad, MissingFileIsRefusedAtItsKey) {
  const std::string error = load_error(config_text("/nonexistent/libnope.so"));
  EXPECT_THAT(error, HasSubstr("/etc/sluice.yaml:6:"));
  EXPECT_THAT(error, HasSubstr("plugins.t.file: cannot read plugin file /nonexistent/libnope.so: "
                               "No such file or directory"));
}

TEST(PluginLoad, AFileThatIsNoSharedObjectIsRefused) {
  const fs::path junk = fs::temp_directory_path() / "sluice-junk-plugin.so";
  std::ofstream(junk) << "not an ELF file";
  EXPECT_THAT(load_error(config_text(junk.string())),
              HasSubstr("cannot load plugin " + junk.string() + ": "));
  fs::remove(junk);
}

TEST(PluginLoad, InitFailureCarriesThePluginsReason) {
  // The plugin quotes what init was given: its name and its own config as JSON.
  std::string yaml = config_text(SLUICE_TEST_PLUGIN_FAILING_INIT);
  EXPECT_THAT(load_error(yaml),
              HasSubstr("sluice_plugin_init failed (status 1): t cannot start with config null"));
  const std::string entry = "  t: {file: \"" SLUICE_TEST_PLUGIN_FAILING_INIT "\"}\n";
  yaml.replace(yaml.find(entry), entry.size(),
               "  t: {file: \"" SLUICE_TEST_PLUGIN_FAILING_INIT
               "\", config: {license: site.lic, seats: 3}}\n");
  EXPECT_THAT(load_error(yaml), HasSubstr("t cannot start with config "
                                          "{\"license\":\"site.lic\",\"seats\":3}"));
}

TEST(PluginLoad, FactoryRejectingItsConfigFailsTheLoadAtTheConfigsLine) {
  const std::string yaml = config_text(SLUICE_TEST_PLUGIN_FILTERS,
                                       "  - plugin:\n"
                                       "      name: picky\n"
                                       "      config: {level: high}\n");
  EXPECT_THAT(load_error(yaml),
              HasSubstr("/etc/sluice.yaml:10:15: filters[0].plugin.config: plugin filter "
                        "\"picky\" (plugin \"t\") rejected its config: level must be \"ok\" "
                        "(got {\"level\":\"high\"})"));
  // The same filter with a config it accepts loads.
  EXPECT_NO_THROW(build(
      config_text(SLUICE_TEST_PLUGIN_FILTERS, "  - plugin: {name: picky, config: {level: ok}}\n")));
}

TEST(PluginLoad, UnknownFilterNameListsWhatThePluginsRegisterWithDidYouMean) {
  const std::string error = load_error(
      config_text(SLUICE_TEST_PLUGIN_FILTERS, "  - plugin: {name: pickie, config: {}}\n"));
  EXPECT_THAT(error, HasSubstr("filters[0].plugin.name: no plugin registers a filter named "
                               "\"pickie\" (did you mean \"picky\"?); the loaded plugins "
                               "register: picky, async, shout"));
}

TEST(PluginLoad, HelloFilterRefusesABadConfigClearly) {
  const std::string so = SLUICE_TEST_PLUGIN_SLUICE_HELLO_FILTER;
  EXPECT_THAT(load_error(config_text(so, "  - plugin: {name: hello, config: {greeting: 5}}\n")),
              HasSubstr("rejected its config: greeting must be a string"));
  EXPECT_THAT(load_error(config_text(so, "  - plugin: {name: hello, config: {greting: hi}}\n")),
              HasSubstr("rejected its config: unknown key \"greting\" (expected greeting, "
                        "require_header)"));
  EXPECT_THAT(load_error(config_text(so, "  - plugin: {name: hello}\n")),
              HasSubstr("rejected its config: config must be a mapping"));
}

// ---- libraries: private copies, sharing, closing --------------------------------------------

class PluginFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice-plugin-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Puts `from` at the configured path, as an operator replacing the file would.
  std::string install(const std::string& from) {
    const fs::path to = dir_ / "libversioned.so";
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    return to.string();
  }
  fs::path dir_;
};

TEST_F(PluginFileTest, AChangedFileIsLoadedBesideTheOldOneAndTheOldClosesWhenUnused) {
  const size_t before = plugin::PluginLibrary::open_count();
  const std::string path = install(SLUICE_TEST_PLUGIN_VERSIONED_V1);
  auto config1 = config::load_config_text(config_text(path), "/etc/sluice.yaml", no_env());
  auto set1 = plugin::PluginSet::load(*config1);
  ASSERT_EQ(set1->libraries().size(), 1u);
  auto old_library = set1->libraries()[0];
  const std::string old_copy = old_library->loaded_path();
  EXPECT_NE(old_copy, path) << "opened in place: glibc would hand back the old code on reload";
  EXPECT_FALSE(fs::exists(old_copy)) << "the private copy is left behind in $TMPDIR";
  EXPECT_EQ(plugin::PluginLibrary::open_count(), before + 1);

  // Same bytes again (a reload that did not touch the plugin): the same library, init ran once.
  auto again = plugin::PluginSet::load(*config1);
  EXPECT_EQ(again->libraries()[0], old_library);
  EXPECT_EQ(plugin::PluginLibrary::open_count(), before + 1);

  // The file is replaced: loaded beside the old one, under a copy of its own.
  install(SLUICE_TEST_PLUGIN_VERSIONED_V2);
  auto set2 = plugin::PluginSet::load(*config1);
  auto new_library = set2->libraries()[0];
  EXPECT_NE(new_library, old_library);
  EXPECT_NE(new_library->content_hash(), old_library->content_hash());
  EXPECT_NE(new_library->loaded_path(), old_copy);
  EXPECT_EQ(plugin::PluginLibrary::open_count(), before + 2);

  // The old one stays while anything holds it, and closes (copy removed) when nothing does.
  set1.reset();
  again.reset();
  EXPECT_EQ(plugin::PluginLibrary::open_count(), before + 2) << "closed while still held";
  old_library.reset();
  EXPECT_EQ(plugin::PluginLibrary::open_count(), before + 1);
  set2.reset();
  new_library.reset();
  EXPECT_EQ(plugin::PluginLibrary::open_count(), before);
}

// Runs one plugin filter of `snapshot` over a request with `headers` through on_request and
// (if it continued) on_response_headers; returns the context's outcome.
struct Outcome {
  filter::RequestStatus status;
  filter::LocalReply reply;
  std::vector<filter::RequestContext::HeaderEdit> edits;
};

// The value a response header edit sets `name` to ("" when none does).
std::string set_header(const Outcome& o, const std::string& name) {
  for (const auto& e : o.edits) {
    if (e.name == name && e.value) return *e.value;
  }
  return "";
}

Outcome run(const filter::ConfigSnapshot& snapshot,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::HttpRequest request;
  for (const auto& [name, value] : headers) request.set_header(name, value);
  filter::RequestContext ctx;
  ctx.request = &request;
  ctx.request_id = "req-1";
  ctx.endpoint = filter::Endpoint::ChatCompletions;
  filter::Filter* f = snapshot.filters()[0]->create(ctx);
  Outcome out;
  out.status = f->on_request(ctx);
  if (out.status == filter::RequestStatus::Continue) f->on_response_headers(ctx, 200);
  f->on_complete(ctx);
  f->on_log(ctx);
  out.reply = ctx.local_reply();
  out.edits = ctx.response_header_edits();
  ctx.reset();
  return out;
}

TEST_F(PluginFileTest, ASnapshotKeepsRunningTheCodeItWasBuiltWith) {
  const std::string path = install(SLUICE_TEST_PLUGIN_VERSIONED_V1);
  const std::string yaml = config_text(path, "  - plugin: {name: versioned}\n");
  auto old_snapshot = build(yaml);
  install(SLUICE_TEST_PLUGIN_VERSIONED_V2);
  auto new_snapshot = build(yaml);
  Outcome old_run = run(*old_snapshot), new_run = run(*new_snapshot);
  EXPECT_EQ(set_header(old_run, "x-plugin-version"), "v1");
  EXPECT_EQ(set_header(new_run, "x-plugin-version"), "v2");
  const size_t both = plugin::PluginLibrary::open_count();
  old_snapshot.reset();
  EXPECT_EQ(plugin::PluginLibrary::open_count(), both - 1);
  EXPECT_EQ(set_header(run(*new_snapshot), "x-plugin-version"), "v2");
}

// ---- the plugin filter driving the C hooks --------------------------------------------------

TEST(PluginFilter, HelloAddsItsHeaderAndRefusesARequestWithoutTheRequiredOne) {
  auto snapshot = build(config_text(
      SLUICE_TEST_PLUGIN_SLUICE_HELLO_FILTER,
      "  - plugin: {name: hello, config: {greeting: hi there, require_header: x-team}}\n"));
  Outcome ok = run(*snapshot, {{"X-Team", "infra"}});
  EXPECT_EQ(ok.status, filter::RequestStatus::Continue);
  EXPECT_EQ(set_header(ok, "x-hello"), "hi there");

  Outcome refused = run(*snapshot);
  EXPECT_EQ(refused.status, filter::RequestStatus::Respond);
  EXPECT_EQ(refused.reply.status, 400);
  EXPECT_EQ(refused.reply.type, "invalid_request_error");
  EXPECT_EQ(refused.reply.code, "missing_header");
  EXPECT_EQ(refused.reply.message, "missing required header x-team");
}

double plugin_errors(const std::string& plugin, const std::string& hook) {
  return metrics::Metrics::process()
      .plugin_errors_total.Add({{"plugin", plugin}, {"hook", hook}})
      .Value();
}

TEST(PluginFilter, AHookErrorIsA500PluginErrorNamingFilterAndHookAndIsCounted) {
  auto snapshot = build(config_text(SLUICE_TEST_PLUGIN_FILTERS,
                                    "  - plugin: {name: async, config: {mode: error}}\n"));
  const double before = plugin_errors("async", "on_request");
  Outcome r = run(*snapshot);
  EXPECT_EQ(r.status, filter::RequestStatus::Respond);
  EXPECT_EQ(r.reply.status, 500);
  EXPECT_EQ(r.reply.type, "api_error");
  EXPECT_EQ(r.reply.code, "plugin_error");
  EXPECT_EQ(r.reply.message, "plugin filter \"async\" failed in on_request: refusing on purpose");
  EXPECT_EQ(plugin_errors("async", "on_request"), before + 1);
}

TEST(PluginFilter, StopWithNothingPendingIsRefusedInsteadOfHangingTheRequest) {
  auto snapshot = build(config_text(SLUICE_TEST_PLUGIN_FILTERS,
                                    "  - plugin: {name: async, config: {mode: stop_nothing}}\n"));
  Outcome r = run(*snapshot);
  EXPECT_EQ(r.status, filter::RequestStatus::Respond);
  EXPECT_EQ(r.reply.status, 500);
  EXPECT_THAT(r.reply.message, HasSubstr("returned STOP with no timer or http_call pending"));
}

TEST(PluginFilter, WithoutAWorkerLoopATimerIsUnavailableAndSaysSo) {
  // Unit tests drive filters without a worker: the host answers, it does not crash.
  auto snapshot = build(config_text(SLUICE_TEST_PLUGIN_FILTERS,
                                    "  - plugin: {name: async, config: {mode: resume}}\n"));
  Outcome r = run(*snapshot);
  EXPECT_EQ(r.reply.status, 500);
  EXPECT_THAT(r.reply.message, HasSubstr("timer: no worker loop runs this request"));
}

// ---- YAML → JSON for plugin configs ---------------------------------------------------------

TEST(YamlJson, FollowsTheCoreSchemaAndKeepsQuotedScalarsStrings) {
  YAML::Node n = YAML::Load(
      "{a: 1, b: -2.5, c: true, d: ~, e: hello, f: \"42\", g: [x, 'true', 1e3], h: {i: "
      "\"q\\\"\"}}");
  EXPECT_EQ(config::yaml_to_json(n),
            "{\"a\":1,\"b\":-2.5,\"c\":true,\"d\":null,\"e\":\"hello\",\"f\":\"42\","
            "\"g\":[\"x\",\"true\",1000],\"h\":{\"i\":\"q\\\"\"}}");
  EXPECT_EQ(config::yaml_to_json(YAML::Node()), "null");
}

}  // namespace
}  // namespace sluice
