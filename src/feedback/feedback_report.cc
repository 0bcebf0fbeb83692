// PLACEHOLDER (issue 21): replaced by the feedback library's real implementation.
#include "lbmail/feedback/feedback_report.h"

namespace lbmail::feedback {

const char* reportTypeName(ReportType) { return "none"; }
FeedbackReport readReport(std::string_view, const ReportLimits&) { return {}; }

}  // namespace lbmail::feedback
