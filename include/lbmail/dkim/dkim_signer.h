// DKIM signatures (RFC 6376, RFC 8463) for a message laid out as slices: one body hash, one
// DKIM-Signature header field per key.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/dkim/canonicalization.h"
#include "lbmail/dkim/dkim_key.h"

namespace lbmail::dkim {

class HeaderFields;

struct MessageBytes {
  std::span<const std::string_view> slices;  // the message exactly as written to the socket
  std::span<const uint8_t> plain_lines;      // empty, or per slice: 1 = updatePlainLines-safe
};

struct SignOptions {
  Canonicalization header = Canonicalization::kRelaxed, body = Canonicalization::kRelaxed;
  std::chrono::seconds expire{0};  // x= is t= + expire; 0: no x=
  // Signed when present, in this order (From first, always: RFC 6376 5.4); names compared
  // case-insensitively.
  std::vector<std::string> headers = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
                                      "Content-Type", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post",
                                      "List-Id", "Feedback-ID"};
  // Over-signed: listed in h= once more than they occur, also when absent (then once), so that
  // no such field can be added to the message in transit without breaking the signature
  // (RFC 6376 5.4.2, 8.15): receivers act on the first List-Unsubscribe, From or Subject they
  // read, and a List-Unsubscribe-Post added to a message without one would turn on one-click
  // unsubscription (RFC 8058). Names not in headers are signed after them. From is always
  // over-signed.
  std::vector<std::string> oversigned = {"From", "To", "Subject", "Reply-To", "List-Unsubscribe",
                                         "List-Unsubscribe-Post"};
};

class DkimSigner {
 public:
  explicit DkimSigner(SignOptions o);

  // One "DKIM-Signature: ...\r\n" per key, in key order, to go before the first header field;
  // "" when keys is empty. Tags v a c d s t [x] h bh b, b= last; lines folded at 78 octets.
  // An error when the message has no From (RFC 6376 5.4: From must be signed) or a key fails.
  // Const and thread-safe.
  Expected<std::string, std::string> sign(const MessageBytes& m, std::span<const DkimKey* const> keys,
                                          std::time_t now) const;

 private:
  std::string bodyHash(const MessageBytes& m, const HeaderFields& fields) const;
  // The h= names and, in the same order, the canonical fields they select (RFC 6376 5.4.2:
  // repeated names take instances from the bottom up). False when there is no From.
  bool selectHeaders(const HeaderFields& fields, std::vector<std::string_view>& names, std::string& data) const;
  // What every key's signature shares.
  struct Prepared {
    std::vector<std::string_view> names;
    std::string header_data;
    std::string body_hash;  // bh=, base64
  };
  // The whole "DKIM-Signature: ...\r\n" for one key, or why the key failed to sign.
  Expected<std::string, std::string> signOne(const DkimKey& key, const Prepared& p, std::time_t now) const;

  SignOptions options_;
  struct SignedName {
    std::string name;  // lowercase
    bool oversigned;
  };
  std::vector<SignedName> names_;  // From, options_.headers, then options_.oversigned; each once
};

}  // namespace lbmail::dkim
