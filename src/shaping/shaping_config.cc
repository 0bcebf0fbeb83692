// Reading the gateway's [shaping] table.
#include "lbmail/shaping/shaping_config.h"

#include <unistd.h>

#include <chrono>
#include <optional>

#include "lbmail/core/config_path.h"
#include "lbmail/core/socket_address.h"

namespace lbmail::shaping {
namespace {

using namespace std::chrono_literals;

// Days since 1970-01-01 of a "YYYY-MM-DD" date (the proleptic Gregorian calendar, UTC), or none
// when the text is not exactly such a date.
std::optional<int64_t> parseDay(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  size_t field = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 4 || i == 7) {
      ++field;
      continue;
    }
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    parts[field] = parts[field] * 10 + (text[i] - '0');
  }
  std::chrono::year_month_day ymd{std::chrono::year(parts[0]), std::chrono::month(static_cast<unsigned>(parts[1])),
                                  std::chrono::day(static_cast<unsigned>(parts[2]))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

// The source as the delivery engine spells it (SocketAddress::host), so "::0:1" and "::1" name
// one address.
std::string readPlanSource(ConfigTable& t) {
  std::string text = t.string("source", "");
  if (text.empty()) return text;
  std::optional<SocketAddress> a = SocketAddress::parse(text + ":0");
  if (!a) a = SocketAddress::parse("[" + text + "]:0");
  if (!a) t.fail("source", "an IP address such as \"203.0.113.7\" or \"2001:db8::7\", or \"\" for every source");
  return a->host();
}

WarmupPlan readWarmupPlan(ConfigTable& t) {
  WarmupPlan p;
  p.source = readPlanSource(t);
  static constexpr std::string_view kDate = "a quoted UTC date \"YYYY-MM-DD\", the day of the first cap";
  std::optional<std::string> start;
  try {
    start = t.optionalString("start");
  } catch (const ConfigError&) {
    t.fail("start", kDate);  // TOML's own (unquoted) dates say nothing of the time zone
  }
  std::optional<int64_t> day = start ? parseDay(*start) : std::nullopt;
  if (!day) t.fail("start", kDate);
  p.start = *start;
  p.start_day = *day;
  for (int64_t cap : t.integerArray("daily_caps", 1, int64_t{1} << 53)) p.daily_caps.push_back(static_cast<uint64_t>(cap));
  if (p.daily_caps.empty()) t.fail("daily_caps", "a non-empty array of positive integers, one cap per day");
  return p;
}

AimdSettings readAimd(ConfigTable t) {
  AimdSettings a;
  a.decrease = t.real("decrease", a.decrease, 0, 1);
  // 0 would stop the site for good and 1 would never slow it down.
  if (a.decrease <= 0 || a.decrease >= 1) t.fail("decrease", "a number greater than 0 and less than 1");
  a.cut_spacing = t.duration("cut_spacing", a.cut_spacing, 0s, 10min);
  a.quiet = t.duration("quiet", a.quiet, 0s, 24h);
  a.increase = t.real("increase", a.increase, 0, 1);
  if (a.increase <= 0) t.fail("increase", "a number greater than 0, at most 1");
  a.recover_step = t.duration("recover_step", a.recover_step, 1ms, 1h);
  a.min_rate = t.real("min_rate", a.min_rate, 0.001, 1e6);
  return a;
}

}  // namespace

ShapingConfig readShapingConfig(ConfigTable& t, const std::string& config_file) {
  ShapingConfig c;
  c.enabled = t.boolean("enabled", c.enabled);
  c.rules_file = resolveConfigPath(config_file, t.string("rules_file", c.rules_file));
  // Checked now, like the other files a gateway reads: --check-config should catch it.
  if (!c.rules_file.empty() && access(c.rules_file.c_str(), R_OK) != 0) {
    t.fail("rules_file", "a readable rules file (configs/shaping-rules.toml), or \"\"");
  }
  c.suspend_for = t.duration("suspend_for", c.suspend_for, 1ms, 30 * 24h);
  c.aimd = readAimd(t.table("aimd"));
  for (ConfigTable& w : t.tableArray("warmup")) {
    WarmupPlan p = readWarmupPlan(w);
    for (const WarmupPlan& other : c.warmup) {
      if (other.source == p.source) w.fail("source", "a source no other [[shaping.warmup]] names");
    }
    c.warmup.push_back(std::move(p));
  }
  c.state_file = resolveConfigPath(config_file, t.string("state_file", c.state_file));
  c.save_interval = t.duration("save_interval", c.save_interval, 10ms, 1h);
  c.report_interval = t.duration("report_interval", c.report_interval, 10ms, 1min);
  return c;
}

}  // namespace lbmail::shaping
