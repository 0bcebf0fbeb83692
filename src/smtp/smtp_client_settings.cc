// The timer each phase of an SMTP session waits under.
#include "lbmail/smtp/smtp_client_settings.h"

#include <algorithm>

namespace lbmail::smtp {

Duration timeoutOf(TimeoutPhase phase, const SmtpClientSettings& settings) {
  switch (phase) {
    case TimeoutPhase::kNow: return Duration(0);
    case TimeoutPhase::kGreeting: return settings.greeting_timeout;
    case TimeoutPhase::kMail: return settings.mail_timeout;
    case TimeoutPhase::kRcpt: return settings.rcpt_timeout;
    case TimeoutPhase::kDataInit: return settings.data_init_timeout;
    case TimeoutPhase::kDataBlock: return settings.data_block_timeout;
    case TimeoutPhase::kDataEnd: return settings.data_end_timeout;
    case TimeoutPhase::kQuit: return std::min<Duration>(settings.mail_timeout, std::chrono::seconds(10));
    case TimeoutPhase::kIdle: return settings.idle_timeout;
    case TimeoutPhase::kStartTls: return settings.starttls_timeout;
  }
  return settings.mail_timeout;
}

}  // namespace lbmail::smtp
