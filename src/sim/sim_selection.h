// The selection settings every sim initiator runs with, in the process runs and in the model
// world alike, so that the model measures the campaign the processes run. Shorter than an
// operator's defaults (docs/configuration.md): a sim run lasts seconds, not hours.
#pragma once

#include <cstdint>

namespace lbmail::sim_selection {

constexpr double kHalfLifeS = 2;
constexpr uint64_t kStaleAfterMs = 2000;  // each (gateway, site) refreshed about this often
constexpr double kExploration = 0.005;    // at most this share of decisions explore
constexpr double kHysteresis = 0.3;

}  // namespace lbmail::sim_selection
