// `lbmail suppress add|remove|import|list --db DB ...`: the suppression list by hand.
#pragma once

#include <string_view>
#include <vector>

namespace lbmail {

// args: after "suppress". Returns the exit status: 0 done (bad addresses and lines are reported
// on stderr and counted), 1 the database failed or a file could not be read, 2 usage error.
int runSuppressCommand(const std::vector<std::string_view>& args);

}  // namespace lbmail
