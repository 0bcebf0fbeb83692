// Tests for src/media/list_headers.cc: List-Id (RFC 2919) and Feedback-ID (Gmail) values are
// checked once, each refusal saying what to fix, and good ones become one header line each.
#include "lbmail/media/list_headers.h"

#include <gtest/gtest.h>

namespace lbmail::media {
namespace {

std::string error(std::string_view list_id, std::string_view feedback_id) {
  auto h = formatListHeaders(list_id, feedback_id);
  return h ? "<ok>" : h.error();
}

TEST(ListHeaders, GoodValuesBecomeHeaderLines) {
  auto h = formatListHeaders("Shop News <news.shop.example>", "spring26:list7:acct1:shopmail");
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(*h, "List-Id: Shop News <news.shop.example>\r\nFeedback-ID: spring26:list7:acct1:shopmail\r\n");
  EXPECT_EQ(*formatListHeaders("<news.shop.example>", ""), "List-Id: <news.shop.example>\r\n");
  EXPECT_EQ(*formatListHeaders("\"Shop, News\" <a-b_c.shop.example>", "shopmail"),
            "List-Id: \"Shop, News\" <a-b_c.shop.example>\r\nFeedback-ID: shopmail\r\n");
  EXPECT_EQ(*formatListHeaders("", "::c:shopmail"), "Feedback-ID: ::c:shopmail\r\n");  // empty identifiers
  EXPECT_EQ(*formatListHeaders("", ""), "");
}

TEST(ListHeaders, ListIdRefusals) {
  const std::string shape = "List-Id: expected 'Name <id.domain>' or '<id.domain>'";
  const std::string id = "List-Id: the id must be dot-atom text with a dot, at most 255 octets (RFC 2919)";
  EXPECT_EQ(error("news.shop.example", ""), shape);
  EXPECT_EQ(error("<news.shop.example> trailer", ""), shape);
  EXPECT_EQ(error("<news>", ""), id);
  EXPECT_EQ(error("<.news.shop>", ""), id);
  EXPECT_EQ(error("<news..shop>", ""), id);
  EXPECT_EQ(error("<news@shop.example>", ""), id);
  EXPECT_EQ(error("<" + std::string(250, 'a') + ".example>", ""), id);
  EXPECT_EQ(error("A > B <news.shop.example>", ""), "List-Id: '<' or '>' in the name");
  EXPECT_EQ(error("Shop\r\nBcc: x@y <news.shop.example>", ""), "List-Id: one line of printable ASCII");
  EXPECT_EQ(error("Läden <news.shop.example>", ""), "List-Id: one line of printable ASCII");
  EXPECT_EQ(error("{{first}} <news.shop.example>", ""),
            "List-Id: merge fields are not allowed (it is the same in every message)");
  EXPECT_EQ(error(" <news.shop.example>", ""), "List-Id: leading or trailing space");
  EXPECT_EQ(error(std::string(900, 'N') + " <" + std::string(100, 'a') + ".example>", ""),
            "List-Id: longer than a header line may be (998 octets)");
}

TEST(ListHeaders, FeedbackIdRefusals) {
  EXPECT_EQ(error("", "a:b:c:d:shopmail"), "Feedback-ID: more than four ':'-separated fields (expected a:b:c:SenderId)");
  EXPECT_EQ(error("", "a:b:shop"), "Feedback-ID: the SenderId (the last field) must be 5 to 15 characters");
  EXPECT_EQ(error("", "a:b:"), "Feedback-ID: the SenderId (the last field) must be 5 to 15 characters");
  EXPECT_EQ(error("", "a:" + std::string(16, 's')), "Feedback-ID: the SenderId (the last field) must be 5 to 15 characters");
  EXPECT_EQ(error("", "a b:shopmail"), "Feedback-ID: spaces are not allowed (expected a:b:c:SenderId)");
  EXPECT_EQ(error("", "a:\tb:shopmail"), "Feedback-ID: one line of printable ASCII");
  EXPECT_EQ(error("", "{{id}}:shopmail"), "Feedback-ID: merge fields are not allowed (it is the same in every message)");
  EXPECT_EQ(error("", std::string(990, 'a') + ":shopmail"), "Feedback-ID: longer than a header line may be (998 octets)");
  // A good List-Id does not hide a bad Feedback-ID.
  EXPECT_EQ(error("<news.shop.example>", "x"), "Feedback-ID: the SenderId (the last field) must be 5 to 15 characters");
}

}  // namespace
}  // namespace lbmail::media
