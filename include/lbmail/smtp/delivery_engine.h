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
#include "lbmail/dns/mx_resolver.h"
#include "lbmail/smtp/delivery_config.h"
#include "lbmail/smtp/delivery_result.h"
#include "lbmail/smtp/outgoing_message.h"

namespace lbmail::smtp {

struct Delivery;
class DestinationPool;

struct DeliveryEngineStats {
  uint64_t submitted = 0;
  uint64_t delivered = 0;
  uint64_t deferred = 0;
  uint64_t bounced = 0;
  uint64_t in_flight = 0;       // submitted, no result yet
  uint64_t queued = 0;          // waiting in destination queues now
  uint64_t connections_opened = 0;
  uint64_t connections_open = 0;
  uint64_t connection_failures = 0;  // connect or greeting failed
  uint64_t transactions_reused = 0;  // sent on a connection that had sent before
  uint64_t failovers = 0;            // moved on to the next MX host or address
  uint64_t backoffs = 0;             // destinations put in back-off
  uint64_t bytes_sent = 0;           // message bytes handed to connections
};

struct DestinationStatus {
  std::string source;  // "" when the system picks
  SocketAddress destination;
  uint32_t connections = 0;
  uint32_t idle = 0;
  uint64_t queued = 0;
  uint64_t delivered = 0;  // transactions finished there
  bool backed_off = false;
};

class DeliveryEngine {
 public:
  using Done = std::function<void(DeliveryResult&& result)>;

  // resolver must outlive the engine and is used, not owned.
  DeliveryEngine(uv_loop_t* loop, DeliveryConfig config, dns::MxResolver& resolver);
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;
  ~DeliveryEngine();

  // Sends message to its recipients, who all share domain. done runs exactly once on the loop,
  // possibly before submit returns (a cached DNS failure, an unsafe address, after close()).
  void submit(std::string_view domain, OutgoingMessage message, Done done);
  // Messages still queued are deferred ("shutting down"), idle connections say QUIT, busy ones
  // are cut (their messages deferred); done runs when every connection is closed.
  void close(std::function<void()> done);

  const DeliveryEngineStats& stats() const { return stats_; }
  const DeliveryConfig& config() const { return config_; }
  // Destinations known, with their connections and queues, for /status.
  std::vector<DestinationStatus> destinations() const;

 private:
  friend class DestinationPool;

  void onResolved(uint64_t id, const dns::MxAnswer& answer);
  // Queues d on the next candidate destination that is not backed off, or finishes it.
  void tryNextCandidate(std::unique_ptr<Delivery> d);
  // Called by pools.
  void finish(std::unique_ptr<Delivery> d, DeliveryResult&& result);
  void failOver(std::unique_ptr<Delivery> d, const std::string& reason);
  void finishWithoutSending(std::unique_ptr<Delivery> d, DeliveryOutcome outcome, std::string reason);
  DestinationPool& poolFor(const SocketAddress& destination, const std::string& domain);
  const std::optional<SocketAddress>& sourceFor(const std::string& domain) const;
  void onPoolClosed();

  uv_loop_t* loop_;
  DeliveryConfig config_;
  dns::MxResolver& resolver_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Delivery>> resolving_;
  std::map<std::string, std::unique_ptr<DestinationPool>> pools_;  // key: "source>destination"
  std::vector<std::optional<SocketAddress>> sources_;
  DeliveryEngineStats stats_;
  bool closing_ = false;
  size_t pools_open_ = 0;
  DoneCallbacks close_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace lbmail::smtp
