// One cache file mapped read-only. Shared ownership keeps the bytes mapped while any message
// still being written refers to them, so reloading the cache never pulls pages from under a
// write.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"

namespace lbmail::media {

class MappedFile {
 public:
  // Maps name, relative to the open directory dir_fd, which must be a regular file (symbolic
  // links are refused) of exactly expected_size octets. Blocking: call at start-up or off-loop.
  static Expected<std::shared_ptr<const MappedFile>, std::string> open(int dir_fd, const std::string& name,
                                                                       uint64_t expected_size);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}

  void* data_;
  size_t size_;
};

}  // namespace lbmail::media
