// Tests for `lbmail dkim keygen`, run as the built binary: the key file it writes loads, and the
// record it prints publishes that key's public half.
#include "lbmail/dkim/keygen_command.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

#include "lbmail/dkim/dkim_key.h"
#include "test_keys.h"

namespace lbmail::dkim {
namespace {

struct KeygenRun {
  int code;
  std::string out, err;
};

KeygenRun keygen(const std::vector<std::string>& options) {
  std::vector<std::string> argv = {test::testEnv("LBMAIL_BINARY"), "dkim", "keygen"};
  argv.insert(argv.end(), options.begin(), options.end());
  test::ChildProcess child(argv);
  int code = test::exitCode(child.wait(std::chrono::seconds(60)));
  return {code, child.out(), child.err()};
}

// The printed zone-file line's quoted strings, joined as a verifier joins them (RFC 6376 3.6.2.2);
// each string's length is checked against RFC 1035's 255 octets.
std::string publishedRecord(const std::string& out, const std::string& owner) {
  size_t start = out.find("\n" + owner + " IN TXT ( \"");
  if (start == std::string::npos) return "";
  std::string line = out.substr(start + 1, out.find('\n', start + 1) - start - 1);
  std::string joined;
  for (size_t q = line.find('"'); q != std::string::npos; q = line.find('"', q)) {
    size_t end = line.find('"', q + 1);
    std::string piece = line.substr(q + 1, end - q - 1);
    EXPECT_LE(piece.size(), 255u);
    joined += piece;
    q = end + 1;
  }
  EXPECT_EQ(line.substr(line.size() - 2), " )");
  return joined;
}

std::string freshPath(const std::string& name) {
  std::string path = test::tempPath(name);
  ::unlink(path.c_str());
  return path;
}

TEST(KeygenCommand, WritesAnRsaKeyThatLoadsAndPrintsItsRecord) {
  std::string file = freshPath("keygen_rsa.pem");
  KeygenRun r = keygen({"--domain", "Example.COM", "--selector", "s2026", "--out", file});
  ASSERT_EQ(r.code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(test::readFile(file).rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);  // PKCS#8
  auto key = DkimKey::load({"example.com", "s2026", Algorithm::kRsaSha256, file});
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->bits(), 2048);
  EXPECT_EQ(publishedRecord(r.out, "s2026._domainkey.example.com."), key->dnsRecordText()) << r.out;
  EXPECT_NE(r.out.find("key_file = \"" + file + "\""), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(KeygenCommand, WritesAnEd25519Key) {
  std::string file = freshPath("keygen_ed.pem");
  KeygenRun r = keygen({"--domain", "example.com", "--selector", "e1", "--algorithm", "ed25519", "--out", file});
  ASSERT_EQ(r.code, 0) << r.err;
  auto key = DkimKey::load({"example.com", "e1", Algorithm::kEd25519Sha256, file});
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(publishedRecord(r.out, "e1._domainkey.example.com."), key->dnsRecordText()) << r.out;
}

TEST(KeygenCommand, PrintsARelativeOutAbsolutely) {
  // The child runs in this process's working directory; a name without a folder lands there.
  std::string name = "lbmail-keygen-" + std::to_string(::getpid()) + ".pem";
  KeygenRun r = keygen({"--domain", "example.com", "--selector", "s1", "--algorithm", "ed25519", "--out", name});
  ASSERT_EQ(r.code, 0) << r.err;
  char cwd[PATH_MAX];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  std::string absolute = std::string(cwd) + "/" + name;
  EXPECT_NE(r.out.find("key_file = \"" + absolute + "\""), std::string::npos) << r.out;
  EXPECT_TRUE(DkimKey::load({"example.com", "s1", Algorithm::kEd25519Sha256, absolute}));
  ::unlink(absolute.c_str());
}

TEST(KeygenCommand, NeverOverwritesAFile) {
  std::string file = test::writeFile("keygen_existing.pem", "precious");
  KeygenRun r = keygen({"--domain", "example.com", "--selector", "s1", "--algorithm", "ed25519", "--out", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("File exists"), std::string::npos) << r.err;
  EXPECT_EQ(test::readFile(file), "precious");
}

// A write that fails part way (here the file size limit, with SIGXFSZ ignored so write()
// reports EFBIG) is an error with the reason, prints no success and leaves no partial key.
TEST(KeygenCommand, AFailedWriteLeavesNoFileAndSaysWhy) {
  std::string file = freshPath("keygen_too_big.pem");
  std::vector<std::string> argv = {"/bin/bash", "-c", "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"",
                                   test::testEnv("LBMAIL_BINARY"), "dkim", "keygen", "--domain", "example.com",
                                   "--selector", "s1", "--bits", "4096", "--out", file};
  test::ChildProcess child(argv);
  int code = test::exitCode(child.wait(std::chrono::seconds(60)));
  EXPECT_EQ(code, 1) << child.err();
  EXPECT_NE(child.err().find("cannot write " + file + ": File too large"), std::string::npos) << child.err();
  EXPECT_EQ(child.out().find("wrote"), std::string::npos) << child.out();
  EXPECT_NE(::access(file.c_str(), F_OK), 0);
}

TEST(KeygenCommand, WarnsUnder2048Bits) {
  std::string file = freshPath("keygen_1024.pem");
  KeygenRun r = keygen({"--domain", "example.com", "--selector", "s1", "--bits", "1024", "--out", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 1024-bit RSA keys are weak"), std::string::npos) << r.err;
  auto key = DkimKey::load({"example.com", "s1", Algorithm::kRsaSha256, file});
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->bits(), 1024);
}

TEST(KeygenCommand, HelpPrintsTheUsage) {
  KeygenRun r = keygen({"--help"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("usage: lbmail dkim keygen --domain D --selector S", 0), 0u) << r.out;
}

TEST(KeygenCommand, RefusesBadOptionsWithUsageErrors) {
  std::string file = freshPath("keygen_refused.pem");
  const std::vector<std::vector<std::string>> cases = {
      {"--domain", "example.com", "--selector", "s1", "--bits", "768", "--out", file},
      {"--domain", "example.com", "--selector", "s1", "--bits", "20000", "--out", file},
      {"--domain", "example.com", "--selector", "s1", "--algorithm", "ed25519", "--bits", "2048", "--out", file},
      {"--domain", "example.com", "--selector", "s;1", "--out", file},
      {"--domain", "example.com", "--selector", "s1", "--algorithm", "dsa", "--out", file},
      {"--domain", "example.com", "--selector", "s1"},
      {"--selector", "s1", "--out", file},
      {"--domain", "example.com", "--selector", "s1", "--out"},
  };
  for (const auto& c : cases) {
    KeygenRun r = keygen(c);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("lbmail dkim: "), std::string::npos) << r.err;
  }
  struct stat st {};
  EXPECT_NE(::stat(file.c_str(), &st), 0);  // nothing written
}

}  // namespace
}  // namespace lbmail::dkim
