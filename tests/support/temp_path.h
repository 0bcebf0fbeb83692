// Paths for a test's scratch files, unique to the test process so that concurrent runs (two
// build directories, two CI jobs) never share a file.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace lbmail::test {

inline std::string tempPath(const std::string& name) {
  return ::testing::TempDir() + "/lbmail-" + std::to_string(getpid()) + "-" + name;
}

}  // namespace lbmail::test
