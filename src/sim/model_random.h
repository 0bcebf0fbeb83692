// The model world's random numbers: splitmix64, small and fast, one stream per purpose so that
// the arrivals are the same for every policy.
#pragma once

#include <cmath>
#include <cstdint>

namespace lbmail {

class ModelRandom {
 public:
  explicit ModelRandom(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double exponential(double mean) { return mean > 0 ? -mean * std::log1p(-uniform()) : 0; }
  double normal() {
    // Box-Muller; one of the pair is enough here.
    double u = uniform(), v = uniform();
    return std::sqrt(-2 * std::log1p(-u)) * std::cos(6.283185307179586 * v);
  }

 private:
  uint64_t state_;
};

}  // namespace lbmail
