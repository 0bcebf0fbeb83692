// The whole gateway choice for a recipient, in one place: which gateways may carry it (up,
// holding its material's media, not the one it should avoid, none that refused it by policy
// while another is up), a few probes for a domain nothing is known about, the load each
// gateway has for the recipient's destination (DestinationLoad), the selection policy
// (GatewaySelector), and parking: a recipient that will arrive sooner through a gateway out of
// credit now waits for that gateway's credit. The gateways' shaping (SiteTable) leaves out a
// gateway whose site for the domain is suspended or out of warm-up, and makes a throttled one
// cost more. It tells the selector what each SEND became (sent, answered, lost) and, for the
// policies that probe (prequal), sends the PROBEs it asks for after each decision through
// GatewayProber and passes the replies back. It sees the gateways through GatewayAvailability
// and GatewayProber, so it runs without sockets.
#pragma once

#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "lbmail/proto/frames.h"
#include "lbmail/routing/delivery_time_table.h"
#include "lbmail/routing/destination_load.h"
#include "lbmail/routing/gateway_selector.h"
#include "initiator_config.h"
#include "pending_recipient.h"
#include "site_table.h"

namespace lbmail {

// What the dispatcher needs to know of each gateway now.
class GatewayAvailability {
 public:
  virtual ~GatewayAvailability() = default;
  virtual size_t gatewayCount() const = 0;
  virtual bool isUp(size_t g) const = 0;
  virtual uint64_t credit(size_t g) const = 0;  // SENDs it would take now
  virtual bool hasMedia(size_t g, size_t material) const = 0;
};

// Sends a PROBE (issue 22) to a gateway.
class GatewayProber {
 public:
  virtual ~GatewayProber() = default;
  // False when g cannot be probed now (down, or a gateway from before PROBE).
  virtual bool probe(size_t g, uint64_t token) = 0;
};

class GatewayDispatcher {
 public:
  enum class Route : uint8_t {
    kSend,          // send it to gateway now
    kParked,        // taken: it waits for gateway's credit (unpark() gives it back)
    kHold,          // nothing can take it now: try again later
    kMediaMissing,  // its material's media are missing on every gateway
  };
  struct Choice {
    Route route = Route::kHold;
    size_t gateway = 0;
  };

  // prober: where the PROBEs go (none: no probes are sent).
  GatewayDispatcher(size_t gateways, const SelectionConfig& selection, GatewayProber* prober = nullptr);
  GatewayDispatcher(const GatewayDispatcher&) = delete;
  GatewayDispatcher& operator=(const GatewayDispatcher&) = delete;

  // p has a material. Sets p.domain_id.
  Choice route(PendingRecipient& p, const GatewayAvailability& gateways, uint64_t now_ms);

  // Parked on gateway g: the oldest first.
  bool hasParked(size_t g) const { return !parked_[g].empty(); }
  PendingRecipient unpark(size_t g);
  size_t parked() const { return parked_count_; }

  // A request to the domain went out on gateway g at now_ms; was answered by a RESULT; was
  // answered by a REJECT; or is no longer counted there (timed out, failed over: lost, for the
  // selector an answer that took what it waited). sent_ms: when it went out.
  void sent(uint32_t domain, size_t g, uint64_t now_ms);
  void answered(uint32_t domain, size_t g, const proto::ResultFrame& r, uint64_t sent_ms, uint64_t now_ms);
  void answered(uint32_t domain, size_t g, uint64_t sent_ms, uint64_t now_ms);
  void dropped(uint32_t domain, size_t g, uint64_t sent_ms, uint64_t now_ms);
  // What a gateway reports of itself: SITES (its shaped sites), LOAD (its queue, for answers
  // without RESULT's load field), PROBE_REPLY; other frames are not for the dispatcher.
  void onGatewayFrame(size_t g, const proto::Frame& frame, uint64_t now_ms);
  // A gateway named the domain's site (RESULT, REJECT): what is in flight to the domain now
  // counts for that site.
  void learnSite(uint32_t domain, std::string_view site);
  SiteTable& sites() { return sites_; }
  const SiteTable& sites() const { return sites_; }

  DeliveryTimeTable& table() { return table_; }
  const DeliveryTimeTable& table() const { return table_; }
  const GatewaySelector& selector() const { return selector_; }
  // Requests in flight on gateway g, over every domain.
  uint64_t inFlight(size_t g) const { return load_.inFlight(g); }

 private:
  void fillDestinationLoad(uint32_t domain, uint64_t now_ms);
  void leaveOutRefusers(const PendingRecipient& p);
  void applyShaping(uint32_t domain, uint64_t now_ms);
  bool siteUnavailable(uint32_t domain, size_t g, uint64_t now_ms) const;
  void release(uint32_t domain, size_t g, uint64_t now_ms);
  void sendProbes(uint64_t now_ms);

  size_t gateways_;
  DeliveryTimeTable table_;
  GatewaySelector selector_;
  SiteTable sites_;
  std::vector<GatewayLoad> loads_;
  DestinationLoad load_;
  std::vector<std::deque<PendingRecipient>> parked_;  // per gateway
  size_t parked_count_ = 0;
  GatewayProber* prober_;
  uint64_t next_probe_token_ = 1;
  std::vector<uint64_t> gateway_queue_;      // per gateway: the queue it last reported
};

}  // namespace lbmail
