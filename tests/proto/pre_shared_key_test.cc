// Tests for key files and the per-gateway TLS pre-shared keys derived from them.
#include "lbmail/proto/pre_shared_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "temp_path.h"

namespace lbmail::proto {
namespace {

std::string writeKey(const std::string& name, const std::string& content, mode_t mode) {
  std::string path = test::tempPath(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  chmod(path.c_str(), mode);
  return path;
}

TEST(PreSharedKey, LoadsAPrivateFileWithoutItsTrailingNewline) {
  std::string path = writeKey("psk_ok", "0123456789abcdef0123\n", 0600);
  auto key = PreSharedKey::loadFile(path);
  ASSERT_TRUE(key) << key.error();
  // The same bytes without the newline derive the same link keys.
  PreSharedKey same = PreSharedKey::fromBytes("0123456789abcdef0123");
  EXPECT_EQ(same.linkPsk("gw1"), key->linkPsk("gw1"));
}

TEST(PreSharedKey, RefusesAFileOthersCanRead) {
  std::string path = writeKey("psk_open", "0123456789abcdef0123", 0644);
  auto key = PreSharedKey::loadFile(path);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("accessible to its group or other users"), std::string::npos) << key.error();
}

TEST(PreSharedKey, RefusesAFileItsGroupCanRead) {
  auto key = PreSharedKey::loadFile(writeKey("psk_group", "0123456789abcdef0123", 0640));
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("accessible to its group or other users"), std::string::npos) << key.error();
}

TEST(PreSharedKey, RefusesASymlinkEvenToAGoodKey) {
  std::string target = writeKey("psk_target", "0123456789abcdef0123", 0600);
  std::string link = test::tempPath("psk_link");
  ::unlink(link.c_str());
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto key = PreSharedKey::loadFile(link);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("is a symbolic link"), std::string::npos) << key.error();
}

TEST(PreSharedKey, RefusesAFileAnotherUserOwns) {
  // Only root can give a file away; elsewhere the check is the same code path as the mode's.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  std::string path = writeKey("psk_foreign", "0123456789abcdef0123", 0600);
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  auto key = PreSharedKey::loadFile(path);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("is owned by uid 65534"), std::string::npos) << key.error();
}

TEST(PreSharedKey, RefusesAShortKey) {
  auto key = PreSharedKey::loadFile(writeKey("psk_short", "short\n", 0600));
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("fewer than 16 bytes"), std::string::npos) << key.error();
}

TEST(PreSharedKey, RefusesAMissingFile) {
  auto key = PreSharedKey::loadFile("/nonexistent/psk");
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("cannot read key file /nonexistent/psk"), std::string::npos);
}

TEST(PreSharedKey, RefusesWhatIsNotASmallRegularFile) {
  auto dir = PreSharedKey::loadFile(::testing::TempDir());
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().find("is not a regular file"), std::string::npos) << dir.error();
  EXPECT_FALSE(PreSharedKey::loadFile("/dev/zero"));
  auto big = PreSharedKey::loadFile(writeKey("psk_big", std::string(5000, 'k'), 0600));
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().find("larger than 4096 bytes"), std::string::npos) << big.error();
}

std::string hex(const PreSharedKey::Derived& d) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

TEST(PreSharedKey, TheLinkPskIsHkdfSha256OverTheKeyWithTheGatewaysName) {
  // Known answer from Python's hmac module (RFC 5869 by hand), as a second implementation
  // would compute it: PRK = HMAC(salt "lbmail-link/3", key); PSK = HMAC(PRK, "psk gw1" 0x01).
  PreSharedKey k = PreSharedKey::fromBytes("0123456789abcdef0123");
  EXPECT_EQ(hex(k.linkPsk("gw1")), "5389ea6eea50d16caa47b4f0b257d913b591d256c4da747044a15c5d64f88cf0");
}

TEST(PreSharedKey, EachGatewayNameAndEachKeyDeriveAnotherPsk) {
  PreSharedKey k = PreSharedKey::fromBytes("0123456789abcdef0123456789abcdef");
  PreSharedKey other = PreSharedKey::fromBytes("0123456789abcdef0123456789abcdeX");
  EXPECT_NE(k.linkPsk("gw1"), k.linkPsk("gw2"));
  EXPECT_NE(k.linkPsk("gw1"), k.linkPsk("gw1 "));
  EXPECT_NE(k.linkPsk("gw1"), other.linkPsk("gw1"));
}

}  // namespace
}  // namespace lbmail::proto
