// The shaping state file: the suspensions, throttled rates and the day's warm-up usage of every
// (sending address, receiving site) that has some, as TOML, so a restarted gateway does not
// send again into a block or at the rate that was throttled. docs/shaping.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lbmail/core/expected.h"
#include "site_shaper.h"

namespace lbmail::shaping {

struct SavedSite {
  std::string source;
  std::string site;
  SiteShaper::State shaper;
  int64_t day = 0;  // the UTC day (days since 1970-01-01) warmup_used counts
  uint64_t warmup_used = 0;
};

// Writes every site into file + ".tmp", flushes it to disk and renames it over file, so a crash
// leaves the old state or the new one, never half of one. "" or the error.
std::string writeShapingState(const std::string& file, const std::vector<SavedSite>& sites);

// The sites in file; a missing file is an empty state. A file that is not a state file (bad
// TOML, a missing or mistyped key, a value out of range) is an error naming file and entry.
Expected<std::vector<SavedSite>, std::string> readShapingState(const std::string& file);

}  // namespace lbmail::shaping
