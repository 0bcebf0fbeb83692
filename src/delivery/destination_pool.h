// The connections to one destination, a (source address, receiver IP:port) pair with one TLS
// requirement: reused while they last, opened within the destination's limits, with a queue of
// messages behind them and a back-off after the destination refuses us (or fails the TLS the
// requirement insists on). Each new connection offers the last TLS session to resume. Every
// pool of one (source, site) shares its SiteGate: the rate and connections shaping allows.
#pragma once

#include <uv.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "delivery.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/delivery/delivery_config.h"
#include "lbmail/delivery/destination_pool_owner.h"
#include "rate_limiter.h"
#include "site_gate.h"
#include "smtp_client_connection.h"

namespace lbmail::delivery {

class DestinationPool final : private SmtpClientConnection::Handler, private SiteGate::Waiter {
 public:
  DestinationPool(uv_loop_t* loop, DestinationPoolOwner& owner, std::optional<SocketAddress> source,
                  SocketAddress destination, DestinationLimits limits, TlsRequirement tls,
                  std::shared_ptr<SiteGate> gate);
  DestinationPool(const DestinationPool&) = delete;
  DestinationPool& operator=(const DestinationPool&) = delete;
  ~DestinationPool() override;

  void enqueue(std::unique_ptr<Delivery> d);
  bool backedOff(uint64_t now_ns) const { return now_ns < backoff_until_ns_; }
  // Defers the queue, ends every connection; the engine hears onPoolClosed when all are gone.
  void close();

  DestinationStatus status(uint64_t now_ns) const;
  size_t queued() const { return queue_.size(); }
  const SiteGate& gate() const { return *gate_; }
  // The queue, handed back (its site suspended this source): the caller answers each.
  std::deque<std::unique_ptr<Delivery>> takeQueue();
  // Without connections, queue or back-off: since when (0 when it is not idle).
  uint64_t idleSince(uint64_t now_ns) const;

 private:
  struct Slot {
    std::unique_ptr<SmtpClientConnection> connection;
    std::deque<std::unique_ptr<Delivery>> active;  // messages in its transactions, oldest first
    bool ready_once = false;           // has been ready: no longer counted as connecting
    bool throttled = false;  // a transaction on it got a throttle reply (its 421 is no refusal)
  };

  void onConnectionReady(SmtpClientConnection& connection) override;
  void onConnectionClosed(SmtpClientConnection& connection, SmtpClientConnection::End end,
                          const std::string& reason) override;
  void onTlsSession(SmtpClientConnection& connection, SharedSslSession session) override;
  void onSiteFreed() override { pump(); }
  SmtpClientConnection::StartTls startTlsMode() const;
  // A connection ended by TLS: plain next time (opportunistic), or a back-off with the reason.
  void onTlsEnd(SmtpClientConnection::End end, const std::string& reason);
  static void onTimer(uv_timer_t* timer);

  // Hands queued messages to ready connections and opens new ones, within the limits.
  void pump();
  void withdraw(std::unique_ptr<Delivery> d);
  void openConnection();
  void start(Slot& slot, std::unique_ptr<Delivery> d);
  void onTransactionDone(Slot& slot, DeliveryResult&& result);
  void backOff(const std::string& reason);
  Slot* slotOf(SmtpClientConnection& connection);
  void waitFor(uint64_t nanos);
  void maybeClosed();

  uv_loop_t* loop_;
  DestinationPoolOwner& owner_;
  std::optional<SocketAddress> source_;
  SocketAddress destination_;
  DestinationLimits limits_;
  TlsRequirement tls_;
  std::shared_ptr<SiteGate> gate_;
  // After a failed opportunistic handshake, connections go plain until then (uv_hrtime
  // nanoseconds); then TLS is tried again.
  uint64_t plain_until_ns_ = 0;
  SharedSslSession tls_session_;  // the last one a server issued here
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<SmtpClientConnection*> idle_;  // ready and without work, most recent last
  std::deque<std::unique_ptr<Delivery>> queue_;
  uint32_t connecting_ = 0;  // opened, not yet ready
  RateLimiter new_connections_;
  RateLimiter messages_;
  uint64_t backoff_until_ns_ = 0;
  uint64_t delivered_ = 0;
  uint64_t last_active_ns_ = 0;  // last message queued or connection closed
  uv_timer_t timer_;
  HandleCloser closer_;
  bool timer_open_ = true;
  bool closing_ = false;
  bool closed_reported_ = false;
};

}  // namespace lbmail::delivery
