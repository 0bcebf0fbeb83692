// Where tokens travel: VERP return paths (local+token@domain) and unsubscribe URLs.
#include "lbmail/feedback/feedback_token.h"

#include "ascii_text.h"

namespace lbmail::feedback {

void appendVerpAddress(std::string_view local, std::string_view token, std::string_view domain, std::string& out) {
  out.append(local).append(1, '+').append(token).append(1, '@').append(domain);
}

std::optional<std::string_view> verpTokenOf(std::string_view address, std::span<const std::string> domains) {
  address = trimWhiteSpace(address);
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>') {
    address = trimWhiteSpace(address.substr(1, address.size() - 2));
  }
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view domain = address.substr(at + 1);
  bool ours = false;
  for (const std::string& d : domains) ours = ours || equalsIgnoreCase(domain, d);
  if (!ours) return std::nullopt;
  std::string_view local = address.substr(0, at);
  size_t plus = local.rfind('+');
  if (plus == std::string_view::npos || plus + 1 == local.size()) return std::nullopt;
  return local.substr(plus + 1);
}

std::string unsubscribeUrl(std::string_view base, std::string_view token) {
  std::string url;
  url.reserve(base.size() + 1 + token.size());
  url.append(base).append(1, '/').append(token);
  return url;
}

std::optional<std::string_view> unsubscribeTokenOf(std::string_view url_or_path) {
  std::string_view s = url_or_path.substr(0, url_or_path.find_first_of("?#"));
  size_t slash = s.rfind('/');
  if (slash != std::string_view::npos) s = s.substr(slash + 1);
  if (s.empty()) return std::nullopt;
  return s;
}

}  // namespace lbmail::feedback
