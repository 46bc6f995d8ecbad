// Egress proxy settings as an operator writes them: the `proxy:` URL, HTTPS_PROXY / NO_PROXY
// from the environment, and providers.*.tls / proxy errors at load (core/config/proxy_url.h,
// load_providers.cc, load_provider_tls.cc). The TLS files themselves are checked against real
// certificates in tests/integration/provider_tls_proxy_test.cc.
#include <gtest/gtest.h>

#include <map>

#include "core/config/loader.h"
#include "core/config/proxy_url.h"

namespace sluice::config {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string config_with(const std::string& provider_lines) {
  return "listen: 127.0.0.1:0\nproviders:\n  p:\n    type: openai\n" + provider_lines +
         "models:\n  fast:\n    targets: [{provider: p, model: m}]\nfilters: []\n";
}

std::string error_of(const std::string& text, const EnvLookup& env = env_of({})) {
  try {
    load_config_text(text, "conf/test.yaml", env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return "";
}

Url https(const std::string& host, uint16_t port = 443) {
  Url u;
  u.tls = true;
  u.host = host;
  u.port = port;
  return u;
}

TEST(ProxyUrl, ParsesHostPortAndCredentials) {
  std::string error;
  auto p = parse_proxy_url("http://user:p%40ss@proxy.corp:3128/", error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(p->host, "proxy.corp");
  EXPECT_EQ(p->port, 3128);
  EXPECT_EQ(p->authorization, "Basic dXNlcjpwQHNz");  // base64("user:p@ss")
  EXPECT_EQ(p->redacted, "http://user:[redacted]@proxy.corp:3128");
  EXPECT_EQ(p->redacted.find("p%40ss"), std::string::npos);

  p = parse_proxy_url("10.0.0.1:8080", error);  // no scheme: http, as curl reads it
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(p->host, "10.0.0.1");
  EXPECT_EQ(p->port, 8080);
  EXPECT_TRUE(p->authorization.empty());

  p = parse_proxy_url("http://[::1]", error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(p->host, "::1");
  EXPECT_EQ(p->port, 80);
}

TEST(ProxyUrl, RefusesWhatItCannotUse) {
  std::string error;
  EXPECT_FALSE(parse_proxy_url("https://proxy:3128", error));
  EXPECT_NE(error.find("not supported"), std::string::npos) << error;
  EXPECT_FALSE(parse_proxy_url("socks5://proxy:1080", error));
  EXPECT_FALSE(parse_proxy_url("http://proxy:99999", error));
  EXPECT_FALSE(parse_proxy_url("http://proxy:3128/path", error));
  EXPECT_FALSE(parse_proxy_url("http://u:%zz@proxy:3128", error));
  EXPECT_EQ(error.find("%zz"), std::string::npos) << "the password is never repeated";
  EXPECT_FALSE(parse_proxy_url("http://", error));
}

TEST(NoProxy, MatchesSuffixesWildcardsAndPorts) {
  EXPECT_TRUE(no_proxy_excludes("*", "api.openai.com", 443));
  EXPECT_TRUE(no_proxy_excludes("corp", "api.corp", 443));
  EXPECT_TRUE(no_proxy_excludes(".corp", "api.corp", 443));
  EXPECT_TRUE(no_proxy_excludes("*.corp", "a.b.corp", 443));
  EXPECT_TRUE(no_proxy_excludes("corp", "corp", 443));
  EXPECT_FALSE(no_proxy_excludes("corp", "notcorp", 443));
  EXPECT_TRUE(no_proxy_excludes("a.com, API.CORP ,b.com", "api.corp", 443));
  EXPECT_TRUE(no_proxy_excludes("api.corp:8443", "api.corp", 8443));
  EXPECT_FALSE(no_proxy_excludes("api.corp:8443", "api.corp", 443));
  EXPECT_TRUE(no_proxy_excludes("10.1.2.3", "10.1.2.3", 443));
  EXPECT_FALSE(no_proxy_excludes("10.1.2.3", "10.1.2.30", 443));
  EXPECT_TRUE(no_proxy_excludes("[::1]:443", "::1", 443));
  EXPECT_FALSE(no_proxy_excludes("", "api.corp", 443));
}

TEST(NoProxy, LoopbackIsNeverProxiedFromTheEnvironment) {
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.8.9.10"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  auto env = env_of({{"HTTPS_PROXY", "http://proxy:3128"}});
  EXPECT_FALSE(proxy_from_environment(https("127.0.0.1"), env));
  EXPECT_TRUE(proxy_from_environment(https("api.openai.com"), env));
}

TEST(EnvProxy, PicksTheVariableForTheSchemeAndHonoursNoProxy) {
  auto env = env_of({{"HTTPS_PROXY", "http://s:3128"},
                     {"http_proxy", "http://p:3128"},
                     {"no_proxy", "internal"}});
  auto p = proxy_from_environment(https("api.openai.com"), env);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "HTTPS_PROXY");
  EXPECT_EQ(p->value, "http://s:3128");
  Url plain = https("api.openai.com", 80);
  plain.tls = false;
  p = proxy_from_environment(plain, env);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "http_proxy");
  EXPECT_FALSE(proxy_from_environment(https("svc.internal"), env));
  EXPECT_FALSE(proxy_from_environment(https("api.openai.com"), env_of({{"HTTPS_PROXY", " "}})));
}

TEST(ProviderProxyConfig, ExplicitEnvironmentAndOptOut) {
  const std::string url = "    base_url: https://api.example.com/v1\n";
  auto env = env_of({{"HTTPS_PROXY", "http://u:pw@envproxy:3128"}});
  auto config = load_config_text(config_with(url), "conf/test.yaml", env);
  const Provider& p = config->providers.at("p");
  ASSERT_TRUE(p.proxy);
  EXPECT_EQ(p.proxy->host, "envproxy");
  EXPECT_EQ(p.proxy->source, "HTTPS_PROXY");

  config = load_config_text(config_with(url + "    proxy: \"\"\n"), "conf/test.yaml", env);
  EXPECT_FALSE(config->providers.at("p").proxy) << "proxy: \"\" means direct";

  config =
      load_config_text(config_with(url + "    proxy: http://mine:8080\n"), "conf/test.yaml", env);
  ASSERT_TRUE(config->providers.at("p").proxy);
  EXPECT_EQ(config->providers.at("p").proxy->host, "mine");
  EXPECT_EQ(config->providers.at("p").proxy->source, "proxy");

  // ${HTTPS_PROXY} in the file is ordinary substitution.
  config =
      load_config_text(config_with(url + "    proxy: ${HTTPS_PROXY}\n"), "conf/test.yaml", env);
  EXPECT_EQ(config->providers.at("p").proxy->host, "envproxy");
}

TEST(ProviderProxyConfig, ErrorsNameTheKey) {
  const std::string url = "    base_url: https://api.example.com/v1\n";
  std::string e = error_of(config_with(url + "    proxy: https://proxy:3128\n"));
  EXPECT_NE(e.find("conf/test.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("providers.p.proxy"), std::string::npos) << e;
  e = error_of(config_with(url), env_of({{"HTTPS_PROXY", "socks5://x:1"}}));
  EXPECT_NE(e.find("HTTPS_PROXY"), std::string::npos) << e;
}

TEST(ProviderTlsConfig, ErrorsNameTheFileAndTheKey) {
  const std::string url = "    base_url: https://api.example.com/v1\n";
  std::string e = error_of(config_with(url + "    tls: {ca_file: /nonexistent/ca.pem}\n"));
  EXPECT_NE(e.find("providers.p.tls.ca_file"), std::string::npos) << e;
  EXPECT_NE(e.find("/nonexistent/ca.pem"), std::string::npos) << e;
  e = error_of(config_with(url + "    tls: {key_file: /nonexistent/k.pem}\n"));
  EXPECT_NE(e.find("providers.p.tls.key_file"), std::string::npos) << e;
  EXPECT_NE(e.find("go together"), std::string::npos) << e;
  e = error_of(config_with(url + "    tls: {min_version: \"1.0\"}\n"));
  EXPECT_NE(e.find("providers.p.tls.min_version"), std::string::npos) << e;
  e = error_of(config_with(url + "    tls: {server_nme: x}\n"));
  EXPECT_NE(e.find("server_name"), std::string::npos) << e;  // did you mean
  e = error_of(
      config_with("    base_url: http://api.example.com/v1\n    tls: {min_version: \"1.3\"}\n"));
  EXPECT_NE(e.find("only applies to an https base_url"), std::string::npos) << e;
}

TEST(ProviderTlsConfig, DefaultsAndIdentity) {
  const std::string url = "    base_url: https://api.example.com/v1\n";
  auto a = load_config_text(config_with(url), "conf/test.yaml", env_of({}));
  auto b = load_config_text(
      config_with(url + "    tls: {min_version: \"1.3\", server_name: x.internal}\n"),
      "conf/test.yaml", env_of({}));
  const ProviderTls& ta = a->providers.at("p").tls;
  const ProviderTls& tb = b->providers.at("p").tls;
  EXPECT_EQ(ta.min_version, 12);
  EXPECT_EQ(tb.min_version, 13);
  EXPECT_EQ(tb.server_name, "x.internal");
  EXPECT_NE(ta.identity, tb.identity);
  EXPECT_FALSE(a->providers.at("p").proxy);
}

}  // namespace
}  // namespace sluice::config
