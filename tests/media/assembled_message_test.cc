// Tests of an assembled message's slices over its own bytes and shared bytes.
#include "lbmail/media/assembled_message.h"

#include <gtest/gtest.h>

namespace lbmail::media {
namespace {

TEST(AssembledMessage, LaysPiecesOverPersonalisedAndSharedBytesInOrder) {
  static const char kShared[] = "SHARED-BODY";
  std::string personalised = "To: a@example.com\r\nHi\r\n";
  std::vector<MessagePiece> pieces = {
      {nullptr, 0, 19, false},     // "To: a@example.com\r\n"
      {kShared, 0, 6, true},       // "SHARED"
      {nullptr, 19, 4, false},     // "Hi\r\n"
      {kShared + 6, 0, 5, false},  // "-BODY"
  };
  AssembledMessage m(nullptr, personalised, pieces);
  ASSERT_EQ(m.slices().size(), 4u);
  EXPECT_EQ(m.slices()[1].data(), kShared);  // shared bytes are not copied
  EXPECT_EQ(m.flatten(), "To: a@example.com\r\nSHAREDHi\r\n-BODY");
  EXPECT_EQ(m.size(), 34u);
  EXPECT_EQ(m.personalisedSize(), personalised.size());
  // The plain-lines marks run parallel to the slices, for the DKIM body hash.
  EXPECT_EQ(std::vector<uint8_t>(m.plainLines().begin(), m.plainLines().end()), (std::vector<uint8_t>{0, 1, 0, 0}));

  // Copies share the bytes: the views stay valid while any copy lives.
  AssembledMessage copy = m;
  EXPECT_EQ(copy.slices()[0].data(), m.slices()[0].data());
  EXPECT_NE(copy.owner(), nullptr);
}

}  // namespace
}  // namespace lbmail::media
