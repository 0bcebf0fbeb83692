// Prequal's probe pool and hot-cold lexicographic choice.
#include "prequal_pool.h"


namespace lbmail {

void PrequalPool::add(size_t gateway, uint64_t requests_in_flight, double latency_ms, uint64_t now_ms) {
  if (!(latency_ms >= 0)) return;  // NaN or negative: not an answer
  if (size_ == kMaxProbes) remove(0);
  probes_[size_++] = Probe{gateway, requests_in_flight, latency_ms, now_ms, 0};
}

void PrequalPool::remove(size_t i) {
  for (size_t j = i + 1; j < size_; ++j) probes_[j - 1] = probes_[j];
  --size_;
}

void PrequalPool::expire(uint64_t now_ms) {
  size_t kept = 0;
  for (size_t i = 0; i < size_; ++i) {
    bool fresh = now_ms < probes_[i].received_ms || now_ms - probes_[i].received_ms <= kMaxAgeMs;
    if (fresh) probes_[kept++] = probes_[i];
  }
  size_ = kept;
}

// The quantile needs only the order statistics at floor(q·(n−1)) and the one above it, both
// among the top few (at most 4 of 16 for q = 0.84): they are kept in a small descending array
// instead of sorting the pool on every decision.
double PrequalPool::hotThreshold() const {
  if (size_ == 0) return 0;
  double pos = kHotQuantile * static_cast<double>(size_ - 1);
  auto lo = static_cast<size_t>(pos);
  size_t m = size_ - lo;  // how many sit at lo or above
  std::array<uint64_t, kMaxProbes> top{};
  size_t kept = 0;
  for (size_t i = 0; i < size_; ++i) {
    uint64_t r = probes_[i].rif;
    if (kept == m && r <= top[m - 1]) continue;
    size_t j = kept < m ? kept++ : m - 1;
    for (; j > 0 && top[j - 1] < r; --j) top[j] = top[j - 1];
    top[j] = r;
  }
  auto at_lo = static_cast<double>(top[m - 1]);
  auto above = static_cast<double>(top[m >= 2 ? m - 2 : 0]);
  return at_lo + (pos - static_cast<double>(lo)) * (above - at_lo);
}

// The message goes where the probe points: every probe of that gateway counts it, and the
// probe itself leaves the pool once its reuse budget is spent.
void PrequalPool::use(size_t i) {
  size_t g = probes_[i].gateway;
  for (size_t j = 0; j < size_; ++j) {
    if (probes_[j].gateway == g) ++probes_[j].rif;
  }
  if (++probes_[i].uses >= kReuseBudget) remove(i);
}

int PrequalPool::choose(std::span<const GatewayLoad> gateways, uint64_t now_ms) {
  expire(now_ms);
  if (size_ == 0) return -1;
  double hot = hotThreshold();
  int cold = -1;  // the cold probe with the lowest latency (then the lowest RIF)
  int warm = -1;  // the hot probe with the lowest RIF (then the lowest latency)
  for (size_t i = 0; i < size_; ++i) {
    const Probe& p = probes_[i];
    if (p.gateway >= gateways.size() || !gateways[p.gateway].up || gateways[p.gateway].credit == 0) continue;
    auto idx = static_cast<int>(i);
    if (static_cast<double>(p.rif) <= hot) {
      const Probe* c = cold < 0 ? nullptr : &probes_[static_cast<size_t>(cold)];
      if (!c || p.latency_ms < c->latency_ms || (p.latency_ms == c->latency_ms && p.rif < c->rif)) cold = idx;
    } else {
      const Probe* w = warm < 0 ? nullptr : &probes_[static_cast<size_t>(warm)];
      if (!w || p.rif < w->rif || (p.rif == w->rif && p.latency_ms < w->latency_ms)) warm = idx;
    }
  }
  int pick = cold >= 0 ? cold : warm;
  if (pick < 0) return -1;
  auto g = static_cast<int>(probes_[static_cast<size_t>(pick)].gateway);
  use(static_cast<size_t>(pick));
  return g;
}

}  // namespace lbmail
