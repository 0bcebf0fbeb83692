// Reading a suppression file.
#include "suppression_import.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "recipient_import.h"

namespace lbmail {
namespace {

constexpr size_t kMaxLineBytes = 4096;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The first CSV column, its quotes removed ("a@b.example" -> a@b.example).
std::string_view firstColumn(std::string_view line) {
  line = trim(line);
  if (!line.empty() && line.front() == '"') {
    size_t close = line.find('"', 1);
    return close == std::string_view::npos ? line : line.substr(1, close - 1);
  }
  return trim(line.substr(0, line.find(',')));
}

bool isHeader(std::string_view column) {
  std::string lower(column);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower == "email" || lower == "address";
}

}  // namespace

Expected<std::string, std::string> suppressionAddress(std::string_view text) {
  auto normalised = normaliseAddress(text);
  if (!normalised) return unexpected(normalised.error());
  std::string out = std::move(*normalised);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

Expected<SuppressionImportReport, std::string> importSuppressions(
    std::istream& in, SuppressionStore& store, const Suppression& entry,
    const std::function<void(uint64_t line, std::string_view reason)>& rejected) {
  SuppressionImportReport report;
  if (!store.begin()) return unexpected(store.lastError());
  std::string line;
  uint64_t number = 0;
  bool first = true;
  Suppression s = entry;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    std::string_view column = firstColumn(text);
    if (std::exchange(first, false) && isHeader(column)) continue;
    Expected<std::string, std::string> address = unexpected(std::string("a line over 4 KiB"));
    if (line.size() <= kMaxLineBytes) address = suppressionAddress(column);
    if (!address) {
      ++report.rejected;
      rejected(number, address.error());
      continue;
    }
    s.address = std::move(*address);
    if (store.add(s)) {
      ++report.added;
    } else if (store.lastError().empty()) {
      ++report.already;
    } else {
      std::string error = store.lastError();
      store.rollback();
      return unexpected(error);
    }
  }
  if (!store.commit()) {
    std::string error = store.lastError();
    store.rollback();
    return unexpected(error);
  }
  return report;
}

}  // namespace lbmail
