// libFuzzer target for readReport: built twice, as dsn_fuzz and arf_fuzz, each with its own
// seed corpus (fuzz_corpus/dsn, fuzz_corpus/arf); the input is a whole returned message.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/feedback/feedback_report.h"
#include "lbmail/feedback/feedback_token.h"

using namespace lbmail::feedback;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view message(reinterpret_cast<const char*>(data), size);
  ReportLimits limits;
  limits.max_text_scan = 4096;
  FeedbackReport r = readReport(message, limits);
  assert(r.error.empty() || r.verdict == ReportVerdict::kNone);
  assert(r.detail.size() <= kMaxReportDetailBytes && r.final_recipient.size() <= kMaxReportDetailBytes);
  assert(r.verdict != ReportVerdict::kComplaint || r.type == ReportType::kArf);
  assert(r.verdict == ReportVerdict::kNone || r.verdict == ReportVerdict::kComplaint || r.status.size() >= 5);
  assert(r.original_senders.size() <= 16 && r.unsubscribe_urls.size() <= 16);
  // What the gateway does next with what was found.
  static const std::vector<std::string> domains{"bounce.example.com"};
  for (const std::string& s : r.original_senders) (void)verpTokenOf(s, domains);
  for (const std::string& u : r.unsubscribe_urls) (void)unsubscribeTokenOf(u);
  return 0;
}
