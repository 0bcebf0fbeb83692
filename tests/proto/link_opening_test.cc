// Tests for src/proto/link_opening.cc: telling TLS from older plaintext links.
#include "lbmail/proto/link_opening.h"

#include <gtest/gtest.h>

#include <vector>

#include "lbmail/proto/frame_codec.h"

namespace lbmail::proto {
namespace {

LinkOpening classify(std::vector<uint8_t> bytes, Role receiver = Role::kGateway) { return classifyOpening(bytes, receiver); }

TEST(LinkOpening, AClientHelloRecordIsTls) {
  EXPECT_EQ(classify({22, 3, 1, 0, 200}).kind, LinkOpening::Kind::kTls);
}

TEST(LinkOpening, AnAlertIsTlsOnlyForTheInitiator) {
  // A gateway refusing a ClientHello answers with an alert; an initiator never opens with one.
  EXPECT_EQ(classify({21, 3, 3, 0, 2}, Role::kInitiator).kind, LinkOpening::Kind::kTls);
  EXPECT_EQ(classify({21, 3, 3, 0, 2}, Role::kGateway).kind, LinkOpening::Kind::kOther);
}

TEST(LinkOpening, VersionOneAndTwoHeadersAreOldLinks) {
  LinkOpening v2 = classify({'L', 'B', 2, 2, 0, 0});
  EXPECT_EQ(v2.kind, LinkOpening::Kind::kOldLink);
  EXPECT_EQ(v2.old_version, 2);
  EXPECT_EQ(classify({'L', 'B', 1}).old_version, 1);
  // Version 3 frames never travel in clear, and two bytes are not enough to tell.
  EXPECT_EQ(classify({'L', 'B', 3}).kind, LinkOpening::Kind::kOther);
  EXPECT_EQ(classify({'L', 'B'}).kind, LinkOpening::Kind::kOther);
  EXPECT_EQ(classify({'G', 'E', 'T'}).kind, LinkOpening::Kind::kOther);
}

TEST(LinkOpening, TheOldLinksGoodbyeCarriesItsVersionAndTheReason) {
  BufferList out;
  encodeOldLinkGoodbye(out, 2);
  std::vector<uint8_t> bytes;
  for (const uv_buf_t& b : out.uvBufs()) bytes.insert(bytes.end(), b.base, b.base + b.len);
  ASSERT_GE(bytes.size(), kHeaderSize);
  EXPECT_EQ(bytes[2], 2);   // version
  EXPECT_EQ(bytes[3], 15);  // GOODBYE
  std::string text(bytes.begin(), bytes.end());
  EXPECT_NE(text.find("link version 3 needs TLS 1.3"), std::string::npos);
}

}  // namespace
}  // namespace lbmail::proto
