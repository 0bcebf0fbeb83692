// Paths written in a configuration file: relative ones are read against the file's own folder,
// never the working directory, so a deployment folder works wherever it is and however started.
#pragma once

#include <string>

namespace lbmail {

// path unchanged when it is absolute or empty; otherwise joined to config_file's folder.
std::string resolveConfigPath(const std::string& config_file, const std::string& path);

}  // namespace lbmail
