// The model report's text, JSON and HTML, and its targets.
#include "model_report.h"

#include <algorithm>

#include "lbmail/core/json_writer.h"
#include "sim_report.h"

namespace lbmail {
namespace {

// The rivals from the literature that ewma must match.
const std::vector<std::string> kRivals = {"c3", "prequal", "peak_ewma_p2c", "least_request_p2c"};

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

// a's figure over b's for a target; -1 (a target that fails) where either delivered nothing, since a run
// that delivers nothing has no delivery times and would otherwise look fastest.
double targetRatio(const ModelResult& a, const ModelResult& b, double ModelResult::*figure) {
  if (a.delivered == 0 || b.delivered == 0 || b.*figure <= 0) return -1;
  return a.*figure / b.*figure;
}

std::string describe(const ModelSpec& s) {
  return formatNumber("%.0f", s.rate) + " msg/s for " + formatNumber("%.0f", s.seconds) + " s, " +
         std::to_string(s.gateways) + " gateways, " + std::to_string(s.groups) + " sites, " +
         std::to_string(s.domains) + " domains";
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

// Best (lowest) of the rivals that ran, by mean or p99.
const ModelResult* bestRival(const ModelScenarioResult& s, bool p99) {
  const ModelResult* best = nullptr;
  for (const std::string& p : kRivals) {
    const ModelResult* r = modelResult(s, p);
    if (!r || r->delivered == 0) continue;  // nothing delivered is not the best, it is nothing
    if (!best || (p99 ? r->p99_ms < best->p99_ms : r->mean_ms < best->mean_ms)) best = r;
  }
  return best;
}

// The scenario's own figure for a policy (shift: -1 when it never followed).
std::string extras(const ModelSpec& spec, const ModelResult& r) {
  switch (spec.change) {
    case ModelChange::kShift: return "shift " + formatNumber("%.0f", r.shift_ms) + " ms";
    case ModelChange::kFailure:
      return "lost " + std::to_string(r.lost) + ", rebalanced " + formatNumber("%.0f", r.rebalanced_ms) + " ms";
    case ModelChange::kBlocked: return "bounced by policy " + std::to_string(r.bounced_policy);
    default: return r.refusals ? "refused and re-sent " + std::to_string(r.refusals) : "";
  }
}

}  // namespace

const ModelResult* modelResult(const ModelScenarioResult& s, const std::string& policy) {
  for (const ModelResult& r : s.results) {
    if (r.policy == policy) return &r;
  }
  return nullptr;
}

ModelReport::ModelReport(std::vector<ModelScenarioResult> scenarios, double seconds)
    : scenarios_(std::move(scenarios)), seconds_(seconds) {
  for (const ModelScenarioResult& s : scenarios_) addTargets(s);
}

void ModelReport::target(const ModelScenarioResult& s, std::string name, double value, double limit) {
  targets_.push_back({s.spec.scenario, std::move(name), value, limit, value >= 0 && value <= limit});
}

// The targets, where the policies they compare ran.
void ModelReport::addTargets(const ModelScenarioResult& s) {
  const ModelResult* ewma = modelResult(s, "ewma");
  if (!ewma) return;
  const ModelResult* oracle = modelResult(s, "oracle");
  const std::string& name = s.spec.scenario;
  if (name == "matrix" && oracle) {
    target(s, "ewma mean / oracle's", targetRatio(*ewma, *oracle, &ModelResult::mean_ms), 1.05);
    target(s, "ewma p99 / oracle's", targetRatio(*ewma, *oracle, &ModelResult::p99_ms), 1.5);
  }
  if (const ModelResult* best = bestRival(s, false)) {
    target(s, "ewma mean / best rival's (" + best->policy + ")", targetRatio(*ewma, *best, &ModelResult::mean_ms), 1.03);
  }
  if (const ModelResult* best = bestRival(s, true)) {
    target(s, "ewma p99 / best rival's (" + best->policy + ")", targetRatio(*ewma, *best, &ModelResult::p99_ms), 1.03);
  }
  if (name == "matrix") target(s, "ewma switches per domain-minute", ewma->switches_per_domain_minute, 1.999);
  if (name == "shift") target(s, "ewma ms to follow the shift", ewma->shift_ms, 2000);
  if (name == "failure") {
    uint64_t lost = 0;
    for (const ModelResult& r : s.results) lost += r.lost;
    target(s, "messages lost (every policy)", static_cast<double>(lost), 0);
    target(s, "ewma ms until rebalanced", ewma->rebalanced_ms, s.spec.failover_grace_ms);
  }
}

bool ModelReport::met() const {
  return std::all_of(targets_.begin(), targets_.end(), [](const ModelTarget& t) { return t.met; });
}

std::string ModelReport::scenarioText(size_t i) const {
  const ModelScenarioResult& s = scenarios_[i];
  const ModelResult* oracle = modelResult(s, "oracle");
  std::string out = "model " + s.spec.scenario + " (" + describe(s.spec) + "; " +
                    formatNumber("%.1f", s.cpu_seconds) + " s CPU)\n";
  out += "  policy              mean_ms  p50_ms  p99_ms   msg/s  sw/dom/min  decisions  mean/or  p99/or  "
         "delivered bounced failed\n";
  for (const ModelResult& r : s.results) {
    std::string line = "  " + r.policy;
    line.resize(20, ' ');
    line += pad(formatNumber("%.1f", r.mean_ms), 8) + pad(formatNumber("%.1f", r.p50_ms), 8) +
            pad(formatNumber("%.1f", r.p99_ms), 8) + pad(formatNumber("%.0f", r.throughput), 8) +
            pad(formatNumber("%.2f", r.switches_per_domain_minute), 12) + pad(std::to_string(r.decisions), 11) +
            pad(oracle ? formatNumber("%.2f", ratio(r.mean_ms, oracle->mean_ms)) : "-", 9) +
            pad(oracle ? formatNumber("%.2f", ratio(r.p99_ms, oracle->p99_ms)) : "-", 8) +
            pad(std::to_string(r.delivered), 10) + pad(std::to_string(r.bounced), 8) +
            pad(std::to_string(r.failed), 7);
    std::string extra = extras(s.spec, r);
    out += line + (extra.empty() ? "" : "  " + extra) + "\n";
  }
  for (const ModelTarget& t : targets_) {
    if (t.scenario != s.spec.scenario) continue;
    out += "  target " + t.name + ": " + formatNumber("%.3g", t.value) + " (at most " + formatNumber("%.3g", t.limit) +
           ") " + (t.met ? "pass" : "FAIL") + "\n";
  }
  return out;
}

std::string ModelReport::text() const {
  std::string out;
  for (size_t i = 0; i < scenarios_.size(); ++i) out += scenarioText(i);
  size_t met = static_cast<size_t>(std::count_if(targets_.begin(), targets_.end(), [](const ModelTarget& t) { return t.met; }));
  out += "model targets: " + std::to_string(met) + " of " + std::to_string(targets_.size()) + " met; " +
         formatNumber("%.1f", seconds_) + " s\n";
  return out;
}

std::string ModelReport::json() const {
  std::string out;
  JsonWriter w(out);
  w.beginObject().field("seconds", seconds_).field("targets_met", met());
  w.key("scenarios").beginArray();
  for (const ModelScenarioResult& s : scenarios_) {
    w.beginObject().field("scenario", s.spec.scenario).field("rate", s.spec.rate).field("seconds", s.spec.seconds);
    w.field("gateways", s.spec.gateways).field("groups", s.spec.groups).field("domains", s.spec.domains);
    w.field("seed", s.spec.seed).field("cpu_seconds", s.cpu_seconds);
    w.key("policies").beginArray();
    for (const ModelResult& r : s.results) {
      w.beginObject().field("policy", r.policy).field("messages", r.messages).field("delivered", r.delivered);
      w.field("bounced", r.bounced).field("bounced_policy", r.bounced_policy).field("failed", r.failed);
      w.field("unfinished", r.unfinished).field("lost", r.lost).field("attempts", r.attempts);
      w.field("resent", r.resent).field("refusals", r.refusals).field("decisions", r.decisions).field("mean_ms", r.mean_ms);
      w.field("p50_ms", r.p50_ms).field("p99_ms", r.p99_ms).field("throughput", r.throughput);
      w.field("switches_per_domain_minute", r.switches_per_domain_minute);
      if (s.spec.change == ModelChange::kShift) w.field("shift_ms", r.shift_ms);
      if (s.spec.change == ModelChange::kFailure) w.field("rebalanced_ms", r.rebalanced_ms);
      if (const ModelResult* o = modelResult(s, "oracle")) {
        w.field("mean_to_oracle", ratio(r.mean_ms, o->mean_ms)).field("p99_to_oracle", ratio(r.p99_ms, o->p99_ms));
      }
      w.field("cpu_seconds", r.cpu_seconds).endObject();
    }
    w.endArray().endObject();
  }
  w.endArray().key("targets").beginArray();
  for (const ModelTarget& t : targets_) {
    w.beginObject().field("scenario", t.scenario).field("name", t.name).field("value", t.value);
    w.field("limit", t.limit).field("met", t.met).endObject();
  }
  w.endArray().endObject();
  return out;
}

std::string ModelReport::html() const {
  std::string out =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lbmail model world report</title>"
      "<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
      "td,th{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child"
      "{text-align:left}svg text{font:12px system-ui,sans-serif}.met{color:#2a7}.missed{color:#c33}</style>"
      "</head><body><h1>lbmail model world report</h1>\n";
  for (size_t i = 0; i < scenarios_.size(); ++i) {
    const ModelScenarioResult& s = scenarios_[i];
    out += "<h2>" + htmlEscaped(s.spec.scenario) + "</h2><p>" + htmlEscaped(describe(s.spec)) + "</p>";
    out += "<table><tr><th>policy</th><th>mean ms</th><th>p50 ms</th><th>p99 ms</th><th>msg/s</th>"
           "<th>switches/domain/min</th><th>delivered</th><th>bounced</th><th>failed</th><th></th></tr>";
    double top = 0;
    for (const ModelResult& r : s.results) top = std::max(top, r.p99_ms);
    for (const ModelResult& r : s.results) {
      out += "<tr><td>" + htmlEscaped(r.policy) + "</td><td>" + formatNumber("%.1f", r.mean_ms) + "</td><td>" +
             formatNumber("%.1f", r.p50_ms) + "</td><td>" + formatNumber("%.1f", r.p99_ms) + "</td><td>" +
             formatNumber("%.0f", r.throughput) + "</td><td>" + formatNumber("%.2f", r.switches_per_domain_minute) +
             "</td><td>" + std::to_string(r.delivered) + "</td><td>" + std::to_string(r.bounced) + "</td><td>" +
             std::to_string(r.failed) + "</td><td>" + htmlEscaped(extras(s.spec, r)) + "</td></tr>";
    }
    out += "</table>";
    // p99 per policy, bars scaled to the scenario's largest.
    const int row = 22, left = 150, width = 450;
    out += "<svg width=\"720\" height=\"" + std::to_string(row * static_cast<int>(s.results.size()) + 10) +
           "\" role=\"img\" aria-label=\"p99 per policy\">";
    int y = 5;
    for (size_t p = 0; p < s.results.size(); ++p) {
      const ModelResult& r = s.results[p];
      int w = top > 0 ? static_cast<int>(r.p99_ms / top * width) : 0;
      out += "<text x=\"0\" y=\"" + std::to_string(y + 14) + "\">" + htmlEscaped(r.policy) + "</text><rect x=\"" +
             std::to_string(left) + "\" y=\"" + std::to_string(y) + "\" width=\"" + std::to_string(w) +
             "\" height=\"16\" fill=\"" + gatewayColour(p) + "\"/><text x=\"" + std::to_string(left + w + 6) +
             "\" y=\"" + std::to_string(y + 14) + "\">p99 " + formatNumber("%.1f", r.p99_ms) + " ms</text>";
      y += row;
    }
    out += "</svg><ul>";
    for (const ModelTarget& t : targets_) {
      if (t.scenario != s.spec.scenario) continue;
      out += std::string("<li class=\"") + (t.met ? "met" : "missed") + "\">" + htmlEscaped(t.name) + ": " +
             formatNumber("%.3g", t.value) + " (at most " + formatNumber("%.3g", t.limit) + ") " +
             (t.met ? "pass" : "FAIL") + "</li>";
    }
    out += "</ul>\n";
  }
  return out + "</body></html>\n";
}

}  // namespace lbmail
