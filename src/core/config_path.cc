// Paths in a configuration file, relative to the file.
#include "lbmail/core/config_path.h"

#include <filesystem>

namespace lbmail {

std::string resolveConfigPath(const std::string& config_file, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return (std::filesystem::path(config_file).parent_path() / path).lexically_normal().string();
}

}  // namespace lbmail
