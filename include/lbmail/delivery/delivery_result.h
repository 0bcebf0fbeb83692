// What became of a message: per recipient and overall, with the reply that decided it and the
// timings the initiator routes on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"
#include "lbmail/delivery/tls_policy.h"
#include "lbmail/shaping/reply_class.h"
#include "lbmail/smtp/smtp_reply.h"
#include "lbmail/smtp/smtp_transaction_result.h"

namespace lbmail::delivery {

using smtp::SmtpReply;

enum class DeliveryOutcome : uint8_t {
  kDelivered,  // 2xx at end of data
  kDeferred,   // 4xx, network or DNS trouble: try again later
  kBounced,    // 5xx, or a permanent DNS answer: do not try again
};

const char* outcomeName(DeliveryOutcome outcome);
// 2xx delivered, 4xx deferred, 5xx bounced.
DeliveryOutcome outcomeOf(const SmtpReply& reply);

struct RecipientResult {
  DeliveryOutcome outcome = DeliveryOutcome::kDeferred;
  SmtpReply reply;  // code 0 when no reply decided it (network failure)
};

struct DeliveryTimings {
  Duration queue_wait{0};   // from ready to send (after DNS) until a connection took it
  Duration dns{0};          // MX resolution (0 from the cache or a static route)
  Duration connect{0};      // TCP connect of the connection used: the RTT to the receiver
  Duration greeting{0};     // connected until the 220 greeting
  Duration transaction{0};  // MAIL (or RSET) until the final reply
  Duration total{0};        // submit until the result
};

// How the connection that carried (or tried) the message was protected.
struct TlsInfo {
  TlsPolicy policy = TlsPolicy::kOpportunistic;  // the policy the destination domain resolved to
  std::string version;  // "TLSv1.3", "TLSv1.2"; "" when the session was plain
  std::string cipher;   // OpenSSL's name, "" when plain
  // The peer's certificate checked out for the MX host name (PKIX) or against its TLSA records
  // (DANE); false when plain, or when the policy did not ask and the check failed.
  bool verified = false;
  bool dane = false;  // verified through TLSA records
};

struct DeliveryResult {
  // Delivered when every recipient was; otherwise deferred when some recipient may still
  // succeed later, else bounced.
  DeliveryOutcome outcome = DeliveryOutcome::kDeferred;
  std::vector<RecipientResult> recipients;
  SmtpReply reply;      // the reply that decided the message; code 0 when none did
  std::string reason;   // one line: the reply's summary or what went wrong
  std::string mx_host;  // the MX host name used ("" for a static route)
  SocketAddress mx_address;
  bool connection_reused = false;
  bool withdrawn = false;  // its start check said no before MAIL FROM: no server saw it
  // The recipient's site would not take it from this gateway's address now (suspended after a
  // block reply, or today's warm-up cap reached): never sent, reason says why.
  bool site_unavailable = false;
  // What the deciding reply says (kProtocol when none decided it), and the recipient domain's
  // site ("" when its MX was never known).
  shaping::ReplyClass reply_class = shaping::ReplyClass::kProtocol;
  std::string site;
  uint32_t attempts = 0;  // destinations tried (MX failover)
  TlsInfo tls;
  DeliveryTimings timings;
};

// The message-level outcome from the recipients' (see DeliveryResult::outcome).
DeliveryOutcome combineOutcomes(const std::vector<RecipientResult>& recipients);

// The result of a transaction an SMTP client reported: each recipient's reply classified,
// the message's outcome combined from theirs.
DeliveryResult deliveryResultOf(smtp::SmtpTransactionResult&& transaction);

}  // namespace lbmail::delivery
