// RFC 4180 CSV, read incrementally: bytes in as they come from the file, one callback per
// record with views of its fields. Quoted fields may hold commas, quotes ("") and line breaks;
// CRLF and LF both end a record; a UTF-8 byte order mark at the very start is skipped. A bad
// record (a stray quote, an unterminated quote at the end, a record over the size limit) is
// reported with its line number and skipped; reading goes on with the next record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lbmail {

class CsvReader {
 public:
  static constexpr size_t kMaxRecordOctets = 1 << 20;
  static constexpr size_t kMaxFields = 4096;

  // line: the physical line where the record starts (1-based).
  using RecordFn = std::function<void(uint64_t line, const std::vector<std::string_view>& fields)>;
  using ErrorFn = std::function<void(uint64_t line, std::string_view reason)>;

  CsvReader(RecordFn on_record, ErrorFn on_error);

  void feed(std::string_view bytes);
  // End of input: a last record without a line end, or an unterminated quote.
  void finish();

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kSkipToLineEnd };

  void endField();
  void endRecord();
  // A record ends at a line end (c is '\n' or '\r').
  void endLine(char c);
  void fail(std::string_view reason);
  void put(char c);

  RecordFn on_record_;
  ErrorFn on_error_;
  State state_ = State::kFieldStart;
  bool at_start_ = true;  // no byte seen yet (for the BOM)
  size_t bom_matched_ = 0;
  bool record_empty_ = true;     // nothing in this record yet (a blank line is no record)
  bool skip_in_quotes_ = false;  // skipping a bad record: inside a quoted field now
  bool pending_cr_ = false;      // a CR seen outside quotes: the record ends, LF may follow
  uint64_t line_ = 1;            // current physical line
  uint64_t record_line_ = 1;     // where the current record started
  std::string record_;           // the current record's field bytes, unescaped
  std::vector<size_t> ends_;     // end offset of each field in record_
  std::vector<std::string_view> views_;
};

}  // namespace lbmail
