// Bounce and complaint rates, their levels, gauges and warnings.
#include "feedback_rates.h"

#include <algorithm>


namespace lbmail {
namespace {

RateLevel levelOf(double rate, double warn, double alarm) {
  if (rate >= alarm && alarm > 0) return RateLevel::kAlarm;
  if (rate >= warn && warn > 0) return RateLevel::kWarn;
  return RateLevel::kOk;
}

}  // namespace

std::string_view rateLevelName(RateLevel l) {
  switch (l) {
    case RateLevel::kOk: return "ok";
    case RateLevel::kWarn: return "warn";
    case RateLevel::kAlarm: return "alarm";
  }
  return "ok";
}

double RateCounts::bounceRate() const {
  return sent() ? static_cast<double>(bounced + hard_bounces) / static_cast<double>(sent()) : 0;
}

double RateCounts::complaintRate() const {
  return delivered ? static_cast<double>(complaints) / static_cast<double>(delivered) : 0;
}

FeedbackRates::FeedbackRates(const InitiatorFeedback& settings, std::vector<std::string> gateways,
                             MetricsRegistry& metrics, Logger& log)
    : settings_(settings), log_(log), gateway_names_(std::move(gateways)), gateways_(gateway_names_.size()) {
  for (uint8_t k = 1; k <= proto::kMaxFeedbackKind; ++k) {
    event_total_[k - 1] = &metrics.counter("lbmail_campaign_feedback_events_total",
                                           "feedback events applied (each once): bounces, complaints, unsubscribes",
                                           {{"kind", proto::feedbackKindName(static_cast<proto::FeedbackKind>(k))}});
  }
  campaign_scope_.bounce_gauge = &metrics.gauge("lbmail_campaign_bounce_rate",
                                                "(bounced + hard-bounce feedback) / (delivered + bounced)");
  campaign_scope_.complaint_gauge =
      &metrics.gauge("lbmail_campaign_complaint_rate", "complaint feedback events / delivered");
  for (size_t g = 0; g < gateways_.size(); ++g) {
    MetricLabels labels{{"gateway", gateway_names_[g]}};
    gateways_[g].bounce_gauge = &metrics.gauge("lbmail_campaign_gateway_bounce_rate",
                                               "the bounce rate of what the gateway sent this run", labels);
    gateways_[g].complaint_gauge = &metrics.gauge("lbmail_campaign_gateway_complaint_rate",
                                                  "the complaint rate of what the gateway sent this run", labels);
  }
}

void FeedbackRates::start(const RateCounts& earlier) {
  campaign_scope_.counts = earlier;
  update(campaign_scope_, "campaign", "");
}

FeedbackRates::Scope* FeedbackRates::gatewayScope(std::string_view name) {
  for (size_t g = 0; g < gateway_names_.size(); ++g) {
    if (gateway_names_[g] == name) return &gateways_[g];
  }
  return nullptr;
}

void FeedbackRates::outcome(RecipientState s, std::string_view gateway, std::string_view domain) {
  if (s != RecipientState::kDelivered && s != RecipientState::kBounced) return;
  auto add = [s](RateCounts& c) { ++(s == RecipientState::kDelivered ? c.delivered : c.bounced); };
  add(campaign_scope_.counts);
  update(campaign_scope_, "campaign", "");
  if (Scope* g = gatewayScope(gateway)) {
    add(g->counts);
    update(*g, "gateway", gateway);
  }
  auto it = domains_.find(domain);
  if (it == domains_.end()) it = domains_.emplace(std::string(domain), RateCounts{}).first;
  add(it->second);
}

void FeedbackRates::event(proto::FeedbackKind kind, bool of_campaign, std::string_view gateway,
                          std::string_view domain) {
  size_t k = static_cast<size_t>(kind) - 1;
  ++events_[k];
  event_total_[k]->inc();
  if (!of_campaign || (kind != proto::FeedbackKind::kHardBounce && kind != proto::FeedbackKind::kComplaint)) return;
  auto add = [kind](RateCounts& c) { ++(kind == proto::FeedbackKind::kHardBounce ? c.hard_bounces : c.complaints); };
  add(campaign_scope_.counts);
  update(campaign_scope_, "campaign", "");
  if (Scope* g = gatewayScope(gateway)) {
    add(g->counts);
    update(*g, "gateway", gateway);
  }
  if (auto it = domains_.find(domain); it != domains_.end()) add(it->second);
}

RateLevel FeedbackRates::bounceLevel(const RateCounts& c) const {
  return levelOf(c.bounceRate(), settings_.bounce_warn, settings_.bounce_alarm);
}

RateLevel FeedbackRates::complaintLevel(const RateCounts& c) const {
  return levelOf(c.complaintRate(), settings_.complaint_warn, settings_.complaint_alarm);
}

void FeedbackRates::update(Scope& s, std::string_view scope, std::string_view name) {
  s.bounce_gauge->set(s.counts.bounceRate());
  s.complaint_gauge->set(s.counts.complaintRate());
  auto check = [&](RateLevel& last, RateLevel now, const char* rate, double value) {
    if (now > last) {
      log_.log(LogLevel::kWarn, "campaign.feedback_rate",
               {{"scope", scope},
                {"name", name},
                {"rate", rate},
                {"value", value},
                {"level", rateLevelName(now)},
                {"sent", s.counts.sent()}});
    }
    last = now;
  };
  check(s.bounce, bounceLevel(s.counts), "bounce", s.counts.bounceRate());
  check(s.complaint, complaintLevel(s.counts), "complaint", s.counts.complaintRate());
}

void FeedbackRates::writeRates(JsonWriter& w, const RateCounts& c, RateLevel bounce, RateLevel complaint) {
  w.field("sent", c.sent());
  w.field("delivered", c.delivered);
  w.field("bounced", c.bounced);
  w.field("hard_bounces", c.hard_bounces);
  w.field("complaints", c.complaints);
  w.field("bounce_rate", c.bounceRate());
  w.field("bounce_level", rateLevelName(bounce));
  w.field("complaint_rate", c.complaintRate());
  w.field("complaint_level", rateLevelName(complaint));
}

void FeedbackRates::writeStatus(JsonWriter& w) const {
  w.key("feedback").beginObject();
  writeRates(w, campaign_scope_.counts, campaign_scope_.bounce, campaign_scope_.complaint);
  w.key("events").beginObject();
  for (uint8_t k = 1; k <= proto::kMaxFeedbackKind; ++k) {
    w.field(proto::feedbackKindName(static_cast<proto::FeedbackKind>(k)), events_[k - 1]);
  }
  w.endObject();
  w.key("gateways").beginArray();
  for (size_t g = 0; g < gateways_.size(); ++g) {
    w.beginObject();
    w.field("gateway", gateway_names_[g]);
    writeRates(w, gateways_[g].counts, gateways_[g].bounce, gateways_[g].complaint);
    w.endObject();
  }
  w.endArray();
  std::vector<const std::pair<const std::string, RateCounts>*> top;
  for (const auto& d : domains_) top.push_back(&d);
  size_t n = std::min(top.size(), kStatusDomains);
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(n), top.end(),
                    [](auto* a, auto* b) { return a->second.sent() > b->second.sent(); });
  w.key("domains").beginArray();
  for (size_t i = 0; i < n; ++i) {
    w.beginObject();
    w.field("domain", top[i]->first);
    writeRates(w, top[i]->second, bounceLevel(top[i]->second), complaintLevel(top[i]->second));
    w.endObject();
  }
  w.endArray();
  w.endObject();
}

}  // namespace lbmail
