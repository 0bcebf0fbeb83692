// Histogram bucketing; counters and gauges are header-only.
#include "lbmail/core/metric.h"

#include <algorithm>
#include <cassert>
#include <functional>

namespace lbmail {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  // Strictly increasing: equal bounds would render two series with the same "le".
  assert(std::adjacent_find(bounds_.begin(), bounds_.end(), std::greater_equal<double>()) == bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  // Prometheus buckets are "less than or equal": lower_bound finds the first bound >= v.
  size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<double> Histogram::exponentialBounds(double start, double factor, size_t count) {
  std::vector<double> out;
  out.reserve(count);
  double b = start;
  for (size_t i = 0; i < count; ++i, b *= factor) out.push_back(b);
  return out;
}

std::vector<double> Histogram::latencySecondsBounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,    0.5,    1,     2.5,    5,     10,   25,    50};
}

}  // namespace lbmail
