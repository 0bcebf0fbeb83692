// The initiator's live status page: one HTML document that polls /status and renders it.
#include "status_page.h"

#include "status_page_assets.h"

namespace lbmail {
namespace {

// The page is src/initiator/assets/status_page.html, embedded at build time. Plain DOM calls,
// no framework: the page must load from an admin port on a host with no network. Text from
// /status reaches the page only through textContent and setAttribute, so a domain or gateway
// name is never parsed as markup. The source stays ASCII; symbols are entities or \u escapes.
constexpr bool isAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}
static_assert(isAscii(assets::kStatusPageHtml), "status_page.html must stay ASCII");

}  // namespace

std::string_view statusPageHtml() { return assets::kStatusPageHtml; }

}  // namespace lbmail
