// Addresses for the suppression list from a file: one address per line, or CSV whose first
// column is the address (a first line naming the column "email" or "address" is a header);
// blank lines and lines starting with '#' are skipped. Each address is normalised as imported
// recipients are (normaliseAddress), then lower-cased whole; a line that is not an address is
// reported with its number and skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"
#include "suppression_store.h"

namespace lbmail {

// The address as the suppression list keeps it, or why it is none.
Expected<std::string, std::string> suppressionAddress(std::string_view text);

struct SuppressionImportReport {
  uint64_t added = 0;
  uint64_t already = 0;  // listed before: their first reason stays
  uint64_t rejected = 0;
};

// Every address of in, added with the reason, source and time of entry, in one transaction.
// An error only when the database fails (nothing is then added).
Expected<SuppressionImportReport, std::string> importSuppressions(
    std::istream& in, SuppressionStore& store, const Suppression& entry,
    const std::function<void(uint64_t line, std::string_view reason)>& rejected);

}  // namespace lbmail
