// Active health checks (DESIGN §4 providers.*.health_check, §6 /status, §7 sluice_provider_up)
// against real mock providers: two providers A and B in one priority group, both probed every
// 200 ms. When A's probes fail (its GET /v1/models answers 500; chat would still work), A goes
// down — in /status, in /metrics, in `sluice status` (exit 1) — and requests go to B without
// touching A; when A's probes succeed again it comes back and traffic returns to it. Reloads
// start and stop probes. Every wait is a poll with a generous bound, never a timing assertion.
#include <gtest/gtest.h>

#include <regex>

#include "tests/support/integration_env.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAdminToken = "adm-health-7c1d";
constexpr const char* kGroup = "ha";
constexpr auto kVerdictWait = 30s;  // probes every 200 ms; this is only the give-up bound
constexpr const char* kHealthCheck =
    "{interval: 200ms, timeout: 500ms, unhealthy_after: 2, healthy_after: 2}";

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class HealthCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(sluice.start(sluice_binary(), config_yaml(true, true)));
  }

  // Providers a and b (group `ha`: a first, then b); `a_checked`/`b_checked`: with health_check.
  std::string config_yaml(bool a_checked, bool b_checked) const {
    GatewayConfig config;
    config.provider_base_url = a.base_url();  // the standard `mockai`, unused here
    config.admin_token = kAdminToken;
    auto provider = [](const char* name, const MockProvider& mock, bool checked) {
      std::string y = std::string("  ") + name +
                      ":\n    type: openai\n    base_url: " + mock.base_url() +
                      "\n    api_key: sk-" + name + "-key\n";
      if (checked) y += std::string("    health_check: ") + kHealthCheck + "\n";
      return y;
    };
    config.extra_providers = provider("a", a, a_checked) + provider("b", b, b_checked);
    config.extra_models = std::string("  ") + kGroup +
                          ":\n    strategy: priority\n    targets:\n"
                          "      - {provider: a, model: model-a}\n"
                          "      - {provider: b, model: model-b}\n";
    return config.to_yaml();
  }

  Headers admin_auth() const { return bearer(kAdminToken); }

  std::optional<Json> status() {
    HttpClient client = sluice.admin_client();
    auto r = client.get("/status", admin_auth());
    if (!r || r->status != 200) return std::nullopt;
    return r->json();
  }

  std::string health_of(const std::string& provider) {
    auto s = status();
    return s ? (*s)["providers"][provider]["health"].str() : "(no /status)";
  }

  bool health_becomes(const std::string& provider, const std::string& health) {
    return eventually([&] { return health_of(provider) == health; }, kVerdictWait);
  }

  // The value of sluice_provider_up{provider="<name>"} in /metrics; -1 when absent.
  double provider_up(const std::string& provider) {
    HttpClient client = sluice.admin_client();
    auto r = client.get("/metrics", admin_auth());
    if (!r || r->status != 200) return -1;
    const std::string key = "sluice_provider_up{provider=\"" + provider + "\"} ";
    const size_t at = r->body.find(key);
    if (at == std::string::npos) return -1;
    return std::stod(r->body.substr(at + key.size()));
  }

  CliRun sluice_status(std::vector<std::string> args, const Env& env = {}) {
    std::vector<std::string> argv = {sluice_binary(), "status"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = Process::start(argv, cli_dir.file("status-" + std::to_string(++cli_runs)), env);
    CliRun run;
    if (!p) return run;
    auto code = p->wait_exit(30s);  // the command bounds itself at 5 s; this is a backstop
    run.exit_code = code ? *code : -1;
    run.out = p->stdout_text();
    run.err = p->stderr_text();
    return run;
  }

  std::vector<std::string> admin_args() const {
    return {"--admin", "127.0.0.1:" + std::to_string(sluice.admin_port()), "--token", kAdminToken};
  }

  std::optional<HttpResponse> chat() {
    HttpClient client = sluice.client();
    client.set_timeout(20s);
    return client.post_json("/v1/chat/completions", chat_body(kGroup, "hello"), bearer(kBobKey));
  }

  // The highest sequence number in the mock's request log (0 when empty).
  static int64_t last_seq(MockProvider& mock) {
    auto all = mock.requests();
    int64_t seq = 0;
    if (all) {
      for (const Json& r : all->items()) seq = std::max(seq, r["seq"].as_int());
    }
    return seq;
  }

  // Chat requests the mock received after sequence number `after`.
  static int chats_after(MockProvider& mock, int64_t after) {
    auto all = mock.requests();
    int n = 0;
    if (all) {
      for (const Json& r : all->items()) {
        if (r["seq"].as_int() > after &&
            r["path"].str().find("/chat/completions") != std::string::npos) {
          ++n;
        }
      }
    }
    return n;
  }

  static int probes_received(MockProvider& mock) {
    auto all = mock.requests();
    int n = 0;
    if (all) {
      for (const Json& r : all->items()) {
        if (r["method"].str() == "GET" && r["path"].str() == "/v1/models") ++n;
      }
    }
    return n;
  }

  MockProvider a{mock_provider_binary()};
  MockProvider b{mock_provider_binary()};
  SluiceServer sluice;
  TempDir cli_dir;
  int cli_runs = 0;
};

TEST_F(HealthCheckTest, ProbesCarryTheProviderKeyAndHeadersToThePath) {
  ASSERT_TRUE(eventually([&] { return probes_received(a) > 0; }, kVerdictWait))
      << sluice.describe();
  auto all = a.requests();
  ASSERT_TRUE(all);
  for (const Json& r : all->items()) {
    if (r["path"].str() != "/v1/models") continue;
    EXPECT_EQ(r["method"].str(), "GET");
    EXPECT_EQ(r["headers"]["authorization"].str(), "Bearer sk-a-key") << r.dump();
    EXPECT_NE(r["headers"]["user-agent"].str().find("sluice"), std::string::npos) << r.dump();
    break;
  }
}

TEST_F(HealthCheckTest, FailingProbesTakeAProviderDownAndPassingOnesBringItBack) {
  // Both answer their probes: ok everywhere, `sluice status` exits 0.
  ASSERT_TRUE(health_becomes("a", "ok")) << health_of("a") << "\n" << sluice.describe();
  ASSERT_TRUE(health_becomes("b", "ok")) << health_of("b");
  EXPECT_EQ(provider_up("a"), 1);
  CliRun up = sluice_status(admin_args());
  EXPECT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_NE(up.out.find("ok"), std::string::npos) << up.out;
  EXPECT_EQ(up.out.find("down"), std::string::npos) << up.out;

  // A's probe path answers 500 from now on; its chat endpoint would still answer.
  ASSERT_TRUE(a.control("status:500", -1, "/v1/models"));
  ASSERT_TRUE(health_becomes("a", "down")) << health_of("a") << "\n" << sluice.describe();
  EXPECT_EQ(health_of("b"), "ok");
  EXPECT_EQ(provider_up("a"), 0);
  EXPECT_EQ(provider_up("b"), 1);
  EXPECT_NE(sluice.stderr_text().find("health: provider \"a\" is down"), std::string::npos)
      << sluice.stderr_text();

  CliRun down = sluice_status(admin_args());
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;
  EXPECT_TRUE(std::regex_search(down.out, std::regex(R"(\na +down +probe +closed)"))) << down.out;

  // Traffic goes to B, and A never sees a chat request while it is down.
  const int64_t mark = last_seq(a);
  for (int i = 0; i < 3; ++i) {
    auto r = chat();
    ASSERT_TRUE(r) << sluice.describe();
    EXPECT_EQ(r->status, 200) << r->describe();
    EXPECT_EQ(r->header("x-sluice-provider"), "b") << r->describe();
  }
  EXPECT_EQ(chats_after(a, mark), 0)
      << "a chat request reached the down provider (the session must skip health-Down "
         "candidates)";

  // A's probes succeed again: back up after healthy_after of them, and traffic returns.
  ASSERT_TRUE(a.reset());
  ASSERT_TRUE(health_becomes("a", "ok")) << health_of("a") << "\n" << sluice.describe();
  EXPECT_EQ(provider_up("a"), 1);
  EXPECT_NE(sluice.stderr_text().find("health: provider \"a\" is back up"), std::string::npos);
  CliRun back = sluice_status(admin_args());
  EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
  auto r = chat();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(r->header("x-sluice-provider"), "a") << r->describe();
}

// 401 (a bad api_key) and 404 are answers: the provider is there, so it stays in rotation;
// 429 is the provider refusing work, so it counts against it.
TEST_F(HealthCheckTest, AnAuthErrorIsNotAnOutageButTooManyRequestsIs) {
  ASSERT_TRUE(health_becomes("a", "ok"));
  ASSERT_TRUE(a.control("status:401", -1, "/v1/models"));
  const int64_t mark = last_seq(a);
  ASSERT_TRUE(eventually([&] { return last_seq(a) >= mark + 4; }, kVerdictWait));  // 4 probes
  EXPECT_EQ(health_of("a"), "ok");
  EXPECT_EQ(provider_up("a"), 1);

  ASSERT_TRUE(a.reset());
  ASSERT_TRUE(a.control("status:429", -1, "/v1/models"));
  ASSERT_TRUE(health_becomes("a", "down")) << health_of("a");
}

TEST_F(HealthCheckTest, AProviderThatRefusesConnectionsGoesDown) {
  ASSERT_TRUE(health_becomes("b", "ok"));
  ASSERT_TRUE(b.stop());  // nothing listens on b's port any more
  ASSERT_TRUE(health_becomes("b", "down")) << health_of("b") << "\n" << sluice.describe();
  EXPECT_EQ(provider_up("b"), 0);
  EXPECT_EQ(health_of("a"), "ok");
}

TEST_F(HealthCheckTest, ReloadStartsAndStopsProbes) {
  ASSERT_TRUE(a.control("status:503", -1, "/v1/models"));
  ASSERT_TRUE(health_becomes("a", "down"));

  // health_check removed from a: no more probes, and its health goes back to unknown (up).
  sluice.dir().write("sluice.yaml", config_yaml(false, true));
  HttpClient admin = sluice.admin_client();
  auto reload = admin.request("POST", "/reload", "", admin_auth());
  ASSERT_TRUE(reload && reload->status == 200) << (reload ? reload->describe() : admin.error());
  ASSERT_TRUE(health_becomes("a", "unknown")) << health_of("a");
  EXPECT_EQ(provider_up("a"), 1);
  // A probe of a already on its way when the reload landed may still arrive: count from after
  // one more probe of b, then let two more go by. (Sequence numbers, not the request log's
  // length: the log keeps only the last 100.)
  auto b_probes_after = [&](int64_t mark, int wanted) {
    return eventually(
        [&] {
          auto all = b.requests();
          int n = 0;
          if (all)
            for (const Json& r : all->items())
              if (r["seq"].as_int() > mark && r["path"].str() == "/v1/models") ++n;
          return n >= wanted;
        },
        kVerdictWait);
  };
  ASSERT_TRUE(b_probes_after(last_seq(b), 1));
  const int64_t a_mark = last_seq(a);
  ASSERT_TRUE(b_probes_after(last_seq(b), 2));
  EXPECT_EQ(last_seq(a), a_mark) << "a was probed after its health_check was removed";

  // health_check back on a (still failing): probed again, down again.
  sluice.dir().write("sluice.yaml", config_yaml(true, true));
  reload = admin.request("POST", "/reload", "", admin_auth());
  ASSERT_TRUE(reload && reload->status == 200) << (reload ? reload->describe() : admin.error());
  ASSERT_TRUE(health_becomes("a", "down")) << health_of("a");
}

TEST_F(HealthCheckTest, StatusCommandReadsTheAdminAddressAndTokenFromTheConfig) {
  ASSERT_TRUE(health_becomes("a", "ok"));
  // Only `admin` and `admin_token` are read (with ${VAR}); the rest need not even load.
  TempDir dir;
  const std::string conf =
      dir.write("cli.yaml", "admin: 127.0.0.1:" + std::to_string(sluice.admin_port()) +
                                "\nadmin_token: ${HC_TEST_TOKEN}\n"
                                "providers:\n  x:\n    type: openai\n"
                                "    api_key: ${UNSET_KEY_4e1}\n");
  CliRun ok = sluice_status({"-c", conf}, {{"HC_TEST_TOKEN", kAdminToken}});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_TRUE(std::regex_search(ok.out, std::regex(R"(\na +ok +probe +closed)"))) << ok.out;
  EXPECT_NE(ok.out.find("AGENT"), std::string::npos) << ok.out;  // the agents table
  EXPECT_NE(ok.out.find("bob"), std::string::npos) << ok.out;

  // --json: the health report (GET /status?format=report).
  CliRun json = sluice_status({"-c", conf, "--json"}, {{"HC_TEST_TOKEN", kAdminToken}});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  auto doc = Json::parse(json.out);
  ASSERT_TRUE(doc) << json.out;
  EXPECT_EQ((*doc)["providers"]["a"]["health"].str(), "ok");
  EXPECT_EQ((*doc)["providers"]["a"]["source"].str(), "probe") << json.out;
  EXPECT_EQ((*doc)["verdict"].str(), "ok") << json.out;

  // A wrong token: the admin API answers 401 → exit 3 with the reason on stderr.
  CliRun refused = sluice_status({"-c", conf}, {{"HC_TEST_TOKEN", "wrong"}});
  EXPECT_EQ(refused.exit_code, 3) << refused.out;
  EXPECT_NE(refused.err.find("401"), std::string::npos) << refused.err;
}

TEST_F(HealthCheckTest, StatusCommandExitsThreeWhenTheAdminApiIsUnreachable) {
  CliRun run = sluice_status({"--admin", "127.0.0.1:" + std::to_string(unused_port())});
  EXPECT_EQ(run.exit_code, 3) << run.out;
  EXPECT_NE(run.err.find("unreachable"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;

  CliRun missing = sluice_status({"-c", cli_dir.file("no-such.yaml")});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("no-such.yaml"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace sluice::test
