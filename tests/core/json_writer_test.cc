// Tests for the streaming JSON writer.
#include "lbmail/core/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "validate.h"

namespace lbmail {
namespace {

TEST(JsonWriter, WritesNestedContainersWithCommas) {
  std::string out;
  JsonWriter w(out);
  w.beginObject();
  w.field("a", 1).field("b", "x");
  w.key("list").beginArray().value(true).value(false).null().beginObject().endObject().endArray();
  w.key("n").beginObject().field("u", uint64_t{18446744073709551615ull}).field("d", 0.5).endObject();
  w.endObject();
  EXPECT_EQ(out, R"({"a":1,"b":"x","list":[true,false,null,{}],"n":{"u":18446744073709551615,"d":0.5}})");
}

TEST(JsonWriter, EscapesStrings) {
  std::string out;
  JsonWriter w(out);
  w.value(std::string_view("q\"b\\n\n\r\t\x01", 9));
  EXPECT_EQ(out, R"("q\"b\\n\n\r\t\u0001")");
}

TEST(JsonWriter, KeepsWellFormedUtf8) {
  std::string out;
  JsonWriter w(out);
  w.value("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(out, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonWriter, ReplacesBytesThatAreNotUtf8) {
  const std::string kReplacement = "\xef\xbf\xbd";
  struct Case {
    std::string in;
    std::string out;
  };
  for (const Case& c : {Case{"a\x80" "b", "a" + kReplacement + "b"},             // lone continuation byte
                        Case{"\xc0\xaf", kReplacement + kReplacement},        // overlong '/'
                        Case{"\xed\xa0\x80", kReplacement + kReplacement + kReplacement},  // surrogate
                        Case{"\xe2\x82", kReplacement + kReplacement},        // truncated
                        Case{"\xf5\x80\x80\x80", kReplacement + kReplacement + kReplacement + kReplacement}}) {
    std::string out;
    JsonWriter w(out);
    w.value(c.in);
    EXPECT_EQ(out, "\"" + c.out + "\"");
    EXPECT_TRUE(test::validateDocument("json", "{\"k\":" + out + "}").ok);
  }
}

TEST(JsonWriter, WritesNonFiniteNumbersAsNull) {
  std::string out;
  JsonWriter w(out);
  w.beginArray().value(std::numeric_limits<double>::infinity()).value(std::nan("")).endArray();
  EXPECT_EQ(out, "[null,null]");
}

TEST(JsonWriter, OutputPassesTheReferenceParser) {
  std::string out;
  JsonWriter w(out);
  w.beginObject().field("text", "line\nwith \"quotes\" and \x1f").field("neg", -3).endObject();
  test::Validation v = test::validateDocument("json", out);
  EXPECT_TRUE(v.ok) << v.summary;
}

}  // namespace
}  // namespace lbmail
