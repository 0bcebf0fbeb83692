// The CSV state machine, one byte at a time.
#include "csv_reader.h"

namespace lbmail {

CsvReader::CsvReader(RecordFn on_record, ErrorFn on_error)
    : on_record_(std::move(on_record)), on_error_(std::move(on_error)) {}

void CsvReader::put(char c) {
  if (record_.size() >= kMaxRecordOctets) return fail("record longer than 1 MiB");
  record_.push_back(c);
  record_empty_ = false;
}

void CsvReader::endField() {
  if (ends_.size() >= kMaxFields) return fail("more than 4096 fields");
  ends_.push_back(record_.size());
}

void CsvReader::endRecord() {
  if (state_ != State::kSkipToLineEnd && !(record_empty_ && ends_.empty())) {
    endField();
    if (state_ != State::kSkipToLineEnd) {
      views_.clear();
      size_t start = 0;
      for (size_t end : ends_) {
        views_.emplace_back(record_.data() + start, end - start);
        start = end;
      }
      on_record_(record_line_, views_);
    }
  }
  record_.clear();
  ends_.clear();
  record_empty_ = true;
  state_ = State::kFieldStart;
  record_line_ = line_;
}

void CsvReader::endLine(char c) {
  if (c == '\r') {  // a CR ends the line too; an LF right after it belongs to it
    ++line_;
    pending_cr_ = true;
  }
  endRecord();
}

void CsvReader::fail(std::string_view reason) {
  if (state_ == State::kSkipToLineEnd) return;
  skip_in_quotes_ = state_ == State::kQuoted;
  on_error_(record_line_, reason);
  state_ = State::kSkipToLineEnd;
  record_.clear();
  ends_.clear();
}

void CsvReader::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (at_start_) {
      static constexpr char kBom[] = "\xEF\xBB\xBF";
      if (c == kBom[bom_matched_]) {
        if (++bom_matched_ == 3) at_start_ = false;
        continue;
      }
      at_start_ = false;
      // A partial BOM was data after all.
      for (size_t i = 0; i < bom_matched_; ++i) feed(std::string_view(&kBom[i], 1));
    }
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') continue;  // CRLF: the record already ended at the CR
    }
    if (c == '\n') ++line_;
    switch (state_) {
      case State::kSkipToLineEnd:
        // Quotes still pair up in a bad record: a line break inside them does not end it.
        if (c == '"') {
          skip_in_quotes_ = !skip_in_quotes_;
        } else if ((c == '\n' || c == '\r') && !skip_in_quotes_) {
          endLine(c);
        }
        break;
      case State::kFieldStart:
        if (c == '\n' || c == '\r') {  // a blank line, or a record ending in an empty field
          endLine(c);
          break;
        }
        record_empty_ = false;
        if (c == '"') {
          state_ = State::kQuoted;
          break;
        }
        state_ = State::kUnquoted;
        [[fallthrough]];
      case State::kUnquoted:
        if (c == ',') {
          endField();
          if (state_ != State::kSkipToLineEnd) state_ = State::kFieldStart;
        } else if (c == '\n' || c == '\r') {
          endLine(c);
        } else if (c == '"') {
          fail("a quote inside an unquoted field");
        } else {
          put(c);
        }
        break;
      case State::kQuoted:
        if (c == '"') {
          state_ = State::kQuoteInQuoted;
        } else {
          put(c);
        }
        break;
      case State::kQuoteInQuoted:
        if (c == '"') {             // "" stands for one quote
          state_ = State::kQuoted;  // still inside the quotes, also if put() fails
          put('"');
        } else if (c == ',') {
          endField();
          if (state_ != State::kSkipToLineEnd) state_ = State::kFieldStart;
        } else if (c == '\n' || c == '\r') {
          endLine(c);
        } else {
          fail("text after a closing quote");
        }
        break;
    }
  }
}

void CsvReader::finish() {
  if (state_ == State::kQuoted) {
    fail("a quoted field is not closed before the end of the file");
  } else if (state_ == State::kSkipToLineEnd || !(record_empty_ && ends_.empty())) {
    endRecord();
  }
  state_ = State::kFieldStart;
}

}  // namespace lbmail
