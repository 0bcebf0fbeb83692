// C3's replica score over per-gateway EWMAs.
#include "c3_ranker.h"

#include <cmath>

namespace lbmail {

namespace {

double blend(double old_value, double sample) { return C3Ranker::kAlpha * sample + (1 - C3Ranker::kAlpha) * old_value; }

}  // namespace

void C3Ranker::answered(size_t gateway, double response_ms, double service_ms, uint64_t queue) {
  if (!(response_ms >= 0) || !(service_ms >= 0)) return;  // NaN or negative: nothing learnt
  if (gateways_.size() <= gateway) gateways_.resize(gateway + 1);
  Averages& a = gateways_[gateway];
  double q = static_cast<double>(queue);
  if (!a.known) {
    a = Averages{true, response_ms, service_ms, q};
    return;
  }
  a.response_ms = blend(a.response_ms, response_ms);
  a.service_ms = blend(a.service_ms, service_ms);
  a.queue = blend(a.queue, q);
}

double C3Ranker::score(size_t gateway, uint64_t outstanding) const {
  if (!known(gateway)) return 0;
  const Averages& a = gateways_[gateway];
  double q = 1 + static_cast<double>(outstanding) * initiators_ + a.queue;
  return a.response_ms - a.service_ms + q * q * q * a.service_ms;
}

}  // namespace lbmail
