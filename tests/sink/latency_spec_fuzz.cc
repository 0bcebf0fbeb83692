// libFuzzer target for the sink's latency specs ("20ms", "10ms..30ms", "exp:20ms"): any text
// is parsed or refused without a crash, and every draw of a parsed spec lies within it.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>

#include "sink_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<lbmail::LatencySpec> spec = lbmail::LatencySpec::parse(text);
  if (!spec) return 0;
  std::mt19937_64 rng(size);
  for (int i = 0; i < 64; ++i) {
    lbmail::Duration d = spec->draw(rng);
    // An exponential draw is capped at 20 means; no spec exceeds kMax otherwise.
    assert(d.count() >= 0 && d <= 20 * lbmail::LatencySpec::kMax);
    (void)d;
  }
  if (spec->isZero()) assert(spec->draw(rng).count() == 0);
  return 0;
}
