// Tests for the bounded MIME walk: header unfolding, Content-Type parameters, multipart
// splitting, nesting limits and transfer decodings.
#include "mime_entity.h"

#include <gtest/gtest.h>

#include "mime_header.h"

namespace lbmail::feedback {
namespace {

TEST(MimeHeader, UnfoldsFieldsAndSkipsNonFields) {
  HeaderFields h = HeaderFields::parse(
      "From someone Fri Dec  4 10:00:00 2026\r\nSubject: a\r\n  folded\r\n\tline\r\nX-Empty:\r\nnot a field\r\n cont\r\n"
      "subject: second\r\n\r\nBody: no\r\n");
  ASSERT_EQ(h.fields().size(), 3u);
  EXPECT_EQ(*h.find("SUBJECT"), "a folded line");
  EXPECT_EQ(*h.find("x-empty"), "");
  EXPECT_EQ(h.find("Body"), nullptr);
  EXPECT_EQ(h.fields()[2].value, "second");
}

TEST(MimeHeader, ReadsContentTypeParameters) {
  ContentType t = parseContentType(
      " Multipart/Report (a comment) ; Report-Type=delivery-status;\tboundary=\"a \\\"b\\\";c\" ; junk ; x = y");
  EXPECT_TRUE(t.is("multipart", "report"));
  EXPECT_EQ(t.param("report-type"), "delivery-status");
  EXPECT_EQ(t.param("boundary"), "a \"b\";c");
  EXPECT_EQ(t.param("x"), "y");
  EXPECT_EQ(t.param("junk"), "");
  for (const char* bad : {"", "text", "/plain", "text/", "\"text/plain\""}) {
    ContentType d = parseContentType(bad);
    EXPECT_TRUE(d.is("text", "plain")) << bad;
  }
  ContentType unclosed = parseContentType("multipart/mixed; boundary=\"abc");
  EXPECT_EQ(unclosed.param("boundary"), "abc");
}

TEST(MimeEntity, SplitsMultipartBodiesAtDelimiterLinesOnly) {
  std::string body =
      "preamble\r\n--b\r\none\r\n--bx\r\nstill one\r\n--b  \r\n\r\ntwo\r\n--b--\r\nepilogue\r\n--b\r\nnot a part\r\n";
  std::vector<std::string_view> parts = splitMultipart(body, "b");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "one\r\n--bx\r\nstill one");
  EXPECT_EQ(parts[1], "\r\ntwo");
  parts = splitMultipart("--b\none\n--b\ntwo, never closed\n", "b");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1], "two, never closed\n");
  EXPECT_TRUE(splitMultipart("no delimiter here\n", "b").empty());
}

TEST(MimeEntity, WalksNestedMultipartsToTheDepthLimit) {
  std::string m =
      "Content-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: text/plain\n\nhi\n"
      "--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/html\n\n<p>\n"
      "--inner--\n--outer--\n";
  MimeTree all = readMimeTree(m, 32, 4);
  ASSERT_EQ(all.entities.size(), 4u);
  EXPECT_TRUE(all.entities[3].type.is("text", "html"));
  EXPECT_EQ(all.entities[3].depth, 2u);
  EXPECT_EQ(all.entities[3].body, "<p>");
  EXPECT_EQ(readMimeTree(m, 32, 1).entities.size(), 3u);
  EXPECT_EQ(readMimeTree(m, 2, 4).entities.size(), 2u);
  EXPECT_EQ(all.error, "");
  MimeTree broken = readMimeTree("Content-Type: multipart/mixed\n\nbody\n", 32, 4);
  EXPECT_EQ(broken.entities.size(), 1u);
  EXPECT_NE(broken.error, "");
}

TEST(MimeEntity, DecodesBase64AndQuotedPrintable) {
  MimeEntity e;
  e.transfer_encoding = "base64";
  e.body = "aGVs\r\nbG8g!d29y bGQ=\r\nignored";
  EXPECT_EQ(decodedBody(e, 100), "hello world");
  EXPECT_EQ(decodedBody(e, 4), "hell");
  e.transfer_encoding = "quoted-printable";
  e.body = "a=3Db=\r\nc=\nd=zz=4";
  EXPECT_EQ(decodedBody(e, 100), "a=bcd=zz=4");
  e.transfer_encoding = "8bit";
  e.body = "as is=3D";
  EXPECT_EQ(decodedBody(e, 5), "as is");
}

}  // namespace
}  // namespace lbmail::feedback
