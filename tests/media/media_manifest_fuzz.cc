// libFuzzer target for the media cache's manifest parser: whatever the bytes, parsing never
// crashes, and a manifest it accepts has only storable names and formats back into one that
// parses to the same entries.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lbmail/media/media_manifest.h"

namespace {

using lbmail::media::ManifestEntry;

void check(bool ok) {
  if (!ok) std::abort();
}

bool same(const ManifestEntry& a, const ManifestEntry& b) {
  return a.hash == b.hash && a.source_size == b.source_size && a.encoded_size == b.encoded_size &&
         a.checksum == b.checksum && a.content_type == b.content_type && a.name == b.name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = lbmail::media::parseManifest(text);
  if (!parsed) {
    check(!parsed.error().empty());
    return 0;
  }
  for (const ManifestEntry& e : *parsed) {
    check(lbmail::media::mediaNameError(e.name) == nullptr);
    check(!e.content_type.empty());
  }
  auto again = lbmail::media::parseManifest(lbmail::media::formatManifest(*parsed));
  check(again && again->size() == parsed->size());
  for (size_t i = 0; i < parsed->size(); ++i) check(same((*again)[i], (*parsed)[i]));
  return 0;
}
