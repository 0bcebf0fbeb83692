// Writing the report.
#include "sim_report.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "lbmail/core/json_writer.h"
#include "report_assets.h"
#include "scenario_report.h"

namespace lbmail {
namespace {

constexpr double kOracleTarget = 1.15;
constexpr double kRoundRobinTarget = 0.7;
constexpr double kShiftTarget = 10;

}  // namespace

std::string formatNumber(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string htmlEscaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

namespace {

// The page around the report: src/sim/assets/report.html, embedded at build time, with the
// report's own markup where its marker stands.
constexpr std::string_view kMarker = "<!-- report -->";
constexpr size_t kMarkerAt = assets::kReportHtml.find(kMarker);
static_assert(kMarkerAt != std::string_view::npos, "report.html must hold <!-- report -->");
constexpr std::string_view kPageHead = assets::kReportHtml.substr(0, kMarkerAt);
constexpr std::string_view kPageTail = assets::kReportHtml.substr(kMarkerAt + kMarker.size());


// Horizontal bars, one per label, scaled to the largest value.
std::string barChart(const std::string& title, const std::vector<std::pair<std::string, double>>& bars,
                     const char* unit) {
  double top = 0;
  for (const auto& [label, v] : bars) top = std::max(top, v);
  const int row = 26, left = 130, width = 420;
  int height = row * static_cast<int>(bars.size()) + 30;
  std::string svg = "<h3>" + htmlEscaped(title) + "</h3><svg class=\"chart\" width=\"700\" height=\"" +
                    std::to_string(height) + "\" role=\"img\">";
  int y = 10;
  for (size_t i = 0; i < bars.size(); ++i) {
    int w = top > 0 ? static_cast<int>(bars[i].second / top * width) : 0;
    svg += "<text x=\"0\" y=\"" + std::to_string(y + 15) + "\">" + htmlEscaped(bars[i].first) + "</text>";
    svg += "<rect class=\"bar\" x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
           std::to_string(w) + "\" height=\"18\" fill=\"" + gatewayColour(i) + "\"/>";
    svg += "<text x=\"" + std::to_string(left + w + 6) + "\" y=\"" + std::to_string(y + 15) + "\">" +
           formatNumber("%.1f", bars[i].second) + " " + unit + "</text>";
    y += row;
  }
  return svg + "</svg>";
}

// For each run, one stacked bar per group: the gateways' shares of its deliveries.
std::string shareChart(const SimSettings& settings, const std::vector<std::string>& gateway_names, const RunStats& r) {
  const int row = 22, left = 60, width = 420;
  std::string svg = "<h4>" + htmlEscaped(r.name) + "</h4><svg class=\"chart share\" width=\"640\" height=\"" +
                    std::to_string(row * static_cast<int>(settings.groups) + 10) + "\" role=\"img\">";
  for (uint32_t k = 0; k < settings.groups && k < r.group_share.size(); ++k) {
    uint64_t total = 0;
    for (uint64_t n : r.group_share[k]) total += n;
    int y = 5 + row * static_cast<int>(k), x = left;
    svg += "<text x=\"0\" y=\"" + std::to_string(y + 13) + "\">group " + std::to_string(k + 1) + "</text>";
    for (size_t g = 0; g < r.group_share[k].size(); ++g) {
      int w =
          total ? static_cast<int>(static_cast<double>(r.group_share[k][g]) / static_cast<double>(total) * width) : 0;
      svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" + std::to_string(w) +
             "\" height=\"16\" fill=\"" + gatewayColour(g) + "\"><title>" + htmlEscaped(gateway_names[g]) + ": " +
             std::to_string(r.group_share[k][g]) + "</title></rect>";
      x += w;
    }
  }
  return svg + "</svg>";
}

std::string shiftChart(const RunStats& r) {
  const int width = 560, height = 160;
  std::string svg =
      "<h3>After the shift: group 1's share on its new best gateway (per 0.5 s)</h3>"
      "<svg class=\"chart shift\" width=\"640\" height=\"" +
      std::to_string(height + 30) + "\" role=\"img\"><line x1=\"40\" y1=\"" + std::to_string(height) + "\" x2=\"" +
      std::to_string(40 + width) + "\" y2=\"" + std::to_string(height) + "\" stroke=\"#999\"/>";
  std::string points;
  size_t n = r.shift_share.size();
  for (size_t i = 0; i < n; ++i) {
    double x = 40 + (n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) * width : 0);
    double y = height - r.shift_share[i] * (height - 10);
    points += formatNumber("%.1f", x) + "," + formatNumber("%.1f", y) + " ";
  }
  svg += "<polyline fill=\"none\" stroke=\"#e15759\" stroke-width=\"2\" points=\"" + points + "\"/>";
  svg += "<text x=\"0\" y=\"15\">100%</text><text x=\"0\" y=\"" + std::to_string(height) + "\">0%</text>";
  return svg + "</svg>";
}

}  // namespace

const char* gatewayColour(size_t g) {
  static const char* colours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"};
  return colours[g % 8];
}

const RunStats* SimReport::find(const std::string& name) const {
  for (const RunStats& r : runs) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

double SimReport::ratio(const std::string& a, const std::string& b) const {
  const RunStats* x = find(a);
  const RunStats* y = find(b);
  return x && y && y->mean_ms > 0 ? x->mean_ms / y->mean_ms : 0;
}

bool SimReport::complete() const {
  for (const RunStats& r : runs) {
    if (!r.finished || r.finals != r.recipients) return false;
  }
  return !runs.empty();
}

std::string SimReport::text() const {
  std::string out = "\nlbmail sim: " + std::to_string(settings.gateways) + " gateways, " +
                    std::to_string(settings.domains) + " domains in " + std::to_string(settings.groups) + " groups, " +
                    std::to_string(settings.recipients) + " recipients, attachment " +
                    std::to_string(settings.attachment_size / 1024) + " KiB, TLS " + (settings.tls ? "on" : "off") +
                    "\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %9s %8s %8s %8s %8s %8s %8s %8s %9s %7s\n", "run", "delivered", "failed",
                "msg/s", "MB/s", "mean ms", "p50", "p90", "p99", "/oracle", "all");
  out += line;
  for (const RunStats& r : runs) {
    double vs = ratio(r.name, ScenarioReport::oracleOf(r));
    std::snprintf(line, sizeof line, "%-12s %9llu %8llu %8.0f %8.2f %8.1f %8.1f %8.1f %8.1f %9s %7s\n", r.name.c_str(),
                  static_cast<unsigned long long>(r.delivered), static_cast<unsigned long long>(r.failed),
                  r.msgs_per_second, r.mb_per_second, r.mean_ms, r.p50_ms, r.p90_ms, r.p99_ms,
                  vs > 0 ? formatNumber("%.2f", vs).c_str() : "-", r.finished && r.finals == r.recipients ? "yes" : "NO");
    out += line;
  }
  out += "\n";
  if (double o = ratio("ewma", "oracle"); o > 0) {
    out += "ewma / oracle mean delivery time: " + formatNumber("%.2f", o) + " (target <= 1.15) " +
           (o <= kOracleTarget ? "met" : "NOT MET") + "\n";
  }
  if (double rr = ratio("ewma", "round_robin"); rr > 0) {
    out += "ewma / round_robin mean delivery time: " + formatNumber("%.2f", rr) + " (target <= 0.7) " +
           (rr <= kRoundRobinTarget ? "met" : "NOT MET") + "\n";
  }
  if (const RunStats* s = find("ewma-shift")) {
    out += s->shift_seconds >= 0
               ? "shift: most of the shifted group on its new best gateway after " + formatNumber("%.1f", s->shift_seconds) +
                     " s (target <= 10 s) " + (s->shift_seconds <= kShiftTarget ? "met" : "NOT MET") + "\n"
               : "shift: the shifted group never moved (target <= 10 s) NOT MET\n";
  }
  for (const RunStats& r : runs) {
    if (r.smtp_bytes > 0) {
      out += "link bytes / SMTP bytes (" + r.name +
             "): " + formatNumber("%.3f%%", 100.0 * static_cast<double>(r.link_bytes) / static_cast<double>(r.smtp_bytes)) +
             "\n";
      break;
    }
  }
  out += ScenarioReport(settings, runs, warmup_cap).text();
  out += "every recipient accounted for in every run: " + std::string(complete() ? "yes" : "NO") + "\n";
  return out;
}

std::string SimReport::json() const {
  ScenarioReport scenarios(settings, runs, warmup_cap);
  std::string out;
  JsonWriter w(out);
  w.beginObject();
  w.key("world").beginObject();
  w.field("gateways", settings.gateways);
  w.field("groups", settings.groups);
  w.field("domains", settings.domains);
  w.field("recipients", settings.recipients);
  w.field("attachment_bytes", settings.attachment_size);
  w.field("tls", settings.tls);
  w.endObject();
  w.key("runs").beginArray();
  for (const RunStats& r : runs) {
    w.beginObject();
    w.field("name", r.name);
    w.field("policy", r.policy);
    w.field("finished", r.finished);
    w.field("recipients", r.recipients);
    w.field("accounted", r.finals);
    w.field("delivered", r.delivered);
    w.field("bounced", r.bounced);
    w.field("failed", r.failed);
    w.field("deferrals", r.deferrals);
    w.field("seconds", r.seconds);
    w.field("messages_per_second", r.msgs_per_second);
    w.field("mb_per_second", r.mb_per_second);
    w.key("delivery_ms").beginObject();
    w.field("mean", r.mean_ms).field("p50", r.p50_ms).field("p90", r.p90_ms).field("p99", r.p99_ms);
    w.endObject();
    w.key("gateways").beginArray();
    for (const RunStats::Gateway& g : r.gateways) {
      w.beginObject().field("name", g.name).field("delivered", g.delivered).field("mean_ms", g.mean_ms).endObject();
    }
    w.endArray();
    w.key("group_share").beginArray();
    for (const auto& group : r.group_share) {
      w.beginArray();
      for (uint64_t n : group) w.value(n);
      w.endArray();
    }
    w.endArray();
    w.field("link_bytes", r.link_bytes);
    w.field("smtp_bytes", r.smtp_bytes);
    if (!r.shift_share.empty() || r.name == "ewma-shift") {
      w.field("shift_seconds", r.shift_seconds);
      w.key("shift_share").beginArray();
      for (double v : r.shift_share) w.value(v);
      w.endArray();
    }
    scenarios.json(w, r);
    w.endObject();
  }
  w.endArray();
  scenarios.jsonTargets(w);
  w.key("targets").beginObject();
  w.field("ewma_over_oracle", ratio("ewma", "oracle"));
  w.field("ewma_over_round_robin", ratio("ewma", "round_robin"));
  if (const RunStats* s = find("ewma-shift")) w.field("shift_seconds", s->shift_seconds);
  w.endObject();
  w.field("complete", complete());
  w.field("seconds", total_seconds);
  w.endObject();
  return out;
}

std::string SimReport::html() const {
  std::string h = std::string(kPageHead) + "<p id=\"world\">" +
      std::to_string(settings.gateways) + " gateways, " + std::to_string(settings.domains) + " domains in " +
      std::to_string(settings.groups) + " groups, " + std::to_string(settings.recipients) + " recipients, attachment " +
      std::to_string(settings.attachment_size / 1024) + " KiB, TLS " + (settings.tls ? "on" : "off") + ".</p>\n";
  h += "<table id=\"runs\"><tr><th>run</th><th>delivered</th><th>failed</th><th>msg/s</th><th>MB/s</th>"
       "<th>mean ms</th><th>p50</th><th>p90</th><th>p99</th><th>mean / oracle</th><th>all accounted</th></tr>";
  for (const RunStats& r : runs) {
    h += "<tr class=\"run\" data-run=\"" + htmlEscaped(r.name) + "\"><td>" + htmlEscaped(r.name) + "</td><td>" +
         std::to_string(r.delivered) + "</td><td>" + std::to_string(r.failed) + "</td><td>" +
         formatNumber("%.0f", r.msgs_per_second) + "</td><td>" + formatNumber("%.2f", r.mb_per_second) + "</td><td>" +
         formatNumber("%.1f", r.mean_ms) + "</td><td>" + formatNumber("%.1f", r.p50_ms) + "</td><td>" + formatNumber("%.1f", r.p90_ms) +
         "</td><td>" + formatNumber("%.1f", r.p99_ms) + "</td><td>" +
         (ratio(r.name, ScenarioReport::oracleOf(r)) > 0 ? formatNumber("%.2f", ratio(r.name, ScenarioReport::oracleOf(r))) : "-") + "</td><td>" +
         (r.finished && r.finals == r.recipients ? "yes" : "NO") + "</td></tr>";
  }
  h += "</table>\n<ul id=\"targets\">";
  auto target = [&](const std::string& what, double v, double limit, const char* unit) {
    bool met = v > 0 && v <= limit;
    h += "<li class=\"" + std::string(met ? "met" : "missed") + "\">" + htmlEscaped(what) + ": " + formatNumber("%.2f", v) +
         unit + " (target &le; " + formatNumber("%.2f", limit) + unit + ") " + (met ? "met" : "not met") + "</li>";
  };
  if (ratio("ewma", "oracle") > 0) target("ewma / oracle mean delivery time", ratio("ewma", "oracle"), 1.15, "");
  if (ratio("ewma", "round_robin") > 0) {
    target("ewma / round_robin mean delivery time", ratio("ewma", "round_robin"), 0.7, "");
  }
  const RunStats* shift = find("ewma-shift");
  if (shift && shift->shift_seconds >= 0) {
    target("seconds until the shifted group moved", shift->shift_seconds, 10, " s");
  } else if (shift) {
    h += "<li class=\"missed\">the shifted group never moved to its new best gateway (target &le; 10 s) not met</li>";
  }
  h += "</ul>\n";
  std::vector<std::pair<std::string, double>> means, rates;
  for (const RunStats& r : runs) {
    means.emplace_back(r.name, r.mean_ms);
    rates.emplace_back(r.name, r.msgs_per_second);
  }
  h += barChart("Mean delivery time per run", means, "ms");
  h += barChart("Throughput per run", rates, "msg/s");
  h += "<h3>Each gateway's share of every domain group</h3><p>";
  for (uint32_t g = 0; g < settings.gateways; ++g) {
    h += "<span style=\"color:" + std::string(gatewayColour(g)) + "\">&#9632; " + htmlEscaped(gateway_names[g]) + "</span> ";
  }
  h += "</p>";
  for (const RunStats& r : runs) h += shareChart(settings, gateway_names, r);
  if (shift) h += shiftChart(*shift);
  h += ScenarioReport(settings, runs, warmup_cap).html(gateway_names);
  h += kPageTail;
  return h;
}

}  // namespace lbmail
