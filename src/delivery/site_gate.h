// What one (sending address, receiving site) may do now, shared by every destination pool of
// that site: the message rate and the connections the shaping table allows after throttle
// replies, the warm-up reservation of each message, and the replies fed back. Without a
// shaping table a gate lets everything through. docs/shaping.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/shaping/reply_class.h"
#include "lbmail/smtp/smtp_reply.h"
#include "rate_limiter.h"

namespace lbmail::shaping {
class ReplyClassifier;
class ShapingTable;
}  // namespace lbmail::shaping

namespace lbmail::delivery {

class SiteGate {
 public:
  // A pool waiting for one of the site's connections to close.
  class Waiter {
   public:
    virtual ~Waiter() = default;
    virtual void onSiteFreed() = 0;
  };

  // table may be null (no shaping); it and classifier must outlive the gate. provider: the
  // site's provider in the classifier's rules ("" for none), whose patterns apply first.
  SiteGate(shaping::ShapingTable* table, const shaping::ReplyClassifier& classifier, std::string source,
           std::string site, std::string provider);
  SiteGate(const SiteGate&) = delete;
  SiteGate& operator=(const SiteGate&) = delete;

  const std::string& source() const { return source_; }
  const std::string& site() const { return site_; }

  // Whether a message may start at now_ns under the site's shaped rate; else *wait_ns says
  // how long until one may.
  bool tryStart(uint64_t now_ns, uint64_t* wait_ns);
  // Whether another connection may open, out of a pool whose own cap is ceiling. Only a
  // throttled site caps its pools together; otherwise each pool's own limit stands.
  bool mayConnect(uint32_t ceiling);
  void connected() { ++connections_; }
  void disconnected();
  // Pumped once when one of the site's connections closes; a pool that closes forgets itself.
  void wait(Waiter* w);
  void forget(Waiter* w);

  // The message's transaction started: its warm-up reservation becomes usage.
  void started();
  // The message left without a transaction: its reservation is given back.
  void released();
  // A reply from the site (code 0: none came), classified and fed to the shaping table;
  // *changed when the site's state changed so that the initiators should hear (suspended,
  // first throttle).
  shaping::ReplyClass onReply(const smtp::SmtpReply& reply, bool* changed);
  bool suspended() const;

 private:
  shaping::ShapingTable* table_;
  const shaping::ReplyClassifier& classifier_;
  std::string source_;
  std::string site_;
  std::string provider_;
  RateLimiter limiter_;
  double rate_ = 0;  // the rate limiter_ runs at; 0 while not throttled
  uint32_t connections_ = 0;
  std::vector<Waiter*> waiters_;
};

}  // namespace lbmail::delivery
