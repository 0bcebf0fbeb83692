// Tests for src/media/media_manifest.cc: the format round-trips and bad lines are named.
#include "lbmail/media/media_manifest.h"

#include <gtest/gtest.h>

namespace lbmail::media {
namespace {

ManifestEntry entry(uint8_t first, const std::string& name) {
  ManifestEntry e;
  e.hash[0] = first;
  e.source_size = 3;
  e.encoded_size = 6;
  e.checksum = 0xabc;
  e.content_type = "text/plain";
  e.name = name;
  return e;
}

TEST(MediaManifest, RoundTrips) {
  std::vector<ManifestEntry> in{entry(1, "a.txt"), entry(2, "dir/Bericht Müller.txt"), entry(1, "same-as-a.txt")};
  auto out = parseManifest(formatManifest(in));
  ASSERT_TRUE(out) << out.error();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ((*out)[1].name, "dir/Bericht Müller.txt");
  EXPECT_EQ((*out)[1].hash, in[1].hash);
  EXPECT_EQ((*out)[0].checksum, 0xabcu);
}

TEST(MediaManifest, BadLinesAreNamed) {
  std::string head = std::string(kManifestMagic) + "\n";
  std::string good = formatManifest({entry(1, "a.txt")});
  std::string row = good.substr(good.rfind('\n', good.size() - 2) + 1);
  struct Case {
    std::string text;
    std::string error;
  };
  std::string zeros(32, '0');
  for (const Case& c : {
           Case{"", "not an lbmail media manifest"},
           Case{"# lbmail media manifest 2\n", "not an lbmail media manifest"},
           Case{head + "x\n", "line 2: expected 6 tab-separated fields"},
           Case{head + "ZZ\t1\t1\t0000000000000000\ta/b\tn\n", "line 2: hash is not 32 lowercase hex digits"},
           Case{head + zeros + "\t-1\t1\t0000000000000000\ta/b\tn\n", "line 2: bad source size"},
           Case{head + zeros + "\t1\t1\t00\ta/b\tn\n", "line 2: bad checksum"},
           Case{head + zeros + "\t1\t1\t0000000000000000\tnoslash\tn\n", "line 2: bad content type"},
           Case{head + zeros + "\t1\t1\t0000000000000000\ta/b\t\n", "line 2: empty name"},
           Case{head + zeros + "\t1\t1\t0000000000000000\ta/b\tn\r\n", "line 2: control character"},
           Case{head + zeros + "\t1\t1\t0000000000000000\ta/b\tn", "line 2: does not end in a line feed"},
           Case{good + row.substr(0, 33) + "9" + row.substr(34), "same hash as an earlier line with other sizes"},
       }) {
    auto r = parseManifest(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().find(c.error), std::string::npos) << r.error();
  }
}

}  // namespace
}  // namespace lbmail::media
