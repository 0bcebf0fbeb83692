// Reading a secret (a link key, a TLS private key) from a file that only its owner can read.
#pragma once

#include <cstddef>
#include <string>

#include "lbmail/core/expected.h"

namespace lbmail {

// The file's bytes, when it is a regular file of at most max_bytes, not a symlink, owned by the
// running user, with no group or other permission bits (0600 or 0400): anyone else who can read
// it holds the secret. what names it in errors ("key file"). The caller wipes the bytes.
Expected<std::string, std::string> readPrivateFile(const std::string& path, const char* what, size_t max_bytes);

// Overwrites a secret before its memory is freed.
void wipeSecret(std::string& secret);

}  // namespace lbmail
