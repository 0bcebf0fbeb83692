// What an answer means for a recipient: a pure function from a RESULT, a REJECT or a timeout
// (with what is known of the recipient and the campaign's retry settings) to a decision: a final
// state, a deferral with its retry time, a requeue or a reroute, plus the sample the
// delivery-time table gets. No I/O and no clock: the caller passes now.
//
// What feeds the delivery-time table: a delivery, in ms; a deferral, a failure, a timeout and a
// policy refusal (RFC 3463 class x.7.x: a blocklisted source address, a reputation block), as
// at least slow_sample, since they say the route did not deliver (a refusal is never a fast
// sample); any other bounce (5.1.1 user unknown, a reply class of mailbox) nothing: it is the
// recipient's fault, not the gateway's, and an answer at RCPT is quicker than a delivery, so
// counting it would reward the gateway.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/proto/frames.h"
#include "pending_recipient.h"
#include "recipient_state.h"

namespace lbmail {

struct InitiatorConfig;

struct RetryPolicy {
  uint32_t max_attempts = 10;
  double max_age_s = 48 * 3600;          // from the first attempt; then a deferral fails
  std::vector<double> retry_schedule_s;  // the wait before each retry; the last one repeats
  double slow_sample_ms = 30000;         // a deferral or failure counts as at least this
  double result_timeout_ms = 600000;     // a request unanswered this long counts as deferred
  uint32_t max_requeues = 8;             // sent back without an attempt, then a deferral
  uint32_t gateways = 1;                 // configured: a policy refusal by all of them is final
};

// The campaign's settings as the policy reads them.
RetryPolicy retryPolicyOf(const InitiatorConfig& config);

// What the policy knows of the recipient.
struct AttemptHistory {
  uint32_t attempts = 0;  // made before this one
  double first_at = 0;    // unix seconds of the first attempt; 0 before it
  uint32_t requeues = 0;  // sent back without an attempt so far
  uint32_t refused_by = 0;    // distinct gateways that refused it by policy (x.7.x) so far
  bool refused_here = false;  // the gateway answering now is one of them
};

// What the policy knows of p, answered by gateway g.
AttemptHistory historyOf(const PendingRecipient& p, size_t g);
// Whether an RFC 3463 enhanced status code ("5.7.1") is of subject 7, security or policy: the
// receiver refuses the sender (its address, its IP) rather than the recipient.
bool isPolicyStatus(std::string_view enhanced_code);

struct OutcomeDecision {
  enum class Kind : uint8_t {
    kFinal,    // state is delivered, bounced or failed
    kDefer,    // state is deferred; next_at says when the retry is due
    kRequeue,  // send it elsewhere at once, not counted as an attempt
    kReroute,  // refused by policy: send it at once through a gateway that has not refused it
  };
  enum class Sample : uint8_t { kNone, kMs, kSlow };

  Kind kind = Kind::kFinal;
  RecipientState state = RecipientState::kFailed;
  uint32_t attempts = 0;  // to record: those before plus this one when a gateway tried it
  uint32_t requeues = 0;  // kRequeue: the recipient's count from now on
  double next_at = 0;     // kDefer: unix seconds
  int smtp_code = 0;
  std::string enhanced_code;
  std::string reason;
  double delivery_ms = 0;  // what the ledger records as the delivery time
  Sample sample = Sample::kNone;
  double sample_ms = 0;        // kMs or kSlow: what the delivery-time table records
  bool media_missing = false;  // the gateway said this material's media are missing there
  // How the attempt's SMTP connection was protected (see tlsOf); "" when no RESULT said.
  std::string tls;
  bool tls_verified = false;  // the receiver's certificate checked out
};

// The state a RESULT's outcome names: a gateway's tally counts by it, even where the policy
// then gives up on a deferral. An outcome newer than this initiator counts as failed.
RecipientState stateNamed(proto::Outcome outcome);
// The TLS a RESULT names: the session's version ("TLSv1.3"), "none" when it was plain, "" when
// the RESULT says nothing of TLS (a gateway from before issue 19).
std::string tlsOf(const proto::ResultFrame& r);
// A RESULT answered ms after the SEND. A bounce by policy (5.7.x) is rerouted through a gateway
// that has not refused the recipient yet; it is final once every gateway has refused it, once
// it comes back from a gateway that refused it before (no other could take it), or at
// max_attempts. Where the RESULT has a reply class (has_shaping, issue 20) the class decides
// instead of the code's subject: a mailbox bounce is final with no sample (even a 5.7.x); a
// block bounces as by policy above, and a block deferral (4xx) is rerouted the same way, then
// deferred when no gateway is left; a throttle is requeued at once (not an attempt, counted
// toward max_requeues) for another gateway, with a slow sample. Other classes go by outcome.
OutcomeDecision decideResult(const proto::ResultFrame& r, double ms, const AttemptHistory& h, const RetryPolicy& p,
                             double now);
// A REJECT: the gateway did not try it.
OutcomeDecision decideReject(const proto::RejectFrame& r, const AttemptHistory& h, const RetryPolicy& p, double now);
// No answer within the result timeout: the gateway may be stuck.
OutcomeDecision decideTimeout(const AttemptHistory& h, const RetryPolicy& p, double now);
// Sent back without an attempt (a REJECT that another gateway may take, a link that died):
// a requeue, or a deferral once the recipient has been sent back too often, so nothing spins.
OutcomeDecision decideRequeue(const AttemptHistory& h, const RetryPolicy& p, double now);

}  // namespace lbmail
