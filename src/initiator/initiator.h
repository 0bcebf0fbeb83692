// The initiator mode: runs the configured campaign over the recipient database through the
// gateways, serves its state at /status and a live page at /, and stops the process when the
// campaign is over (exit_when_done).
#pragma once

#include "campaign.h"
#include "initiator_config.h"
#include "lbmail/core/mode_service.h"

namespace lbmail {

class Initiator final : public ModeService {
 public:
  Initiator(uv_loop_t* loop, const InitiatorConfig& config, MetricsRegistry& metrics);

  std::vector<AdminPage> adminPages() override;

 protected:
  // Refuses a database that is missing, is not one or holds no recipients, naming the key.
  int onStart() override;
  void onStop(std::function<void()> done) override { campaign_.stop(std::move(done)); }
  void writeModeStatus(JsonWriter& w) override { campaign_.writeStatus(w); }

 private:
  std::string database_;
  Campaign campaign_;
};

}  // namespace lbmail
