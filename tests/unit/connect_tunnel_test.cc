// The CONNECT exchange with an egress proxy, without sockets (core/upstream/connect_tunnel.h):
// the request sluice writes and how the proxy's answer is read, split anywhere.
#include "core/upstream/connect_tunnel.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::upstream {
namespace {

TEST(ConnectTunnel, RequestNamesTheTargetAndCarriesCredentials) {
  EXPECT_EQ(connect_request("api.x.com", 443, ""),
            "CONNECT api.x.com:443 HTTP/1.1\r\nHost: api.x.com:443\r\n\r\n");
  EXPECT_EQ(connect_request("::1", 8443, "Basic dTpw"),
            "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"
            "Proxy-Authorization: Basic dTpw\r\n\r\n");
}

TEST(ConnectTunnel, EstablishedEvenWhenTheHeadArrivesByteByByte) {
  const std::string head = "HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n";
  TunnelReply reply;
  size_t consumed = 0;
  for (size_t i = 0; i + 1 < head.size(); ++i) {
    ASSERT_EQ(reply.feed(&head[i], 1, &consumed), TunnelReply::Result::NeedMore) << i;
  }
  EXPECT_EQ(reply.feed(&head.back(), 1, &consumed), TunnelReply::Result::Established);
  EXPECT_EQ(consumed, 1u);
  EXPECT_EQ(reply.status(), 200);
}

TEST(ConnectTunnel, BytesAfterTheHeadAreNotConsumed) {
  const std::string data = "HTTP/1.0 200 OK\r\n\r\nEXTRA";
  TunnelReply reply;
  size_t consumed = 0;
  EXPECT_EQ(reply.feed(data.data(), data.size(), &consumed), TunnelReply::Result::Established);
  EXPECT_EQ(consumed, data.size() - 5);
}

TEST(ConnectTunnel, RefusalKeepsStatusAndReason) {
  const std::string data =
      "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n";
  TunnelReply reply;
  size_t consumed = 0;
  EXPECT_EQ(reply.feed(data.data(), data.size(), &consumed), TunnelReply::Result::Refused);
  EXPECT_EQ(reply.status(), 407);
  EXPECT_EQ(reply.reason(), "Proxy Authentication Required");
}

TEST(ConnectTunnel, GarbageAndEndlessHeadsFail) {
  TunnelReply garbage;
  size_t consumed = 0;
  const std::string junk = "SSH-2.0-OpenSSH\r\n\r\n";
  EXPECT_EQ(garbage.feed(junk.data(), junk.size(), &consumed), TunnelReply::Result::Malformed);

  TunnelReply endless;
  const std::string line = "HTTP/1.1 200 OK\r\nX-Filler: " + std::string(1000, 'a') + "\r\n";
  TunnelReply::Result r = TunnelReply::Result::NeedMore;
  for (int i = 0; i < 100 && r == TunnelReply::Result::NeedMore; ++i) {
    r = endless.feed(line.data(), line.size(), &consumed);
  }
  EXPECT_EQ(r, TunnelReply::Result::TooLarge);
}

}  // namespace
}  // namespace sluice::upstream
