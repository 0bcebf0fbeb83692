// Tests for src/initiator/recipient_feed.cc's conversion of a stored recipient into a pending
// one (the part that runs on the worker thread): material by the targeting rules, merge values,
// the gateway to avoid, and the errors that fail a recipient before it is sent.
#include "recipient_feed.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

CampaignSettings settings(int default_material = 0) {
  CampaignSettings c;
  c.materials.resize(2);
  c.materials[0].name = "standard";
  c.materials[1].name = "gold";
  Condition gold{"tier", ConditionOp::kEquals, {"gold"}, 0, true};
  c.targeting = Targeting({TargetingRule{{gold}, {}, 1}}, default_material);
  c.merge_fields = {{"name", "first_name"}, {"city", "city"}};
  return c;
}

StoredRecipient stored(std::string attributes, std::string last_gateway = "") {
  StoredRecipient s;
  s.id = 42;
  s.email = "ann@d.example";
  s.domain = "d.example";
  s.attributes = std::move(attributes);
  s.attempts = 2;
  s.first_at = 1000.5;
  s.last_gateway = std::move(last_gateway);
  return s;
}

const std::vector<std::string> kGateways = {"gw-a", "gw-b"};

TEST(PendingFromStored, TakesTheMaterialTheRulesGiveAndTheMergeValues) {
  CampaignSettings c = settings();
  PendingRecipient p = pendingFromStored(stored(R"({"tier":"gold","first_name":"Ann"})"), kGateways, c);
  EXPECT_EQ(p.id, 42u);
  EXPECT_EQ(p.email, "ann@d.example");
  EXPECT_EQ(p.domain, "d.example");
  EXPECT_EQ(p.attempts, 2u);
  EXPECT_EQ(p.first_at, 1000.5);
  EXPECT_EQ(p.material, 1);
  EXPECT_EQ(p.error, "");
  ASSERT_EQ(p.values.size(), 2u);
  EXPECT_EQ(p.values[0], std::optional<std::string>("Ann"));
  EXPECT_EQ(p.values[1], std::nullopt);  // no such attribute
  EXPECT_EQ(p.avoid_gateway, -1);
  p = pendingFromStored(stored(R"({"tier":"std"})"), kGateways, c);
  EXPECT_EQ(p.material, 0);  // the default
}

TEST(PendingFromStored, AvoidsTheGatewayItWasLastTriedOn) {
  CampaignSettings c = settings();
  EXPECT_EQ(pendingFromStored(stored("{}", "gw-b"), kGateways, c).avoid_gateway, 1);
  EXPECT_EQ(pendingFromStored(stored("{}", "gw-gone"), kGateways, c).avoid_gateway, -1);
}

TEST(PendingFromStored, SaysWhyWhenThereIsNoMaterial) {
  CampaignSettings c = settings(-1);
  PendingRecipient p = pendingFromStored(stored(R"({"tier":"std"})"), kGateways, c);
  EXPECT_EQ(p.material, -1);
  EXPECT_EQ(p.error, "no targeting rule matched and the campaign has no default_material");
  p = pendingFromStored(stored("not json"), kGateways, c);
  EXPECT_EQ(p.material, -1);
  EXPECT_FALSE(p.error.empty());
}

}  // namespace
}  // namespace lbmail
