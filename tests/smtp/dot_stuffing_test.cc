// Tests for DATA transparency by slicing: the bytes on the wire, however the body is cut.
#include "lbmail/smtp/dot_stuffing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbmail::smtp {
namespace {

std::string wire(const std::vector<std::string_view>& body, bool scan = true) {
  std::vector<std::string_view> bufs;
  appendDataContent(body, scan, bufs);
  std::string out;
  for (std::string_view b : bufs) out.append(b);
  return out;
}

// Reference: the transformation done the plain way, line by line.
std::string stuffed(const std::string& body) {
  std::string out;
  bool line_start = true;
  for (char c : body) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (!body.empty() && !body.ends_with("\r\n")) out += "\r\n";
  return out + ".\r\n";
}

TEST(DotStuffing, StuffsLineLeadingDotsWithoutTouchingOthers) {
  std::string body = ".first\r\nmiddle . dot\r\n..two\r\n.\r\nend\r\n";
  EXPECT_EQ(wire({body}), "..first\r\nmiddle . dot\r\n...two\r\n..\r\nend\r\n.\r\n");
}

TEST(DotStuffing, SameBytesHoweverTheBodyIsSliced) {
  std::string body = "a\r\n.b\r\n\r\n.\r\nx.y\r\n..\r\n.z";
  std::string expected = stuffed(body);
  for (size_t a = 0; a <= body.size(); ++a) {
    for (size_t b = a; b <= body.size(); ++b) {
      std::string_view v = body;
      EXPECT_EQ(wire({v.substr(0, a), v.substr(a, b - a), v.substr(b)}), expected) << a << "," << b;
    }
  }
}

TEST(DotStuffing, AddsMissingCrlfAndEndMarker) {
  EXPECT_EQ(wire({"no end"}), "no end\r\n.\r\n");
  EXPECT_EQ(wire({"ends\r"}), "ends\r\r\n.\r\n");
  EXPECT_EQ(wire({}), ".\r\n");
  EXPECT_EQ(wire({"x\r", "\n"}), "x\r\n.\r\n");
}

TEST(DotStuffing, UnscannedBodyGoesOutAsSlices) {
  std::string a = "Subject: x\r\n", b = "body\r\n";
  std::vector<std::string_view> bufs;
  appendDataContent({a, b}, false, bufs);
  ASSERT_EQ(bufs.size(), 3u);
  EXPECT_EQ(bufs[0].data(), a.data());  // the caller's bytes, not a copy
  EXPECT_EQ(bufs[1].data(), b.data());
}

}  // namespace
}  // namespace lbmail::smtp
