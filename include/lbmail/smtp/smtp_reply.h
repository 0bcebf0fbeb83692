// SMTP replies as a client reads them (RFC 5321 section 4.2): a three-digit code, an optional
// RFC 3463 enhanced status code, and text over one or more lines, parsed incrementally.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lbmail::smtp {

// What a reply means for the message: RFC 5321 section 4.2.1's first digit.
enum class ReplyClass : uint8_t { kPositive, kIntermediate, kTransient, kPermanent };

struct SmtpReply {
  int code = 0;          // 200..599
  std::string enhanced;  // "4.7.1", or empty when the server gave none
  std::string text;      // every line's text after the code (and enhanced code), joined by "\n"

  ReplyClass replyClass() const;
  bool positive() const { return code >= 200 && code < 300; }
  // "421 4.7.0 Try again later" on one line, for logs and RESULT frames; bounded length.
  std::string summary(size_t max = 200) const;
};

// Feeds bytes, yields whole replies. Limits are explicit: a line longer than kMaxReplyLine or a
// reply of more than kMaxReplyLines lines is an error, so a hostile server cannot grow memory.
class SmtpReplyParser {
 public:
  static constexpr size_t kMaxReplyLine = 2048;  // RFC 5321 says 512; real servers exceed it
  static constexpr size_t kMaxReplyLines = 128;

  enum class Status : uint8_t { kReply, kNeedMore, kError };

  // Consumes bytes from in (advancing it) until one whole reply is read (kReply: take it with
  // reply()), the input is used up (kNeedMore), or the bytes are not SMTP (kError: error()).
  // After kError the parser stays in error.
  Status parse(std::string_view& in);

  SmtpReply& reply() { return reply_; }
  const std::string& error() const { return error_; }
  // Bytes of a partial line held between calls: the parser's only memory besides the reply.
  size_t pendingBytes() const { return line_.size(); }

 private:
  Status fail(std::string why);
  Status finishLine(std::string_view line);

  std::string line_;  // a line split across reads
  SmtpReply reply_;
  size_t lines_ = 0;  // lines of the reply being read
  bool in_reply_ = false;
  bool reply_ready_ = false;
  std::string error_;
};

// The enhanced status code at the start of text ("5.1.1 User unknown" -> "5.1.1"), or empty.
// class.subject.detail with class 2, 4 or 5, subject 1-3 digits, detail 1-3 digits (RFC 3463).
std::string_view enhancedStatusPrefix(std::string_view text);

}  // namespace lbmail::smtp
