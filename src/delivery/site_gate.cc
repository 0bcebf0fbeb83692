// One (source, site)'s shaped limits, shared by its pools.
#include "site_gate.h"

#include <algorithm>

#include "lbmail/shaping/reply_classifier.h"
#include "lbmail/shaping/shaping_table.h"

namespace lbmail::delivery {

SiteGate::SiteGate(shaping::ShapingTable* table, const shaping::ReplyClassifier& classifier, std::string source,
                   std::string site, std::string provider)
    : table_(table),
      classifier_(classifier),
      source_(std::move(source)),
      site_(std::move(site)),
      provider_(std::move(provider)) {}

bool SiteGate::tryStart(uint64_t now_ns, uint64_t* wait_ns) {
  if (!table_) return true;
  double rate = table_->rate(source_, site_);
  if (rate != rate_) {
    // A tenth of a second's worth at once at most: the receivers count in short windows.
    limiter_.setRate(rate, rate / 10);
    rate_ = rate;
  }
  if (limiter_.tryTake(now_ns)) return true;
  *wait_ns = limiter_.waitNanos(now_ns);
  return false;
}

bool SiteGate::mayConnect(uint32_t ceiling) {
  if (!table_ || table_->rate(source_, site_) <= 0) return true;
  return connections_ < table_->connections(source_, site_, ceiling);
}

void SiteGate::disconnected() {
  --connections_;
  if (waiters_.empty()) return;
  std::vector<Waiter*> woken;
  woken.swap(waiters_);
  for (Waiter* w : woken) w->onSiteFreed();
}

void SiteGate::wait(Waiter* w) {
  if (std::find(waiters_.begin(), waiters_.end(), w) == waiters_.end()) waiters_.push_back(w);
}

void SiteGate::forget(Waiter* w) { waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), w), waiters_.end()); }

void SiteGate::started() {
  if (table_) table_->started(source_, site_);
}

shaping::ReplyClass SiteGate::onReply(const smtp::SmtpReply& reply, bool* changed) {
  shaping::ReplyClass c = classifier_.classify(reply, provider_);
  // Every message pipelined into a block brings one more refusal: only the first suspends (the
  // others extend it, and what waited was handed back already).
  bool was_suspended = c == shaping::ReplyClass::kBlock && suspended();
  *changed = table_ && table_->onReply(source_, site_, c, reply.summary()) && !was_suspended;
  return c;
}

void SiteGate::released() {
  if (table_) table_->released(source_, site_);
}

bool SiteGate::suspended() const { return table_ && table_->suspended(source_, site_); }

}  // namespace lbmail::delivery
