// Providers on a real network (issue 17): a private CA (`tls.ca_file`), a certificate for a
// name other than the address (`tls.server_name`), a front that requires a client certificate
// (`tls.cert_file` + `key_file`), and egress through an HTTP CONNECT proxy (`proxy:` and
// HTTPS_PROXY / NO_PROXY). The provider is the plain mock behind tests/support/tls_front (TLS
// with a TestCa certificate for "provider.test"); the proxy is tests/support/connect_proxy.
// One sluice per fixture serves every case as a model of its own.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/connect_proxy.h"
#include "tests/support/integration_env.h"
#include "tests/support/test_ca.h"
#include "tests/support/tls_front.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

// A provider entry at providers: level, and a model of the same name targeting it.
struct Case {
  std::string name;
  std::string base_url;
  std::string extra;  // lines inside the provider entry, 4-space indented
  std::string timeouts = "{connect: 5s, first_byte: 10s}";
};

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string providers_yaml(const std::vector<Case>& cases) {
  std::string y;
  for (const Case& c : cases) {
    y += "  " + c.name + ":\n    type: openai\n    base_url: " + c.base_url + "\n    api_key: sk-" +
         c.name + "\n    timeouts: " + c.timeouts + "\n" + c.extra;
  }
  return y;
}

std::string models_yaml(const std::vector<Case>& cases) {
  std::string y;
  for (const Case& c : cases) {
    y += "  " + c.name + ":\n    targets:\n      - {provider: " + c.name + ", model: m}\n";
  }
  return y;
}

class ProviderTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    ASSERT_TRUE(ca.ok());
    server = ca.issue("DNS:provider.test");
    ASSERT_TRUE(server);
    client = ca.issue("DNS:sluice-client.test");
    ASSERT_TRUE(client);
    other = ca.issue("DNS:unrelated.test");  // its key belongs to another certificate
    ASSERT_TRUE(other);
    front = std::make_unique<TlsFront>(
        TlsFrontOptions{server->cert_file, server->key_file, "", mock.port()});
    mtls_front = std::make_unique<TlsFront>(
        TlsFrontOptions{server->cert_file, server->key_file, ca.ca_file(), mock.port()});
    ASSERT_TRUE(front->ok());
    ASSERT_TRUE(mtls_front->ok());
  }

  std::string front_url(const TlsFront& f) const {
    return "https://127.0.0.1:" + std::to_string(f.port()) + "/v1";
  }

  bool start(const std::vector<Case>& cases, const Env& env = {}) {
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.extra_providers = providers_yaml(cases);
    config.extra_models = models_yaml(cases);
    return sluice.start(sluice_binary(), config.to_yaml(), env);
  }

  std::optional<HttpResponse> chat(const std::string& model) {
    HttpClient c = sluice.client();
    c.set_timeout(30s);
    auto r = c.post_json("/v1/chat/completions", chat_body(model, "hello"), bearer(kBobKey));
    EXPECT_TRUE(r) << "no answer from sluice: " << c.error() << "\n" << sluice.describe();
    return r;
  }

  // `sluice validate` on the standard config plus `cases`: exit code and output.
  std::pair<int, std::string> validate(const std::vector<Case>& cases) {
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    config.extra_providers = providers_yaml(cases);
    config.extra_models = models_yaml(cases);
    std::string path = dir.write("validate.yaml", config.to_yaml());
    auto p = Process::start({sluice_binary(), "validate", "-c", path}, dir.file("validate"));
    if (!p) return {-1, "could not start sluice"};
    std::optional<int> code = p->wait_exit(20s);
    return {code.value_or(-1), p->stderr_text() + p->stdout_text()};
  }

  std::string tls(const std::string& fields) const { return "    tls: {" + fields + "}\n"; }

  MockProvider mock{mock_provider_binary()};
  TestCa ca;
  TempDir dir;
  std::optional<TlsServerFiles> server, client, other;
  std::unique_ptr<TlsFront> front, mtls_front;
  SluiceServer sluice;
};

TEST_F(ProviderTlsTest, PrivateCaServerNameAndClientCertificates) {
  const std::string ca_file = "ca_file: " + ca.ca_file();
  const std::string client_cert =
      ", cert_file: " + client->cert_file + ", key_file: " + client->key_file;
  ASSERT_TRUE(start({
      {"trusted", front_url(*front), tls(ca_file + ", server_name: provider.test")},
      {"system_store", front_url(*front), tls("server_name: provider.test")},
      {"no_server_name", front_url(*front), tls(ca_file)},
      {"wrong_name", front_url(*front), tls(ca_file + ", server_name: other.test")},
      {"tls13", front_url(*front),
       tls(ca_file + ", server_name: provider.test, min_version: \"1.3\"")},
      {"mtls", front_url(*mtls_front), tls(ca_file + ", server_name: provider.test" + client_cert)},
      {"mtls_no_cert", front_url(*mtls_front), tls(ca_file + ", server_name: provider.test")},
  }));

  auto ok = chat("trusted");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->describe();

  // Without the operator's CA the system store does not know the test CA.
  auto untrusted = chat("system_store");
  EXPECT_TRUE(is_openai_error(untrusted, 503)) << untrusted->describe();
  EXPECT_NE(untrusted->body.find("certificate verification failed"), std::string::npos)
      << untrusted->body;

  // The certificate names provider.test, not 127.0.0.1; and not other.test either.
  for (const char* model : {"no_server_name", "wrong_name"}) {
    auto r = chat(model);
    EXPECT_TRUE(is_openai_error(r, 503)) << model;
    EXPECT_NE(r->body.find("certificate verification failed"), std::string::npos) << r->body;
  }

  auto tls13 = chat("tls13");
  ASSERT_TRUE(tls13);
  EXPECT_EQ(tls13->status, 200) << tls13->describe();

  auto mtls = chat("mtls");
  ASSERT_TRUE(mtls);
  EXPECT_EQ(mtls->status, 200) << mtls->describe();

  // TLS 1.3 finishes the client's side of the handshake before the server checks the client
  // certificate: the refusal arrives as an alert where the response should be (a 502), or
  // during the handshake (a 503). Either way: no answer, and the front refused a handshake.
  const int failed_before = mtls_front->failed_handshakes();
  auto no_cert = chat("mtls_no_cert");
  ASSERT_TRUE(no_cert);
  EXPECT_TRUE(no_cert->status == 502 || no_cert->status == 503) << no_cert->describe();
  // The front counts the refusal after its alert is on the wire: sluice may answer first.
  EXPECT_TRUE(eventually([&] { return mtls_front->failed_handshakes() > failed_before; }, 10s));
}

TEST_F(ProviderTlsTest, ValidateNamesTheFileAndTheKey) {
  const std::string url = front_url(*front);
  struct Bad {
    std::string fields;
    std::string key_path;
    std::string says;
  };
  const std::string missing = dir.file("no-such-ca.pem");
  const std::string not_pem = dir.write("not.pem", "hello\n");
  const std::vector<Bad> bad = {
      {"ca_file: " + missing, "providers.p.tls.ca_file", missing},
      {"ca_file: " + not_pem, "providers.p.tls.ca_file", "holds no PEM certificate"},
      {"cert_file: " + client->cert_file, "providers.p.tls.cert_file", "go together"},
      {"cert_file: " + client->cert_file + ", key_file: " + other->key_file,
       "providers.p.tls.key_file", "is not the key of the certificate in " + client->cert_file},
      {"min_version: \"1.1\"", "providers.p.tls.min_version", "1.2"},
  };
  for (const Bad& b : bad) {
    auto [code, output] = validate({{"p", url, tls(b.fields)}});
    EXPECT_EQ(code, 1) << b.fields << "\n" << output;
    EXPECT_NE(output.find("validate.yaml:"), std::string::npos) << output;
    EXPECT_NE(output.find(b.key_path), std::string::npos) << output;
    EXPECT_NE(output.find(b.says), std::string::npos) << output;
  }
  auto [code, output] = validate({{"p", url, tls("ca_file: " + ca.ca_file())}});
  EXPECT_EQ(code, 0) << output;
}

// A reload that names a file that is not there is refused; the running config keeps serving.
// A reload after a rotation (same path, new contents) is taken, and serves with the new file.
TEST_F(ProviderTlsTest, ReloadReReadsTheFiles) {
  const std::string ca_copy = dir.write("ca.pem", read_all(ca.ca_file()));
  auto config_with = [&](const std::string& ca_path) {
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    std::vector<Case> cases = {
        {"p", front_url(*front), tls("ca_file: " + ca_path + ", server_name: provider.test")}};
    config.extra_providers = providers_yaml(cases);
    config.extra_models = models_yaml(cases);
    config.admin_token = "adm-tls-reload";
    return config.to_yaml();
  };
  ASSERT_TRUE(sluice.start(sluice_binary(), config_with(ca_copy)));
  auto r = chat("p");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();

  HttpClient admin = sluice.admin_client();
  auto write_and_reload = [&](const std::string& yaml) {
    std::ofstream(sluice.config_path()) << yaml;
    return admin.request("POST", "/reload", {}, bearer("adm-tls-reload"));
  };
  auto refused = write_and_reload(config_with(dir.file("missing-ca.pem")));
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->status, 200) << refused->describe();
  EXPECT_NE(refused->body.find("missing-ca.pem"), std::string::npos) << refused->body;
  r = chat("p");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "the old config keeps serving: " << r->describe();

  // Rotate the CA file to a CA that did not sign the server: the reload takes the new
  // contents (a new context), and the provider's certificate no longer verifies.
  TestCa other_ca;
  ASSERT_TRUE(other_ca.ok());
  dir.write("ca.pem", read_all(other_ca.ca_file()));
  auto taken = write_and_reload(config_with(ca_copy));
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->status, 200) << taken->describe();
  r = chat("p");
  EXPECT_TRUE(is_openai_error(r, 503));
  EXPECT_NE(r->body.find("certificate verification failed"), std::string::npos) << r->body;
}

class ProviderProxyTest : public ProviderTlsTest {};

TEST_F(ProviderProxyTest, TunnelsThroughTheConfiguredProxy) {
  ConnectProxy proxy;
  ConnectProxy auth_proxy(ConnectProxyOptions{"agent:s3cr3t-pw", 0});
  ConnectProxy forbidding(ConnectProxyOptions{"", 403});
  ConnectProxy wedged(ConnectProxyOptions{"", 0, true});
  ASSERT_TRUE(proxy.ok() && auth_proxy.ok() && forbidding.ok() && wedged.ok());
  const std::string auth_url =
      "http://agent:s3cr3t-pw@127.0.0.1:" + std::to_string(auth_proxy.port());
  const std::string bad_auth_url =
      "http://agent:wrong@127.0.0.1:" + std::to_string(auth_proxy.port());
  // provider.test does not resolve here: only the proxy (which maps every name to loopback)
  // can reach it, and TLS inside the tunnel verifies the provider's name, not the proxy's.
  const std::string url = "https://provider.test:" + std::to_string(front->port()) + "/v1";
  const std::string trust = tls("ca_file: " + ca.ca_file());
  ASSERT_TRUE(start({
      {"via_proxy", url, trust + "    proxy: " + proxy.url() + "\n"},
      {"plain_via_proxy", "http://provider.test:" + std::to_string(mock.port()) + "/v1",
       "    proxy: " + proxy.url() + "\n"},
      {"with_auth", url, trust + "    proxy: " + auth_url + "\n"},
      {"wrong_auth", url, trust + "    proxy: " + bad_auth_url + "\n"},
      {"no_auth", url, trust + "    proxy: " + auth_proxy.url() + "\n"},
      {"forbidden", url, trust + "    proxy: " + forbidding.url() + "\n"},
      // The connect timeout covers the CONNECT exchange: a proxy that never answers is a
      // connect failure once it passes, not a hang.
      {"wedged", url, trust + "    proxy: " + wedged.url() + "\n",
       "{connect: 300ms, first_byte: 10s}"},
  }));

  auto r = chat("via_proxy");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  ASSERT_EQ(proxy.connects(), 1);
  EXPECT_EQ(proxy.targets()[0], "provider.test:" + std::to_string(front->port()));
  // A second request rides the pooled connection: still tunnelled, no new CONNECT.
  r = chat("via_proxy");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(proxy.connects(), 1);

  r = chat("plain_via_proxy");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(proxy.targets().back(), "provider.test:" + std::to_string(mock.port()));

  r = chat("with_auth");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(auth_proxy.tunnels(), 1);

  for (const char* model : {"wrong_auth", "no_auth"}) {
    r = chat(model);
    EXPECT_TRUE(is_openai_error(r, 503)) << model;
    EXPECT_NE(r->body.find("proxy refused CONNECT to provider.test:" +
                           std::to_string(front->port()) + ": 407 Proxy Authentication Required"),
              std::string::npos)
        << r->body;
  }
  r = chat("forbidden");
  EXPECT_TRUE(is_openai_error(r, 503));
  EXPECT_NE(r->body.find("403 Forbidden"), std::string::npos) << r->body;

  r = chat("wedged");
  EXPECT_TRUE(is_openai_error(r, 503));
  EXPECT_NE(r->body.find("through proxy 127.0.0.1:" + std::to_string(wedged.port()) +
                         " timed out after 300ms"),
            std::string::npos)
      << r->body;
  EXPECT_EQ(wedged.connects(), 1);

  // Credentials never show: not in errors, logs, /status or /config.
  EXPECT_EQ(sluice.stderr_text().find("s3cr3t-pw"), std::string::npos);
  HttpClient admin = sluice.admin_client();
  for (const char* path : {"/status", "/config"}) {
    auto page = admin.get(path);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->body.find("s3cr3t-pw"), std::string::npos) << path << ": " << page->body;
  }
}

TEST_F(ProviderProxyTest, HttpsProxyFromTheEnvironmentHonoursNoProxy) {
  ConnectProxy proxy;
  ASSERT_TRUE(proxy.ok());
  const std::string port = std::to_string(front->port());
  const std::string trust = tls("ca_file: " + ca.ca_file());
  ASSERT_TRUE(start(
      {
          {"env_proxied", "https://provider.test:" + port + "/v1", trust},
          // Excluded by NO_PROXY: sluice goes direct (the name does not resolve → 503, and
          // the proxy never sees it).
          {"excluded", "https://api.internal.test:" + port + "/v1", trust},
          // An explicit `proxy: ""` bypasses the environment.
          {"opted_out", "https://opted.example.test:" + port + "/v1", trust + "    proxy: \"\"\n"},
          // Loopback never goes through an environment proxy.
          {"loopback", front_url(*front),
           tls("ca_file: " + ca.ca_file() + ", server_name: provider.test")},
      },
      {{"HTTPS_PROXY", proxy.url()},
       {"https_proxy", ""},
       {"NO_PROXY", "localhost,.internal.test"},
       {"no_proxy", ""}}));

  auto r = chat("env_proxied");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();
  EXPECT_EQ(proxy.targets(), std::vector<std::string>{"provider.test:" + port});

  r = chat("loopback");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->describe();

  for (const char* model : {"excluded", "opted_out"}) {
    r = chat(model);
    EXPECT_TRUE(is_openai_error(r, 503)) << model;
  }
  EXPECT_EQ(proxy.connects(), 1) << "only env_proxied went through the proxy";

  auto status = sluice.admin_client().get("/status");
  ASSERT_TRUE(status);
  auto json = status->json();
  ASSERT_TRUE(json);
  EXPECT_EQ((*json)["providers"]["env_proxied"]["proxy_source"].str(), "HTTPS_PROXY");
}

// Health probes connect like requests do: through the proxy, with the provider's TLS settings.
// Without them the probe of a provider only the proxy can reach would fail, and the provider
// would be marked down while requests work.
TEST_F(ProviderProxyTest, HealthProbesUseTheSameTlsAndProxy) {
  ConnectProxy proxy;
  ASSERT_TRUE(proxy.ok());
  const std::string target = "provider.test:" + std::to_string(front->port());
  ASSERT_TRUE(
      start({{"probed", "https://" + target + "/v1",
              tls("ca_file: " + ca.ca_file()) + "    proxy: " + proxy.url() +
                  "\n    health_check: {interval: 200ms, timeout: 2s, healthy_after: 1}\n"}}));
  auto health = [&] {
    auto r = sluice.admin_client().get("/status");
    auto json = r ? r->json() : std::nullopt;
    return json ? (*json)["providers"]["probed"]["health"].str() : std::string("(no /status)");
  };
  EXPECT_TRUE(eventually([&] { return health() == "ok"; }, 30s)) << health() << "\n"
                                                                 << sluice.describe();
  ASSERT_GE(proxy.connects(), 1);
  EXPECT_EQ(proxy.targets()[0], target);
}

}  // namespace
}  // namespace sluice::test
