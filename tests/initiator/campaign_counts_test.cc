// Tests for src/initiator/campaign_counts.cc: each fact counted once, totals derived from it,
// and the metrics fed in the same place.
#include "campaign_counts.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

TEST(CampaignCounts, SentIsCountedPerGatewayAndPerDomainAndTotalledFromThem) {
  MetricsRegistry metrics;
  CampaignCounts counts(2, metrics);
  counts.sent(0, 3);
  counts.sent(1, 3);
  counts.sent(1, 0);
  EXPECT_EQ(counts.sent(), 3u);
  EXPECT_EQ(counts.sent(0), 1u);
  EXPECT_EQ(counts.sent(1), 2u);
  EXPECT_EQ(counts.domainSent(3), 2u);
  EXPECT_EQ(counts.domainSent(0), 1u);
  EXPECT_EQ(counts.domainSent(7), 0u);
  EXPECT_EQ(counts.domains(), 4u);
  EXPECT_NE(metrics.renderPrometheus().find("lbmail_initiator_sent_total 3"), std::string::npos);
}

TEST(CampaignCounts, ResultsPerGatewayAndChangesByState) {
  MetricsRegistry metrics;
  CampaignCounts counts(2, metrics);
  counts.result(1, RecipientState::kDelivered);
  counts.result(1, RecipientState::kDeferred);
  counts.changed(RecipientState::kDelivered);
  counts.changed(RecipientState::kDeferred);
  counts.changed(RecipientState::kFailed);
  counts.failedOver();
  counts.rejected();
  EXPECT_EQ(counts.results(1, RecipientState::kDelivered), 1u);
  EXPECT_EQ(counts.results(1, RecipientState::kDeferred), 1u);
  EXPECT_EQ(counts.results(0, RecipientState::kDelivered), 0u);
  EXPECT_EQ(counts.changes(RecipientState::kDelivered), 1u);
  EXPECT_EQ(counts.changes(RecipientState::kFailed), 1u);
  EXPECT_EQ(counts.changes(RecipientState::kBounced), 0u);
  EXPECT_EQ(counts.failovers(), 1u);
  EXPECT_EQ(counts.rejects(), 1u);
  std::string text = metrics.renderPrometheus();
  EXPECT_NE(text.find("lbmail_initiator_outcomes_total{outcome=\"deferred\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("lbmail_initiator_outcomes_total{outcome=\"bounced\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("lbmail_initiator_failovers_total 1"), std::string::npos) << text;
}

TEST(CampaignCounts, DeliveriesAreCountedByTheTlsTheirResultNamed) {
  MetricsRegistry metrics;
  CampaignCounts counts(1, metrics);
  counts.result(0, RecipientState::kDelivered, "TLSv1.3", true);
  counts.result(0, RecipientState::kDelivered, "TLSv1.3", false);
  counts.result(0, RecipientState::kDelivered, "none", false);
  counts.result(0, RecipientState::kDelivered, "", false);  // an older gateway said nothing
  counts.result(0, RecipientState::kDeferred, "TLSv1.2", false);  // not a delivery
  const auto& by = counts.deliveriesByTls();
  ASSERT_EQ(by.size(), 3u);
  EXPECT_EQ(by.at("TLSv1.3").delivered, 2u);
  EXPECT_EQ(by.at("TLSv1.3").verified, 1u);
  EXPECT_EQ(by.at("none").delivered, 1u);
  EXPECT_EQ(by.at("none").verified, 0u);
  EXPECT_EQ(by.at("unknown").delivered, 1u);
  std::string text = metrics.renderPrometheus();
  EXPECT_NE(text.find("lbmail_initiator_delivered_tls_total{tls=\"TLSv1.3\",verified=\"true\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("lbmail_initiator_delivered_tls_total{tls=\"TLSv1.3\",verified=\"false\"} 1"), std::string::npos);
  EXPECT_NE(text.find("lbmail_initiator_delivered_tls_total{tls=\"none\",verified=\"false\"} 1"), std::string::npos);
  EXPECT_EQ(text.find("TLSv1.2"), std::string::npos);
}

TEST(CampaignCounts, TlsNamesFromGatewaysAreBounded) {
  MetricsRegistry metrics;
  CampaignCounts counts(1, metrics);
  for (size_t i = 0; i < CampaignCounts::kMaxTlsNames + 3; ++i) {
    counts.result(0, RecipientState::kDelivered, "v" + std::to_string(i), false);
  }
  EXPECT_EQ(counts.deliveriesByTls().size(), CampaignCounts::kMaxTlsNames + 1);
  EXPECT_EQ(counts.deliveriesByTls().at("other").delivered, 3u);
}

TEST(CampaignCounts, TheResultRateIsSmoothedPerSecond) {
  MetricsRegistry metrics;
  CampaignCounts counts(1, metrics);
  for (int i = 0; i < 10; ++i) counts.result(0, RecipientState::kDelivered);
  counts.endSecond(2.0);
  EXPECT_EQ(counts.resultsPerSecond(), 5.0);  // the first second sets it
  counts.endSecond(1.0);
  EXPECT_DOUBLE_EQ(counts.resultsPerSecond(), 3.5);  // 0.7 * 5 + 0.3 * 0
}

}  // namespace
}  // namespace lbmail
