// Keys for the DKIM tests, made by the openssl command line (not by the code under test), and
// files written with the permissions a test asks for.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "child_process.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail::test {

// Runs the openssl command line with args; its stdout, or "" when it failed.
inline std::string runOpenssl(const std::vector<std::string>& args, const std::string& input = "") {
  std::vector<std::string> argv = {testEnv("LBMAIL_OPENSSL")};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv, input);
  return exitCode(child.wait()) == 0 ? child.out() : "";
}

// A new private key in PKCS#8 PEM: "RSA" with bits, or "ED25519".
inline std::string generatePem(const std::string& algorithm, int bits = 2048) {
  std::vector<std::string> args = {"genpkey", "-algorithm", algorithm};
  if (algorithm == "RSA") {
    args.push_back("-pkeyopt");
    args.push_back("rsa_keygen_bits:" + std::to_string(bits));
  }
  return runOpenssl(args);
}

inline std::string writeFile(const std::string& name, const std::string& content, mode_t mode = 0600) {
  std::string path = tempPath(name);
  ::unlink(path.c_str());
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  ::chmod(path.c_str(), mode);
  return path;
}

inline std::string readFile(const std::string& path) {
  std::string content;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return content;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) content.append(buf, n);
  std::fclose(f);
  return content;
}

}  // namespace lbmail::test
