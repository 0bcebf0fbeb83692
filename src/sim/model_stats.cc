// Delivery times, domain switches and the scenarios' figures of one model run.
#include "model_stats.h"

#include <algorithm>

namespace lbmail {
namespace {

constexpr int64_t kHomeWindowUs = 1'000'000;   // a domain's home: most of its SENDs in 1 s
constexpr int64_t kShiftWindowUs = 100'000;

double quantile(std::vector<float>& v, double q) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

}  // namespace

ModelStats::ModelStats(const ModelSpec& spec, const std::vector<uint16_t>& domain_groups)
    : spec_(spec),
      groups_(domain_groups),
      window_(spec.domains, -1),
      window_sends_(static_cast<size_t>(spec.domains) * spec.gateways, 0),
      home_(spec.domains, -1) {
  times_ms_.reserve(static_cast<size_t>(spec.rate * spec.seconds * 1.1) + 16);
}

void ModelStats::sent(int64_t now_us, uint32_t domain, uint32_t gateway) {
  ++r_.attempts;
  int64_t w = now_us / kHomeWindowUs;
  if (window_[domain] != w) {
    if (window_[domain] >= 0) closeWindow(domain);
    window_[domain] = w;
  }
  ++window_sends_[static_cast<size_t>(domain) * spec_.gateways + gateway];
  int64_t change_us = static_cast<int64_t>(spec_.change_at_s * 1e6);
  if (spec_.change == ModelChange::kShift && now_us >= change_us && groups_[domain] == spec_.change_group) {
    shiftWindow(now_us, gateway);
  }
  if (spec_.change == ModelChange::kFailure && now_us >= change_us && gateway == spec_.change_gateway) {
    last_dead_send_us_ = now_us;
  }
}

// The window's home is the gateway with most SENDs; a different home than the window before
// with traffic is a switch.
void ModelStats::closeWindow(uint32_t domain) {
  uint32_t* sends = &window_sends_[static_cast<size_t>(domain) * spec_.gateways];
  int home = 0;
  for (uint32_t g = 1; g < spec_.gateways; ++g) {
    if (sends[g] > sends[home]) home = static_cast<int>(g);
  }
  if (home_[domain] >= 0 && home_[domain] != home) ++switches_;
  home_[domain] = home;
  ++domain_windows_;
  std::fill(sends, sends + spec_.gateways, 0);
}

// Until the end of the first 100 ms window after the change in which most of the group's SENDs
// (at least a handful, so that one message is not a majority) went to the new best gateway.
void ModelStats::shiftWindow(int64_t now_us, uint32_t gateway) {
  if (r_.shift_ms >= 0) return;
  int64_t w = (now_us - static_cast<int64_t>(spec_.change_at_s * 1e6)) / kShiftWindowUs;
  if (w != shift_window_) {
    if (shift_total_ >= 5 && 2 * shift_best_ > shift_total_) {
      r_.shift_ms = static_cast<double>((shift_window_ + 1) * kShiftWindowUs) / 1000.0;
      return;
    }
    shift_window_ = w;
    shift_total_ = shift_best_ = 0;
  }
  ++shift_total_;
  if (gateway == spec_.shift_to) ++shift_best_;
}

void ModelStats::delivered(int64_t now_us, double ms) {
  ++r_.delivered;
  times_ms_.push_back(static_cast<float>(ms));
  sum_ms_ += ms;
  last_delivery_us_ = std::max(last_delivery_us_, now_us);
}

void ModelStats::bounced(bool by_policy) {
  ++r_.bounced;
  if (by_policy) ++r_.bounced_policy;
}

void ModelStats::resent(int64_t now_us) {
  ++r_.resent;
  last_resend_us_ = now_us;
}

ModelResult ModelStats::finish(uint64_t messages, uint64_t unfinished, uint64_t decisions) {
  for (uint32_t d = 0; d < spec_.domains; ++d) {
    if (window_[d] >= 0) closeWindow(d);
  }
  r_.messages = messages;
  r_.unfinished = unfinished;
  r_.failed += unfinished;
  uint64_t ended = r_.delivered + r_.bounced + r_.failed;
  r_.lost = messages > ended ? messages - ended : 0;
  r_.decisions = decisions;
  r_.mean_ms = r_.delivered ? sum_ms_ / static_cast<double>(r_.delivered) : 0;
  r_.p50_ms = quantile(times_ms_, 0.5);
  r_.p99_ms = quantile(times_ms_, 0.99);
  r_.throughput = last_delivery_us_ > 0 ? static_cast<double>(r_.delivered) * 1e6 / static_cast<double>(last_delivery_us_) : 0;
  double domain_minutes = static_cast<double>(domain_windows_) / 60.0;
  r_.switches_per_domain_minute = domain_minutes > 0 ? static_cast<double>(switches_) / domain_minutes : 0;
  if (spec_.change == ModelChange::kFailure) {
    int64_t change_us = static_cast<int64_t>(spec_.change_at_s * 1e6);
    int64_t end = std::max({last_dead_send_us_, last_resend_us_, change_us});
    r_.rebalanced_ms = static_cast<double>(end - change_us) / 1000.0;
  }
  return r_;
}

}  // namespace lbmail
