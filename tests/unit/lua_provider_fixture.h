// What the Lua provider unit tests share: a temporary folder for plugin files, a config whose
// `plugins:` they fill, the LuaProviderSource a config load builds from it, and readers for
// what a Translation writes (SSE events, JSON documents). No sockets: the tests drive
// core/providers/translation.h directly, as core does for each attempt.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/providers/translation.h"
#include "filters/lua/lua_provider_source.h"

namespace sluice::test {

// One JSON document, read by JSON pointer ("/choices/0/delta/content").
class JsonDoc {
 public:
  explicit JsonDoc(const std::string& text) : text_(text) {
    ok_ = !parser_.parse(text_).get(root_);
  }
  bool ok() const { return ok_; }
  bool has(const char* pointer) const { return ok_ && !root_.at_pointer(pointer).error(); }
  bool is_null(const char* pointer) const { return has(pointer) && at(pointer).is_null(); }
  std::string str(const char* pointer) const {
    std::string_view s;
    return has(pointer) && !at(pointer).get_string().get(s) ? std::string(s) : "<none>";
  }
  int64_t num(const char* pointer) const {
    int64_t v = -1;
    return has(pointer) && !at(pointer).get_int64().get(v) ? v : -1;
  }
  double real(const char* pointer) const {
    double v = -1;
    return has(pointer) && !at(pointer).get_double().get(v) ? v : -1;
  }
  size_t size(const char* pointer) const {
    if (!has(pointer)) return 0;
    simdjson::dom::array a;
    if (!at(pointer).get_array().get(a)) return a.size();
    simdjson::dom::object o;
    if (!at(pointer).get_object().get(o)) return o.size();
    return 0;
  }
  // The value as minified JSON text.
  std::string raw(const char* pointer) const {
    return has(pointer) ? simdjson::minify(at(pointer)) : "<none>";
  }

 private:
  simdjson::dom::element at(const char* pointer) const { return root_.at_pointer(pointer).value(); }
  simdjson::padded_string text_;
  mutable simdjson::dom::parser parser_;
  simdjson::dom::element root_;
  bool ok_ = false;
};

// The payloads of `data: <payload>\n\n` events, in order; a malformed event is kept whole,
// prefixed "<malformed>".
inline std::vector<std::string> data_events(const std::string& sse) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < sse.size()) {
    const size_t end = sse.find("\n\n", at);
    const std::string event = sse.substr(at, end == std::string::npos ? end : end - at);
    out.push_back(event.rfind("data: ", 0) == 0 ? event.substr(6) : "<malformed>" + event);
    if (end == std::string::npos) break;
    at = end + 2;
  }
  return out;
}

class LuaProviderFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-lua-provider-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.base_dir = dir_;
    config_.source_path = dir_ + "/sluice.yaml";
    config_.workers = 1;
  }
  void TearDown() override {
    codecs_.clear();
    sources_.clear();
    std::filesystem::remove_all(dir_);
  }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // plugins: {name: {file: path, config: config_yaml}}.
  config::PluginSpec& add_plugin(const std::string& name, const std::string& path,
                                 const std::string& config_yaml = "") {
    config::PluginSpec spec;
    spec.name = name;
    spec.file = path;
    if (!config_yaml.empty()) spec.config = YAML::Load(config_yaml);
    spec.mark = spec.file_mark = spec.config_mark = config::SourceMark{config_.source_path, 3, 5};
    return config_.plugins[name] = spec;
  }

  // The source a config load builds (kept by the fixture, as a snapshot keeps it).
  const filters::lua::LuaProviderSource& load() {
    sources_.push_back(filters::lua::LuaProviderSource::load(config_));
    return *sources_.back();
  }

  // What the load refuses ("<no error>" when it does not).
  std::string load_error() {
    try {
      load();
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  }

  // providers: {local: {type: <type>, base_url:, api_key:, config: <config_yaml>}}.
  std::shared_ptr<const providers::ProviderCodec> codec(const std::string& type,
                                                        const std::string& config_yaml = "",
                                                        const std::string& api_key = "") {
    if (sources_.empty()) load();
    config::Provider provider;
    provider.name = "local";
    provider.type = type;
    provider.base_url = "http://127.0.0.1:11434";
    provider.api_key = api_key;
    provider.mark = config::SourceMark{config_.source_path, 10, 3};
    YAML::Node node = config_yaml.empty() ? YAML::Node() : YAML::Load(config_yaml);
    auto c =
        sources_.back()->codec_for(provider, node, config::SourceMark{config_.source_path, 12, 13});
    if (c != nullptr) codecs_.push_back(c);
    return c;
  }

  std::string codec_error(const std::string& type, const std::string& config_yaml) {
    try {
      codec(type, config_yaml);
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  }

  // A chat request as core hands it to request().
  struct Input {
    std::string body = R"({"model":"fast","messages":[{"role":"user","content":"hello"}]})";
    std::string model = "qwen3:8b";
    bool stream = false;
    bool stream_usage = false;
    providers::TranslateInput get() const {
      providers::TranslateInput in;
      in.endpoint = filter::Endpoint::ChatCompletions;
      in.body = body;
      in.model = model;
      in.stream = stream;
      in.stream_usage = stream_usage;
      in.request_id = "req-42";
      return in;
    }
  };

  std::string dir_;
  config::Config config_;
  std::vector<std::shared_ptr<const filters::lua::LuaProviderSource>> sources_;
  std::vector<std::shared_ptr<const providers::ProviderCodec>> codecs_;
};

}  // namespace sluice::test
