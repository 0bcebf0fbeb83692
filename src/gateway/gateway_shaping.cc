// Shaping's life on the gateway: rules and state at start, SITES on changes and on a timer,
// the state file on a timer and at close.
#include "gateway_shaping.h"

#include <chrono>
#include <unordered_set>

#include "lbmail/core/log.h"

namespace lbmail {
namespace {

uint64_t unixMillis() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

uint32_t clamp32(uint64_t v) { return v > 0xFFFFFFFEull ? 0xFFFFFFFEu : static_cast<uint32_t>(v); }

}  // namespace

GatewayShaping::GatewayShaping(uv_loop_t* loop, const shaping::ShapingConfig& config, MetricsRegistry& metrics)
    : loop_(loop),
      config_(config),
      table_(std::make_unique<shaping::ShapingTable>(config, unixMillis)),
      save_failures_(metrics.counter("lbmail_gateway_shaping_save_failures_total",
                                     "Writes of the shaping state file that failed.")) {
  for (uint8_t c = 1; c <= shaping::kMaxReplyClass; ++c) {
    replies_[c] = &metrics.counter("lbmail_gateway_replies_total", "SMTP replies (and failures without one) by class.",
                                   {{"class", shaping::replyClassName(static_cast<shaping::ReplyClass>(c))}});
  }
  metrics.gaugeCallback("lbmail_gateway_shaped_sites", "(Source, site) pairs suspended, throttled or under a warm-up cap.",
                        [this] { return static_cast<double>(table_->report().size()); });
}

GatewayShaping::~GatewayShaping() = default;

std::string GatewayShaping::start(Broadcast broadcast, QueuedPerSite queued) {
  broadcast_ = std::move(broadcast);
  queued_ = std::move(queued);
  if (!config_.rules_file.empty()) {
    auto rules = shaping::ReplyClassifier::load(config_.rules_file);
    if (!rules) return "shaping rules: " + rules.error();
    classifier_ = std::move(*rules);
  }
  if (std::string err = table_->load(); !err.empty()) return "shaping state: " + err;
  uv_timer_init(loop_, &report_timer_);
  uv_timer_init(loop_, &save_timer_);
  report_timer_.data = save_timer_.data = this;
  uint64_t report_ms = std::max<uint64_t>(1, toMillis(config_.report_interval));
  uint64_t save_ms = std::max<uint64_t>(1, toMillis(config_.save_interval));
  uv_timer_start(&report_timer_, onReportTimer, report_ms, report_ms);
  uv_timer_start(&save_timer_, onSaveTimer, save_ms, save_ms);
  uv_unref(asHandle(&report_timer_));
  uv_unref(asHandle(&save_timer_));
  timers_open_ = true;
  logInfo("gateway.shaping", {{"enabled", config_.enabled},
                              {"patterns", static_cast<uint64_t>(classifier_.patternCount())},
                              {"state_file", config_.state_file},
                              {"shaped_sites", static_cast<uint64_t>(table_->report().size())}});
  return "";
}

void GatewayShaping::close(std::function<void()> done) {
  save();
  if (!timers_open_) {
    done();
    return;
  }
  timers_open_ = false;
  closer_.close({asHandle(&report_timer_), asHandle(&save_timer_)}, std::move(done));
}

void GatewayShaping::changed() {
  if (uv_now(loop_) - last_report_ms_ >= toMillis(config_.report_interval)) report();
}

void GatewayShaping::countReply(shaping::ReplyClass c) {
  auto i = static_cast<size_t>(c);
  if (i < replies_.size() && replies_[i]) replies_[i]->inc();
}

proto::SitesFrame GatewayShaping::snapshot(std::vector<shaping::SiteReport>& storage) {
  storage = table_->report();
  std::map<std::string, uint64_t> queued = queued_ ? queued_() : std::map<std::string, uint64_t>();
  uint64_t now = unixMillis();
  proto::SitesFrame f;
  std::unordered_set<std::string_view> listed;
  for (const shaping::SiteReport& r : storage) {
    if (f.sites.size() == proto::kMaxSitesPerFrame) break;  // the most restricted come first
    // With several sources, a site's most restricted entry stands (the initiator keys by site).
    if (!listed.insert(r.site).second) continue;
    proto::SiteStatus s;
    s.site = r.site;
    s.suspended_ms = r.suspended && r.suspended_until_ms > now ? clamp32(r.suspended_until_ms - now) : 0;
    s.rate_millis = clamp32(static_cast<uint64_t>(r.rate * 1000));
    auto q = queued.find(r.site);
    s.queued = q == queued.end() ? 0 : clamp32(q->second);
    if (r.warmup_cap != shaping::kNoCap) {
      uint64_t spent = r.warmup_used + r.warmup_reserved;
      s.warmup_left = clamp32(spent >= r.warmup_cap ? 0 : r.warmup_cap - spent);
    }
    f.sites.push_back(s);
  }
  return f;
}

void GatewayShaping::greet(proto::LinkConnection& link) {
  std::vector<shaping::SiteReport> storage;
  proto::SitesFrame sites = snapshot(storage);
  if (!sites.sites.empty()) link.send(sites);
}

void GatewayShaping::report() {
  last_report_ms_ = uv_now(loop_);
  std::vector<shaping::SiteReport> storage;
  proto::SitesFrame f = snapshot(storage);
  // Once nothing is shaped, one empty frame says so; then silence.
  if (f.sites.empty() && !reported_shaped_) return;
  reported_shaped_ = !f.sites.empty();
  if (broadcast_) broadcast_(f);
}

void GatewayShaping::save() {
  table_->sweep();
  if (!table_->dirty() || config_.state_file.empty()) return;
  if (std::string err = table_->save(); !err.empty()) {
    save_failures_.inc();
    logError("gateway.shaping_save_failed", {{"file", config_.state_file}, {"error", err}});
  }
}

void GatewayShaping::onReportTimer(uv_timer_t* timer) { static_cast<GatewayShaping*>(timer->data)->report(); }

void GatewayShaping::onSaveTimer(uv_timer_t* timer) { static_cast<GatewayShaping*>(timer->data)->save(); }

void GatewayShaping::writeStatus(JsonWriter& w) {
  w.key("shaping").beginObject();
  w.key("enabled").value(config_.enabled);
  w.key("patterns").value(static_cast<uint64_t>(classifier_.patternCount()));
  w.key("sites").beginArray();
  std::vector<shaping::SiteReport> reports = table_->report(true);
  // The most restricted first; a busy gateway knows thousands of sites: /status shows 200.
  if (reports.size() > 200) reports.resize(200);
  for (const shaping::SiteReport& r : reports) {
    w.beginObject();
    w.field("source", r.source);
    w.field("site", r.site);
    w.field("suspended", r.suspended);
    if (r.suspended) {
      w.field("suspended_until_ms", r.suspended_until_ms);
      w.field("reason", r.reason);
    }
    w.field("rate", r.rate);
    w.field("connection_share", r.connection_share);
    w.field("throttles", r.throttles);
    w.field("blocks", r.blocks);
    if (r.warmup_cap != shaping::kNoCap) w.field("warmup_cap", r.warmup_cap);
    w.field("warmup_used", r.warmup_used);
    w.field("warmup_reserved", r.warmup_reserved);
    w.endObject();
  }
  w.endArray();
  w.endObject();
}

}  // namespace lbmail
