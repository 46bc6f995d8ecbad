// Hot reload, issue 4: each trigger (file write in place, rename over the file, a Kubernetes-
// style `..data` symlink swap, SIGHUP, POST /reload) makes new requests use the new config; a
// touch that does not change the bytes does nothing; a bad file is refused whole — the old
// config keeps serving and the failure shows in /status, /metrics and the POST /reload answer.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <utime.h>

#include <cstdio>
#include <filesystem>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

class ReloadTriggersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    config.provider_base_url = mock.base_url();
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  // The test config with `fast` mapped to `physical` instead of kFastPhysical.
  std::string yaml_mapping_fast_to(const std::string& physical) const {
    return replace_all(config.to_yaml(), kFastPhysical, physical);
  }

  // The physical model sluice used for one `fast` request ("" when the request failed).
  std::string fast_target() {
    HttpClient c = sluice.client();
    auto r = c.post_json("/v1/chat/completions", chat_body(kFastModel, "which model?"),
                         bearer(kAliceKey));
    if (!r || r->status != 200) return "";
    return r->header("x-sluice-model");
  }

  bool serves_fast_as(const std::string& physical, std::chrono::milliseconds within = 5s) {
    return eventually([&] { return fast_target() == physical; }, within);
  }

  std::optional<Json> status() {
    auto r = sluice.admin_client().get("/status");
    if (!r || r->status != 200) return std::nullopt;
    return r->json();
  }

  uint64_t generation() {
    auto s = status();
    return s ? static_cast<uint64_t>((*s)["generation"].as_int()) : 0;
  }

  // sluice_config_reloads_total{result="<result>"} as /metrics shows it (-1: not found).
  double reloads_total(const std::string& result) {
    auto r = sluice.admin_client().get("/metrics");
    if (!r) return -1;
    const std::string key = "sluice_config_reloads_total{result=\"" + result + "\"} ";
    size_t at = r->body.find(key);
    if (at == std::string::npos) return -1;
    return std::stod(r->body.substr(at + key.size()));
  }

  MockProvider mock{mock_provider_binary()};
  GatewayConfig config;
  SluiceServer sluice;
};

TEST_F(ReloadTriggersTest, WritingTheFileInPlaceReloads) {
  ASSERT_EQ(fast_target(), kFastPhysical) << sluice.describe();
  sluice.dir().write("sluice.yaml", yaml_mapping_fast_to("fast-after-write"));
  EXPECT_TRUE(serves_fast_as("fast-after-write")) << sluice.describe();
  EXPECT_EQ(generation(), 2u);
  EXPECT_NE(sluice.stderr_text().find("config reloaded (file change): generation 2"),
            std::string::npos)
      << sluice.describe();
}

TEST_F(ReloadTriggersTest, RenamingANewFileOverTheConfigReloads) {
  // What vim, most editors and `kubectl cp`-style tools do: write elsewhere, rename over.
  std::string temp = sluice.dir().write(".sluice.yaml.swp", yaml_mapping_fast_to("fast-renamed"));
  ASSERT_EQ(std::rename(temp.c_str(), sluice.config_path().c_str()), 0);
  EXPECT_TRUE(serves_fast_as("fast-renamed")) << sluice.describe();
  // A second rename works too: the watch is on the directory, not on the first file's inode.
  temp = sluice.dir().write(".sluice.yaml.swp", yaml_mapping_fast_to("fast-renamed-again"));
  ASSERT_EQ(std::rename(temp.c_str(), sluice.config_path().c_str()), 0);
  EXPECT_TRUE(serves_fast_as("fast-renamed-again")) << sluice.describe();
}

TEST_F(ReloadTriggersTest, ConfigMapStyleSymlinkSwapReloads) {
  // Kubernetes ConfigMap volume layout: sluice.yaml -> ..data/sluice.yaml, ..data -> ..v1;
  // an update writes ..v2 and renames a new ..data symlink over the old one.
  namespace fs = std::filesystem;
  const fs::path dir = sluice.dir().path();
  fs::create_directory(dir / "..v1");
  fs::create_directory(dir / "..v2");
  sluice.dir().write("..v1/sluice.yaml", yaml_mapping_fast_to("fast-configmap-v1"));
  sluice.dir().write("..v2/sluice.yaml", yaml_mapping_fast_to("fast-configmap-v2"));
  fs::create_directory_symlink("..v1", dir / "..data_tmp");
  fs::rename(dir / "..data_tmp", dir / "..data");
  fs::path link_tmp = dir / "sluice.yaml.link";
  fs::create_symlink("..data/sluice.yaml", link_tmp);
  fs::rename(link_tmp, dir / "sluice.yaml");
  ASSERT_TRUE(serves_fast_as("fast-configmap-v1")) << sluice.describe();

  fs::create_directory_symlink("..v2", dir / "..data_tmp");
  fs::rename(dir / "..data_tmp", dir / "..data");  // the only change: the ..data swap
  EXPECT_TRUE(serves_fast_as("fast-configmap-v2")) << sluice.describe();
}

TEST_F(ReloadTriggersTest, SighupReloads) {
  sluice.dir().write("sluice.yaml", yaml_mapping_fast_to("fast-after-hup"));
  // Sent at once, before the watch's 200 ms debounce: SIGHUP does the reload, and the watch
  // then finds the bytes it already loaded and does nothing.
  ASSERT_TRUE(sluice.process().signal(SIGHUP));
  EXPECT_TRUE(serves_fast_as("fast-after-hup")) << sluice.describe();
  EXPECT_TRUE(eventually(
      [&] {
        return sluice.stderr_text().find("config reloaded (SIGHUP): generation 2") !=
               std::string::npos;
      },
      3s))
      << sluice.describe();
  std::this_thread::sleep_for(600ms);  // past the debounce: the file event was a no-op
  EXPECT_EQ(generation(), 2u) << sluice.describe();
}

TEST_F(ReloadTriggersTest, PostReloadAnswersWithTheNewGeneration) {
  sluice.dir().write("sluice.yaml", yaml_mapping_fast_to("fast-after-post"));
  auto r = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(r) << sluice.describe();
  ASSERT_EQ(r->status, 200) << r->describe();
  auto body = r->json();
  ASSERT_TRUE(body) << r->describe();
  EXPECT_TRUE((*body)["ok"].as_bool());
  EXPECT_EQ((*body)["generation"].as_int(), 2);
  // Published before the answer: the very next request uses it.
  EXPECT_EQ(fast_target(), "fast-after-post") << sluice.describe();
  EXPECT_GE(reloads_total("success"), 2);  // the start-up load and this one
}

TEST_F(ReloadTriggersTest, TouchingTheFileWithoutChangingItDoesNothing) {
  sluice.dir().write("sluice.yaml", config.to_yaml());  // same bytes, rewritten
  ASSERT_EQ(::utime(sluice.config_path().c_str(), nullptr), 0);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(generation(), 1u) << sluice.describe();
  EXPECT_EQ(reloads_total("success"), 1);  // the start-up load only
  EXPECT_EQ(fast_target(), kFastPhysical);
}

TEST_F(ReloadTriggersTest, BadFileIsRefusedWholeAndTheOldConfigKeepsServing) {
  // Valid YAML with a new mapping AND a typo: nothing of it may apply, not even the mapping.
  std::string bad = yaml_mapping_fast_to("fast-from-bad-file") + "provders: {}\n";
  sluice.dir().write("sluice.yaml", bad);
  ASSERT_TRUE(eventually([&] { return reloads_total("failure") == 1; }, 5s)) << sluice.describe();

  EXPECT_EQ(fast_target(), kFastPhysical) << "the old config must keep serving";
  auto s = status();
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)["generation"].as_int(), 1);
  const Json& last = (*s)["last_reload"];
  EXPECT_FALSE(last["ok"].as_bool(true)) << s->dump();
  // file:line:column and the key, as the loader words it.
  EXPECT_NE(last["error"].str().find("sluice.yaml:"), std::string::npos) << s->dump();
  EXPECT_NE(last["error"].str().find("provders"), std::string::npos) << s->dump();
  EXPECT_FALSE(last["at"].str().empty()) << s->dump();
  EXPECT_NE(sluice.stderr_text().find("rejected, still serving generation 1"), std::string::npos)
      << sluice.describe();

  auto r = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->describe();
  auto body = r->json();
  ASSERT_TRUE(body);
  EXPECT_FALSE((*body)["ok"].as_bool(true));
  EXPECT_EQ((*body)["generation"].as_int(), 1);
  EXPECT_NE((*body)["error"].str().find("provders"), std::string::npos) << r->describe();
  EXPECT_EQ(reloads_total("failure"), 2);

  // Fixing the file recovers without a restart.
  sluice.dir().write("sluice.yaml", yaml_mapping_fast_to("fast-fixed"));
  EXPECT_TRUE(serves_fast_as("fast-fixed")) << sluice.describe();
  s = status();
  ASSERT_TRUE(s);
  EXPECT_TRUE((*s)["last_reload"]["ok"].as_bool()) << s->dump();
  EXPECT_EQ((*s)["last_reload"]["generation"].as_int(), 2) << s->dump();
}

TEST_F(ReloadTriggersTest, ChangedListenAddressOpensTheNewOneAndClosesTheOld) {
  HttpClient kept = sluice.client();  // a keep-alive connection on the old address
  auto r =
      kept.post_json("/v1/chat/completions", chat_body(kFastModel, "before"), bearer(kAliceKey));
  ASSERT_TRUE(r && r->status == 200) << kept.error();

  const uint16_t new_port = unused_port();
  sluice.dir().write("sluice.yaml",
                     replace_all(config.to_yaml(), "listen: 127.0.0.1:0\n",
                                 "listen: 127.0.0.1:" + std::to_string(new_port) + "\n"));
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload && reload->status == 200) << (reload ? reload->describe() : sluice.describe());

  HttpClient moved(new_port);
  auto on_new =
      moved.post_json("/v1/chat/completions", chat_body(kFastModel, "after"), bearer(kAliceKey));
  ASSERT_TRUE(on_new) << moved.error() << "\n" << sluice.describe();
  EXPECT_EQ(on_new->status, 200) << on_new->describe();

  HttpClient late = sluice.client();
  late.set_timeout(1s);
  EXPECT_TRUE(eventually([&] { return !late.connect(); }, 3s))
      << "the old address still accepts connections after the reload";
  // A connection accepted before the change carries on.
  r = kept.post_json("/v1/chat/completions", chat_body(kFastModel, "still here"),
                     bearer(kAliceKey));
  ASSERT_TRUE(r) << kept.error();
  EXPECT_EQ(r->status, 200) << r->describe();
}

TEST_F(ReloadTriggersTest, ListenAddressThatCannotBeOpenedRejectsTheReload) {
  // 192.0.2.1 (TEST-NET-1) is no address of this host: bind fails, the reload fails whole.
  sluice.dir().write("sluice.yaml",
                     replace_all(yaml_mapping_fast_to("fast-never"), "listen: 127.0.0.1:0\n",
                                 "listen: 192.0.2.1:8080\n"));
  auto reload = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(reload) << sluice.describe();
  EXPECT_EQ(reload->status, 400) << reload->describe();
  EXPECT_NE(reload->body.find("192.0.2.1:8080"), std::string::npos) << reload->describe();
  EXPECT_EQ(fast_target(), kFastPhysical) << "a refused reload must change nothing";
}

}  // namespace
}  // namespace sluice::test

namespace sluice::test {
namespace {

// Issue 4 item 5: `workers` applies on restart only — the reload is accepted, the rest of the
// file applies, and /status says which key waits for a restart.
TEST_F(ReloadTriggersTest, RestartOnlyKeyIsReportedInStatusAndTheRestApplies) {
  std::string yaml = yaml_mapping_fast_to("fast-after-workers-change");
  const std::string workers_line = "workers: " + std::to_string(config.workers);
  ASSERT_NE(yaml.find(workers_line), std::string::npos) << yaml;
  yaml = replace_all(yaml, workers_line, "workers: " + std::to_string(config.workers + 3));
  sluice.dir().write("sluice.yaml", yaml);
  auto r = sluice.admin_client().request("POST", "/reload");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->describe() : sluice.describe());
  EXPECT_EQ(fast_target(), "fast-after-workers-change");
  auto s = status();
  ASSERT_TRUE(s);
  const std::string pending = (*s)["last_reload"]["restart_pending"].dump();
  EXPECT_NE(pending.find("workers"), std::string::npos) << s->dump();
  EXPECT_NE(pending.find("restart"), std::string::npos) << s->dump();
}

}  // namespace
}  // namespace sluice::test
