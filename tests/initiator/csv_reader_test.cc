// Tests for src/initiator/csv_reader.cc: RFC 4180 records fed whole, split at every byte and
// byte by byte, with bad records reported by line and skipped.
#include "csv_reader.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

struct Parsed {
  std::vector<std::pair<uint64_t, std::vector<std::string>>> records;
  std::vector<std::pair<uint64_t, std::string>> errors;
};

Parsed parse(const std::vector<std::string_view>& pieces) {
  Parsed p;
  CsvReader r(
      [&](uint64_t line, const std::vector<std::string_view>& f) {
        p.records.push_back({line, std::vector<std::string>(f.begin(), f.end())});
      },
      [&](uint64_t line, std::string_view reason) {
        p.errors.push_back({line, std::string(reason)});
      });
  for (std::string_view s : pieces) r.feed(s);
  r.finish();
  return p;
}

// The same result whole, split at every offset, and byte by byte.
Parsed parseEveryWay(std::string_view text) {
  Parsed whole = parse({text});
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    Parsed split = parse({text.substr(0, cut), text.substr(cut)});
    EXPECT_EQ(split.records, whole.records) << "split at " << cut;
    EXPECT_EQ(split.errors, whole.errors) << "split at " << cut;
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
  Parsed one = parse(bytes);
  EXPECT_EQ(one.records, whole.records);
  EXPECT_EQ(one.errors, whole.errors);
  return whole;
}

using Record = std::pair<uint64_t, std::vector<std::string>>;

TEST(CsvReader, PlainQuotedAndEmptyFields) {
  Parsed p = parseEveryWay("a,b,c\r\n1,,\"x, y\"\n\"he said \"\"hi\"\"\",\"\",z\n");
  ASSERT_TRUE(p.errors.empty());
  EXPECT_EQ(p.records,
            (std::vector<Record>{{1, {"a", "b", "c"}}, {2, {"1", "", "x, y"}}, {3, {"he said \"hi\"", "", "z"}}}));
}

TEST(CsvReader, LineBreaksInsideQuotesAndLineNumbers) {
  Parsed p = parseEveryWay("h1,h2\n\"two\nlines\",x\r\nnext,row\n");
  ASSERT_TRUE(p.errors.empty());
  EXPECT_EQ(p.records, (std::vector<Record>{{1, {"h1", "h2"}}, {2, {"two\nlines", "x"}}, {4, {"next", "row"}}}));
}

TEST(CsvReader, ByteOrderMarkBlankLinesAndNoFinalLineEnd) {
  Parsed p = parseEveryWay(
      "\xEF\xBB\xBF"
      "email\n\nx@y.test\n\r\nlast@y.test");
  ASSERT_TRUE(p.errors.empty());
  EXPECT_EQ(p.records, (std::vector<Record>{{1, {"email"}}, {3, {"x@y.test"}}, {5, {"last@y.test"}}}));
  Parsed partial = parseEveryWay(
      "\xEF\xBB"
      "a\n");  // not a BOM: the octets are data
  ASSERT_EQ(partial.records.size(), 1u);
  EXPECT_EQ(partial.records[0].second[0],
            "\xEF\xBB"
            "a");
}

TEST(CsvReader, BadRecordsAreReportedAndSkipped) {
  Parsed p = parseEveryWay("ok,1\nbad\"quote,2\n\"closed\"junk,3\nfine,4\n\"never closed,5\n");
  EXPECT_EQ(p.records, (std::vector<Record>{{1, {"ok", "1"}}, {4, {"fine", "4"}}}));
  EXPECT_EQ(p.errors, (std::vector<std::pair<uint64_t, std::string>>{
                          {2, "a quote inside an unquoted field"},
                          {3, "text after a closing quote"},
                          {5, "a quoted field is not closed before the end of the file"}}));
}

TEST(CsvReader, ABadRecordsQuotedLineBreaksDoNotStartRecords) {
  Parsed p = parseEveryWay("h,n\n\"a\"x,\"note\nbob@ex.test,Bob\nend\"\nok,1\n");
  EXPECT_EQ(p.records, (std::vector<Record>{{1, {"h", "n"}}, {5, {"ok", "1"}}}));
  EXPECT_EQ(p.errors, (std::vector<std::pair<uint64_t, std::string>>{{2, "text after a closing quote"}}));
}

TEST(CsvReader, OverlongQuotedRecordEndingOnAnEscapedQuoteStaysRefused) {
  std::string big = "\"" + std::string(CsvReader::kMaxRecordOctets, 'x') + "\"\"tail\"\nb\n";
  Parsed p = parse({"a\n", big});
  EXPECT_EQ(p.records, (std::vector<Record>{{1, {"a"}}, {3, {"b"}}}));
  ASSERT_EQ(p.errors.size(), 1u);
}

TEST(CsvReader, OverlongRecordsAreRefusedWithoutGrowingMemory) {
  std::string big(CsvReader::kMaxRecordOctets + 10, 'x');
  Parsed p = parse({"a\n", big, "\nb\n"});
  EXPECT_EQ(p.records, (std::vector<Record>{{1, {"a"}}, {3, {"b"}}}));
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0], (std::pair<uint64_t, std::string>{2, "record longer than 1 MiB"}));
}

}  // namespace
}  // namespace lbmail
