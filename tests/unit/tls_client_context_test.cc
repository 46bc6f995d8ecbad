// The process-wide SSL_CTX cache (core/upstream/tls_client_context.cc): one context per
// distinct TLS setting, shared by every pool that asks for the same (loading the system store
// costs ~100ms), and a new one as soon as anything differs — a rotated CA file's contents too.
#include <gtest/gtest.h>

#include "core/upstream/transport.h"

namespace sluice::upstream {
namespace {

struct Ctx {
  explicit Ctx(const TlsContextSpec& spec) : ctx(acquire_tls_client_context(spec, &error)) {}
  ~Ctx() {
    if (ctx) SSL_CTX_free(ctx);
  }
  Ctx(const Ctx&) = delete;
  Ctx& operator=(const Ctx&) = delete;
  std::string error;
  SSL_CTX* ctx;
};

TEST(TlsClientContext, IdenticalSettingsShareOneContext) {
  TlsContextSpec spec;
  spec.verify = false;
  Ctx a(spec), b(spec);
  ASSERT_NE(a.ctx, nullptr) << a.error;
  EXPECT_EQ(a.ctx, b.ctx);
}

TEST(TlsClientContext, AnyDifferenceGetsItsOwn) {
  TlsContextSpec tls12;
  tls12.verify = false;
  TlsContextSpec tls13 = tls12;
  tls13.min_version = 13;
  Ctx a(tls12), b(tls13);
  ASSERT_NE(a.ctx, nullptr) << a.error;
  ASSERT_NE(b.ctx, nullptr) << b.error;
  EXPECT_NE(a.ctx, b.ctx);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(b.ctx), TLS1_3_VERSION);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(a.ctx), TLS1_2_VERSION);
}

TEST(TlsClientContext, ABadBundleIsAnErrorAndIsNotCached) {
  TlsContextSpec spec;
  spec.ca_pem = "not a certificate";
  Ctx bad(spec);
  EXPECT_EQ(bad.ctx, nullptr);
  EXPECT_NE(bad.error.find("CA bundle"), std::string::npos) << bad.error;
  Ctx again(spec);
  EXPECT_EQ(again.ctx, nullptr) << "a failure is retried, never served from the cache";
}

}  // namespace
}  // namespace sluice::upstream
