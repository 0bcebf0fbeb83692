// Small text helpers the DKIM sources share.
#include "dkim_text.h"

#include <openssl/evp.h>

namespace lbmail::dkim {

std::string base64(const void* bytes, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), static_cast<const unsigned char*>(bytes),
                                static_cast<int>(n));
  out.resize(written > 0 ? static_cast<size_t>(written) : 0);
  return out;
}

}  // namespace lbmail::dkim
