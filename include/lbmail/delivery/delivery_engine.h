// The gateway's way out: resolves the recipient domain's MX, keeps connection pools per
// (source address, destination), applies each destination's limits with a queue behind them,
// fails over to the next MX, and reports every message's outcome and timings.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lbmail/core/done_callbacks.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/dns/mx_resolver.h"
#include "lbmail/delivery/delivery_config.h"
#include "lbmail/delivery/delivery_result.h"
#include "lbmail/delivery/delivery_stats.h"
#include "lbmail/delivery/destination_pool_owner.h"
#include "lbmail/smtp/outgoing_message.h"

namespace lbmail::mta_sts {
class MtaStsResolver;
}  // namespace lbmail::mta_sts

namespace lbmail::shaping {
class ReplyClassifier;
class ShapingTable;
}  // namespace lbmail::shaping

namespace lbmail::delivery {

using smtp::OutgoingMessage;

struct Delivery;
struct DeliveryCandidate;
struct HostTls;
class DestinationPool;
class SiteGate;
class TlsPolicyResolver;

class DeliveryEngine final : private DestinationPoolOwner {
 public:
  using Done = std::function<void(DeliveryResult&& result)>;
  // Asked just before the message's transaction starts (MAIL FROM): false withdraws it, and
  // done gets a deferral marked withdrawn that no server saw.
  using StartCheck = std::function<bool()>;

  // resolver must outlive the engine and is used, not owned.
  DeliveryEngine(uv_loop_t* loop, DeliveryConfig config, dns::MxResolver& resolver);
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;
  ~DeliveryEngine() override;

  // Shaping per (source, site) (docs/shaping.md): before a message joins a site's queue the
  // table admits it or not (suspended, warm-up cap), every reply is classified and fed to it,
  // and its rate and connections bound the site's pools. Both must outlive the engine; call
  // before the first submit. changed runs when a site's state changed (for SITES). Without a
  // table every reply is still classified, by the code rules alone.
  void setShaping(shaping::ShapingTable* table, const shaping::ReplyClassifier* classifier,
                  std::function<void()> changed);
  // Messages queued per site now, for SITES.
  std::map<std::string, uint64_t> queuedPerSite() const;

  // Sends message to its recipients, who all share domain. done runs exactly once on the loop,
  // possibly before submit returns (a cached DNS failure, an unsafe address, after close()).
  void submit(std::string_view domain, OutgoingMessage message, Done done, StartCheck may_start = {});
  // Messages still queued are deferred ("shutting down"), idle connections say QUIT, busy ones
  // are cut (their messages deferred); done runs when every connection is closed.
  void close(std::function<void()> done);

  const DeliveryEngineStats& stats() const { return stats_; }
  const DeliveryConfig& config() const { return config_; }
  // Destinations known, with their connections and queues, for /status.
  std::vector<DestinationStatus> destinations() const;
  // Destination pools kept now: busy ones and those idle for less than pool_idle_timeout.
  size_t destinationPools() const { return pools_.size(); }

 private:
  // DestinationPoolOwner: what the pools call.
  const smtp::SmtpClientSettings& clientSettings() const override { return config_.client; }
  const SmtpTlsContext& tlsContext() const override { return *tls_context_; }
  Duration backoff() const override { return config_.backoff; }
  DeliveryEngineStats& counters() override { return stats_; }
  void finish(std::unique_ptr<Delivery> d, DeliveryResult&& result) override;
  void finishWithoutSending(std::unique_ptr<Delivery> d, DeliveryOutcome outcome, std::string reason) override;
  void failOver(std::unique_ptr<Delivery> d, const std::string& reason) override;
  void onPoolClosed(DestinationPool& pool) override;
  void onSiteChanged(SiteGate& gate) override;

  void onResolved(uint64_t id, const dns::MxAnswer& answer);
  // The TLS policy's answer for the message's MX hosts: refused hosts drop out.
  void onTlsResolved(uint64_t id, std::vector<HostTls>&& hosts);
  // The MTA-STS resolver, made when some domain's policy is mta-sts; null otherwise.
  void startMtaSts();
  std::string refusal(const dns::MxAnswer& answer, const dns::MxTarget& target, const SocketAddress& address);
  // Queues d on the next candidate destination that is not backed off, or finishes it.
  void tryNextCandidate(std::unique_ptr<Delivery> d);
  DestinationPool& poolFor(const DeliveryCandidate& candidate, const Delivery& d);
  // The gate of the message's (source, site), from its MX answer; false (and d answered) when
  // the shaping table does not admit it.
  bool admitToSite(std::unique_ptr<Delivery>& d, const dns::MxAnswer& answer);
  std::shared_ptr<SiteGate> gateFor(const std::string& source, const dns::MxAnswer& answer);
  const std::optional<SocketAddress>& sourceFor(const std::string& domain) const;
  void startSweeping();
  static void onSweep(uv_timer_t* timer);
  // Closes and forgets the pools idle past pool_idle_timeout, and the longest idle beyond
  // max_idle_pools.
  void retireIdlePools();
  void maybeClosed();

  uv_loop_t* loop_;
  DeliveryConfig config_;
  dns::MxResolver& resolver_;
  std::unique_ptr<SmtpTlsContext> tls_context_;  // config_.tls.ca_file
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Delivery>> resolving_;
  std::map<std::string, std::unique_ptr<DestinationPool>> pools_;  // key: "source>site>destination|tls"
  shaping::ShapingTable* shaping_ = nullptr;
  std::unique_ptr<shaping::ReplyClassifier> own_classifier_;  // the code rules, when none is given
  const shaping::ReplyClassifier* classifier_ = nullptr;
  std::function<void()> site_changed_;
  std::map<std::string, std::weak_ptr<SiteGate>> gates_;  // key: "source>site"; pruned by the sweep
  std::vector<std::optional<SocketAddress>> sources_;
  std::unique_ptr<mta_sts::MtaStsResolver> mta_sts_;
  std::unique_ptr<TlsPolicyResolver> tls_policies_;
  bool mta_sts_open_ = false;
  DeliveryEngineStats stats_;
  std::vector<std::unique_ptr<DestinationPool>> retiring_;  // closing, then freed
  uv_timer_t sweep_timer_;
  bool sweep_timer_open_ = false;
  HandleCloser closer_;
  bool closing_ = false;
  size_t pools_open_ = 0;  // in pools_ and retiring_
  DoneCallbacks close_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace lbmail::delivery
