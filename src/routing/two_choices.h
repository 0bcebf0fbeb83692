// Two distinct random picks among n: the sampling of the power of two choices (Mitzenmacher,
// IEEE TPDS 2001), done as Finagle's P2CPick does it: the second pick is drawn from n - 1 and
// steps over the first, so both are uniform and never equal.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lbmail {

struct TwoChoices {
  size_t first;
  size_t second;
};

// n >= 2; r1 and r2 are independent uniform 64-bit random numbers.
inline TwoChoices twoDistinct(size_t n, uint64_t r1, uint64_t r2) {
  size_t a = static_cast<size_t>(r1 % n);
  size_t b = static_cast<size_t>(r2 % (n - 1));
  if (b >= a) ++b;
  return {a, b};
}

}  // namespace lbmail
