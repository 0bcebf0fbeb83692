// Tests for the lifecycle every mode shares: start, drain once, report state.
#include "lbmail/core/mode_service.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

// A mode whose drain finishes only when the test says so, like one with work in flight.
class SlowDrainMode final : public ModeService {
 public:
  using ModeService::ModeService;
  std::function<void()> finish_drain;
  int stops = 0;

 protected:
  void onStop(std::function<void()> done) override {
    ++stops;
    finish_drain = std::move(done);
  }
  void writeModeStatus(JsonWriter& w) override { w.field("queue", 3); }
};

TEST(ModeService, RunsDrainsAndStops) {
  ServiceConfig config;
  config.mode = Mode::kSink;
  config.node_name = "sink-a";
  MetricsRegistry metrics;
  SlowDrainMode mode(nullptr, config, metrics);
  EXPECT_EQ(mode.state(), ModeService::State::kStarting);
  ASSERT_EQ(mode.start(), 0);
  EXPECT_EQ(mode.state(), ModeService::State::kRunning);

  int done = 0;
  mode.stop([&] { ++done; });
  mode.stop([&] { ++done; });  // a second request while draining waits for the same drain
  EXPECT_EQ(mode.stops, 1);
  EXPECT_EQ(mode.state(), ModeService::State::kDraining);
  EXPECT_EQ(done, 0);

  std::string json;
  JsonWriter w(json);
  w.beginObject();
  mode.writeStatus(w);
  w.endObject();
  EXPECT_EQ(json, R"({"node":"sink-a","mode":"sink","state":"draining","queue":3})");

  mode.finish_drain();
  EXPECT_EQ(mode.state(), ModeService::State::kStopped);
  EXPECT_EQ(done, 2);
  mode.stop([&] { ++done; });  // after the end: answered at once
  EXPECT_EQ(done, 3);
}

}  // namespace
}  // namespace lbmail
