// The scenarios' numbers: each gateway's share over time, the recipients refused for policy and
// how they ended (from the accounting file), and what the sinks saw per client (their logs).
#include <fstream>
#include <unordered_map>

#include "run_stats.h"

namespace lbmail {
namespace {

// The value of key=value in a log line; "" when absent.
std::string logField(const std::string& line, const std::string& key) {
  size_t at = line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 2;
  return line.substr(at, line.find(' ', at) - at);
}

std::vector<uint32_t> perSecond(const std::string& text) {
  std::vector<uint32_t> out;
  for (const std::string& n : accountingFields(text)) out.push_back(static_cast<uint32_t>(std::strtoul(n.c_str(), nullptr, 10)));
  return out;
}

// Runs are bounded by run_timeout (at most hours); the per-second series never grows past this.
constexpr double kMaxRunSeconds = 24 * 3600;

// One recipient's history: the gateways that refused it for policy, and its last line.
struct History {
  uint32_t refused_by = 0;  // bit per gateway
  std::string outcome;
  std::string enhanced;  // the last line's RFC 3463 code
  int gateway = -1;
};

void addRefusals(const std::unordered_map<std::string, History>& histories, RunStats::Refused& r) {
  for (const auto& [recipient, h] : histories) {
    if (h.refused_by == 0) continue;
    ++r.recipients;
    if (h.outcome == "delivered") {
      bool same = h.gateway >= 0 && (h.refused_by >> h.gateway & 1u);
      ++(same ? r.delivered_same : r.delivered_elsewhere);
    } else if (h.outcome == "bounced" && !h.enhanced.starts_with("5.7.")) {
      // Refused by policy at one gateway, then another reached the receiver, which refused the
      // address itself (5.1.1 user unknown): not lost to the policy refusal.
      ++r.bounced_mailbox;
    } else if (h.outcome == "bounced") {
      ++r.bounced;
    } else if (h.outcome == "failed") {
      ++r.failed;
    } else {
      ++r.deferred;
    }
  }
}

// The value of "key":"..." in one of the sink's JSON lines (no escapes in the sim's names).
std::string jsonText(const std::string& line, const std::string& key) {
  size_t at = line.find("\"" + key + "\":\"");
  if (at == std::string::npos) return "";
  at += key.size() + 4;
  return line.substr(at, line.find('"', at) - at);
}

// The sinks' refusal logs: each recipient refused by policy (RFC 3463 x.7.x), and through which
// gateways. The initiator reroutes those without an accounting line.
void readRefusals(const SimWorld& world, const SimSettings& settings, RunStats& s,
                  std::unordered_map<std::string, History>& histories) {
  for (uint32_t k = 0; k < settings.groups; ++k) {
    std::ifstream in(world.refusalLog(s.name, k));
    for (std::string line; std::getline(in, line);) {
      if (!jsonText(line, "enhanced").starts_with("5.7.")) continue;
      ++s.refused.replies;
      for (uint32_t g = 0; g < settings.gateways; ++g) {
        if (world.gatewaySource(g) == jsonText(line, "client")) histories[jsonText(line, "rcpt")].refused_by |= 1u << g;
      }
    }
  }
}

}  // namespace

void readScenarioAccounting(const SimWorld& world, const SimSettings& settings, RunStats& s) {
  std::ifstream in(world.path(s.name + ".csv"));
  std::string line;
  std::getline(in, line);  // header
  s.share_over_time.assign(settings.groups, {});
  std::unordered_map<std::string, History> histories;
  readRefusals(world, settings, s, histories);
  while (std::getline(in, line)) {
    std::vector<std::string> f = accountingFields(line);
    if (f.size() < 10) continue;
    std::optional<uint32_t> g = world.gatewayIndex(f[4]);
    History& h = histories[f[1]];
    h.outcome = f[5];
    h.enhanced = f[7];
    h.gateway = g ? static_cast<int>(*g) : -1;
    // RFC 3463: x.7.x is a security or policy status; a final 5.7.x is a refusal by policy
    // (the sink's log has it as well).
    if (f[7].starts_with("5.7.") && g) h.refused_by |= 1u << *g;
    std::optional<uint32_t> group = world.groupOfDomain(f[2]);
    double t = parseAccountingTime(f[0]) - s.started_unix;
    // A line from before the run or past any run's bound (a clock that jumped) has no second
    // in the series: it would size the series by the clock, not by the run.
    if (f[5] != "delivered" || !g || !group || t < 0 || t > kMaxRunSeconds) continue;
    auto second = static_cast<size_t>(t);
    auto& series = s.share_over_time[*group];
    if (series.size() <= second) series.resize(second + 1, std::vector<uint32_t>(settings.gateways, 0));
    ++series[second][*g];
  }
  addRefusals(histories, s.refused);
}

void readSinkTotals(const SimWorld& world, const std::string& log, uint32_t group, RunStats& s) {
  if (s.sink.size() <= group) s.sink.resize(group + 1);
  s.sink[group].resize(world.gatewayNames().size());
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find("event=sink.client_totals") == std::string::npos) continue;
    std::string client = logField(line, "client");
    for (size_t g = 0; g < s.sink[group].size(); ++g) {
      if (world.gatewaySource(static_cast<uint32_t>(g)) != client) continue;
      RunStats::SinkClient& c = s.sink[group][g];
      c.mails = std::strtoull(logField(line, "mails").c_str(), nullptr, 10);
      c.accepted = std::strtoull(logField(line, "accepted").c_str(), nullptr, 10);
      c.refused_421 = std::strtoull(logField(line, "refused_421").c_str(), nullptr, 10);
      c.refused_other = std::strtoull(logField(line, "refused_other").c_str(), nullptr, 10);
      c.mails_per_second = perSecond(logField(line, "mails_per_second"));
      c.refused_421_per_second = perSecond(logField(line, "refused_421_per_second"));
    }
  }
}

}  // namespace lbmail
