// External validation of documents through Python's parsers.
#include "validate.h"

#include <cstdlib>

#include "child_process.h"

namespace lbmail::test {

std::string testEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Validation validateDocument(const std::string& kind, const std::string& text) {
  ChildProcess py({testEnv("LBMAIL_PYTHON"), testEnv("LBMAIL_VALIDATE"), kind}, text);
  if (!py.started()) return {false, "could not start " + testEnv("LBMAIL_PYTHON")};
  int status = py.wait();
  return {exitCode(status) == 0, py.out() + py.err()};
}

}  // namespace lbmail::test
