// The C++ side of mime_check.py: writes the message to a file, runs the script, reads its lines.
#include "mime_check.h"

#include <fstream>

#include "child_process.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail::test {
namespace {

std::string fromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

MimeView parseWithPython(const std::string& message) {
  MimeView view;
  static int serial = 0;
  std::string path = tempPath("message-" + std::to_string(serial++) + ".eml");
  std::ofstream(path, std::ios::binary) << message;
  ChildProcess py({testEnv("LBMAIL_PYTHON"), testEnv("LBMAIL_SOURCE_ROOT") + "/tests/media/mime_check.py", path});
  bool started = py.started();
  int status = started ? py.wait(std::chrono::seconds(60)) : -1;
  std::remove(path.c_str());
  if (!started || exitCode(status) != 0) {
    view.error = "mime_check.py failed (status " + std::to_string(status) + "): " + py.err();
    return view;
  }
  size_t pos = 0;
  const std::string& out = py.out();
  while (pos < out.size()) {
    size_t eol = out.find('\n', pos);
    if (eol == std::string::npos) eol = out.size();
    std::string line = out.substr(pos, eol - pos);
    pos = eol + 1;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    view.values[line.substr(0, tab)] = fromHex(line.substr(tab + 1));
  }
  view.ok = true;
  return view;
}

}  // namespace lbmail::test
