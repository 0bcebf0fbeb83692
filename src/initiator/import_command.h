// `lbmail import FILE --db DB`: recipients from CSV into the database.
#pragma once

#include <string_view>
#include <vector>

namespace lbmail {

// args: after "import". Returns the exit status: 0 imported (rejected rows are reported on
// stderr and counted), 1 the import could not run, 2 usage error.
int runImportCommand(const std::vector<std::string_view>& args);

}  // namespace lbmail
