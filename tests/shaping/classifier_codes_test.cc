// The classes reply codes alone give (RFC 3463 enhanced codes, then RFC 5321 basic codes:
// src/shaping/classifier_codes.cc), and the class names the rules file and /status use
// (src/shaping/reply_class.cc).
#include <gtest/gtest.h>

#include <initializer_list>

#include "lbmail/shaping/reply_classifier.h"

namespace lbmail::shaping {
namespace {

ReplyClass byCodes(int code, const char* enhanced) {
  smtp::SmtpReply r;
  r.code = code;
  r.enhanced = enhanced;
  r.text = "text no rule knows";
  return ReplyClassifier().classify(r);
}

struct Row {
  int code;
  const char* enhanced;
  ReplyClass expected;
};

void expectClasses(std::initializer_list<Row> rows) {
  for (const Row& row : rows) {
    EXPECT_EQ(byCodes(row.code, row.enhanced), row.expected)
        << row.code << " " << row.enhanced << " gave " << replyClassName(byCodes(row.code, row.enhanced));
  }
}

TEST(ClassifierCodesTest, NoReplySuccessAndOddCodes) {
  expectClasses({
      {0, "", ReplyClass::kProtocol},
      {250, "2.0.0", ReplyClass::kDelivered},
      {221, "", ReplyClass::kDelivered},
      {354, "", ReplyClass::kProtocol},
      {199, "", ReplyClass::kProtocol},
      {600, "5.7.1", ReplyClass::kProtocol},
      {-421, "", ReplyClass::kProtocol},
  });
}

TEST(ClassifierCodesTest, EnhancedCodesFirst) {
  expectClasses({
      {550, "5.1.1", ReplyClass::kMailbox},
      {450, "4.1.1", ReplyClass::kTransient},
      {550, "5.2.1", ReplyClass::kMailbox},
      {552, "5.2.2", ReplyClass::kMailbox},
      {452, "4.2.2", ReplyClass::kTransient},
      {552, "5.3.4", ReplyClass::kMailbox},
      {451, "4.4.1", ReplyClass::kProtocol},
      {554, "5.4.4", ReplyClass::kProtocol},
      {501, "5.5.2", ReplyClass::kProtocol},
      {554, "5.7.1", ReplyClass::kBlock},
      {550, "5.7.1", ReplyClass::kBlock},
      {421, "4.7.0", ReplyClass::kThrottle},   // closing the channel on this sender for now
      {451, "4.7.0", ReplyClass::kTransient},  // a rate needs a pattern
      {451, "4.7.1", ReplyClass::kTransient},
  });
}

TEST(ClassifierCodesTest, BasicCodeWhenTheEnhancedCodeSaysNothing) {
  expectClasses({
      {421, "", ReplyClass::kThrottle},
      {421, "4.3.0", ReplyClass::kThrottle},
      {450, "", ReplyClass::kTransient},
      {451, "4.5.0", ReplyClass::kTransient},
      {452, "4.3.1", ReplyClass::kTransient},
      {499, "", ReplyClass::kTransient},
      {550, "", ReplyClass::kMailbox},
      {551, "", ReplyClass::kMailbox},
      {553, "", ReplyClass::kMailbox},
      {552, "5.6.0", ReplyClass::kMailbox},
      {554, "", ReplyClass::kBlock},
      {554, "5.0.0", ReplyClass::kBlock},
  });
}

TEST(ClassifierCodesTest, MalformedOrMismatchedEnhancedCodesAreIgnored) {
  expectClasses({
      {550, "4.7.1", ReplyClass::kMailbox},  // RFC 3463: the classes must agree
      {421, "5.7.1", ReplyClass::kThrottle},
      {550, "5.7", ReplyClass::kMailbox},
      {550, "5.7.1.2", ReplyClass::kMailbox},
      {550, "5.7777.1", ReplyClass::kMailbox},
      {550, "5.-7.1", ReplyClass::kMailbox},
      {550, "5..1", ReplyClass::kMailbox},
      {550, "x.7.1", ReplyClass::kMailbox},
      {550, "", ReplyClass::kMailbox},
  });
}

TEST(ClassifierCodesTest, ClassNamesRoundTrip) {
  for (uint8_t i = 1; i <= kMaxReplyClass; ++i) {
    auto c = static_cast<ReplyClass>(i);
    EXPECT_EQ(parseReplyClass(replyClassName(c)), c) << replyClassName(c);
  }
  EXPECT_STREQ(replyClassName(ReplyClass::kThrottle), "throttle");
  EXPECT_STREQ(replyClassName(static_cast<ReplyClass>(0)), "unknown");
  EXPECT_STREQ(replyClassName(static_cast<ReplyClass>(7)), "unknown");
  EXPECT_FALSE(parseReplyClass(""));
  EXPECT_FALSE(parseReplyClass("Throttle"));
  EXPECT_FALSE(parseReplyClass("unknown"));
}

}  // namespace
}  // namespace lbmail::shaping
