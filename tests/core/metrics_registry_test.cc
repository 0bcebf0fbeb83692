// Tests for metric families and their Prometheus text rendering.
#include "lbmail/core/metrics_registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "validate.h"

namespace lbmail {
namespace {

TEST(MetricsRegistry, RendersCounterWithHelpAndType) {
  MetricsRegistry r;
  r.counter("lbmail_sent_total", "Messages sent.").inc(3);
  EXPECT_EQ(r.renderPrometheus(),
            "# HELP lbmail_sent_total Messages sent.\n"
            "# TYPE lbmail_sent_total counter\n"
            "lbmail_sent_total 3\n");
}

TEST(MetricsRegistry, SameNameAndLabelsGiveTheSameSeries) {
  MetricsRegistry r;
  Counter& a = r.counter("c_total", "h", {{"domain", "a.test"}});
  Counter& b = r.counter("c_total", "h", {{"domain", "a.test"}});
  Counter& other = r.counter("c_total", "h", {{"domain", "b.test"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  a.inc();
  b.inc();
  other.inc(5);
  EXPECT_EQ(r.renderPrometheus(),
            "# HELP c_total h\n"
            "# TYPE c_total counter\n"
            "c_total{domain=\"a.test\"} 2\n"
            "c_total{domain=\"b.test\"} 5\n");
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
  MetricsRegistry r;
  r.gauge("g", "line one\nback\\slash", {{"v", "q\"uote\\back\nnl"}}).set(1.5);
  EXPECT_EQ(r.renderPrometheus(),
            "# HELP g line one\\nback\\\\slash\n"
            "# TYPE g gauge\n"
            "g{v=\"q\\\"uote\\\\back\\nnl\"} 1.5\n");
}

TEST(MetricsRegistry, RendersSpecialGaugeValues) {
  MetricsRegistry r;
  r.gauge("a", "h").set(std::numeric_limits<double>::infinity());
  r.gauge("b", "h").set(std::nan(""));
  r.gauge("c", "h").set(-2);
  std::string text = r.renderPrometheus();
  EXPECT_NE(text.find("a +Inf\n"), std::string::npos);
  EXPECT_NE(text.find("b NaN\n"), std::string::npos);
  EXPECT_NE(text.find("c -2\n"), std::string::npos);
}

TEST(MetricsRegistry, RendersCumulativeHistogramBuckets) {
  MetricsRegistry r;
  Histogram& h = r.histogram("lat_seconds", "Latency.", {0.25, 1, 10}, {{"gw", "g1"}});
  for (double v : {0.125, 0.25, 0.5, 2.0, 20.0, 30.0}) h.observe(v);
  EXPECT_EQ(r.renderPrometheus(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{gw=\"g1\",le=\"0.25\"} 2\n"
            "lat_seconds_bucket{gw=\"g1\",le=\"1\"} 3\n"
            "lat_seconds_bucket{gw=\"g1\",le=\"10\"} 4\n"
            "lat_seconds_bucket{gw=\"g1\",le=\"+Inf\"} 6\n"
            "lat_seconds_sum{gw=\"g1\"} 52.875\n"
            "lat_seconds_count{gw=\"g1\"} 6\n");
}

TEST(MetricsRegistry, ReadsCallbackGaugesAtScrapeTime) {
  MetricsRegistry r;
  double depth = 1;
  r.gaugeCallback("queue_depth", "h", [&] { return depth; });
  EXPECT_NE(r.renderPrometheus().find("queue_depth 1\n"), std::string::npos);
  depth = 42;
  EXPECT_NE(r.renderPrometheus().find("queue_depth 42\n"), std::string::npos);
}

TEST(MetricsRegistry, CallbackCountersAreTypedCounterAndReadAtScrapeTime) {
  MetricsRegistry r;
  uint64_t hits = 3;
  r.counterCallback("cache_hits_total", "h", [&] { return hits; });
  std::string text = r.renderPrometheus();
  EXPECT_NE(text.find("# TYPE cache_hits_total counter\ncache_hits_total 3\n"), std::string::npos) << text;
  hits = 18446744073709551615u;  // exact, not rounded through a double
  EXPECT_NE(r.renderPrometheus().find("cache_hits_total 18446744073709551615\n"), std::string::npos);
}

TEST(MetricsRegistry, OutputPassesTheReferenceParser) {
  MetricsRegistry r;
  r.counter("lbmail_requests_total", "Requests.", {{"code", "200"}}).inc(7);
  r.counter("lbmail_requests_total", "Requests.", {{"code", "404"}}).inc();
  r.gauge("lbmail_in_flight", "In flight.").set(3);
  Histogram& h = r.histogram("lbmail_delivery_seconds", "Delivery time.", Histogram::latencySecondsBounds());
  h.observe(0.003);
  h.observe(1.7);
  test::Validation v = test::validateDocument("prometheus", r.renderPrometheus());
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_NE(v.summary.find("families=3"), std::string::npos) << v.summary;
}

TEST(Histogram, ExponentialBounds) {
  std::vector<double> b = Histogram::exponentialBounds(1, 2, 4);
  EXPECT_EQ(b, (std::vector<double>{1, 2, 4, 8}));
}

}  // namespace
}  // namespace lbmail
