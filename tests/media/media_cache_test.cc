// Tests for src/media/media_cache_builder.cc, media_cache.cc and mapped_file.cc: building,
// verifying and loading the cache on real files, and refusing a damaged one.
#include "lbmail/media/media_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "lbmail/media/base64_lines.h"
#include "lbmail/media/media_cache_builder.h"
#include "lbmail/media/media_manifest.h"
#include "media_fixture.h"

namespace lbmail::media {
namespace {

using test::MediaFixture;

std::string decodeEntry(const MediaEntry& e) {
  std::string out;
  EXPECT_EQ(decodeBase64Lines(e.encoded(), out), nullptr);
  return out;
}

// Changes one octet of a file in place (the cache's files are read-only: chmod first).
void damageOctet(const std::string& path, off_t at) {
  ::chmod(path.c_str(), 0644);
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c;
  ASSERT_EQ(::pread(fd, &c, 1, at), 1);
  c = c == 'A' ? 'B' : 'A';
  ASSERT_EQ(::pwrite(fd, &c, 1, at), 1);
  ::close(fd);
}

TEST(MediaCache, BuildEncodesEveryFileOnceAndLoadMapsThem) {
  MediaFixture f("build");
  std::string pdf = f.addRandomFile("brochure.pdf", 100000);
  std::string png = f.addRandomFile("img/logo.PNG", 3000);
  f.addFile("empty.txt", "");
  f.addFile(".hidden", "skipped");
  f.addFile(".git/config", "skipped too");
  BuildReport r = f.build();
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.written, 3u);
  EXPECT_EQ(r.entries[0].name, "brochure.pdf");
  EXPECT_EQ(r.entries[0].content_type, "application/pdf");
  EXPECT_EQ(r.entries[2].name, "img/logo.PNG");
  EXPECT_EQ(r.entries[2].content_type, "image/png");
  EXPECT_EQ(r.entries[0].hash, hashMedia({reinterpret_cast<const uint8_t*>(pdf.data()), pdf.size()}));

  MediaCache cache = f.load();
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.catalog().size(), 3u);
  const MediaEntry* e = cache.find(f.hashOf(r, "brochure.pdf"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(decodeEntry(*e), pdf);
  EXPECT_EQ(e->encoded().size(), base64LinesSize(pdf.size()));
  EXPECT_EQ(decodeEntry(*cache.find(f.hashOf(r, "img/logo.PNG"))), png);
  EXPECT_TRUE(cache.find(f.hashOf(r, "empty.txt"))->encoded().empty());

  // Cache files are read-only and named by their hash.
  struct stat st;
  ASSERT_EQ(::stat((f.cache() + "/" + cacheFileName(e->hash)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0222, 0u);
}

TEST(MediaCache, RebuildReusesIntactFilesAndSharesIdenticalContent) {
  MediaFixture f("rebuild");
  std::string bytes = f.addRandomFile("a.jpg", 5000);
  f.addFile("copy-of-a.jpg", bytes);
  BuildReport first = f.build();
  EXPECT_EQ(first.written, 1u);  // one content, two names
  EXPECT_EQ(first.reused, 1u);
  EXPECT_EQ(first.entries[0].hash, first.entries[1].hash);
  BuildReport second = f.build();
  EXPECT_EQ(second.written, 0u);
  EXPECT_EQ(second.reused, 2u);
  EXPECT_EQ(f.load().size(), 1u);
}

TEST(MediaCache, VerifyPassesAnIntactCache) {
  MediaFixture f("verify-ok");
  f.addRandomFile("a.pdf", 70000);
  f.addRandomFile("b.gif", 10);
  f.build();
  auto v = verifyMediaCache(f.cache());
  ASSERT_TRUE(v) << v.error();
  EXPECT_EQ(v->checked, 2u);
  EXPECT_TRUE(v->damaged.empty());
}

TEST(MediaCache, DamagedFileIsReportedByVerifyAndRefusedByLoad) {
  MediaFixture f("damaged");
  f.addRandomFile("a.pdf", 70000);
  f.addRandomFile("b.png", 2000);
  BuildReport r = f.build();
  std::string file = cacheFileName(f.hashOf(r, "a.pdf"));
  damageOctet(f.cache() + "/" + file, 5000);

  auto v = verifyMediaCache(f.cache());
  ASSERT_TRUE(v);
  ASSERT_EQ(v->damaged.size(), 1u);
  EXPECT_EQ(v->damaged[0], file + " (a.pdf): checksum mismatch");

  auto load = MediaCache::open(f.cache());
  ASSERT_FALSE(load);
  EXPECT_NE(load.error().find(file + " (a.pdf): checksum mismatch"), std::string::npos) << load.error();

  // A rebuild repairs it.
  EXPECT_EQ(f.build().written, 1u);
  EXPECT_TRUE(MediaCache::open(f.cache()));
}

TEST(MediaCache, DamageWithAMatchingChecksumIsStillFoundByVerify) {
  MediaFixture f("recomputed");
  f.addRandomFile("a.pdf", 3000);
  BuildReport r = f.build();
  std::string path = f.cache() + "/" + cacheFileName(r.entries[0].hash);
  damageOctet(path, 10);
  // Someone "fixes" the manifest's checksum: the content no longer matches its hash.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  r.entries[0].checksum = contentChecksum(bytes);
  std::ofstream(f.cache() + "/manifest.tsv", std::ios::binary | std::ios::trunc) << formatManifest(r.entries);
  auto v = verifyMediaCache(f.cache());
  ASSERT_TRUE(v);
  ASSERT_EQ(v->damaged.size(), 1u);
  EXPECT_NE(v->damaged[0].find("decodes to other content than its hash names"), std::string::npos);
}

TEST(MediaCache, TruncatedMissingAndSymlinkedFilesAreRefused) {
  MediaFixture f("shapes");
  f.addRandomFile("a.pdf", 3000);
  f.addRandomFile("b.pdf", 3000);
  f.addRandomFile("c.pdf", 3000);
  BuildReport r = f.build();
  std::string a = f.cache() + "/" + cacheFileName(f.hashOf(r, "a.pdf"));
  ::chmod(a.c_str(), 0644);
  ASSERT_EQ(::truncate(a.c_str(), 100), 0);
  auto load = MediaCache::open(f.cache());
  ASSERT_FALSE(load);
  EXPECT_NE(load.error().find("100 octets on disk, manifest says"), std::string::npos) << load.error();

  auto v = verifyMediaCache(f.cache());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->damaged.size(), 1u);

  std::string b = f.cache() + "/" + cacheFileName(f.hashOf(r, "b.pdf"));
  ::unlink(b.c_str());
  ASSERT_EQ(::symlink(a.c_str(), b.c_str()), 0);
  std::string c = f.cache() + "/" + cacheFileName(f.hashOf(r, "c.pdf"));
  ::unlink(c.c_str());
  v = verifyMediaCache(f.cache());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->damaged.size(), 3u);
}

TEST(MediaCache, ManifestProblemsAreClearErrors) {
  MediaFixture f("manifest");
  auto none = MediaCache::open(f.cache());
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("manifest.tsv"), std::string::npos);
  f.addRandomFile("a.pdf", 10);
  f.build();
  std::ofstream(f.cache() + "/manifest.tsv", std::ios::trunc) << "not a manifest\n";
  auto bad = MediaCache::open(f.cache());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("not an lbmail media manifest"), std::string::npos) << bad.error();
  EXPECT_FALSE(verifyMediaCache(f.cache()));
}

TEST(MediaCache, MappingsOutliveTheCacheAndItsFiles) {
  MediaFixture f("lifetime");
  std::string bytes = f.addRandomFile("a.pdf", 200000);
  BuildReport r = f.build();
  std::shared_ptr<const MappedFile> held;
  {
    MediaCache cache = f.load();
    held = cache.find(r.entries[0].hash)->file;
  }
  // The cache is gone and its files removed: the held mapping still reads every byte.
  std::filesystem::remove_all(f.cache());
  std::string decoded;
  ASSERT_EQ(decodeBase64Lines(held->bytes(), decoded), nullptr);
  EXPECT_EQ(decoded, bytes);
}

TEST(MediaCache, ASourceTruncatedAfterTheBuildCannotHurtTheGateway) {
  MediaFixture f("source-truncated");
  std::string bytes = f.addRandomFile("video.mp4", 300000);
  BuildReport r = f.build();
  MediaCache cache = f.load();
  // Only cache files are mapped: truncating the source changes nothing the gateway reads.
  ASSERT_EQ(::truncate((f.src() + "/video.mp4").c_str(), 0), 0);
  std::string decoded;
  ASSERT_EQ(decodeBase64Lines(cache.find(r.entries[0].hash)->encoded(), decoded), nullptr);
  EXPECT_EQ(decoded, bytes);
}

TEST(MediaCache, NamesWithControlCharactersAreRefusedAtBuild) {
  MediaFixture f("names");
  f.addFile("bad\tname.pdf", "x");
  auto r = buildMediaCache(f.src(), f.cache());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("control character or tab in name"), std::string::npos);
  EXPECT_FALSE(buildMediaCache(f.src(), f.src()));  // the cache must be elsewhere
  EXPECT_FALSE(buildMediaCache(f.src(), f.src() + "/cache"));
  EXPECT_FALSE(buildMediaCache(f.src() + "/missing", f.cache()));
}

}  // namespace
}  // namespace lbmail::media
