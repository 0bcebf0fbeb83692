// DNS names and TXT records for DKIM keys.
#include "lbmail/dkim/dns_record.h"

#include "lbmail/dkim/dkim_key.h"
#include "lbmail/dns/domain_name.h"

namespace lbmail::dkim {
namespace {

constexpr size_t kMaxCharacterString = 255;  // RFC 1035 3.3: one length octet

}  // namespace

std::optional<std::string> signingName(std::string_view name) {
  if (name.ends_with('.')) return std::nullopt;
  return dns::normalizeDomain(name);
}

std::vector<std::string> txtCharacterStrings(std::string_view record_text) {
  std::vector<std::string> out;
  size_t p = record_text.find("p=");
  if (p == std::string_view::npos) p = 0;
  for (std::string_view part : {record_text.substr(0, p), record_text.substr(p)}) {
    for (size_t i = 0; i < part.size(); i += kMaxCharacterString) {
      out.emplace_back(part.substr(i, kMaxCharacterString));
    }
  }
  return out;
}

std::string zoneFileRecord(const DkimKey& key) {
  std::string out = key.selector() + "._domainkey." + key.domain() + ". IN TXT (";
  // The text holds no '"' or '\\' (tags and base64), so each string goes in quotes as it is.
  for (const std::string& s : txtCharacterStrings(key.dnsRecordText())) out += " \"" + s + "\"";
  return out + " )";
}

}  // namespace lbmail::dkim
