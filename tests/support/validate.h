// Runs tests/support/validate.py: real parsers (Prometheus text, JSON) over a document.
#pragma once

#include <string>

namespace lbmail::test {

struct Validation {
  bool ok = false;
  std::string summary;  // what the parser said, for assertions and messages
};

// kind: "prometheus" or "json". Uses LBMAIL_PYTHON and LBMAIL_VALIDATE from the test's environment.
Validation validateDocument(const std::string& kind, const std::string& text);

// An environment variable the test runner sets (paths of the binary, the source tree, ...).
std::string testEnv(const char* name);

}  // namespace lbmail::test
