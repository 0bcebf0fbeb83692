// The test CA: the openssl command run in a temporary directory, one file per certificate.
#include "test_pki.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "child_process.h"
#include "validate.h"

namespace lbmail::test {
namespace {

bool isAddressLiteral(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

std::string subjectAltNames(const std::vector<std::string>& names) {
  std::string san;
  for (const std::string& n : names) san += (san.empty() ? "" : ",") + std::string(isAddressLiteral(n) ? "IP:" : "DNS:") + n;
  return san;
}

// openssl ca's date form, in UTC.
std::string caDate(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

bool writeFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  return static_cast<bool>(f);
}

}  // namespace

TestPki::TestPki() {
  openssl_path_ = testEnv("LBMAIL_OPENSSL");
  if (openssl_path_.empty()) openssl_path_ = "/usr/bin/openssl";
  std::string pattern = ::testing::TempDir() + "/lbmail-pki-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    error_ = "cannot make a directory like " + pattern;
    return;
  }
  dir_ = pattern;
  // openssl ca keeps its issued certificates in a small database of text files.
  std::string cnf = "[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = " + dir_ + "/index.txt\nnew_certs_dir = " +
                    dir_ + "/issued\nserial = " + dir_ + "/serial\ndefault_md = sha256\npolicy = any_name\n" +
                    "unique_subject = no\n[any_name]\ncommonName = supplied\n";
  std::filesystem::create_directory(dir_ + "/issued");
  if (!writeFile(dir_ + "/ca.cnf", cnf) || !writeFile(dir_ + "/index.txt", "") || !writeFile(dir_ + "/serial", "1000\n")) {
    error_ = "cannot write the CA's files in " + dir_;
    return;
  }
  ca_.key = key("ca");
  if (ca_.key.empty()) return;
  ca_.cert = dir_ + "/ca.pem";
  if (!openssl({"req", "-x509", "-new", "-key", ca_.key, "-out", ca_.cert, "-days", "60", "-subj", "/CN=lbmail test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"})) {
    ca_ = {};
  }
  chmod(ca_.cert.c_str(), 0644);
}

TestPki::~TestPki() {
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

bool TestPki::openssl(const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv = {openssl_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv);
  if (!child.started()) {
    error_ = "cannot run " + openssl_path_;
    return false;
  }
  int status = child.wait();
  if (exitCode(status) != 0) {
    error_ = "openssl " + args[0] + " failed: " + child.err();
    return false;
  }
  if (out) *out = child.out();
  return true;
}

std::string TestPki::key(const std::string& label) {
  std::string path = dir_ + "/" + label + ".key";
  if (!openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path})) return "";
  chmod(path.c_str(), 0600);
  return path;
}

TestCertificate TestPki::leaf(const std::string& label, const std::vector<std::string>& names) {
  return signedLeaf(label, names, false);
}

TestCertificate TestPki::expiredLeaf(const std::string& label, const std::vector<std::string>& names) {
  return signedLeaf(label, names, true);
}

TestCertificate TestPki::signedLeaf(const std::string& label, const std::vector<std::string>& names, bool expired) {
  if (!ok() || names.empty()) {
    if (ok()) error_ = "a certificate needs at least one name";
    return {};
  }
  TestCertificate c{dir_ + "/" + label + ".pem", key(label)};
  if (c.key.empty()) return {};
  std::string csr = dir_ + "/" + label + ".csr", ext = dir_ + "/" + label + ".ext";
  std::string extensions = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                           "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=" + subjectAltNames(names) + "\n";
  if (!writeFile(ext, extensions)) {
    error_ = "cannot write " + ext;
    return {};
  }
  // openssl x509 of OpenSSL 3.0 cannot set a start date in the past; openssl ca can.
  auto now = std::chrono::system_clock::now();
  std::string start = expired ? "20200101000000Z" : caDate(now - std::chrono::hours(24));
  std::string end = expired ? "20200201000000Z" : caDate(now + std::chrono::hours(24 * 30));
  if (!openssl({"req", "-new", "-key", c.key, "-out", csr, "-subj", "/CN=" + names[0]}) ||
      !openssl({"ca", "-batch", "-notext", "-config", dir_ + "/ca.cnf", "-cert", ca_.cert, "-keyfile", ca_.key, "-in", csr,
                "-out", c.cert, "-startdate", start, "-enddate", end, "-extfile", ext})) {
    return {};
  }
  chmod(c.cert.c_str(), 0644);
  return c;
}

TestCertificate TestPki::selfSigned(const std::string& label, const std::vector<std::string>& names) {
  if (!ok() || names.empty()) {
    if (ok()) error_ = "a certificate needs at least one name";
    return {};
  }
  TestCertificate c{dir_ + "/" + label + ".pem", key(label)};
  if (c.key.empty() ||
      !openssl({"req", "-x509", "-new", "-key", c.key, "-out", c.cert, "-days", "30", "-subj", "/CN=" + names[0],
                "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "subjectAltName=" + subjectAltNames(names)})) {
    return {};
  }
  chmod(c.cert.c_str(), 0644);
  return c;
}

std::string TestPki::sha256Hex(const std::string& der_path) {
  std::string out;
  if (!openssl({"dgst", "-sha256", "-r", der_path}, &out)) return "";
  return out.substr(0, out.find(' '));
}

std::string TestPki::certificateSha256(const std::string& cert_path) {
  std::string der = cert_path + ".der";
  if (!openssl({"x509", "-in", cert_path, "-outform", "DER", "-out", der})) return "";
  return sha256Hex(der);
}

std::string TestPki::publicKeySha256(const std::string& cert_path) {
  std::string pub = cert_path + ".pub", der = cert_path + ".pub.der";
  if (!openssl({"x509", "-in", cert_path, "-noout", "-pubkey", "-out", pub}) ||
      !openssl({"pkey", "-pubin", "-in", pub, "-outform", "DER", "-out", der})) {
    return "";
  }
  return sha256Hex(der);
}

}  // namespace lbmail::test
