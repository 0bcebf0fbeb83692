// Tests for src/gateway/material_spec.cc: MATERIAL frames to MaterialSpecs, SEND fields bound.
#include "material_spec.h"

#include <gtest/gtest.h>

#include "media_fixture.h"

namespace lbmail {
namespace {

using proto::MaterialPartKind;

TEST(MaterialSpec, PartsFieldsAndMediaComeFromTheFrame) {
  test::MediaFixture f("material-spec");
  f.addRandomFile("docs/Price list.pdf", 100);
  auto report = f.build();
  media::MediaCache cache = f.load();
  proto::MaterialFrame frame;
  frame.material_id = 3;
  frame.parts = {{MaterialPartKind::kSubject, "S {{a}}"},
                 {MaterialPartKind::kText, "T"},
                 {MaterialPartKind::kHtml, "H"},
                 {MaterialPartKind::kFrom, "F <f@x.test>"},
                 {MaterialPartKind::kReplyTo, "r@x.test"},
                 {MaterialPartKind::kListUnsubscribe, "<mailto:u@x.test>"},
                 {MaterialPartKind::kListId, "L <l.x.test>"},
                 {MaterialPartKind::kFeedbackId, "c:fbsender"},
                 {MaterialPartKind::kFields, " a, b\tc,,d "}};
  proto::MediaHash h;
  media::MediaHash mh = f.hashOf(report, "docs/Price list.pdf");
  std::copy(mh.begin(), mh.end(), h.begin());
  frame.media = {{h, proto::MediaDisposition::kAttachment, ""}, {h, proto::MediaDisposition::kInline, "logo"}};
  media::MaterialSpec s = materialSpecFromFrame(frame, cache);
  EXPECT_EQ(s.subject, "S {{a}}");
  EXPECT_EQ(s.text, "T");
  EXPECT_EQ(s.html, "H");
  EXPECT_EQ(s.from, "F <f@x.test>");
  EXPECT_EQ(s.reply_to, "r@x.test");
  EXPECT_EQ(s.list_unsubscribe, "<mailto:u@x.test>");
  EXPECT_EQ(s.list_id, "L <l.x.test>");
  EXPECT_EQ(s.feedback_id, "c:fbsender");
  EXPECT_EQ(s.fields, (std::vector<std::string>{"a", "b", "c", "d"}));
  ASSERT_EQ(s.media.size(), 2u);
  EXPECT_EQ(s.media[0].name, "Price list.pdf");  // unnamed attachment: the manifest's file name
  EXPECT_FALSE(s.media[0].is_inline);
  EXPECT_EQ(s.media[1].name, "logo");
  EXPECT_TRUE(s.media[1].is_inline);
}

TEST(MaterialSpec, FieldsBindByNameAndUnknownOnesAreIgnored) {
  media::MaterialSpec s;
  s.from = "f@x.test";
  s.text = "{{b}} {{a|x}}";
  s.fields = {"a", "b"};
  auto m = media::Material::define(s, media::MediaCache());
  ASSERT_TRUE(m) << m.error().text;
  const proto::MergeField given[] = {{"b", "B"}, {"zzz", "ignored"}};
  std::vector<std::optional<std::string_view>> values;
  bindFields(**m, proto::MergeFields(given), values);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_FALSE(values[0].has_value());
  EXPECT_EQ(values[1], "B");
}

}  // namespace
}  // namespace lbmail
