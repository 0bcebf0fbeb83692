// `lbmail media build` and `lbmail media verify`: turning a folder of source files into the
// content-addressed cache every gateway holds, and checking a cache on disk.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/media/media_manifest.h"

namespace lbmail::media {

struct BuildReport {
  std::vector<ManifestEntry> entries;  // one per source file, sorted by name
  size_t written = 0;                  // cache files (re)written
  size_t reused = 0;                   // already present and intact
  uint64_t source_bytes = 0;
  uint64_t encoded_bytes = 0;
};

// Encodes every regular file under src_dir (recursively; names starting with '.' skipped) into
// cache_dir: each as <hash>.b64 written to a temporary file, fsynced and renamed into place,
// then the manifest the same way. Files already in the cache and intact are not rewritten, and
// files of an earlier build stay (a running gateway may still map them).
Expected<BuildReport, std::string> buildMediaCache(const std::string& src_dir, const std::string& cache_dir);

struct VerifyReport {
  size_t checked = 0;
  std::vector<std::string> damaged;  // "<file> (<name>): <reason>", one per damaged file
};

// Re-reads every file the manifest lists: its size, checksum, base64 form, and the XXH3-128 of
// the decoded octets against the hash that names it. A manifest that cannot be read is an error.
Expected<VerifyReport, std::string> verifyMediaCache(const std::string& cache_dir);

}  // namespace lbmail::media
