// libsluice_anthropic.so through its C ABI, as sluice drives it: dlopen, the ABI version,
// sluice_plugin_init with a fake host, then the provider and client-API hooks of a few
// attempts. The translations themselves are tested in the other anthropic_*_test files; this
// one checks the adapter (plugins/anthropic/*_hooks.cc): what reaches the host, and when.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sluice/plugin.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

// The host's opaque types: this test is the host.
struct sluice_registry {
  std::string failure;
};
struct sluice_buf {
  std::string text;
};
struct sluice_translation {
  // inputs
  sluice_endpoint endpoint = SLUICE_ENDPOINT_CHAT_COMPLETIONS;
  std::string body, model = "claude-x", request_id = "req-1";
  int32_t stream = 0, stream_usage = 0;
  // outputs
  std::string path, set_body, emitted, failure;
  bool body_set = false;
  std::vector<std::pair<std::string, std::string>> headers;
  int32_t status = 0;
  std::vector<sluice_usage> usages;
};

namespace {

std::string_view view(sluice_str s) {
  return s.len == 0 ? std::string_view() : std::string_view(s.data, s.len);
}
sluice_str str(std::string_view s) {
  return sluice_str{s.data(), s.size()};
}

// What the plugin registered.
std::vector<std::string> provider_types;
sluice_provider_vtable provider{};
sluice_client_api_vtable client_api{};
int client_apis = 0;

sluice_host_api make_host() {
  sluice_host_api h{};
  h.size = sizeof h;
  h.abi_major = SLUICE_PLUGIN_ABI_VERSION_MAJOR;
  h.abi_minor = SLUICE_PLUGIN_ABI_VERSION_MINOR;
  h.register_provider = [](sluice_registry*, sluice_str type, const sluice_provider_vtable* vt) {
    provider_types.emplace_back(view(type));
    std::memcpy(&provider, vt, std::min<size_t>(vt->size, sizeof provider));
    return SLUICE_OK;
  };
  h.register_client_api = [](sluice_registry*, const sluice_client_api_vtable* api) {
    ++client_apis;
    std::memcpy(&client_api, api, std::min<size_t>(api->size, sizeof client_api));
    return SLUICE_OK;
  };
  h.registry_fail = [](sluice_registry* reg, sluice_str m) { reg->failure.assign(view(m)); };
  h.buf_set = [](sluice_buf* buf, sluice_str text) { buf->text.assign(view(text)); };
  h.log = [](sluice_log_level, sluice_str) {};
  h.translation_endpoint = [](sluice_translation* t) { return t->endpoint; };
  h.translation_body = [](sluice_translation* t) { return str(t->body); };
  h.translation_model = [](sluice_translation* t) { return str(t->model); };
  h.translation_stream = [](sluice_translation* t) { return t->stream; };
  h.translation_stream_usage = [](sluice_translation* t) { return t->stream_usage; };
  h.translation_request_id = [](sluice_translation* t) { return str(t->request_id); };
  h.translation_set_path = [](sluice_translation* t, sluice_str path) {
    t->path.assign(view(path));
    return SLUICE_OK;
  };
  h.translation_add_header = [](sluice_translation* t, sluice_str name, sluice_str value) {
    t->headers.emplace_back(view(name), view(value));
    return SLUICE_OK;
  };
  h.translation_set_body = [](sluice_translation* t, sluice_str body) {
    t->set_body.assign(view(body));
    t->body_set = true;
    return SLUICE_OK;
  };
  h.translation_emit = [](sluice_translation* t, sluice_str bytes) {
    t->emitted.append(view(bytes));
    return SLUICE_OK;
  };
  h.translation_set_status = [](sluice_translation* t, int32_t status) {
    t->status = status;
    return SLUICE_OK;
  };
  h.translation_set_usage = [](sluice_translation* t, const sluice_usage* u) {
    t->usages.push_back(*u);
    return SLUICE_OK;
  };
  h.translation_fail = [](sluice_translation* t, sluice_str m) { t->failure.assign(view(m)); };
  return h;
}

const sluice_host_api host = make_host();

class AnthropicPlugin : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    library_ = dlopen(SLUICE_ANTHROPIC_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library_, nullptr) << dlerror();
    const auto* version =
        static_cast<const sluice_abi_version*>(dlsym(library_, "sluice_plugin_abi_version"));
    ASSERT_NE(version, nullptr);
    EXPECT_EQ(version->magic, SLUICE_PLUGIN_ABI_MAGIC);
    EXPECT_EQ(version->major, 1u);
    EXPECT_EQ(version->minor, static_cast<uint32_t>(SLUICE_PLUGIN_ABI_VERSION_MINOR));
    auto init =
        reinterpret_cast<decltype(&sluice_plugin_init)>(dlsym(library_, "sluice_plugin_init"));
    ASSERT_NE(init, nullptr);
    sluice_registry reg;
    ASSERT_EQ(init(&host, &reg), SLUICE_OK) << reg.failure;
  }
  static void TearDownTestSuite() {
    dlclose(library_);
    // Closed for real: sluice must be able to unload an old copy after a reload (no
    // STB_GNU_UNIQUE symbol pins it: plugins/anthropic/exports.map).
    void* still_there = dlopen(SLUICE_ANTHROPIC_PLUGIN, RTLD_NOW | RTLD_NOLOAD);
    EXPECT_EQ(still_there, nullptr);
    if (still_there) dlclose(still_there);
  }

  // A provider config object, destroyed with the fixture.
  void* make_provider(std::string_view json) {
    sluice_buf error;
    void* config = nullptr;
    EXPECT_EQ(provider.create_config(&host, str(json), &config, &error), SLUICE_OK) << error.text;
    configs_.push_back(config);
    return config;
  }
  void TearDown() override {
    for (void* c : configs_) provider.destroy_config(c);
  }

  static inline void* library_ = nullptr;
  std::vector<void*> configs_;
};

TEST_F(AnthropicPlugin, RegistersTheProviderTypeAndTheMessagesClientApi) {
  EXPECT_EQ(provider_types, std::vector<std::string>{"anthropic"});
  EXPECT_EQ(provider.size, sizeof(sluice_provider_vtable));
  EXPECT_EQ(provider.native_endpoints, SLUICE_ENDPOINT_MESSAGES);
  EXPECT_EQ(provider.translated_endpoints, SLUICE_ENDPOINT_CHAT_COMPLETIONS);
  EXPECT_EQ(provider.stream_framing, SLUICE_STREAM_SSE);
  EXPECT_STREQ(provider.default_base_url, "https://api.anthropic.com/v1");
  EXPECT_EQ(client_apis, 1);
  EXPECT_EQ(client_api.endpoint, SLUICE_ENDPOINT_MESSAGES);
  EXPECT_NE(client_api.on_request, nullptr);
  EXPECT_NE(client_api.on_end, nullptr);
}

TEST_F(AnthropicPlugin, CreateConfigRefusesUnknownKeys) {
  sluice_buf error;
  void* config = nullptr;
  EXPECT_EQ(provider.create_config(&host, str(R"({"name":"c","config":{"versoin":"x"}})"), &config,
                                   &error),
            SLUICE_ERROR);
  EXPECT_NE(error.text.find("config.versoin: unknown key"), std::string::npos) << error.text;
}

TEST_F(AnthropicPlugin, NativeMessagesGetPathAndHeadersOnly) {
  void* config = make_provider(
      R"({"name":"c","type":"anthropic","api_key":"sk-ant-1","config":{"beta":"b-1"}})");
  sluice_translation t;
  t.endpoint = SLUICE_ENDPOINT_MESSAGES;
  t.body = R"({"model":"x","max_tokens":5,"messages":[]})";
  void* data = nullptr;
  ASSERT_EQ(provider.on_request(config, &t, &data), SLUICE_TRANSLATE_OK) << t.failure;
  EXPECT_EQ(t.path, "/messages");
  EXPECT_FALSE(t.body_set);
  EXPECT_EQ(t.headers,
            (std::vector<std::pair<std::string, std::string>>{{"anthropic-version", "2023-06-01"},
                                                              {"x-api-key", "sk-ant-1"},
                                                              {"anthropic-beta", "b-1"}}));
  // No response hook runs for a native endpoint; if one did, it fails instead of crashing.
  EXPECT_EQ(data, nullptr);
  EXPECT_EQ(provider.on_response(config, &t, &data, 200, str("{}")), SLUICE_TRANSLATE_ERROR);
  EXPECT_NE(t.failure.find("on_request did not translate"), std::string::npos) << t.failure;
  provider.on_end(config, data);
}

TEST_F(AnthropicPlugin, ChatCompletionRoundTrip) {
  void* config = make_provider(R"({"name":"c","type":"anthropic","config":null})");
  sluice_translation t;
  t.body = R"({"model":"smart","messages":[{"role":"user","content":"Hi"}]})";
  void* data = nullptr;
  ASSERT_EQ(provider.on_request(config, &t, &data), SLUICE_TRANSLATE_OK) << t.failure;
  EXPECT_EQ(t.set_body, R"({"model":"claude-x","max_tokens":4096,"messages":[{"role":"user",)"
                        R"("content":[{"type":"text","text":"Hi"}]}]})");
  // No api_key: no x-api-key header (a proxy in front may add auth).
  EXPECT_EQ(t.headers.size(), 1u);
  ASSERT_EQ(
      provider.on_response(
          config, &t, &data, 200,
          str(R"({"id":"msg_1","type":"message","model":"claude-x","content":[{"type":"text",)"
              R"("text":"Hello"}],"stop_reason":"end_turn","usage":{"input_tokens":3,)"
              R"("cache_read_input_tokens":4,"cache_creation_input_tokens":5,"output_tokens":6}})")),
      SLUICE_TRANSLATE_OK)
      << t.failure;
  EXPECT_EQ(t.status, 200);
  EXPECT_NE(t.emitted.find(R"("content":"Hello")"), std::string::npos) << t.emitted;
  ASSERT_EQ(t.usages.size(), 1u);
  EXPECT_EQ(t.usages[0].input_tokens, 12u);
  EXPECT_EQ(t.usages[0].cached_tokens, 4u);
  EXPECT_EQ(t.usages[0].cache_write_tokens, 5u);
  EXPECT_EQ(t.usages[0].output_tokens, 6u);
  provider.on_end(config, data);
}

TEST_F(AnthropicPlugin, ChatCompletionErrorAnswerIsMapped) {
  void* config = make_provider(R"({"name":"c"})");
  sluice_translation t;
  t.body = R"({"messages":[{"role":"user","content":"Hi"}]})";
  void* data = nullptr;
  ASSERT_EQ(provider.on_request(config, &t, &data), SLUICE_TRANSLATE_OK);
  ASSERT_EQ(provider.on_response(config, &t, &data, 529,
                                 str(R"({"type":"error","error":{"type":"overloaded_error",)"
                                     R"("message":"Overloaded"}})")),
            SLUICE_TRANSLATE_OK);
  EXPECT_EQ(t.status, 503);
  EXPECT_TRUE(t.usages.empty());
  provider.on_end(config, data);
}

TEST_F(AnthropicPlugin, AnUntranslatableRequestIsInvalidAndSendsNothing) {
  void* config = make_provider(R"({"name":"c"})");
  sluice_translation t;
  t.body = R"({"messages":[{"role":"user","content":"Hi"}],"n":3})";
  void* data = nullptr;
  EXPECT_EQ(provider.on_request(config, &t, &data), SLUICE_TRANSLATE_INVALID);
  EXPECT_EQ(t.failure, "n: 3 is not supported: Anthropic returns one choice");
  EXPECT_FALSE(t.body_set);
  EXPECT_EQ(data, nullptr);
  provider.on_end(config, data);  // sluice still calls it: freeing NULL is fine
}

TEST_F(AnthropicPlugin, ProviderStream) {
  void* config = make_provider(R"({"name":"c"})");
  sluice_translation t;
  t.body = R"({"messages":[{"role":"user","content":"Hi"}],"stream":true})";
  t.stream = 1;
  t.stream_usage = 1;
  void* data = nullptr;
  ASSERT_EQ(provider.on_request(config, &t, &data), SLUICE_TRANSLATE_OK);
  const std::pair<const char*, const char*> events[] = {
      {"message_start", R"({"type":"message_start","message":{"id":"msg_1","model":"claude-x",)"
                        R"("usage":{"input_tokens":10,"output_tokens":1}}})"},
      {"content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"message_delta",
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}})"},
      {"message_stop", R"({"type":"message_stop"})"},
  };
  for (const auto& [name, payload] : events) {
    ASSERT_EQ(provider.on_stream_event(config, &t, &data, str(name), str(payload)),
              SLUICE_TRANSLATE_OK)
        << t.failure;
  }
  ASSERT_EQ(provider.on_stream_end(config, &t, &data), SLUICE_TRANSLATE_OK) << t.failure;
  EXPECT_NE(t.emitted.find(R"("delta":{"content":"Hi"})"), std::string::npos) << t.emitted;
  EXPECT_NE(t.emitted.find(R"("choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,)"),
            std::string::npos);
  EXPECT_TRUE(t.emitted.ends_with("data: [DONE]\n\n"));
  // Usage is reported when it changes: at message_start, then at message_delta.
  ASSERT_EQ(t.usages.size(), 2u);
  EXPECT_EQ(t.usages[0].output_tokens, 1u);
  EXPECT_EQ(t.usages[1].output_tokens, 2u);
  provider.on_end(config, data);
}

TEST_F(AnthropicPlugin, ProviderStreamErrorEvent) {
  void* config = make_provider(R"({"name":"c"})");
  sluice_translation t;
  t.body = R"({"messages":[{"role":"user","content":"Hi"}],"stream":true})";
  void* data = nullptr;
  ASSERT_EQ(provider.on_request(config, &t, &data), SLUICE_TRANSLATE_OK);
  EXPECT_EQ(
      provider.on_stream_event(
          config, &t, &data, str("error"),
          str(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")),
      SLUICE_TRANSLATE_ERROR);
  EXPECT_EQ(t.failure, "anthropic stream: error event: overloaded_error: Overloaded");
  provider.on_end(config, data);
}

TEST_F(AnthropicPlugin, ClientApiRoundTrip) {
  sluice_translation t;
  t.endpoint = SLUICE_ENDPOINT_MESSAGES;
  t.model = "gpt-4o-mini";
  t.body = R"({"model":"quality","max_tokens":100,"messages":[{"role":"user","content":"Hi"}]})";
  void* data = nullptr;
  ASSERT_EQ(client_api.on_request(client_api.state, &t, &data), SLUICE_TRANSLATE_OK) << t.failure;
  EXPECT_EQ(t.set_body, R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],)"
                        R"("max_tokens":100})");
  ASSERT_EQ(client_api.on_response(
                client_api.state, &t, &data, 200,
                str(R"({"id":"chatcmpl-1","model":"gpt-4o-mini","choices":[{"message":)"
                    R"({"content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,)"
                    R"("completion_tokens":2}})")),
            SLUICE_TRANSLATE_OK);
  EXPECT_EQ(t.status, 200);
  EXPECT_NE(t.emitted.find(R"("id":"msg_chatcmpl-1","type":"message")"), std::string::npos)
      << t.emitted;
  ASSERT_EQ(t.usages.size(), 1u);
  EXPECT_EQ(t.usages[0].input_tokens, 7u);
  client_api.on_end(client_api.state, data);
}

TEST_F(AnthropicPlugin, ClientApiStream) {
  sluice_translation t;
  t.endpoint = SLUICE_ENDPOINT_MESSAGES;
  t.body = R"({"max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hi"}]})";
  void* data = nullptr;
  ASSERT_EQ(client_api.on_request(client_api.state, &t, &data), SLUICE_TRANSLATE_OK);
  EXPECT_NE(t.set_body.find(R"("stream":true,"stream_options":{"include_usage":true})"),
            std::string::npos);
  for (const char* payload :
       {R"({"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Yo"}}]})",
        R"({"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
        R"({"id":"c1","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}})",
        "[DONE]"}) {
    ASSERT_EQ(client_api.on_stream_event(client_api.state, &t, &data, str(""), str(payload)),
              SLUICE_TRANSLATE_OK)
        << t.failure;
  }
  ASSERT_EQ(client_api.on_stream_end(client_api.state, &t, &data), SLUICE_TRANSLATE_OK);
  EXPECT_NE(t.emitted.find("event: message_start\n"), std::string::npos) << t.emitted;
  EXPECT_TRUE(t.emitted.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
  ASSERT_FALSE(t.usages.empty());
  EXPECT_EQ(t.usages.back().input_tokens, 3u);
  client_api.on_end(client_api.state, data);
}

TEST_F(AnthropicPlugin, ClientApiRefusal) {
  sluice_translation t;
  t.endpoint = SLUICE_ENDPOINT_MESSAGES;
  t.body = R"({"messages":[{"role":"user","content":[{"type":"document","source":{}}]}]})";
  void* data = nullptr;
  EXPECT_EQ(client_api.on_request(client_api.state, &t, &data), SLUICE_TRANSLATE_INVALID);
  EXPECT_NE(t.failure.find(R"(messages[0].content[0].type: "document")"), std::string::npos);
  client_api.on_end(client_api.state, data);
}

}  // namespace
