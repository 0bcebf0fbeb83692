// A scratch source folder and media cache for a test: files written, built with the real
// builder, loaded with the real loader; removed when the test ends.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "lbmail/media/media_cache.h"
#include "lbmail/media/media_cache_builder.h"
#include "temp_path.h"

namespace lbmail::test {

class MediaFixture {
 public:
  explicit MediaFixture(const std::string& name)
      : root_(tempPath(name + "-" + std::to_string(serial_++))), src_(root_ + "/src"), cache_(root_ + "/cache") {
    std::filesystem::create_directories(src_);
  }
  ~MediaFixture() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  const std::string& src() const { return src_; }
  const std::string& cache() const { return cache_; }

  // Writes size random octets (seeded by the name) as src/name and returns them.
  std::string addRandomFile(const std::string& name, size_t size) {
    std::mt19937_64 rng(std::hash<std::string>()(name));
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    return addFile(name, bytes);
  }

  std::string addFile(const std::string& name, const std::string& bytes) {
    std::filesystem::path p = std::filesystem::path(src_) / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return bytes;
  }

  media::BuildReport build() {
    auto report = media::buildMediaCache(src_, cache_);
    EXPECT_TRUE(report) << (report ? "" : report.error());
    return report ? *report : media::BuildReport{};
  }

  media::MediaCache load() {
    auto cache = media::MediaCache::open(cache_);
    EXPECT_TRUE(cache) << (cache ? "" : cache.error());
    return cache ? std::move(*cache) : media::MediaCache{};
  }

  media::MediaHash hashOf(const media::BuildReport& r, const std::string& name) const {
    for (const auto& e : r.entries) {
      if (e.name == name) return e.hash;
    }
    ADD_FAILURE() << name << " not in the build report";
    return {};
  }

 private:
  static inline int serial_ = 0;
  std::string root_;
  std::string src_;
  std::string cache_;
};

}  // namespace lbmail::test
