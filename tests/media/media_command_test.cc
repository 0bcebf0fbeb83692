// Tests for src/media/media_command.cc: `lbmail media build|verify` through the real binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child_process.h"
#include "lbmail/media/media_manifest.h"
#include "media_fixture.h"
#include "validate.h"

namespace lbmail::media {
namespace {

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

RunResult lbmail(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::testEnv("LBMAIL_BINARY"), "media"};
  argv.insert(argv.end(), args.begin(), args.end());
  test::ChildProcess p(argv);
  int status = p.wait(std::chrono::seconds(60));
  return {test::exitCode(status), p.out(), p.err()};
}

TEST(MediaCommand, BuildThenVerifyThenFindDamage) {
  test::MediaFixture f("command");
  f.addRandomFile("offer.pdf", 123456);
  f.addRandomFile("pics/banner.webp", 9999);
  RunResult built = lbmail({"build", "--src", f.src(), "--cache", f.cache()});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_NE(built.out.find("application/pdf"), std::string::npos) << built.out;
  EXPECT_NE(built.out.find("image/webp                pics/banner.webp"), std::string::npos) << built.out;
  EXPECT_NE(built.out.find("media build: 2 files, 133455 octets"), std::string::npos) << built.out;
  EXPECT_NE(built.out.find("2 written, 0 already cached"), std::string::npos) << built.out;

  RunResult again = lbmail({"build", "--src", f.src(), "--cache", f.cache()});
  EXPECT_NE(again.out.find("0 written, 2 already cached"), std::string::npos) << again.out;

  RunResult ok = lbmail({"verify", "--cache", f.cache()});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("media verify: 2 checked, 0 damaged"), std::string::npos) << ok.out;

  // Damage the PDF's cache file: verify names it and fails.
  std::string hash = built.out.substr(0, 32);
  std::string path = f.cache() + "/" + hash + ".b64";
  ::chmod(path.c_str(), 0644);
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "!", 1, 100), 1);
  ::close(fd);
  RunResult bad = lbmail({"verify", "--cache", f.cache()});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("damaged: " + hash + ".b64 ("), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("1 damaged"), std::string::npos) << bad.out;
}

TEST(MediaCommand, UsageErrors) {
  EXPECT_EQ(lbmail({}).code, 2);
  EXPECT_EQ(lbmail({"bake"}).code, 2);
  EXPECT_EQ(lbmail({"build", "--src", "/tmp"}).code, 2);
  EXPECT_EQ(lbmail({"build", "--src"}).code, 2);
  EXPECT_EQ(lbmail({"verify", "--cache", "/tmp", "--bogus", "x"}).code, 2);
  RunResult help = lbmail({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("lbmail media build --src DIR --cache DIR"), std::string::npos);
  RunResult missing = lbmail({"verify", "--cache", "/nonexistent/lbmail-cache"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/lbmail-cache/manifest.tsv"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace lbmail::media
