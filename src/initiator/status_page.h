// The initiator's live status page, served at `/` on its admin port.
#pragma once

#include <string_view>

namespace lbmail {

// One self-contained HTML5 document (inline CSS and script, no external resources) that fetches
// the relative URL `status` every second and renders the campaign's counters, the gateways and
// the expected delivery time of each top domain through each gateway. Ids a test can check:
// `#state`, `#rate`, `#error`, `#gateways`, and `table#ewma` whose data cells are
// `td.cell[data-gateway][data-domain][data-ms]` (data-ms is empty when unknown).
std::string_view statusPageHtml();

}  // namespace lbmail
