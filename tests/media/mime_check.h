// Runs tests/media/mime_check.py: a message parsed by Python's email package, as a client sees it.
#pragma once

#include <map>
#include <string>

namespace lbmail::test {

struct MimeView {
  bool ok = false;                            // the parser ran and printed its report
  std::string error;                          // what went wrong otherwise
  std::map<std::string, std::string> values;  // key -> decoded value (see mime_check.py)

  std::string get(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? "<absent>" : it->second;
  }
};

MimeView parseWithPython(const std::string& message);

}  // namespace lbmail::test
