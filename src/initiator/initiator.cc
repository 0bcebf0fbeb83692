// The initiator mode's glue.
#include "initiator.h"

#include "status_page.h"

namespace lbmail {

Initiator::Initiator(uv_loop_t* loop, const InitiatorConfig& config, MetricsRegistry& metrics)
    : ModeService(loop, config.service, metrics), campaign_(loop, config, metrics, [this] { requestStop(); }) {}

std::vector<ModeService::AdminPage> Initiator::adminPages() {
  return {{"/", "text/html; charset=utf-8", [] { return std::string(statusPageHtml()); }}};
}

}  // namespace lbmail
