// The gateway mode: takes authenticated assemble-and-mail requests, builds and delivers the mail.
#pragma once

#include "lbmail/core/mode_service.h"

namespace lbmail {

// So far the shared lifecycle only: loop, admin endpoint, graceful stop. The mode's own
// work plugs into onStart/onStop/writeModeStatus.
class Gateway final : public ModeService {
 public:
  using ModeService::ModeService;
};

}  // namespace lbmail
