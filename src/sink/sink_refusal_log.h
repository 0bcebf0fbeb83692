// The recipients the sink refused at RCPT (bounce_rcpt), one JSON line each: time, client,
// recipient and the reply's codes. A simulation reads it to follow a recipient refused by
// policy (a 5.7.x) to where it was delivered in the end.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace lbmail {

struct SinkReply;

class SinkRefusalLog {
 public:
  SinkRefusalLog() = default;
  SinkRefusalLog(const SinkRefusalLog&) = delete;
  SinkRefusalLog& operator=(const SinkRefusalLog&) = delete;
  ~SinkRefusalLog() { close(); }

  // Empty path: off. Returns an error text, or "".
  std::string open(const std::string& path);
  void record(double unix_time, const std::string& client, std::string_view recipient, const SinkReply& reply);
  void close();

 private:
  // Buffered stdio: a line is small and refusals are rare outside a simulation, so writing on
  // the loop costs less than a queue would.
  std::FILE* file_ = nullptr;
};

}  // namespace lbmail
