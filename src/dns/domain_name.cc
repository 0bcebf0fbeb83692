// Domain name normalisation and checks (RFC 1035 section 2.3.4 limits).
#include "lbmail/dns/domain_name.h"

namespace lbmail::dns {
namespace {

constexpr size_t kMaxName = 253;
constexpr size_t kMaxLabel = 63;

bool hostByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

std::optional<std::string> normalizeDomain(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > kMaxName) return std::nullopt;
  std::string name;
  name.reserve(text.size());
  size_t label = 0;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
    } else if (!hostByte(c) || ++label > kMaxLabel) {
      return std::nullopt;
    }
    name.push_back(c);
  }
  if (label == 0) return std::nullopt;
  return name;
}

}  // namespace lbmail::dns
