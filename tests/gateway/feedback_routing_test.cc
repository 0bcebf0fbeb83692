// Which link carries which feedback event (FeedbackRouting): acknowledgements clear what was
// sent on the link before the acknowledged event, in send order, and a closing link does not
// stall the others.
#include "feedback_routing.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

using Link = FeedbackRouting::Link;

bool anyWanted(uint64_t) { return true; }

// Sends everything it can; returns the (link, sequence) pairs in order.
std::vector<std::pair<Link, uint64_t>> drain(FeedbackRouting& r, const std::function<bool(Link)>& open) {
  std::vector<std::pair<Link, uint64_t>> sent;
  while (auto s = r.next(open, anyWanted)) sent.emplace_back(s->link, s->sequence);
  return sent;
}

bool allOpen(Link) { return true; }

// Events handed back by a closed link are sent on the surviving one after events with higher
// sequences: an ACK of one of those clears only what was sent before it on that link.
TEST(FeedbackRouting, AnAckClearsWhatWasSentBeforeItOnItsLinkNotLowerSequences) {
  int a = 0, b = 0;
  FeedbackRouting r(10);
  r.add(&a);
  r.publish(1);
  r.publish(2);
  ASSERT_EQ(drain(r, allOpen).size(), 2u);  // both on a
  r.add(&b);
  r.publish(3);
  r.publish(4);
  auto on_b = drain(r, allOpen);
  ASSERT_EQ(on_b.size(), 2u);
  EXPECT_EQ(on_b[0].first, &b);
  EXPECT_EQ(on_b[1].first, &b);
  r.remove(&a, anyWanted);  // a closes before acknowledging 1 and 2
  auto resent = drain(r, allOpen);
  ASSERT_EQ(resent.size(), 2u);
  EXPECT_EQ(resent[0], std::make_pair(Link(&b), uint64_t{1}));
  EXPECT_EQ(resent[1], std::make_pair(Link(&b), uint64_t{2}));
  // b's initiator acknowledges 4 before 1 and 2 reached it: they stay held.
  EXPECT_EQ(r.acknowledge(&b, 4), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(r.inFlight(), 2u);
  EXPECT_EQ(r.acknowledge(&b, 2), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(r.inFlight(), 0u);
}

// An ACK for an event the link does not hold changes nothing.
TEST(FeedbackRouting, AnAckForAnEventNotOnTheLinkIsIgnored) {
  int a = 0, b = 0;
  FeedbackRouting r(10);
  r.add(&a);
  r.publish(1);
  ASSERT_EQ(drain(r, allOpen).size(), 1u);
  r.add(&b);
  EXPECT_TRUE(r.acknowledge(&b, 1).empty());
  EXPECT_TRUE(r.acknowledge(&a, 7).empty());
  EXPECT_EQ(r.inFlight(), 1u);
}

// The least-loaded link is closing: the events go to the open ones instead of waiting for its
// close, and a link's window still bounds what it holds.
TEST(FeedbackRouting, AClosingLinkIsLeftOutAndTheOthersGoOn) {
  int closing = 0, open = 0;
  FeedbackRouting r(2);
  r.add(&closing);
  r.add(&open);
  for (uint64_t s = 1; s <= 3; ++s) r.publish(s);
  auto sent = drain(r, [&](Link l) { return l == &open; });
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].first, &open);
  EXPECT_EQ(sent[1].first, &open);
  EXPECT_EQ(r.pending(), 1u);
  r.remove(&closing, anyWanted);
  EXPECT_EQ(r.links(), 1u);
  EXPECT_TRUE(drain(r, allOpen).empty());  // the window is full
  r.acknowledge(&open, sent[0].second);
  EXPECT_EQ(drain(r, allOpen).size(), 1u);
}

// An event acknowledged while it was pending (still_wanted says no) is not sent.
TEST(FeedbackRouting, AnEventNoLongerWantedIsDroppedNotSent) {
  int a = 0;
  FeedbackRouting r(10);
  r.add(&a);
  r.publish(1);
  r.publish(2);
  auto s = r.next(allOpen, [](uint64_t seq) { return seq != 1; });
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sequence, 2u);
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_EQ(r.inFlight(), 1u);
}

}  // namespace
}  // namespace lbmail
