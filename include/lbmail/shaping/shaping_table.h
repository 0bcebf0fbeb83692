// Every (sending address, receiving site) this gateway has shaped: suspensions after block
// replies, AIMD rates after throttle replies, the warm-up caps and the day's usage. The delivery
// engine asks it before a message joins a site's queue and tells it every reply; the gateway
// reports it to the initiators (SITES) and in /status. Time comes from the caller's clock
// (Unix milliseconds), so suspensions and days survive a restart and tests inject time.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lbmail/shaping/reply_class.h"
#include "lbmail/shaping/shaping_config.h"

namespace lbmail::shaping {

class SiteShaper;

constexpr uint64_t kNoCap = std::numeric_limits<uint64_t>::max();

// One (source, site) as /status and SITES show it.
struct SiteReport {
  std::string source;
  std::string site;
  bool suspended = false;
  uint64_t suspended_until_ms = 0;  // Unix ms; 0 when not suspended
  std::string reason;               // the reply that suspended it
  double rate = 0;                  // messages per second allowed now; 0: not throttled
  double connection_share = 1;      // the share of the configured connections allowed now (0..1]
  uint64_t throttles = 0;           // throttle replies received
  uint64_t blocks = 0;              // block replies received
  uint64_t warmup_cap = kNoCap;     // today's cap; kNoCap when no warm-up applies
  uint64_t warmup_used = 0;         // messages started today (a warm-up applies or not)
  uint64_t warmup_reserved = 0;     // admitted, not started yet
  bool shaped() const { return suspended || rate > 0 || warmup_cap != kNoCap; }
};

class ShapingTable {
 public:
  using Clock = std::function<uint64_t()>;  // Unix milliseconds

  ShapingTable(ShapingConfig config, Clock now_ms);
  ~ShapingTable();
  ShapingTable(const ShapingTable&) = delete;
  ShapingTable& operator=(const ShapingTable&) = delete;

  // Reads state_file (a missing file is an empty state): "" or the error. A suspension that
  // has ended and a day that has passed are dropped.
  std::string load();
  // Writes state_file atomically (a temporary file renamed over it): "" or the error.
  // Blocking file I/O of a few KiB: the gateway calls it from its save timer.
  std::string save();
  bool dirty() const { return dirty_; }

  enum class Verdict : uint8_t { kGo, kSuspended, kWarmupFull };
  struct Admission {
    Verdict verdict = Verdict::kGo;
    std::string reason;  // why not, for the REJECT and the log
  };
  // Before a message joins the queue of (source, site): suspended, or today's warm-up cap
  // reached (used + reserved), or go, which reserves one warm-up unit.
  Admission admit(const std::string& source, const std::string& site);
  // The admitted message's transaction started (MAIL FROM): its reservation becomes usage.
  void started(const std::string& source, const std::string& site);
  // The admitted message left without a transaction (withdrawn, failed over, shut down).
  void released(const std::string& source, const std::string& site);
  // A classified reply from the site (or kProtocol for none); reply is its one-line summary.
  // kThrottle cuts the rate; kBlock suspends for suspend_for. Returns true when the site's
  // state changed in a way the initiators should hear (suspended, first throttle).
  bool onReply(const std::string& source, const std::string& site, ReplyClass c, std::string_view reply);

  // Messages per second (source, site) may send now; 0 when not throttled (the configured
  // limits alone apply).
  double rate(const std::string& source, const std::string& site);
  // The connections allowed now, out of the configured ceiling (at least 1).
  uint32_t connections(const std::string& source, const std::string& site, uint32_t ceiling);
  bool suspended(const std::string& source, const std::string& site);

  // Every (source, site) that is shaped now (suspended, throttled or under a warm-up cap), the
  // most restricted first; all of them with every_site.
  std::vector<SiteReport> report(bool every_site = false);

  const ShapingConfig& config() const { return config_; }

 private:
  struct Entry;
  // (source, site), looked up without building a key: admit, started and onReply run per message.
  using Key = std::pair<std::string, std::string>;
  using KeyView = std::pair<std::string_view, std::string_view>;
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(KeyView k) const;
    size_t operator()(const Key& k) const { return (*this)(KeyView(k.first, k.second)); }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(KeyView a, KeyView b) const { return a == b; }
  };

  Entry& entry(const std::string& source, const std::string& site);
  Entry* find(const std::string& source, const std::string& site);
  const WarmupPlan* planFor(const std::string& source) const;
  void rollDay(Entry& e, uint64_t now);
  SiteReport reportOf(Entry& e, uint64_t now);

  ShapingConfig config_;
  Clock now_ms_;
  std::unordered_map<Key, std::unique_ptr<Entry>, KeyHash, KeyEqual> entries_;
  bool dirty_ = false;
};

}  // namespace lbmail::shaping
