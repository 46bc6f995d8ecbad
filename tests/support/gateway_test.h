// GatewayTest: the fixture most integration tests share — one tests/support mock provider and
// one sluice in front of it with the standard GatewayConfig (tests/support/gateway_config.h).
#pragma once

#include <gtest/gtest.h>

#include "tests/support/integration_env.h"

namespace sluice::test {

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    GatewayConfig config;
    config.provider_base_url = mock.base_url();
    ASSERT_TRUE(sluice.start(sluice_binary(), config.to_yaml()));
  }

  MockProvider mock{mock_provider_binary()};
  SluiceServer sluice;
};

}  // namespace sluice::test
