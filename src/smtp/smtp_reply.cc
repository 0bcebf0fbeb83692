// Incremental SMTP reply parsing.
#include "lbmail/smtp/smtp_reply.h"

#include <algorithm>
#include <cstring>

namespace lbmail::smtp {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Up to three digits from text at pos; returns the count taken (0 when none).
size_t digits(std::string_view text, size_t pos, size_t max) {
  size_t n = 0;
  while (pos + n < text.size() && n < max && isDigit(text[pos + n])) ++n;
  return n;
}

}  // namespace

ReplyClass SmtpReply::replyClass() const {
  if (code >= 500) return ReplyClass::kPermanent;
  if (code >= 400) return ReplyClass::kTransient;
  if (code >= 300) return ReplyClass::kIntermediate;
  return ReplyClass::kPositive;
}

std::string SmtpReply::summary(size_t max) const {
  std::string s = std::to_string(code);
  if (!enhanced.empty()) s += " " + enhanced;
  if (!text.empty()) {
    s += ' ';
    // The first line says what happened; continuation lines are usually decoration.
    s.append(text, 0, text.find('\n'));
  }
  if (s.size() > max) s.resize(max);
  return s;
}

std::string_view enhancedStatusPrefix(std::string_view text) {
  if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.') return {};
  size_t subject = digits(text, 2, 3);
  if (subject == 0 || 2 + subject >= text.size() || text[2 + subject] != '.') return {};
  size_t detail_at = 3 + subject;
  size_t detail = digits(text, detail_at, 3);
  if (detail == 0) return {};
  size_t end = detail_at + detail;
  if (end < text.size() && text[end] != ' ') return {};
  return text.substr(0, end);
}

SmtpReplyParser::Status SmtpReplyParser::fail(std::string why) {
  error_ = std::move(why);
  line_.clear();
  return Status::kError;
}

SmtpReplyParser::Status SmtpReplyParser::parse(std::string_view& in) {
  if (!error_.empty()) return Status::kError;
  if (reply_ready_) {
    // The previous reply was taken; start the next one.
    reply_ = SmtpReply();
    reply_ready_ = false;
  }
  while (!in.empty()) {
    const char* lf = static_cast<const char*>(std::memchr(in.data(), '\n', in.size()));
    size_t take = lf ? static_cast<size_t>(lf - in.data()) + 1 : in.size();
    if (line_.size() + take > kMaxReplyLine + 2) return fail("reply line longer than 2048 bytes");
    std::string_view piece = in.substr(0, take);
    in.remove_prefix(take);
    if (!lf) {
      line_.append(piece);
      return Status::kNeedMore;
    }
    Status s;
    if (line_.empty()) {
      s = finishLine(piece);
    } else {
      line_.append(piece);
      s = finishLine(line_);
      line_.clear();
    }
    if (s != Status::kNeedMore) return s;
  }
  return Status::kNeedMore;
}

// One line ending in LF (CRLF expected; a bare LF is tolerated, as most clients do).
SmtpReplyParser::Status SmtpReplyParser::finishLine(std::string_view line) {
  line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() < 3 || digits(line, 0, 3) != 3) return fail("reply line without a code");
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return fail("reply code not followed by space or '-'");
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (code < 200 || code > 599) return fail("reply code " + std::string(line.substr(0, 3)) + " out of range");
  if (in_reply_ && code != reply_.code) return fail("multi-line reply changes its code");
  if (++lines_ > kMaxReplyLines) return fail("reply of more than 128 lines");

  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
  // RFC 3463: every line repeats the enhanced code; keep it once and strip it from the text.
  std::string_view enhanced = enhancedStatusPrefix(text);
  if (!enhanced.empty() && enhanced[0] == line[0]) {
    if (!in_reply_) reply_.enhanced.assign(enhanced);
    text.remove_prefix(std::min(text.size(), enhanced.size() + 1));
  }
  if (in_reply_) reply_.text += '\n';
  reply_.code = code;
  reply_.text.append(text);
  in_reply_ = true;

  bool last = line.size() == 3 || line[3] == ' ';
  if (!last) return Status::kNeedMore;
  in_reply_ = false;
  lines_ = 0;
  reply_ready_ = true;
  return Status::kReply;
}

}  // namespace lbmail::smtp
