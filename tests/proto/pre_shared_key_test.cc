// Tests for key files and the handshake proofs.
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
  Nonce a = PreSharedKey::freshNonce(), b = PreSharedKey::freshNonce();
  // The same bytes without the newline make the same proofs.
  PreSharedKey same = PreSharedKey::fromBytes("0123456789abcdef0123");
  EXPECT_TRUE(same.verify(Role::kGateway, a, b, key->prove(Role::kGateway, a, b)));
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
  EXPECT_NE(big.error().find("larger than 4 KiB"), std::string::npos) << big.error();
}

TEST(PreSharedKey, ProofsDependOnKeyRoleAndBothNonces) {
  PreSharedKey k = PreSharedKey::fromBytes("0123456789abcdef0123456789abcdef");
  PreSharedKey other = PreSharedKey::fromBytes("0123456789abcdef0123456789abcdeX");
  Nonce a = PreSharedKey::freshNonce(), b = PreSharedKey::freshNonce();
  ASSERT_NE(a, b);  // fresh nonces differ
  Proof p = k.prove(Role::kInitiator, a, b);
  EXPECT_TRUE(k.verify(Role::kInitiator, a, b, p));
  EXPECT_FALSE(k.verify(Role::kGateway, a, b, p));     // not replayable as the other side's
  EXPECT_FALSE(k.verify(Role::kInitiator, b, a, p));   // bound to the nonces' order
  EXPECT_FALSE(other.verify(Role::kInitiator, a, b, p));
  Nonce c = a;
  c[31] ^= 1;
  EXPECT_FALSE(k.verify(Role::kInitiator, c, b, p));
}

}  // namespace
}  // namespace lbmail::proto
