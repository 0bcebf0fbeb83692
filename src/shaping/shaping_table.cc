// The shaping state of every (sending address, receiving site): admission, replies, recovery,
// reports and the state file.
#include "lbmail/shaping/shaping_table.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "shaping_state_file.h"
#include "site_shaper.h"

namespace lbmail::shaping {
namespace {

constexpr uint64_t kDayMs = 86'400'000;

int64_t utcDay(uint64_t now) { return static_cast<int64_t>(now / kDayMs); }

// Today's cap of a plan: day 0 is its start; before the start the first day's cap applies (a
// plan written ahead of time already protects the address), after the schedule none.
uint64_t capOf(const WarmupPlan* plan, int64_t day) {
  if (!plan || plan->daily_caps.empty()) return kNoCap;
  int64_t index = std::max<int64_t>(0, day - plan->start_day);
  if (static_cast<uint64_t>(index) >= plan->daily_caps.size()) return kNoCap;
  return plan->daily_caps[static_cast<size_t>(index)];
}

// "2026-12-05 10:26:44 UTC", for the reason a suspended site gives.
std::string utcTime(uint64_t ms) {
  using namespace std::chrono;
  sys_seconds t{seconds(ms / 1000)};
  sys_days day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld:%02lld UTC", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(hms.hours().count()), static_cast<long long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

// Most restricted first: suspended (longest first), throttled (slowest first), under a warm-up
// cap (least left first), the rest; then by name so the order is stable.
auto restriction(const SiteReport& r) {
  int group = r.suspended ? 0 : r.rate > 0 ? 1 : r.warmup_cap != kNoCap ? 2 : 3;
  double key = 0;
  if (group == 0) key = -static_cast<double>(r.suspended_until_ms);
  if (group == 1) key = r.rate;
  if (group == 2) key = static_cast<double>(r.warmup_cap) - static_cast<double>(r.warmup_used + r.warmup_reserved);
  return std::make_tuple(group, key, std::string_view(r.source), std::string_view(r.site));
}

}  // namespace

struct ShapingTable::Entry {
  std::string source;
  std::string site;
  const WarmupPlan* plan = nullptr;  // into config_.warmup, fixed for the table's life
  SiteShaper shaper;
  int64_t day = 0;  // the UTC day used counts
  uint64_t used = 0;
  uint64_t reserved = 0;  // admitted, not started nor released: in memory only
};

size_t ShapingTable::KeyHash::operator()(KeyView k) const {
  size_t a = std::hash<std::string_view>()(k.first);
  size_t b = std::hash<std::string_view>()(k.second);
  return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
}

ShapingTable::ShapingTable(ShapingConfig config, Clock now_ms) : config_(std::move(config)), now_ms_(std::move(now_ms)) {}

ShapingTable::~ShapingTable() = default;

const WarmupPlan* ShapingTable::planFor(const std::string& source) const {
  const WarmupPlan* every = nullptr;
  for (const WarmupPlan& p : config_.warmup) {
    if (p.source == source) return &p;
    if (p.source.empty()) every = &p;
  }
  return every;
}

ShapingTable::Entry* ShapingTable::find(const std::string& source, const std::string& site) {
  auto it = entries_.find(KeyView(source, site));
  return it == entries_.end() ? nullptr : it->second.get();
}

ShapingTable::Entry& ShapingTable::entry(const std::string& source, const std::string& site) {
  if (Entry* e = find(source, site)) return *e;
  auto e = std::make_unique<Entry>();
  e->source = source;
  e->site = site;
  e->plan = planFor(source);
  e->day = utcDay(now_ms_());
  Entry& ref = *e;
  entries_.emplace(Key(source, site), std::move(e));
  return ref;
}

void ShapingTable::rollDay(Entry& e, uint64_t now) {
  int64_t today = utcDay(now);
  if (e.day == today) return;
  // Reservations stay: those messages start today and count against today's cap.
  e.day = today;
  if (e.used > 0 && e.plan) dirty_ = true;
  e.used = 0;
}

ShapingTable::Admission ShapingTable::admit(const std::string& source, const std::string& site) {
  if (!config_.enabled) return {};
  uint64_t now = now_ms_();
  Entry& e = entry(source, site);
  if (e.shaper.suspended(now)) {
    const SiteShaper::State& s = e.shaper.state();
    return {Verdict::kSuspended, "site " + site + " suspended for " + source + " until " + utcTime(s.suspended_until) +
                                     ": " + s.reason};
  }
  rollDay(e, now);
  uint64_t cap = capOf(e.plan, e.day);
  if (cap != kNoCap && e.used + e.reserved >= cap) {
    return {Verdict::kWarmupFull, "warm-up cap of " + std::to_string(cap) + " for " + site + " reached today"};
  }
  ++e.reserved;
  return {};
}

void ShapingTable::started(const std::string& source, const std::string& site) {
  uint64_t now = now_ms_();
  Entry& e = entry(source, site);
  rollDay(e, now);
  if (e.reserved > 0) --e.reserved;
  ++e.used;
  e.shaper.noteStart(now);
  if (e.plan) dirty_ = true;
}

void ShapingTable::released(const std::string& source, const std::string& site) {
  Entry* e = find(source, site);
  if (e && e->reserved > 0) --e->reserved;
}

bool ShapingTable::onReply(const std::string& source, const std::string& site, ReplyClass c, std::string_view reply) {
  if (!config_.enabled || (c != ReplyClass::kThrottle && c != ReplyClass::kBlock)) return false;
  uint64_t now = now_ms_();
  Entry& e = entry(source, site);
  dirty_ = true;
  if (c == ReplyClass::kBlock) {
    e.shaper.suspend(now, config_.suspend_for, reply);
    return true;
  }
  return e.shaper.throttle(now, config_.aimd);
}

double ShapingTable::rate(const std::string& source, const std::string& site) {
  Entry* e = config_.enabled ? find(source, site) : nullptr;
  return e ? e->shaper.limits(now_ms_(), config_.aimd).rate : 0;
}

uint32_t ShapingTable::connections(const std::string& source, const std::string& site, uint32_t ceiling) {
  Entry* e = config_.enabled ? find(source, site) : nullptr;
  double share = e ? e->shaper.limits(now_ms_(), config_.aimd).connection_share : 1;
  return std::max<uint32_t>(1, static_cast<uint32_t>(std::floor(ceiling * share)));
}

bool ShapingTable::suspended(const std::string& source, const std::string& site) {
  Entry* e = config_.enabled ? find(source, site) : nullptr;
  return e && e->shaper.suspended(now_ms_());
}

SiteReport ShapingTable::reportOf(Entry& e, uint64_t now) {
  rollDay(e, now);
  SiteReport r;
  r.source = e.source;
  r.site = e.site;
  const SiteShaper::State& s = e.shaper.state();
  r.throttles = s.throttles;
  r.blocks = s.blocks;
  r.warmup_used = e.used;
  r.warmup_reserved = e.reserved;
  if (!config_.enabled) return r;
  if (e.shaper.suspended(now)) {
    r.suspended = true;
    r.suspended_until_ms = s.suspended_until;
    r.reason = s.reason;
  }
  SiteShaper::Limits limits = e.shaper.limits(now, config_.aimd);
  r.rate = limits.rate;
  r.connection_share = limits.connection_share;
  r.warmup_cap = capOf(e.plan, e.day);
  return r;
}

std::vector<SiteReport> ShapingTable::report(bool every_site) {
  uint64_t now = now_ms_();
  std::vector<SiteReport> out;
  for (auto& [key, e] : entries_) {
    SiteReport r = reportOf(*e, now);
    if (every_site || r.shaped()) out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const SiteReport& a, const SiteReport& b) { return restriction(a) < restriction(b); });
  return out;
}

std::string ShapingTable::save() {
  if (config_.state_file.empty()) {
    dirty_ = false;
    return "";
  }
  uint64_t now = now_ms_();
  std::vector<SavedSite> sites;
  for (auto& [key, e] : entries_) {
    rollDay(*e, now);
    bool throttled = e->shaper.limits(now, config_.aimd).rate > 0;
    bool counted = e->plan && e->used > 0;
    if (!e->shaper.suspended(now) && !throttled && !counted) continue;
    sites.push_back(SavedSite{e->source, e->site, e->shaper.state(), e->day, e->used});
  }
  std::string err = writeShapingState(config_.state_file, sites);
  if (err.empty()) dirty_ = false;
  return err;
}

std::string ShapingTable::load() {
  if (config_.state_file.empty()) return "";
  auto sites = readShapingState(config_.state_file);
  if (!sites) return sites.error();
  uint64_t now = now_ms_();
  for (SavedSite& s : *sites) {
    if (s.shaper.suspended_until <= now) {
      s.shaper.suspended_until = 0;
      s.shaper.reason.clear();
    }
    if (s.day != utcDay(now)) s.warmup_used = 0;
    if (s.shaper.suspended_until == 0 && s.shaper.rate == 0 && s.warmup_used == 0) continue;
    Entry& e = entry(s.source, s.site);
    e.shaper.restore(std::move(s.shaper));
    e.day = utcDay(now);
    e.used = s.warmup_used;
  }
  return "";
}

}  // namespace lbmail::shaping
