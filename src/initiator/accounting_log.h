// The campaign's accounting file: one CSV line (RFC 4180) per outcome, deferrals included, in
// the order they were recorded; a recipient delivered again by another attempt gets a line
// with the outcome "repeat". Written off the loop, with the database batch it belongs to.
// tls is the TLS version of the attempt's SMTP connection, "none" when plain, empty when no
// RESULT said (a timeout, a REJECT, an older gateway); tls_verified is empty with it.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "campaign_ledger.h"
#include "lbmail/core/expected.h"

namespace lbmail {

class AccountingLog {
 public:
  static constexpr const char* kHeader =
      "time,recipient,domain,material,gateway,outcome,smtp_code,enhanced_code,delivery_ms,attempt,tls,tls_verified\n";

  // Opens path for appending; a new or empty file gets the header line first. A file whose
  // header is not kHeader (begun by an older version) is refused with the reason.
  static Expected<std::unique_ptr<AccountingLog>, std::string> open(const std::string& path);
  ~AccountingLog();

  // Appends and flushes one line per change; false (errno kept) when the write failed.
  bool append(const std::vector<StateChange>& changes);

  // One line, ending in CRLF-free "\n".
  static void formatLine(const StateChange& c, std::string& out);

 private:
  explicit AccountingLog(std::FILE* f) : file_(f) {}
  std::FILE* file_;
  std::string buffer_;
};

}  // namespace lbmail
