// The sink mode: a fast receiving SMTP server with scripted latency and failures.
#pragma once

#include "lbmail/core/mode_service.h"

namespace lbmail {

// So far the shared lifecycle only: loop, admin endpoint, graceful stop. The mode's own
// work plugs into onStart/onStop/writeModeStatus.
class Sink final : public ModeService {
 public:
  using ModeService::ModeService;
};

}  // namespace lbmail
