// Tests for the address ranges a destination found through DNS must not be in.
#include "address_scope.h"

#include <gtest/gtest.h>

#include <string>

namespace lbmail::delivery {
namespace {

std::string rangeOf(const std::string& ip) {
  std::optional<SocketAddress> a = SocketAddress::parse(ip.find(':') == std::string::npos ? ip + ":25" : "[" + ip + "]:25");
  EXPECT_TRUE(a) << ip;
  return a ? std::string(nonPublicRange(*a)) : "unparsed";
}

TEST(AddressScope, PublicAddressesPass) {
  for (const char* ip : {"8.8.8.8", "1.1.1.1", "9.255.255.255", "11.0.0.1", "100.63.255.255", "100.128.0.0",
                         "126.255.255.255", "128.0.0.1", "169.253.1.1", "172.15.255.255", "172.32.0.0",
                         "192.167.1.1", "192.169.0.0", "223.255.255.255", "2a00:1450:4001::1", "2001:4860::8888",
                         "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"}) {
    EXPECT_EQ(rangeOf(ip), "") << ip;
  }
}

TEST(AddressScope, NamesEveryNonPublicKind) {
  struct Case {
    const char* ip;
    const char* kind;
  };
  for (const Case& c : {Case{"127.0.0.1", "loopback"}, Case{"127.255.255.254", "loopback"},
                        Case{"0.0.0.0", "unspecified"}, Case{"10.1.2.3", "private"}, Case{"172.16.0.1", "private"},
                        Case{"172.31.255.255", "private"}, Case{"192.168.1.1", "private"},
                        Case{"100.64.0.1", "shared"}, Case{"169.254.169.254", "link-local"},
                        Case{"224.0.0.1", "multicast"}, Case{"239.255.255.250", "multicast"},
                        Case{"255.255.255.255", "reserved"}, Case{"192.0.2.1", "documentation"},
                        Case{"::", "unspecified"}, Case{"::1", "loopback"}, Case{"fc00::1", "unique local"},
                        Case{"fd12:3456::1", "unique local"}, Case{"fe80::1", "link-local"},
                        Case{"ff02::1", "multicast"}, Case{"2001:db8::1", "documentation"},
                        // The IPv4 address inside a mapped or NAT64 one is what a connection reaches.
                        Case{"::ffff:127.0.0.1", "loopback"}, Case{"::ffff:10.0.0.1", "private"},
                        Case{"::ffff:169.254.169.254", "link-local"}, Case{"64:ff9b::7f00:1", "loopback"},
                        Case{"::127.0.0.1", "reserved"}}) {
    EXPECT_NE(rangeOf(c.ip).find(c.kind), std::string::npos) << c.ip << ": " << rangeOf(c.ip);
  }
}

}  // namespace
}  // namespace lbmail::delivery
