// Tests for socket address parsing and printing.
#include "lbmail/core/socket_address.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

TEST(SocketAddress, ParsesIpv4) {
  auto a = SocketAddress::parse("127.0.0.1:9101");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 9101);
  EXPECT_EQ(a->host(), "127.0.0.1");
  EXPECT_EQ(a->toString(), "127.0.0.1:9101");
  EXPECT_EQ(a->length(), sizeof(sockaddr_in));
}

TEST(SocketAddress, ParsesBracketedIpv6) {
  auto a = SocketAddress::parse("[::1]:25");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->port(), 25);
  EXPECT_EQ(a->toString(), "[::1]:25");
}

TEST(SocketAddress, AcceptsPortZeroForAnyFreePort) {
  auto a = SocketAddress::parse("127.0.0.2:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port(), 0);
}

TEST(SocketAddress, RejectsBadText) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "localhost:80", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:80x", "::1:25", "[::1]25", "[::1]:", "[127.0.0.1]:25", "300.0.0.1:1",
                          "127.0.0.1: 80"}) {
    EXPECT_FALSE(SocketAddress::parse(bad).has_value()) << bad;
  }
}

TEST(SocketAddress, RoundTripsThroughSockaddr) {
  auto a = SocketAddress::parse("[2001:db8::5]:587");
  ASSERT_TRUE(a);
  SocketAddress b = SocketAddress::fromSockaddr(a->sockaddrPtr());
  EXPECT_EQ(b.toString(), "[2001:db8::5]:587");
}

}  // namespace
}  // namespace lbmail
