// The sim mode: the whole system as real processes on loopback addresses, with a report.
#pragma once

#include "lbmail/core/mode_service.h"

namespace lbmail {

// So far the shared lifecycle only: loop, admin endpoint, graceful stop. The mode's own
// work plugs into onStart/onStop/writeModeStatus.
class Sim final : public ModeService {
 public:
  using ModeService::ModeService;
};

}  // namespace lbmail
