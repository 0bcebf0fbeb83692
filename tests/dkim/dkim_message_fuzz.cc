// libFuzzer target: any bytes as a message. The header fields and the canonical body hash must
// not depend on how the message is split into slices (the gateway's slices fall anywhere), and
// canonicalizing a field never fails. The first two bytes choose the split points.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/dkim/body_hasher.h"
#include "lbmail/dkim/canonicalization.h"
#include "lbmail/dkim/header_fields.h"

namespace {

using namespace lbmail::dkim;

struct Digest {
  std::vector<std::string> fields;
  std::array<uint8_t, 32> simple, relaxed;
};

Digest digest(std::span<const std::string_view> slices) {
  HeaderFields h(slices);
  Digest d;
  for (const HeaderField& f : h.fields()) {
    std::string canonical;
    appendCanonicalHeader(canonical, f.text, Canonicalization::kRelaxed);
    appendCanonicalHeader(canonical, f.text, Canonicalization::kSimple);
    d.fields.push_back(std::move(canonical));
  }
  BodyHasher simple(Canonicalization::kSimple), relaxed(Canonicalization::kRelaxed);
  for (size_t i = h.bodySlice(); i < slices.size(); ++i) {
    std::string_view piece = slices[i].substr(i == h.bodySlice() ? h.bodyOffset() : 0);
    simple.update(piece);
    relaxed.update(piece);
  }
  d.simple = simple.finish();
  d.relaxed = relaxed.finish();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  size_t a = text.empty() ? 0 : data[0] % (text.size() + 1);
  size_t b = text.empty() ? 0 : data[1] % (text.size() + 1);
  if (a > b) std::swap(a, b);
  std::string_view whole[] = {text};
  std::string_view split[] = {text.substr(0, a), text.substr(a, b - a), text.substr(b)};
  Digest one = digest(whole), three = digest(split);
  if (one.fields != three.fields || one.simple != three.simple || one.relaxed != three.relaxed) std::abort();
  return 0;
}
