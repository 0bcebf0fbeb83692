// The campaign's links to its gateways: one GatewayLink per configured gateway, the campaign's
// materials sent as MATERIAL frames whenever a link comes up, SEND frames built from a pending
// recipient, which materials each gateway said it lacks media for, and the requests that were
// in flight on a link when it went down (orphans, failed over after a grace period).
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway_dispatcher.h"
#include "initiator_config.h"
#include "lbmail/feedback/feedback_key.h"
#include "lbmail/proto/gateway_link.h"
#include "pending_recipient.h"

namespace lbmail {

class GatewayLinks final : public GatewayAvailability, public GatewayProber, private proto::GatewayLink::Handler {
 public:
  // What happens on the links, by gateway index.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void onLinkUp(size_t g) = 0;
    virtual void onLinkFrame(size_t g, const proto::Frame& frame) = 0;
    virtual void onLinkDown(size_t g, std::string_view reason) = 0;
    // A try to connect to g failed before its link was up.
    virtual void onLinkFailed(size_t g) { (void)g; }
  };

  GatewayLinks(uv_loop_t* loop, const InitiatorConfig& config, Listener& listener);
  ~GatewayLinks() override;
  GatewayLinks(const GatewayLinks&) = delete;
  GatewayLinks& operator=(const GatewayLinks&) = delete;

  // Reads every gateway's key and the feedback token key; false (logged) when one cannot be read.
  bool loadKeys();
  // Connects every gateway; instance (the campaign's salt) names this campaign to them in HELLO
  // and salts the Message-IDs; campaign_number is what its feedback tokens name.
  void connect(uint64_t instance, uint32_t campaign_number = 0);
  // Acknowledges FEEDBACK events up to sequence on g's link; false when it is not up (the
  // gateway then sends them again on its next link).
  bool ackFeedback(size_t g, uint64_t sequence);
  // Closes every link; done after the last has stopped.
  void stop(std::function<void()> done);
  // How many times g's link has come up: an ack belongs to the link its events came on.
  uint64_t upCount(size_t g) const { return slots_[g].ups; }
  bool connected() const { return !slots_.empty() && slots_.front().link != nullptr; }

  size_t size() const { return slots_.size(); }
  const GatewayEndpoint& endpoint(size_t g) const { return slots_[g].endpoint; }
  std::vector<std::string> names() const;
  // Null before connect().
  const proto::GatewayLink* link(size_t g) const { return slots_[g].link.get(); }

  // GatewayAvailability
  size_t gatewayCount() const override { return slots_.size(); }
  bool isUp(size_t g) const override { return slots_[g].link && slots_[g].link->isUp(); }
  uint64_t credit(size_t g) const override { return slots_[g].link ? slots_[g].link->credit() : 0; }
  bool hasMedia(size_t g, size_t material) const override { return !slots_[g].missing_media[material]; }

  // GatewayProber: a PROBE, only to a gateway whose HELLO says it answers them.
  bool probe(size_t g, uint64_t token) override;

  // The gateway said the material's media are missing there (logged the first time).
  void markMediaMissing(size_t g, size_t material, std::string_view text);

  // The SEND for one attempt of p (which has a material): a request id of its own, the message
  // key of p, a deadline below the result timeout, the VERP sender and the unsubscribe fields
  // when [feedback] asks for them. It points into p, into fields, which holds its merge fields,
  // and into this object's token buffers, which the next call reuses: send it first. Tokens are
  // minted here, so call it only for a SEND that goes (past the rate limit); p keeps its
  // unsubscribe token for its later attempts, which it does not depend on.
  proto::SendFrame sendFrame(PendingRecipient& p, std::vector<proto::MergeField>& fields);
  // False when the link cannot take it now.
  bool send(size_t g, const proto::SendFrame& frame) { return slots_[g].link->sendRequest(frame); }

  // Requests in flight on g when its link went down, failed over from due_ms on.
  void orphan(size_t g, std::vector<uint64_t> request_ids, uint64_t due_ms);
  // The orphans of g once they are due (empty before), forgotten here.
  std::vector<uint64_t> takeDueOrphans(size_t g, uint64_t now_ms);

  uint64_t bytesSent() const;
  uint64_t bytesReceived() const;

  // One attempt's request id: the recipient id in the low 40 bits, an attempt number above.
  static uint64_t requestId(uint64_t attempt, uint64_t recipient_id);
  static uint64_t recipientOf(uint64_t request_id);
  // What the Message-ID derives from: the same for a recipient on every attempt and every run
  // over one database, different for the same row of another database (salt), never 0.
  static uint64_t messageKey(uint64_t salt, uint64_t recipient_id);
  // The deadline a SEND carries: the result timeout less a margin (half of it, at most a
  // minute), so that a request the gateway has not started by then is refused there, not
  // delivered after the initiator gave up on it and sent it again.
  static uint32_t deadlineMs(uint64_t result_timeout_ms);

 private:
  struct Slot {
    GatewayEndpoint endpoint;
    std::unique_ptr<proto::LinkSecurity> security;
    std::unique_ptr<proto::GatewayLink> link;
    std::vector<bool> missing_media;  // per material: the gateway said its media are missing
    std::vector<uint64_t> orphans;    // request ids in flight when the link went down
    uint64_t orphans_due_ms = 0;
    uint64_t ups = 0;
  };

  // GatewayLink::Handler
  void onGatewayUp(proto::GatewayLink& link) override;
  void onGatewayFrame(proto::GatewayLink& link, const proto::Frame& frame) override;
  void onGatewayDown(proto::GatewayLink& link, std::string_view reason) override;
  void onGatewayFailed(proto::GatewayLink& link, std::string_view reason) override;

  size_t slotOf(const proto::GatewayLink& link) const;
  void sendMaterials(Slot& slot);
  // The VERP sender and unsubscribe token and URL of p's attempt, into the buffers below.
  void mintTokens(PendingRecipient& p);

  uv_loop_t* loop_;
  const InitiatorConfig& config_;
  const CampaignSettings& campaign_;
  Listener& listener_;
  std::vector<Slot> slots_;
  uint64_t instance_ = 0;
  uint64_t next_attempt_ = 0;  // starts at random, so runs do not reuse each other's ids
  std::optional<feedback::FeedbackKey> feedback_key_;
  uint32_t campaign_number_ = 0;
  // Reused by every sendFrame (no allocation once grown): the SEND points into them.
  std::string verp_sender_;
  std::string unsubscribe_url_;
};

}  // namespace lbmail
