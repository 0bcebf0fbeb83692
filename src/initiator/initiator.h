// The initiator mode: runs a campaign over the recipient database through the gateways.
#pragma once

#include "lbmail/core/mode_service.h"

namespace lbmail {

// So far the shared lifecycle only: loop, admin endpoint, graceful stop. The mode's own
// work plugs into onStart/onStop/writeModeStatus.
class Initiator final : public ModeService {
 public:
  using ModeService::ModeService;
};

}  // namespace lbmail
