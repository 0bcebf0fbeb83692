// Tests for the feedback key file: hex or raw secrets, and clear errors that name the file.
#include "lbmail/feedback/feedback_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "temp_path.h"

namespace lbmail::feedback {
namespace {

std::string writeKey(const std::string& name, const std::string& content, mode_t mode = 0600) {
  std::string path = test::tempPath(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  chmod(path.c_str(), mode);
  return path;
}

const std::string kHex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

TEST(FeedbackKey, ReadsHexDigitsAsBytes) {
  std::string path = writeKey("fk_hex", "  " + kHex + "\n");
  auto key = FeedbackKey::load(path, 3);
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->id(), 3);
  ASSERT_EQ(key->secret().size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(key->secret()[1]), 0x11);
  EXPECT_EQ(static_cast<unsigned char>(key->secret()[31]), 0xff);
  unlink(path.c_str());
}

TEST(FeedbackKey, ReadsOtherBytesAsTheSecretItself) {
  std::string raw = "not hex at all: a passphrase of more than 32 bytes";
  std::string path = writeKey("fk_raw", raw + "\r\n");
  auto key = FeedbackKey::load(path, 1);
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->secret(), raw);
  unlink(path.c_str());
}

TEST(FeedbackKey, RefusesShortKeysAndNamesTheFile) {
  struct Case {
    const char* name;
    std::string content;
    const char* says;
  };
  for (const Case& c : {Case{"fk_short_hex", kHex.substr(0, 62) + "\n", "62 hex digits"},
                        Case{"fk_odd_hex", kHex + "a", "odd number"},
                        Case{"fk_short_raw", "too short, not hex\n", "18 bytes"},
                        Case{"fk_empty", "\n\n", "0 bytes"}}) {
    std::string path = writeKey(c.name, c.content);
    auto key = FeedbackKey::load(path, 1);
    ASSERT_FALSE(key) << c.name;
    EXPECT_NE(key.error().find(path), std::string::npos) << key.error();
    EXPECT_NE(key.error().find(c.says), std::string::npos) << key.error();
    unlink(path.c_str());
  }
}

TEST(FeedbackKey, RefusesAMissingOrReadableByOthersFile) {
  std::string missing = test::tempPath("fk_missing");
  auto key = FeedbackKey::load(missing, 1);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find(missing), std::string::npos) << key.error();
  std::string open = writeKey("fk_open", kHex, 0644);
  key = FeedbackKey::load(open, 1);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("chmod 0600"), std::string::npos) << key.error();
  unlink(open.c_str());
}

}  // namespace
}  // namespace lbmail::feedback
