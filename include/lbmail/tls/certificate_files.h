// A TLS server's certificate and private key, read from PEM files into an SSL_CTX, and
// OpenSSL's error queue turned into a reason a person can read.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "lbmail/core/expected.h"

namespace lbmail::tls {

// what, followed by the first error OpenSSL queued (the queue is cleared).
std::string openSslError(const std::string& what);

// The private key from an owner-only PEM file (core's readPrivateFile checks owner, mode and
// symlinks). An encrypted key is refused: a daemon must never wait for a passphrase.
Expected<EVP_PKEY*, std::string> readPrivateKey(const std::string& path);

// Loads the certificate chain (leaf first) and its key into ctx; "" when done, else why not,
// naming the file (a key that does not match the certificate included).
std::string useCertificateAndKey(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file);

}  // namespace lbmail::tls
