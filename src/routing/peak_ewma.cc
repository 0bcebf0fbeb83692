// Peak-sensitive EWMA of response time (Finagle PeakEwma).
#include "peak_ewma.h"

#include <cmath>

namespace lbmail {

namespace {

// The weight of the history after dt: e^(-dt/τ), 1 when time did not move.
double historyWeight(uint64_t stamp_ms, uint64_t now_ms) {
  return now_ms > stamp_ms ? std::exp(-static_cast<double>(now_ms - stamp_ms) / PeakEwma::kTauMs) : 1.0;
}

}  // namespace

void PeakEwma::observe(double response_ms, uint64_t now_ms) {
  if (!(response_ms >= 0)) return;  // NaN or negative: nothing learnt
  double w = historyWeight(stamp_ms_, now_ms);
  value_ = response_ms > value_ ? response_ms : value_ * w + response_ms * (1 - w);
  if (now_ms > stamp_ms_) stamp_ms_ = now_ms;
}

double PeakEwma::value(uint64_t now_ms) const { return value_ == 0 ? 0 : value_ * historyWeight(stamp_ms_, now_ms); }

double PeakEwma::cost(uint64_t pending, uint64_t now_ms) {
  if (value_ != 0) observe(0, now_ms);
  if (value_ == 0 && pending != 0) return kPenalty + static_cast<double>(pending);
  return value_ * static_cast<double>(pending + 1);
}

}  // namespace lbmail
