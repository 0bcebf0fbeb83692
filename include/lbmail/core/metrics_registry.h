// Named metric families with labels, rendered in the Prometheus text exposition format 0.0.4.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lbmail/core/metric.h"

namespace lbmail {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  // Each call with the same name and labels returns the same metric, so callers may look a
  // series up once and keep the reference (it is stable for the registry's lifetime).
  Counter& counter(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds,
                       const MetricLabels& labels = {});
  // A gauge whose value is read at scrape time (open connections, queue depth, memory). The
  // callback runs with the registry locked: it must not call into the registry.
  void gaugeCallback(std::string_view name, std::string_view help, std::function<double()> read,
                     const MetricLabels& labels = {});
  // A counter read at scrape time from a total its owner keeps (connections opened, cache
  // hits): it only ever grows, so it is typed counter, and its name ends in _total.
  void counterCallback(std::string_view name, std::string_view help, std::function<uint64_t()> read,
                       const MetricLabels& labels = {});

  void renderPrometheus(std::string& out) const;
  std::string renderPrometheus() const;

 private:
  enum class Kind { Counter, Gauge, Histogram };

  struct Series {
    std::string labels;  // rendered inner part: a="x",b="y"
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
    std::function<uint64_t()> read_count;
  };

  struct Family {
    std::string name;
    std::string help;
    Kind kind;
    std::deque<Series> series;
    std::map<std::string, size_t, std::less<>> index;
  };

  Series& seriesFor(std::string_view name, std::string_view help, Kind kind, const MetricLabels& labels,
                    bool& created);
  static void renderFamily(const Family& f, std::string& out);

  mutable std::mutex mutex_;
  std::deque<Family> families_;
  std::map<std::string, size_t, std::less<>> by_name_;
};

}  // namespace lbmail
