// The _mta-sts TXT record grammar (RFC 8461 section 3.1).
#include "lbmail/mta_sts/mta_sts_record.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbmail::mta_sts {
namespace {

std::string idOf(std::string_view txt) {
  auto id = parseMtaStsRecord(txt);
  return id ? *id : "error: " + id.error();
}

TEST(MtaStsRecord, TheRfcExampleGivesItsId) {
  EXPECT_EQ(idOf("v=STSv1; id=20160831085700Z;"), "20160831085700Z");
  EXPECT_EQ(idOf("v=STSv1;id=abc"), "abc");
  EXPECT_EQ(idOf("v=STSv1 ;\tid=abc ;  "), "abc");
}

TEST(MtaStsRecord, ExtensionsAreIgnoredWhereverTheyStand) {
  EXPECT_EQ(idOf("v=STSv1; ext=1; id=x9; more.ext_x-y=a:b"), "x9");
}

TEST(MtaStsRecord, BadRecordsSayWhy) {
  EXPECT_EQ(idOf("id=1; v=STSv1;"), "error: record does not start with v=STSv1");
  EXPECT_EQ(idOf("v=STSv2; id=1;"), "error: record does not start with v=STSv1");
  EXPECT_EQ(idOf("v=STSv1"), "error: v=STSv1 is not followed by ';'");
  EXPECT_EQ(idOf("v=STSv1 id=1"), "error: v=STSv1 is not followed by ';'");
  EXPECT_EQ(idOf("v=STSv1;"), "error: no id");
  EXPECT_EQ(idOf("v=STSv1; ext=1;"), "error: no id");
  EXPECT_EQ(idOf("v=STSv1; id=1;; "), "error: empty field between ';'");
  EXPECT_EQ(idOf("v=STSv1; id=1; ;"), "error: empty field between ';'");
  EXPECT_EQ(idOf("v=STSv1; id=1; id=2"), "error: more than one id");
  EXPECT_EQ(idOf("v=STSv1; id="), "error: id '' is not 1 to 32 letters and digits");
  EXPECT_EQ(idOf("v=STSv1; id=a-b"), "error: id 'a-b' is not 1 to 32 letters and digits");
  EXPECT_EQ(idOf("v=STSv1; id=" + std::string(33, 'a')),
            "error: id '" + std::string(33, 'a') + "' is not 1 to 32 letters and digits");
  EXPECT_EQ(idOf("v=STSv1; id=1 2"), "error: id '1 2' is not 1 to 32 letters and digits");
  EXPECT_EQ(idOf("v=STSv1; id=1; novalue"), "error: malformed field 'novalue'");
  EXPECT_EQ(idOf("v=STSv1; id=1; _x=1"), "error: malformed field '_x=1'");
  EXPECT_EQ(idOf("v=STSv1; id=1; x=a=b"), "error: malformed field 'x=a=b'");
  EXPECT_EQ(idOf("v=STSv1; id=1; x="), "error: malformed field 'x='");
}

TEST(MtaStsRecord, ThirtyTwoCharactersIsTheLongestId) {
  std::string id(32, 'Z');
  EXPECT_EQ(idOf("v=STSv1; id=" + id), id);
}

TEST(MtaStsRecord, OneRecordIsChosenAmongOtherTexts) {
  std::vector<std::string> texts{"v=spf1 -all", "v=STSv10; id=9", "v=STSv1; id=7;"};
  auto id = selectMtaStsRecord(texts);
  ASSERT_TRUE(id) << id.error();
  EXPECT_EQ(*id, "7");
}

// RFC 8461 section 3.1: not exactly one v=STSv1 record means no policy.
TEST(MtaStsRecord, NoneOrSeveralMeansNoPolicy) {
  std::vector<std::string> none{"v=spf1 -all"};
  EXPECT_EQ(selectMtaStsRecord(none).error(), "no v=STSv1 TXT record");
  std::vector<std::string> two{"v=STSv1; id=1", "v=STSv1; id=2"};
  EXPECT_EQ(selectMtaStsRecord(two).error(), "2 v=STSv1 TXT records (RFC 8461 section 3.1 wants one)");
  std::vector<std::string> broken{"v=STSv1; id=-"};
  EXPECT_FALSE(selectMtaStsRecord(broken));
}

}  // namespace
}  // namespace lbmail::mta_sts
