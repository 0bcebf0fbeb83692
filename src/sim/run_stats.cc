// Reading a run's outcome back: the final outcomes through the campaign's ledger, the
// deferrals and the shift from the accounting file.
#include "run_stats.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "campaign_ledger.h"

namespace lbmail {
namespace {

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

double parseAccountingTime(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &ms) != 7) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + ms / 1000.0;
}

std::vector<std::string> accountingFields(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
  return f;
}

namespace {

std::string readDeliveries(const SimWorld& world, const SimSettings& settings, RunStats& s) {
  std::vector<double> times;
  std::vector<double> gateway_sum(settings.gateways, 0);
  s.gateways.resize(settings.gateways);
  for (uint32_t g = 0; g < settings.gateways; ++g) s.gateways[g].name = world.gatewayName(g);
  s.group_share.assign(settings.groups, std::vector<uint64_t>(settings.gateways, 0));
  auto finals = CampaignLedger::readFinalOutcomes(world.path("recipients.db"), s.name, [&](const FinalOutcome& o) {
    if (o.state == RecipientState::kBounced) ++s.bounced;
    if (o.state == RecipientState::kFailed) ++s.failed;
    if (o.state != RecipientState::kDelivered) return;
    ++s.delivered;
    times.push_back(o.delivery_ms);
    std::optional<uint32_t> g = world.gatewayIndex(o.gateway);
    if (!g) return;
    ++s.gateways[*g].delivered;
    gateway_sum[*g] += o.delivery_ms;
    if (std::optional<uint32_t> group = world.groupOfDomain(o.domain)) ++s.group_share[*group][*g];
  });
  if (!finals) return finals.error();
  s.finals = *finals;
  std::sort(times.begin(), times.end());
  double sum = 0;
  for (double t : times) sum += t;
  s.mean_ms = times.empty() ? 0 : sum / static_cast<double>(times.size());
  s.p50_ms = percentile(times, 0.5);
  s.p90_ms = percentile(times, 0.9);
  s.p99_ms = percentile(times, 0.99);
  for (uint32_t g = 0; g < settings.gateways; ++g) {
    if (s.gateways[g].delivered) s.gateways[g].mean_ms = gateway_sum[g] / static_cast<double>(s.gateways[g].delivered);
  }
  return "";
}

// Deferrals, and for the shift run the share of group 0 on the new best gateway over time.
void readAccounting(const SimWorld& world, RunStats& s, double shift_at) {
  std::ifstream in(world.path(s.name + ".csv"));
  std::string line;
  std::getline(in, line);  // header
  constexpr double kBucket = 0.5;
  std::vector<uint64_t> total, best;
  std::string best_name = world.gatewayName(world.shiftedBest());
  while (std::getline(in, line)) {
    std::vector<std::string> f = accountingFields(line);
    if (f.size() < 10) continue;  // the columns since issue 19 (tls, tls_verified) follow the tenth
    if (f[5] == "deferred") ++s.deferrals;
    if (shift_at <= 0 || f[5] != "delivered" || world.groupOfDomain(f[2]) != 0u) continue;
    double t = parseAccountingTime(f[0]) - shift_at;
    if (t < 0) continue;
    auto b = static_cast<size_t>(t / kBucket);
    if (b >= total.size()) total.resize(b + 1, 0), best.resize(b + 1, 0);
    ++total[b];
    if (f[4] == best_name) ++best[b];
  }
  for (size_t b = 0; b < total.size(); ++b) {
    double share = total[b] ? static_cast<double>(best[b]) / static_cast<double>(total[b]) : 0;
    s.shift_share.push_back(share);
    // A half second with a handful of deliveries says nothing: at least 5.
    if (s.shift_seconds < 0 && total[b] >= 5 && share > 0.5) s.shift_seconds = static_cast<double>(b + 1) * kBucket;
  }
}

}  // namespace

std::string analyseRun(const SimWorld& world, const SimSettings& settings, RunStats& stats, double shift_at) {
  stats.recipients = settings.recipients;
  std::string err = readDeliveries(world, settings, stats);
  if (!err.empty()) return err;
  readAccounting(world, stats, shift_at);
  readScenarioAccounting(world, settings, stats);
  if (stats.seconds > 0) {
    stats.msgs_per_second = static_cast<double>(stats.delivered) / stats.seconds;
    stats.mb_per_second = static_cast<double>(stats.smtp_bytes) / 1e6 / stats.seconds;
  }
  return "";
}

}  // namespace lbmail
