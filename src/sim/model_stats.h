// What one model run measured: delivery times, throughput, how often domains changed gateway,
// and the scenario's own figures (time to follow a shift, failover), for the report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model_spec.h"

namespace lbmail {

struct ModelResult {
  std::string policy;
  uint64_t messages = 0;
  uint64_t delivered = 0;
  uint64_t bounced = 0;
  uint64_t bounced_policy = 0;  // every gateway refused it by policy
  uint64_t failed = 0;          // out of attempts, or unfinished at the end of the drain
  uint64_t unfinished = 0;
  uint64_t lost = 0;            // neither delivered, bounced nor failed: must be 0
  uint64_t attempts = 0;        // SENDs
  uint64_t resent = 0;          // failover re-sends
  uint64_t refusals = 0;        // refused (blocked, throttled, REJECTed) and sent again
  uint64_t decisions = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double throughput = 0;        // delivered per second until the last delivery
  double switches_per_domain_minute = 0;
  double shift_ms = -1;         // shift: until most of group 1's SENDs go to the new best
  double rebalanced_ms = -1;    // failure: until nothing goes to the dead gateway any more
  double cpu_seconds = 0;
};

class ModelStats {
 public:
  ModelStats(const ModelSpec& spec, const std::vector<uint16_t>& domain_groups);

  void sent(int64_t now_us, uint32_t domain, uint32_t gateway);
  void delivered(int64_t now_us, double ms);
  void bounced(bool by_policy);
  void failed() { ++r_.failed; }
  void refused() { ++r_.refusals; }
  void resent(int64_t now_us);
  // The end: messages still unfinished count as failed.
  ModelResult finish(uint64_t messages, uint64_t unfinished, uint64_t decisions);

 private:
  void closeWindow(uint32_t domain);
  void shiftWindow(int64_t now_us, uint32_t gateway);

  const ModelSpec& spec_;
  const std::vector<uint16_t>& groups_;
  ModelResult r_;
  std::vector<float> times_ms_;
  double sum_ms_ = 0;
  int64_t last_delivery_us_ = 0;
  // Per domain: the 1 s window in progress, its SENDs per gateway, and the home before it.
  std::vector<int64_t> window_;
  std::vector<uint32_t> window_sends_;
  std::vector<int> home_;
  uint64_t switches_ = 0;
  uint64_t domain_windows_ = 0;
  // shift: group 1's SENDs per 100 ms window after the change.
  int64_t shift_window_ = -1;
  uint64_t shift_total_ = 0;
  uint64_t shift_best_ = 0;
  // failure: the last SEND to the dead gateway and the last failover re-send.
  int64_t last_dead_send_us_ = -1;
  int64_t last_resend_us_ = -1;
};

}  // namespace lbmail
