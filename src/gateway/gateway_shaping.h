// The gateway's traffic shaping (docs/shaping.md): the reply classifier and the shaping table
// from [shaping], the state file saved on a timer and at close, SITES frames telling the
// initiators which sites this gateway's addresses are suspended, throttled or warming up at,
// replies counted by class, and /status gateway.shaping.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "lbmail/core/handle_closer.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/proto/frames.h"
#include "lbmail/proto/link_connection.h"
#include "lbmail/shaping/reply_class.h"
#include "lbmail/shaping/reply_classifier.h"
#include "lbmail/shaping/shaping_table.h"

namespace lbmail {

class GatewayShaping {
 public:
  // Sends a SITES frame to every link that reads it.
  using Broadcast = std::function<void(const proto::SitesFrame& frame)>;
  // Messages queued at the gateway per site now.
  using QueuedPerSite = std::function<std::map<std::string, uint64_t>()>;

  GatewayShaping(uv_loop_t* loop, const shaping::ShapingConfig& config, MetricsRegistry& metrics);
  GatewayShaping(const GatewayShaping&) = delete;
  GatewayShaping& operator=(const GatewayShaping&) = delete;
  ~GatewayShaping();

  // Loads the rules file and the state file and starts the timers: "" or the error.
  std::string start(Broadcast broadcast, QueuedPerSite queued);
  // Saves the state and closes the timers; done runs once they are closed.
  void close(std::function<void()> done);

  // Null when [shaping] enabled = false: replies are classified, nothing is shaped.
  shaping::ShapingTable* table() { return config_.enabled ? table_.get() : nullptr; }
  const shaping::ReplyClassifier& classifier() const { return classifier_; }

  // A site's state changed: the initiators hear at once, or at the next report when one went
  // out within report_interval.
  void changed();
  // What a new link should know now, before its first SEND: the sites shaped now, if any.
  void greet(proto::LinkConnection& link);
  // The sites shaped now; the frame's names are views into storage.
  proto::SitesFrame snapshot(std::vector<shaping::SiteReport>& storage);
  void countReply(shaping::ReplyClass c);
  void writeStatus(JsonWriter& w);

 private:
  static void onReportTimer(uv_timer_t* timer);
  static void onSaveTimer(uv_timer_t* timer);
  void report();
  void save();

  uv_loop_t* loop_;
  shaping::ShapingConfig config_;
  shaping::ReplyClassifier classifier_;
  std::unique_ptr<shaping::ShapingTable> table_;
  Broadcast broadcast_;
  QueuedPerSite queued_;
  uv_timer_t report_timer_;
  uv_timer_t save_timer_;
  bool timers_open_ = false;
  HandleCloser closer_;
  uint64_t last_report_ms_ = 0;  // loop time
  bool reported_shaped_ = false;  // the last SITES listed some site
  std::array<Counter*, shaping::kMaxReplyClass + 1> replies_{};
  Counter& save_failures_;
};

}  // namespace lbmail
