// `lbmail dkim keygen`: a new DKIM key file and the DNS record that publishes it.
#pragma once

#include <string_view>
#include <vector>

namespace lbmail::dkim {

// Runs the subcommand in args (after "dkim"); returns the process exit status: 0 done,
// 1 failed (the file exists, cannot be written), 2 usage error.
int runDkimCommand(const std::vector<std::string_view>& args);

}  // namespace lbmail::dkim
