// The scenarios' targets and their part of the report.
#include "scenario_report.h"

#include <cstdio>

#include "sim_report.h"

namespace lbmail {
namespace {

constexpr double kBlockedShareTarget = 0.01;    // the blocked gateway's share of group 1
constexpr double kBlockSettleSeconds = 5;       // after block_after
constexpr double kThrottleAdaptSeconds = 10;    // 421s counted from here on
constexpr double kThrottleShareTarget = 0.02;   // 421s per MAIL
constexpr double kThrottleVsOracle = 0.9;
constexpr double kWarmupVsUncapped = 0.95;


uint64_t sumFrom(const std::vector<uint32_t>& series, size_t from) {
  uint64_t n = 0;
  for (size_t i = from; i < series.size(); ++i) n += series[i];
  return n;
}

}  // namespace

ScenarioReport::ScenarioReport(const SimSettings& settings, const std::vector<RunStats>& runs, uint64_t warmup_cap)
    : settings_(settings), runs_(runs), warmup_cap_(warmup_cap) {
  for (const RunStats& r : runs_) {
    if (r.scenario == "blocklist") blocklist(r);
    if (r.scenario == "throttle") throttle(r);
    if (r.scenario == "warmup") warmup(r);
  }
}

std::string ScenarioReport::oracleOf(const RunStats& r) {
  return r.scenario == "default" ? "oracle" : r.scenario + "-oracle";
}

bool ScenarioReport::any() const {
  for (const RunStats& r : runs_) {
    if (r.scenario != "default") return true;
  }
  return false;
}

const RunStats* ScenarioReport::find(const std::string& name) const {
  for (const RunStats& r : runs_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

uint64_t ScenarioReport::refused421(const RunStats& r) {
  uint64_t n = 0;
  for (const auto& group : r.sink) {
    for (const RunStats::SinkClient& c : group) n += c.refused_421;
  }
  return n;
}

std::pair<uint64_t, uint64_t> ScenarioReport::deliveriesFrom(const RunStats& r, uint32_t group, uint32_t g,
                                                             size_t from) {
  uint64_t mine = 0, all = 0;
  if (group >= r.share_over_time.size()) return {0, 0};
  const auto& series = r.share_over_time[group];
  for (size_t t = from; t < series.size(); ++t) {
    for (size_t k = 0; k < series[t].size(); ++k) (k == g ? mine : all) += series[t][k];
  }
  return {mine, all + mine};
}

void ScenarioReport::blocklist(const RunStats& r) {
  auto from = static_cast<size_t>(std::chrono::duration<double>(settings_.block_after).count() + kBlockSettleSeconds);
  auto [blocked, all] = deliveriesFrom(r, 0, 0, from);
  double share = all ? static_cast<double>(blocked) / static_cast<double>(all) : 0;
  add(r,
      "gateway 1's share of group 1 from " + std::to_string(from) + " s on < 1% (" + std::to_string(all) +
          " deliveries)",
      share, all > 0 && share < kBlockedShareTarget);  // no deliveries then: nothing shown, not met
  uint64_t lost = r.refused.bounced + r.refused.failed;
  add(r, "recipients lost to a policy refusal = 0", static_cast<double>(lost), lost == 0);
}

void ScenarioReport::throttle(const RunStats& r) {
  uint64_t mails = 0, refused = 0;
  auto from = static_cast<size_t>(kThrottleAdaptSeconds);
  if (!r.sink.empty()) {
    for (const RunStats::SinkClient& c : r.sink[0]) {
      mails += sumFrom(c.mails_per_second, from);
      refused += sumFrom(c.refused_421_per_second, from);
    }
  }
  double share = mails ? static_cast<double>(refused) / static_cast<double>(mails) : 0;
  // A run over before the window shows nothing: not met.
  add(r, "421s per MAIL at group 1's sink after the first 10 s < 2% (" + std::to_string(mails) + " MAILs)", share,
      mails > 0 && share < kThrottleShareTarget);
  const RunStats* oracle = find(oracleOf(r));
  if (oracle && oracle != &r && oracle->msgs_per_second > 0) {
    // Deliveries per second: a run that gave up on recipients (failed after 421s) ends early and
    // fast, so it must not have failed more than the oracle either.
    double ratio = r.msgs_per_second / oracle->msgs_per_second;
    add(r,
        "throughput / the oracle's >= 0.9, failing no more than it (" + std::to_string(r.failed) + " failed, the oracle " +
            std::to_string(oracle->failed) + ")",
        ratio, ratio >= kThrottleVsOracle && r.failed <= oracle->failed);
  }
}

void ScenarioReport::warmup(const RunStats& r) {
  if (!r.capped) return;
  uint64_t most = 0;
  for (const auto& group : r.sink) {
    if (!group.empty()) most = std::max(most, group[0].accepted);
  }
  add(r, "most messages gateway 1 sent to one group's sink <= the cap of " + std::to_string(warmup_cap_),
      static_cast<double>(most), most <= warmup_cap_);
  const RunStats* uncapped = find("warmup-ewma-uncapped");
  if (r.policy == "ewma" && uncapped && uncapped->msgs_per_second > 0) {
    double ratio = r.msgs_per_second / uncapped->msgs_per_second;
    add(r, "throughput / the uncapped ewma run's >= 0.95", ratio, ratio >= kWarmupVsUncapped);
  }
}

std::string ScenarioReport::text() const {
  if (!any()) return "";
  std::string out = "\nscenarios (421s: given by the sinks; refused: recipients with a 5.7.x reply, and how they ended)\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %8s %8s %8s %9s %8s %8s %8s\n", "run", "msg/s", "421s", "refused",
                "elsewhere", "same gw", "bounced", "failed");
  out += line;
  for (const RunStats& r : runs_) {
    if (r.scenario == "default") continue;
    std::snprintf(line, sizeof line, "%-24s %8.0f %8llu %8llu %9llu %8llu %8llu %8llu\n", r.name.c_str(),
                  r.msgs_per_second, static_cast<unsigned long long>(refused421(r)),
                  static_cast<unsigned long long>(r.refused.recipients),
                  static_cast<unsigned long long>(r.refused.delivered_elsewhere),
                  static_cast<unsigned long long>(r.refused.delivered_same),
                  static_cast<unsigned long long>(r.refused.bounced), static_cast<unsigned long long>(r.refused.failed));
    out += line;
  }
  for (const ScenarioTarget& t : targets_) {
    out += t.run + ": " + t.what + ": " + formatNumber("%.4g", t.value) + " " + (t.met ? "PASS" : "FAIL") + "\n";
  }
  return out;
}

void ScenarioReport::json(JsonWriter& w, const RunStats& r) const {
  w.field("scenario", r.scenario);
  if (r.scenario == "default") return;
  w.field("capped", r.capped);
  w.field("refused_421", refused421(r));
  w.key("refused").beginObject();
  w.field("recipients", r.refused.recipients).field("replies", r.refused.replies);
  w.field("delivered_elsewhere", r.refused.delivered_elsewhere).field("delivered_same", r.refused.delivered_same);
  w.field("bounced", r.refused.bounced).field("failed", r.refused.failed).field("deferred", r.refused.deferred);
  w.field("bounced_mailbox", r.refused.bounced_mailbox);
  w.endObject();
  w.key("sink").beginArray();  // [group][gateway]
  for (const auto& group : r.sink) {
    w.beginArray();
    for (const RunStats::SinkClient& c : group) {
      w.beginObject().field("mails", c.mails).field("accepted", c.accepted).field("refused_421", c.refused_421);
      w.field("refused_other", c.refused_other).endObject();
    }
    w.endArray();
  }
  w.endArray();
  w.key("share_over_time").beginArray();  // [group][second][gateway]: deliveries
  for (const auto& group : r.share_over_time) {
    w.beginArray();
    for (const auto& second : group) {
      w.beginArray();
      for (uint32_t n : second) w.value(static_cast<uint64_t>(n));
      w.endArray();
    }
    w.endArray();
  }
  w.endArray();
}

void ScenarioReport::jsonTargets(JsonWriter& w) const {
  w.key("scenario_targets").beginArray();
  for (const ScenarioTarget& t : targets_) {
    w.beginObject().field("run", t.run).field("target", t.what).field("value", t.value).field("met", t.met).endObject();
  }
  w.endArray();
}

std::string ScenarioReport::html(const std::vector<std::string>& gateway_names) const {
  if (!any()) return "";
  std::string h = "<h3>Scenarios: each gateway's share of group 1, second by second</h3>\n<ul id=\"scenario-targets\">";
  for (const ScenarioTarget& t : targets_) {
    h += "<li class=\"" + std::string(t.met ? "met" : "missed") + "\">" + htmlEscaped(t.run + ": " + t.what) + ": " +
         formatNumber("%.4g", t.value) + (t.met ? " met" : " not met") + "</li>";
  }
  h += "</ul>\n";
  for (const RunStats& r : runs_) {
    if (r.scenario == "default" || r.share_over_time.empty()) continue;
    const auto& series = r.share_over_time[0];
    const int bar = 8, height = 100;
    h += "<h4>" + htmlEscaped(r.name) + " (421s " + std::to_string(refused421(r)) + ", refused " +
         std::to_string(r.refused.recipients) + ")</h4><svg class=\"chart timeline\" width=\"" +
         std::to_string(bar * static_cast<int>(series.size()) + 10) + "\" height=\"" + std::to_string(height + 10) +
         "\" role=\"img\">";
    for (size_t t = 0; t < series.size(); ++t) {
      uint64_t total = 0;
      for (uint32_t n : series[t]) total += n;
      double y = 5;
      for (size_t g = 0; g < series[t].size() && total > 0; ++g) {
        double hgt = static_cast<double>(series[t][g]) / static_cast<double>(total) * height;
        h += "<rect x=\"" + std::to_string(bar * static_cast<int>(t)) + "\" y=\"" + formatNumber("%.1f", y) + "\" width=\"" +
             std::to_string(bar - 1) + "\" height=\"" + formatNumber("%.1f", hgt) + "\" fill=\"" + gatewayColour(g) +
             "\"><title>" + std::to_string(t) + " s " + htmlEscaped(gateway_names[g]) + ": " + std::to_string(series[t][g]) +
             "</title></rect>";
        y += hgt;
      }
    }
    h += "</svg>\n";
  }
  return h;
}

}  // namespace lbmail
