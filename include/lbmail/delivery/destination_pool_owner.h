// What a destination pool needs from the engine that owns it: the settings it works under,
// the counters it adds to, and where a message goes when the pool is done with it.
#pragma once

#include <memory>
#include <string>

#include "lbmail/core/units.h"
#include "lbmail/delivery/delivery_result.h"
#include "lbmail/delivery/delivery_stats.h"
#include "lbmail/smtp/smtp_client_settings.h"

namespace lbmail::delivery {

struct Delivery;
class DestinationPool;
class SiteGate;
class SmtpTlsContext;

class DestinationPoolOwner {
 public:
  virtual ~DestinationPoolOwner() = default;

  virtual const smtp::SmtpClientSettings& clientSettings() const = 0;
  // The client TLS every STARTTLS starts from.
  virtual const SmtpTlsContext& tlsContext() const = 0;
  // How long a destination that refused us is skipped.
  virtual Duration backoff() const = 0;
  virtual DeliveryEngineStats& counters() = 0;
  // The message is decided: report it.
  virtual void finish(std::unique_ptr<Delivery> d, DeliveryResult&& result) = 0;
  virtual void finishWithoutSending(std::unique_ptr<Delivery> d, DeliveryOutcome outcome, std::string reason) = 0;
  // The destination cannot take it now: try the next MX host or address.
  virtual void failOver(std::unique_ptr<Delivery> d, const std::string& reason) = 0;
  // The pool has closed every connection and handle after close().
  virtual void onPoolClosed(DestinationPool& pool) = 0;
  // A reply changed the state of the pool's site (suspended it, throttled it first).
  virtual void onSiteChanged(SiteGate& gate) = 0;
};

}  // namespace lbmail::delivery
