// The value parsers behind the config: units, addresses, ${VAR}, key digests, did-you-mean,
// and NodeReader's own errors (filter factories use it directly).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/config/loader.h"
#include "core/config/node_reader.h"

namespace sluice::config {
namespace {

using namespace std::chrono_literals;

TEST(Durations, ParseTable) {
  const std::map<std::string, Duration> good = {{"250ms", 250ms}, {"0ms", 0ms},   {"2s", 2s},
                                                {"1m", 1min},     {"90m", 90min}, {"1h", 1h},
                                                {"1d", 24h},      {"0s", 0s},     {"10m", 10min}};
  for (const auto& [text, value] : good) {
    auto parsed = parse_duration(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, value) << text;
  }
  for (const char* bad : {"", "10", "s", "1.5s", "-1s", "2 s", "2S", "1w", "5sec", "ms5",
                          "99999999999999999999d", "9999999999999999d"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(Sizes, ParseTable) {
  const std::map<std::string, uint64_t> good = {{"100", 100},
                                                {"512B", 512},
                                                {"64KiB", 64 << 10},
                                                {"32MiB", 32u << 20},
                                                {"1GiB", 1ull << 30},
                                                {"2TiB", 2ull << 40},
                                                {"1KB", 1000},
                                                {"5MB", 5'000'000},
                                                {"1GB", 1'000'000'000},
                                                {"64kib", 64 << 10},
                                                {"0", 0}};
  for (const auto& [text, value] : good) {
    auto parsed = parse_size(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, value) << text;
  }
  for (const char* bad : {"", "32M", "1.5MiB", "-1", "MiB", "1 MiB", "20000000000GiB", "1PiB"}) {
    EXPECT_FALSE(parse_size(bad).has_value()) << bad;
  }
}

TEST(HostPorts, ParseAndPrint) {
  std::string error;
  auto v4 = parse_host_port("127.0.0.1:8080", error);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_EQ(v4->to_string(), "127.0.0.1:8080");
  auto v6 = parse_host_port("[::1]:0", error);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_EQ(v6->to_string(), "[::1]:0");
  auto name = parse_host_port("sidecar.local:65535", error);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->host, "sidecar.local");

  for (const char* bad : {"127.0.0.1", ":8080", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "[::1",
                          "[zz]:80", "[::1]80", "300.1.1.1:80", "a b:80", "h:8o"}) {
    error.clear();
    EXPECT_FALSE(parse_host_port(bad, error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(Urls, SplitOnceAtLoad) {
  std::string error;
  auto openai = parse_url("https://api.openai.com/v1/", error);
  ASSERT_TRUE(openai) << error;
  EXPECT_TRUE(openai->tls);
  EXPECT_EQ(openai->host, "api.openai.com");
  EXPECT_EQ(openai->port, 443);
  EXPECT_EQ(openai->path_prefix, "/v1");  // trailing slash dropped
  EXPECT_EQ(openai->host_header, "api.openai.com");

  auto local = parse_url("http://127.0.0.1:11434/v1", error);
  ASSERT_TRUE(local);
  EXPECT_FALSE(local->tls);
  EXPECT_EQ(local->port, 11434);
  EXPECT_EQ(local->host_header, "127.0.0.1:11434");

  auto v6 = parse_url("http://[::1]:8000", error);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->path_prefix, "");
  EXPECT_EQ(v6->host_header, "[::1]:8000");

  auto explicit_default = parse_url("HTTPS://example.com:443/", error);
  ASSERT_TRUE(explicit_default);
  EXPECT_EQ(explicit_default->host_header, "example.com");  // default port not repeated
  EXPECT_EQ(explicit_default->path_prefix, "");

  for (const char* bad : {"api.openai.com/v1", "ftp://x/", "http://", "http://:80/",
                          "http://u:p@host/", "http://host:0/", "http://host:99999/",
                          "http://host/v1?x=1", "http://host/#f", "http://::1/"}) {
    error.clear();
    EXPECT_FALSE(parse_url(bad, error).has_value()) << bad;
    EXPECT_NE(error.find("expected a URL like https://api.openai.com/v1"), std::string::npos)
        << bad << ": " << error;
  }
}

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(EnvSubstitution, Forms) {
  const auto env = env_of({{"HOST", "h1"}, {"EMPTY", ""}, {"PORT", "81"}});
  std::string error;
  EXPECT_EQ(substitute_env("${HOST}", env, error), "h1");
  EXPECT_EQ(substitute_env("http://${HOST}:${PORT}/v1", env, error), "http://h1:81/v1");
  EXPECT_EQ(substitute_env("${MISSING:-fallback}", env, error), "fallback");
  EXPECT_EQ(substitute_env("${MISSING:-}", env, error), "");
  EXPECT_EQ(substitute_env("${EMPTY:-d}", env, error), "d");  // as in the shell: empty → default
  EXPECT_EQ(substitute_env("${EMPTY}", env, error), "");
  EXPECT_EQ(substitute_env("${HOST:-a:b-c}", env, error), "h1");
  EXPECT_EQ(substitute_env("${MISSING:-a:b-c}", env, error), "a:b-c");
  EXPECT_EQ(substitute_env("cost $5 and $${HOST}", env, error), "cost $5 and ${HOST}");
  EXPECT_EQ(substitute_env("no vars", env, error), "no vars");

  EXPECT_FALSE(substitute_env("${MISSING}", env, error));
  EXPECT_EQ(error,
            "environment variable MISSING is not set (set it, or write ${MISSING:-default} to give "
            "a default)");
  EXPECT_FALSE(substitute_env("${HOST", env, error));
  EXPECT_NE(error.find("never closed"), std::string::npos) << error;
  EXPECT_FALSE(substitute_env("${1X}", env, error));
  EXPECT_NE(error.find("not a variable reference"), std::string::npos) << error;
  EXPECT_FALSE(substitute_env("${}", env, error));
}

TEST(KeyDigests, HashAndParse) {
  // SHA-256("abc"), the FIPS 180-2 test vector.
  const std::string abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_EQ(hash_key("abc"), abc);
  auto parsed = parse_key_digest(abc);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->bytes, digest_of("abc").bytes);
  EXPECT_NE(digest_of("abd").bytes, digest_of("abc").bytes);
  EXPECT_FALSE(parse_key_digest("sha256:abc"));
  EXPECT_FALSE(parse_key_digest(abc.substr(7)));             // no prefix
  EXPECT_FALSE(parse_key_digest(abc + "0"));                 // too long
  EXPECT_FALSE(parse_key_digest(abc.substr(0, 70) + "zz"));  // not hex
}

TEST(DidYouMean, OnlyPlausibleTypos) {
  const std::vector<std::string> keys = {"connect", "first_byte", "idle", "total"};
  EXPECT_EQ(did_you_mean("conect", keys), "connect");
  EXPECT_EQ(did_you_mean("Connect", keys), "connect");
  EXPECT_EQ(did_you_mean("first_bytes", keys), "first_byte");
  EXPECT_EQ(did_you_mean("idel", keys), "idle");  // swapped neighbours count as one edit
  EXPECT_EQ(did_you_mean("totl", keys), "total");
  EXPECT_FALSE(did_you_mean("colour", keys));
  EXPECT_FALSE(did_you_mean("x", keys));
  EXPECT_FALSE(did_you_mean("conect", {}));
}

// Filter factories read their own YAML with NodeReader; their errors must read the same.
TEST(NodeReaderErrors, FilterStyleReading) {
  const YAML::Node doc = YAML::Load("auth:\n  modes: [api_key]\n  header: {nmae: x}\n  n: 7\n");
  NodeReader reader(doc["auth"], "filters[0].auth", "conf/sluice.yaml");
  EXPECT_EQ(reader.string_list("modes"), (std::vector<std::string>{"api_key"}));
  EXPECT_EQ(reader.integer("n", 0, 10), 7);
  EXPECT_FALSE(reader.string("missing").has_value());
  NodeReader header = reader.child("header");
  EXPECT_EQ(header.string("name"), std::nullopt);
  try {
    header.finish();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "conf/sluice.yaml:3:12: filters[0].auth.header.nmae: unknown key \"nmae\" (did you "
              "mean \"name\"?)");
    EXPECT_EQ(e.key_path(), "filters[0].auth.header.nmae");
    EXPECT_EQ(e.mark().line, 3);
  }
  reader.finish();  // every key was read: no error

  try {
    reader.one_of("n", {"a", "b"});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "conf/sluice.yaml:4:6: filters[0].auth.n: expected one of a, b, got \"7\"");
  }
  EXPECT_THROW(reader.boolean("modes"), ConfigError);  // a list is not a boolean
  // A null filter config ("- model_alias:") reads as an empty mapping.
  NodeReader empty(YAML::Load("x:")["x"], "filters[1].model_alias", "f.yaml");
  EXPECT_FALSE(empty.has("anything"));
  empty.finish();
  EXPECT_THROW(NodeReader(YAML::Load("[1]"), "filters[2].x", "f.yaml"), ConfigError);
}

TEST(NodeReaderErrors, NumbersAndBooleans) {
  const YAML::Node doc = YAML::Load("usd: 5.50\nbad: 5x\nyes: yes\nok: true\n");
  NodeReader reader(doc, "budget", "f.yaml");
  EXPECT_DOUBLE_EQ(*reader.number("usd", 0, 100), 5.5);
  EXPECT_THROW(reader.number("bad", 0, 100), ConfigError);
  EXPECT_THROW(reader.number("usd", 10, 100), ConfigError);
  EXPECT_EQ(reader.boolean("ok"), true);
  try {
    reader.boolean("yes");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "f.yaml:3:6: budget.yes: expected true or false, got \"yes\"");
  }
}

}  // namespace
}  // namespace sluice::config
