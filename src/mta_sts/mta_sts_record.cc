// The _mta-sts TXT record, parsed to the grammar of RFC 8461 section 3.1.
#include "lbmail/mta_sts/mta_sts_record.h"

#include <cstddef>

#include "mta_sts_text.h"

namespace lbmail::mta_sts {
namespace {

constexpr std::string_view kVersion = "v=STSv1";
constexpr size_t kMaxId = 32;

// sts-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), visible characters but '=' and ';'.
bool extensionValue(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (c < 0x21 || c > 0x7e || c == '=' || c == ';') return false;
  }
  return true;
}

bool validId(std::string_view id) {
  if (id.empty() || id.size() > kMaxId) return false;
  for (char c : id) {
    if (!isAlnum(c)) return false;
  }
  return true;
}

// Texts that start with another version ("v=STSv10") or another record type are not ours.
bool startsWithVersion(std::string_view txt) {
  if (!txt.starts_with(kVersion)) return false;
  return txt.size() == kVersion.size() || isWsp(txt[kVersion.size()]) || txt[kVersion.size()] == ';';
}

}  // namespace

Expected<std::string, std::string> parseMtaStsRecord(std::string_view txt) {
  if (!startsWithVersion(txt)) return unexpected<std::string>("record does not start with v=STSv1");
  // sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]; sts-sep = *WSP ";" *WSP.
  std::string_view rest = trimWsp(txt.substr(kVersion.size()));
  if (!rest.starts_with(';')) return unexpected<std::string>("v=STSv1 is not followed by ';'");
  rest.remove_prefix(1);
  std::string id;
  while (true) {
    size_t semi = rest.find(';');
    std::string_view field = trimWsp(rest.substr(0, semi));
    // Only the text after the final ';' may be empty: the optional trailing separator.
    bool last = semi == std::string_view::npos;
    if (field.empty()) {
      if (!last) return unexpected<std::string>("empty field between ';'");
    } else {
      size_t eq = field.find('=');
      std::string_view name = field.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view() : field.substr(eq + 1);
      if (eq == std::string_view::npos || !fieldName(name)) {
        return unexpected("malformed field '" + std::string(field) + "'");
      }
      if (name == "id") {
        if (!id.empty()) return unexpected<std::string>("more than one id");
        if (!validId(value)) return unexpected("id '" + std::string(value) + "' is not 1 to 32 letters and digits");
        id = value;
      } else if (!extensionValue(value)) {
        // Extensions are ignored (RFC 8461 section 3.1) but must still be well formed.
        return unexpected("malformed field '" + std::string(field) + "'");
      }
    }
    if (last) break;
    rest = rest.substr(semi + 1);
  }
  if (id.empty()) return unexpected<std::string>("no id");
  return id;
}

Expected<std::string, std::string> selectMtaStsRecord(std::span<const std::string> texts) {
  const std::string* record = nullptr;
  size_t count = 0;
  for (const std::string& t : texts) {
    if (!startsWithVersion(t)) continue;
    record = &t;
    ++count;
  }
  if (count == 0) return unexpected<std::string>("no v=STSv1 TXT record");
  if (count > 1) return unexpected(std::to_string(count) + " v=STSv1 TXT records (RFC 8461 section 3.1 wants one)");
  return parseMtaStsRecord(*record);
}

}  // namespace lbmail::mta_sts
