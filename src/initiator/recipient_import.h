// `lbmail import recipients.csv --db FILE`: a CSV file (header row: attribute names; `email`
// required) streamed into the recipient database. Every bad row is reported with its line
// number and reason; none is dropped silently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"
#include "recipient_store.h"

namespace lbmail {

// The address as the database keeps it: blanks trimmed, the domain lower-cased and, when it is
// internationalised, converted to its A-label (IDNA 2008); then the RFC 5321 mailbox check.
// The local part is kept as written (an SMTPUTF8 local part is refused).
Expected<std::string, std::string> normaliseAddress(std::string_view text);

struct ImportReport {
  uint64_t rows = 0;  // records after the header
  uint64_t inserted = 0;
  uint64_t updated = 0;   // an address already in the database: its attributes replaced
  uint64_t rejected = 0;  // reported through the callback
};

// reject(line, reason) is called for every row that is not imported. Returns an error only
// when the import cannot go on (the file, the header, the database).
Expected<ImportReport, std::string> importRecipients(const std::string& csv_path, RecipientStore& store,
                                                     const std::function<void(uint64_t, std::string_view)>& reject);

}  // namespace lbmail
