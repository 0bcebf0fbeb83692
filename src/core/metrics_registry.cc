// Metric families and their Prometheus text rendering.
#include "lbmail/core/metrics_registry.h"

#include <cassert>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace lbmail {
namespace {

bool validName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Exposition format 0.0.4: label values escape backslash, double quote and newline; HELP text
// escapes backslash and newline only.
enum class Escaped { kLabelValue, kHelp };

void appendEscaped(std::string& out, std::string_view v, Escaped what) {
  for (char c : v) {
    if (c == '\\') out.append("\\\\");
    else if (c == '"' && what == Escaped::kLabelValue) out.append("\\\"");
    else if (c == '\n') out.append("\\n");
    else out.push_back(c);
  }
}

std::string renderLabels(const MetricLabels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    assert(validName(k, false) && k != "le");
    if (!out.empty()) out.push_back(',');
    out.append(k);
    out.append("=\"");
    appendEscaped(out, v, Escaped::kLabelValue);
    out.push_back('"');
  }
  return out;
}

void appendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("NaN");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
  }
}

void appendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(end - buf));
}

// name{labels} or name{labels,extra}; braces omitted when both are empty.
void appendSeriesName(std::string& out, std::string_view name, std::string_view suffix,
                      std::string_view labels, std::string_view extra = {}) {
  out.append(name);
  out.append(suffix);
  if (labels.empty() && extra.empty()) return;
  out.push_back('{');
  out.append(labels);
  if (!labels.empty() && !extra.empty()) out.push_back(',');
  out.append(extra);
  out.push_back('}');
}

}  // namespace

MetricsRegistry::Series& MetricsRegistry::seriesFor(std::string_view name, std::string_view help, Kind kind,
                                                    const MetricLabels& labels, bool& created) {
  assert(validName(name, true));
  // Prometheus naming: a counter's name ends in _total (OpenMetrics requires it).
  assert((kind != Kind::Counter || name.ends_with("_total")) && "a counter's name ends in _total");
  auto fit = by_name_.find(name);
  if (fit == by_name_.end()) {
    families_.push_back(Family{std::string(name), std::string(help), kind, {}, {}});
    fit = by_name_.emplace(std::string(name), families_.size() - 1).first;
  }
  Family& family = families_[fit->second];
  assert(family.kind == kind && "one metric name registered with two kinds");
  std::string rendered = renderLabels(labels);
  auto sit = family.index.find(rendered);
  created = sit == family.index.end();
  if (!created) return family.series[sit->second];
  family.series.push_back(Series{rendered, nullptr, nullptr, nullptr, nullptr, nullptr});
  family.index.emplace(std::move(rendered), family.series.size() - 1);
  return family.series.back();
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  bool created = false;
  Series& s = seriesFor(name, help, Kind::Counter, labels, created);
  if (created) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  bool created = false;
  Series& s = seriesFor(name, help, Kind::Gauge, labels, created);
  if (created) s.gauge = std::make_unique<Gauge>();
  assert(s.gauge && "gauge name already used by a callback gauge");
  return *s.gauge;
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      std::vector<double> upper_bounds, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  bool created = false;
  Series& s = seriesFor(name, help, Kind::Histogram, labels, created);
  if (created) s.histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  return *s.histogram;
}

void MetricsRegistry::gaugeCallback(std::string_view name, std::string_view help, std::function<double()> read,
                                    const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  bool created = false;
  Series& s = seriesFor(name, help, Kind::Gauge, labels, created);
  s.read = std::move(read);
}

void MetricsRegistry::counterCallback(std::string_view name, std::string_view help, std::function<uint64_t()> read,
                                      const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  bool created = false;
  Series& s = seriesFor(name, help, Kind::Counter, labels, created);
  assert(!s.counter && "counter name already used by a plain counter");
  s.read_count = std::move(read);
}

void MetricsRegistry::renderFamily(const Family& f, std::string& out) {
  static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
  out.append("# HELP ");
  out.append(f.name);
  out.push_back(' ');
  appendEscaped(out, f.help, Escaped::kHelp);
  out.append("\n# TYPE ");
  out.append(f.name);
  out.push_back(' ');
  out.append(kTypeNames[static_cast<int>(f.kind)]);
  out.push_back('\n');
  for (const Series& s : f.series) {
    if (s.counter || s.read_count) {
      appendSeriesName(out, f.name, "", s.labels);
      out.push_back(' ');
      appendUint(out, s.read_count ? s.read_count() : s.counter->value());
    } else if (s.gauge || s.read) {
      appendSeriesName(out, f.name, "", s.labels);
      out.push_back(' ');
      appendDouble(out, s.read ? s.read() : s.gauge->value());
    } else {
      const Histogram& h = *s.histogram;
      uint64_t cumulative = 0;
      std::string le;
      for (size_t i = 0; i <= h.upperBounds().size(); ++i) {
        cumulative += h.bucketCount(i);
        le.assign("le=\"");
        appendDouble(le, i < h.upperBounds().size() ? h.upperBounds()[i] : INFINITY);
        le.push_back('"');
        appendSeriesName(out, f.name, "_bucket", s.labels, le);
        out.push_back(' ');
        appendUint(out, cumulative);
        out.push_back('\n');
      }
      appendSeriesName(out, f.name, "_sum", s.labels);
      out.push_back(' ');
      appendDouble(out, h.sum());
      out.push_back('\n');
      appendSeriesName(out, f.name, "_count", s.labels);
      out.push_back(' ');
      // The count is the +Inf bucket's cumulative value, so the two always agree in one scrape.
      appendUint(out, cumulative);
    }
    out.push_back('\n');
  }
}

void MetricsRegistry::renderPrometheus(std::string& out) const {
  std::lock_guard lock(mutex_);
  for (const Family& f : families_) renderFamily(f, out);
}

std::string MetricsRegistry::renderPrometheus() const {
  std::string out;
  renderPrometheus(out);
  return out;
}

}  // namespace lbmail
