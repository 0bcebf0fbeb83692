// Prequal's probe pool and hot-cold lexicographic choice (Wydrowski, Kleinberg, Rumble, Yang,
// "Load is not what you should balance: Introducing Prequal", NSDI 2024): probe answers
// (requests in flight at the gateway, its latency estimate) wait in a pool of at most 16;
// a probe older than 1 s, or used up, leaves it. A probe is hot when its RIF is above the
// Q_RIF = 0.84 quantile of the pool's RIFs; the choice is the cold probe with the lowest
// latency, or, when every usable probe is hot, the one with the lowest RIF. Using a probe
// counts the message just sent in its gateway's RIF, so reused probes do not herd.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "lbmail/routing/gateway_selector.h"

namespace lbmail {

class PrequalPool {
 public:
  static constexpr size_t kMaxProbes = 16;
  static constexpr uint64_t kMaxAgeMs = 1000;
  static constexpr double kHotQuantile = 0.84;
  // Uses per probe before it leaves the pool. One use would drain a 16-probe pool within
  // one burst of decisions made before the next probe answers; each use raises the probe's
  // RIF, so a reused probe turns hot as it is used.
  static constexpr uint32_t kReuseBudget = 3;

  // A probe answer came back; when the pool is full the oldest probe leaves.
  void add(size_t gateway, uint64_t requests_in_flight, double latency_ms, uint64_t now_ms);
  // The gateway of the best usable probe (its gateway a candidate: up, with credit), or -1
  // when none is; the probe is used once.
  int choose(std::span<const GatewayLoad> gateways, uint64_t now_ms);
  size_t size() const { return size_; }
  // The RIF above which a probe is hot (the pool's 0.84 quantile, linearly interpolated).
  double hotThreshold() const;

 private:
  struct Probe {
    size_t gateway = 0;
    uint64_t rif = 0;
    double latency_ms = 0;
    uint64_t received_ms = 0;
    uint32_t uses = 0;
  };
  void expire(uint64_t now_ms);
  void remove(size_t i);
  void use(size_t i);

  std::array<Probe, kMaxProbes> probes_{};  // oldest first
  size_t size_ = 0;
};

}  // namespace lbmail
