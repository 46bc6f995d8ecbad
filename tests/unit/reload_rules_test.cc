// The small rules hot reload is built on (no sockets, no loop): which directory events concern
// the config file, when two provider configs may share a backend, which changed keys wait for a
// restart.
#include <gtest/gtest.h>

#include "core/config/loader.h"
#include "core/server/config_watcher.h"
#include "core/server/reload_diff.h"
#include "core/server/reload_fingerprint.h"

namespace sluice::server {
namespace {

TEST(ConfigWatchFilter, TheFileItselfAndConfigMapEntriesOnly) {
  EXPECT_TRUE(ConfigWatcher::is_relevant("sluice.yaml", "sluice.yaml"));
  EXPECT_TRUE(ConfigWatcher::is_relevant("..data", "sluice.yaml"));
  EXPECT_TRUE(ConfigWatcher::is_relevant("..2026_11_21_09_00_00.123", "sluice.yaml"));
  EXPECT_TRUE(ConfigWatcher::is_relevant(nullptr, "sluice.yaml"));  // unnamed: look
  EXPECT_FALSE(ConfigWatcher::is_relevant("access.log", "sluice.yaml"));
  EXPECT_FALSE(ConfigWatcher::is_relevant("sluice.yaml.swp", "sluice.yaml"));
  EXPECT_FALSE(ConfigWatcher::is_relevant(".sluice.yaml", "sluice.yaml"));
}

TEST(ContentHash, SameBytesSameHashOneByteDiffers) {
  EXPECT_EQ(content_hash("listen: 1\n"), content_hash("listen: 1\n"));
  EXPECT_NE(content_hash("listen: 1\n"), content_hash("listen: 2\n"));
  EXPECT_NE(content_hash(""), content_hash(" "));
}

const char* kBase = R"(listen: 127.0.0.1:8080
admin: 127.0.0.1:9901
workers: 2
providers:
  up:
    type: openai
    base_url: http://127.0.0.1:11434/v1
    api_key: sk-one
    headers: {X-Tag: a}
  other:
    type: mock
models:
  fast:
    targets:
      - {provider: up, model: m1}
)";

std::shared_ptr<const config::Config> load(const std::string& text) {
  return config::load_config_text(text, "/tmp/sluice.yaml",
                                  [](const std::string&) { return std::optional<std::string>(); });
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(ProviderFingerprint, ModelMappingChangesKeepItProviderSettingsChangeIt) {
  auto base = load(kBase);
  const std::string fp = provider_fingerprint(base->providers.at("up"));
  EXPECT_EQ(fp, provider_fingerprint(
                    load(replaced(kBase, "model: m1", "model: m2"))->providers.at("up")));
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"sk-one", "sk-two"},
           {"X-Tag: a", "X-Tag: b"},
           {"127.0.0.1:11434/v1", "127.0.0.1:11435/v1"},
           {"api_key: sk-one\n", "api_key: sk-one\n    timeouts: {connect: 1s}\n"},
           {"api_key: sk-one\n", "api_key: sk-one\n    max_connections: 3\n"}}) {
    EXPECT_NE(fp, provider_fingerprint(load(replaced(kBase, from, to))->providers.at("up")))
        << from << " -> " << to;
  }
  // Same settings, different provider: different backends.
  EXPECT_NE(provider_fingerprint(base->providers.at("other")), fp);
}

TEST(RestartOnlyChanges, NamesEachKeyThatWaitsForARestart) {
  auto base = load(kBase);
  EXPECT_TRUE(
      restart_only_changes(*base, *load(replaced(kBase, "model: m1", "model: m2"))).empty());
  // listen is reloadable (the server re-opens sockets); workers and admin are not.
  EXPECT_TRUE(restart_only_changes(*base, *load(replaced(kBase, ":8080", ":8081"))).empty());
  auto changes = restart_only_changes(*base, *load(replaced(kBase, "workers: 2", "workers: 3")));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "workers: 2 -> 3 (applies on restart)");
  changes = restart_only_changes(*base, *load(replaced(kBase, ":9901", ":9902")));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].find("admin: 127.0.0.1:9901 -> 127.0.0.1:9902"), std::string::npos);
}

TEST(RestartOnlyChanges, AccessLogRotationSettingsWaitForARestart) {
  const std::string with_log = std::string(kBase) + "access_log: {path: /tmp/a.log, keep: 2}\n";
  auto base = load(with_log);
  auto changes =
      restart_only_changes(*base, *load(replaced(with_log, "keep: 2", "keep: 3, max_size: 1MiB")));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0],
            "access_log: {path: \"/tmp/a.log\", format: json, max_size: 104857600, keep: 2} -> "
            "{path: \"/tmp/a.log\", format: json, max_size: 1048576, keep: 3} (applies on "
            "restart)");
}

}  // namespace
}  // namespace sluice::server
