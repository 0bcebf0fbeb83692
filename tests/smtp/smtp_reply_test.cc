// Tests for the client's reply parser: whole, split at every byte, byte by byte, limits, garbage.
#include "lbmail/smtp/smtp_reply.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbmail::smtp {
namespace {

struct Parsed {
  std::vector<SmtpReply> replies;
  std::string error;
};

// Feeds input in pieces of at most step bytes.
Parsed parseAll(const std::string& input, size_t step) {
  Parsed out;
  SmtpReplyParser parser;
  for (size_t off = 0; off < input.size(); off += step) {
    std::string_view in = std::string_view(input).substr(off, step);
    while (!in.empty()) {
      SmtpReplyParser::Status s = parser.parse(in);
      if (s == SmtpReplyParser::Status::kReply) out.replies.push_back(parser.reply());
      if (s == SmtpReplyParser::Status::kError) {
        out.error = parser.error();
        return out;
      }
      if (s == SmtpReplyParser::Status::kNeedMore) break;
    }
  }
  return out;
}

const std::string kConversation =
    "220 mx.test ESMTP ready\r\n"
    "250-mx.test greets you\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 10240000\r\n"
    "250 CHUNKING\r\n"
    "250 2.1.0 Ok\r\n"
    "550-5.1.1 No such user\r\n"
    "550 5.1.1 here\r\n"
    "354 End data with <CR><LF>.<CR><LF>\r\n"
    "421 4.7.0 Try again later\r\n";

TEST(SmtpReply, ParsesAConversationHoweverItIsSplit) {
  for (size_t step : {kConversation.size(), size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}}) {
    Parsed p = parseAll(kConversation, step);
    ASSERT_EQ(p.error, "") << "step " << step;
    ASSERT_EQ(p.replies.size(), 6u) << "step " << step;
    EXPECT_EQ(p.replies[0].code, 220);
    EXPECT_EQ(p.replies[0].text, "mx.test ESMTP ready");
    EXPECT_EQ(p.replies[1].code, 250);
    EXPECT_EQ(p.replies[1].text, "mx.test greets you\nPIPELINING\nSIZE 10240000\nCHUNKING");
    EXPECT_EQ(p.replies[2].enhanced, "2.1.0");
    EXPECT_EQ(p.replies[2].text, "Ok");
    EXPECT_EQ(p.replies[3].code, 550);
    EXPECT_EQ(p.replies[3].enhanced, "5.1.1");
    EXPECT_EQ(p.replies[3].text, "No such user\nhere");
    EXPECT_EQ(p.replies[4].code, 354);
    EXPECT_EQ(p.replies[4].replyClass(), ReplyClass::kIntermediate);
    EXPECT_EQ(p.replies[5].replyClass(), ReplyClass::kTransient);
    EXPECT_EQ(p.replies[5].summary(), "421 4.7.0 Try again later");
  }
}

TEST(SmtpReply, SplitAtEveryByteGivesTheSameReplies) {
  Parsed whole = parseAll(kConversation, kConversation.size());
  for (size_t cut = 1; cut < kConversation.size(); ++cut) {
    Parsed p;
    SmtpReplyParser parser;
    for (std::string_view part : {std::string_view(kConversation).substr(0, cut), std::string_view(kConversation).substr(cut)}) {
      while (!part.empty()) {
        SmtpReplyParser::Status s = parser.parse(part);
        if (s == SmtpReplyParser::Status::kReply) p.replies.push_back(parser.reply());
        ASSERT_NE(s, SmtpReplyParser::Status::kError) << "cut " << cut;
        if (s == SmtpReplyParser::Status::kNeedMore) break;
      }
    }
    ASSERT_EQ(p.replies.size(), whole.replies.size()) << "cut " << cut;
    for (size_t i = 0; i < p.replies.size(); ++i) {
      EXPECT_EQ(p.replies[i].code, whole.replies[i].code);
      EXPECT_EQ(p.replies[i].text, whole.replies[i].text);
      EXPECT_EQ(p.replies[i].enhanced, whole.replies[i].enhanced);
    }
  }
}

TEST(SmtpReply, AcceptsBareCodeAndBareLf) {
  Parsed p = parseAll("250\r\n221 bye\n", 100);
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.replies.size(), 2u);
  EXPECT_EQ(p.replies[0].code, 250);
  EXPECT_EQ(p.replies[0].text, "");
  EXPECT_EQ(p.replies[1].text, "bye");
}

TEST(SmtpReply, RejectsGarbage) {
  for (const char* bad : {"hello\r\n", "25\r\n", "2500 x\r\n", "250x\r\n", "199 too low\r\n", "600 too high\r\n",
                          "250-first\r\n251 other code\r\n", "\r\n", "HTTP/1.1 200 OK\r\n"}) {
    Parsed p = parseAll(bad, 100);
    EXPECT_NE(p.error, "") << bad;
    EXPECT_TRUE(p.replies.empty()) << bad;
  }
}

TEST(SmtpReply, BoundsLineLengthAndLineCount) {
  std::string long_line = "250 " + std::string(SmtpReplyParser::kMaxReplyLine, 'x') + "\r\n";
  EXPECT_NE(parseAll(long_line, 100).error, "");
  // Without a line end the parser holds at most the limit, then gives up.
  SmtpReplyParser parser;
  std::string endless(1000, 'y');
  SmtpReplyParser::Status s = SmtpReplyParser::Status::kNeedMore;
  for (int i = 0; i < 10 && s == SmtpReplyParser::Status::kNeedMore; ++i) {
    std::string_view in = endless;
    s = parser.parse(in);
    EXPECT_LE(parser.pendingBytes(), SmtpReplyParser::kMaxReplyLine + 2);
  }
  EXPECT_EQ(s, SmtpReplyParser::Status::kError);

  std::string many;
  for (size_t i = 0; i < SmtpReplyParser::kMaxReplyLines + 1; ++i) many += "250-line\r\n";
  many += "250 end\r\n";
  EXPECT_NE(parseAll(many, 100).error, "");
  std::string enough;
  for (size_t i = 0; i + 1 < SmtpReplyParser::kMaxReplyLines; ++i) enough += "250-line\r\n";
  enough += "250 end\r\n";
  EXPECT_EQ(parseAll(enough, 100).replies.size(), 1u);
}

TEST(SmtpReply, EnhancedStatusCodes) {
  EXPECT_EQ(enhancedStatusPrefix("5.1.1 User unknown"), "5.1.1");
  EXPECT_EQ(enhancedStatusPrefix("4.7.0"), "4.7.0");
  EXPECT_EQ(enhancedStatusPrefix("2.123.456 x"), "2.123.456");
  EXPECT_EQ(enhancedStatusPrefix("3.1.1 x"), "");
  EXPECT_EQ(enhancedStatusPrefix("5.1.1x"), "");
  EXPECT_EQ(enhancedStatusPrefix("5.1 x"), "");
  EXPECT_EQ(enhancedStatusPrefix("5.1234.1 x"), "");
  EXPECT_EQ(enhancedStatusPrefix("Ok"), "");
  // An enhanced code whose class differs from the reply's is text, not a status.
  Parsed p = parseAll("250 5.1.1 odd\r\n", 100);
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_EQ(p.replies[0].enhanced, "");
  EXPECT_EQ(p.replies[0].text, "5.1.1 odd");
}

}  // namespace
}  // namespace lbmail::smtp
