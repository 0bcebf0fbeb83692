// The dkim subcommand: generates a key with OpenSSL, writes it owner-only as PKCS#8 PEM and
// prints the TXT record to publish and the configuration entry that uses it.
#include "lbmail/dkim/keygen_command.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "lbmail/core/private_file.h"
#include "lbmail/dkim/dkim_key.h"
#include "lbmail/dkim/dns_record.h"

namespace lbmail::dkim {
namespace {

constexpr int kMinBits = 1024;      // RFC 8301 section 3.2: verifiers refuse smaller keys
constexpr int kAdvisedBits = 2048;  // RFC 8301 section 3.2: signers should use at least 2048
constexpr int kMaxBits = 8192;

struct KeygenOptions {
  std::string domain, selector, out;
  Algorithm algorithm = Algorithm::kRsaSha256;
  int bits = 0;  // 0: the default, 2048 for RSA
};

void printUsage(FILE* out) {
  std::fprintf(out,
               "usage: lbmail dkim keygen --domain D --selector S [--algorithm rsa|ed25519] [--bits N] --out FILE\n"
               "\n"
               "  keygen   write a new private key to FILE (PKCS#8 PEM, mode 0600; never overwrites) and\n"
               "           print the TXT record to publish at S._domainkey.D and the [[dkim.domain]] entry\n"
               "  --bits   RSA key size, 1024 to 8192 (default 2048); ed25519 keys have no size\n");
}

int usage(const std::string& message) {
  std::fprintf(stderr, "lbmail dkim: %s (see 'lbmail dkim --help')\n", message.c_str());
  return 2;
}

int failure(const std::string& message) {
  std::fprintf(stderr, "lbmail dkim keygen: %s\n", message.c_str());
  return 1;
}

// The options after "keygen"; an error message when they are not usable.
Expected<KeygenOptions, std::string> parseOptions(const std::vector<std::string_view>& args) {
  KeygenOptions o;
  std::string algorithm = "rsa", bits;
  for (size_t i = 1; i < args.size(); i += 2) {
    std::string_view a = args[i];
    std::string* target = a == "--domain" ? &o.domain : a == "--selector" ? &o.selector : a == "--out" ? &o.out
                          : a == "--algorithm" ? &algorithm : a == "--bits" ? &bits : nullptr;
    if (!target) return unexpected("unknown option '" + std::string(a) + "'");
    if (i + 1 >= args.size()) return unexpected(std::string(a) + " needs a value");
    *target = args[i + 1];
  }
  std::optional<std::string> domain = signingName(o.domain), selector = signingName(o.selector);
  if (!domain) return unexpected(std::string("--domain needs a domain name such as example.com"));
  if (!selector) return unexpected(std::string("--selector needs a name such as s2026"));
  o.domain = *domain;
  o.selector = *selector;
  if (o.out.empty()) return unexpected(std::string("--out needs the key file's path"));
  if (algorithm != "rsa" && algorithm != "rsa-sha256" && algorithm != "ed25519" && algorithm != "ed25519-sha256") {
    return unexpected("--algorithm is rsa or ed25519, not '" + algorithm + "'");
  }
  o.algorithm = algorithm.rfind("rsa", 0) == 0 ? Algorithm::kRsaSha256 : Algorithm::kEd25519Sha256;
  if (!bits.empty()) {
    if (o.algorithm != Algorithm::kRsaSha256) return unexpected(std::string("--bits is for RSA keys only"));
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), o.bits);
    if (ec != std::errc() || end != bits.data() + bits.size() || o.bits < kMinBits || o.bits > kMaxBits) {
      return unexpected("--bits is a number from " + std::to_string(kMinBits) + " to " + std::to_string(kMaxBits));
    }
  }
  // The configuration reads a relative key_file against its own folder, not the working
  // directory: the entry printed for it names the file absolutely.
  if (o.out.front() != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd)) o.out = std::string(cwd) + "/" + o.out;
  }
  return o;
}

// A new key as PKCS#8 PEM; "" when OpenSSL fails.
std::string generatePem(const KeygenOptions& o) {
  EVP_PKEY* key = o.algorithm == Algorithm::kEd25519Sha256
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(o.bits ? o.bits : kAdvisedBits));
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (key && bio && PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<size_t>(len));
    OPENSSL_cleanse(data, static_cast<size_t>(len));
  }
  BIO_free(bio);
  EVP_PKEY_free(key);
  ERR_clear_error();
  return pem;
}

// Writes all of bytes to fd; "" or why not (write() returning 0 sets no errno).
std::string writeAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::strerror(errno);
    if (n == 0) return "write stopped at " + std::to_string(done) + " of " + std::to_string(bytes.size()) + " bytes";
    done += static_cast<size_t>(n);
  }
  return "";
}

// Makes the new file's name durable: fsync on its folder (EINVAL: a file system without it).
std::string syncFolderOf(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string folder = slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1));
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return folder + ": " + std::strerror(errno);
  std::string error = ::fsync(fd) != 0 && errno != EINVAL ? folder + ": " + std::strerror(errno) : "";
  ::close(fd);
  return error;
}

// Creates path with mode 0600, refusing to replace anything there (O_EXCL, and no symlink is
// followed), and syncs it to disk before keygen reports success; "" or why not.
std::string writeNewPrivateFile(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "cannot create " + path + ": " + std::strerror(errno);
  std::string error = writeAll(fd, bytes);
  if (error.empty() && ::fsync(fd) != 0) error = std::strerror(errno);
  // close() can report a write error deferred until then (NFS, some quota cases).
  if (::close(fd) != 0 && error.empty()) error = std::strerror(errno);
  if (error.empty()) error = syncFolderOf(path);
  if (error.empty()) return "";
  ::unlink(path.c_str());
  return "cannot write " + path + ": " + error;
}

int keygen(const KeygenOptions& o) {
  std::string pem = generatePem(o);
  if (pem.empty()) return failure("OpenSSL could not generate the key");
  auto key = DkimKey::fromPem(o.domain, o.selector, o.algorithm, pem);
  std::string error = key ? writeNewPrivateFile(o.out, pem) : key.error();
  wipeSecret(pem);
  if (!error.empty()) return failure(error);
  if (key->algorithm() == Algorithm::kRsaSha256 && key->bits() < kAdvisedBits) {
    std::fprintf(stderr, "lbmail dkim keygen: warning: %d-bit RSA keys are weak; RFC 8301 advises at least %d\n",
                 key->bits(), kAdvisedBits);
  }
  std::string name = std::string(algorithmName(o.algorithm));
  if (o.algorithm == Algorithm::kRsaSha256) name += ", " + std::to_string(key->bits()) + " bits";
  std::printf("wrote %s (%s) for %s/%s\n\n", o.out.c_str(), name.c_str(), o.domain.c_str(), o.selector.c_str());
  std::printf("Publish this TXT record in the DNS zone of %s:\n\n%s\n\n", o.domain.c_str(), zoneFileRecord(*key).c_str());
  std::printf("Then add to the gateway's configuration:\n\n[[dkim.domain]]\ndomain = \"%s\"\nselector = \"%s\"\n"
              "algorithm = \"%s\"\nkey_file = \"%s\"\n",
              o.domain.c_str(), o.selector.c_str(), algorithmName(o.algorithm).data(), o.out.c_str());
  return 0;
}

}  // namespace

int runDkimCommand(const std::vector<std::string_view>& args) {
  if (args.empty()) return usage("a subcommand is required: keygen");
  for (std::string_view a : args) {
    if (a == "-h" || a == "--help") {
      printUsage(stdout);
      return 0;
    }
  }
  if (args[0] != "keygen") return usage("unknown subcommand '" + std::string(args[0]) + "'");
  auto options = parseOptions(args);
  if (!options) return usage(options.error());
  return keygen(*options);
}

}  // namespace lbmail::dkim
