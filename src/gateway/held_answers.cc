// Answers kept per initiator instance, handed over when it connects again.
#include "held_answers.h"

namespace lbmail {

HeldAnswers::Answer& HeldAnswers::add(uint64_t instance, Clock::time_point now) {
  expire(now);
  if (answers_.size() >= kMaxAnswers) answers_.pop_front();
  Answer& a = answers_.emplace_back();
  a.instance = instance;
  a.at = now;
  return a;
}

void HeldAnswers::keep(uint64_t instance, const proto::ResultFrame& result, Clock::time_point now) {
  Answer& a = add(instance, now);
  a.enhanced_code = result.enhanced_code;
  a.text = result.reply;
  a.mx_host = result.mx_host;
  a.tls_version = result.tls_version;
  a.site = result.site;
  a.result = result;
}

void HeldAnswers::keep(uint64_t instance, const proto::RejectFrame& reject, Clock::time_point now) {
  Answer& a = add(instance, now);
  a.is_result = false;
  a.text = reject.text;
  a.site = reject.site;
  a.reject = reject;
}

uint64_t HeldAnswers::replay(uint64_t instance, proto::LinkConnection& link, Clock::time_point now) {
  expire(now);
  // The newest kMaxReplay of the instance: the link's write queue must hold them all at once.
  size_t skip = 0;
  size_t held = 0;
  for (const Answer& a : answers_) held += a.instance == instance;
  if (held > kMaxReplay) skip = held - kMaxReplay;
  uint64_t sent = 0;
  for (Answer& a : answers_) {
    if (a.instance != instance) continue;
    if (skip > 0) {
      --skip;
      continue;
    }
    // The views are set here, from strings that no longer move (a deque keeps its elements).
    if (a.is_result) {
      a.result.enhanced_code = a.enhanced_code;
      a.result.reply = a.text;
      a.result.mx_host = a.mx_host;
      a.result.tls_version = a.tls_version;
      a.result.site = a.site;
      link.send(a.result);
    } else {
      a.reject.text = a.text;
      a.reject.site = a.site;
      link.send(a.reject);
    }
    ++sent;
  }
  return sent;
}

void HeldAnswers::finished(uint64_t instance) {
  auto it = running_.find(instance);
  if (it == running_.end()) return;
  if (--it->second == 0) running_.erase(it);
}

uint64_t HeldAnswers::running(uint64_t instance) const {
  auto it = running_.find(instance);
  return it == running_.end() ? 0 : it->second;
}

void HeldAnswers::expire(Clock::time_point now) {
  while (!answers_.empty() && now - answers_.front().at > kMaxAge) answers_.pop_front();
}

}  // namespace lbmail
