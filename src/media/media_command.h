// `lbmail media build|verify`: the media cache from the command line.
#pragma once

#include <string_view>
#include <vector>

namespace lbmail::media {

// Runs the subcommand in args (after "media"); returns the process exit status: 0 done,
// 1 failed or damage found, 2 usage error.
int runMediaCommand(const std::vector<std::string_view>& args);

}  // namespace lbmail::media
