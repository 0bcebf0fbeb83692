// DKIM signing for the gateway: the keys of [dkim], one signer, and the signer threads. A
// message is signed off the loop (body hash and every signature in one job, a millisecond or
// so for RSA-2048) and its DKIM-Signature fields come back to the loop with the time it took.
#pragma once

#include <uv.h>

#include <array>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/core/worker_pool.h"
#include "lbmail/dkim/dkim_config.h"
#include "lbmail/dkim/dkim_keyring.h"
#include "lbmail/dkim/dkim_signer.h"
#include "lbmail/media/assembled_message.h"
#include "lbmail/smtp/outgoing_message.h"

namespace lbmail {

class MessageSigner {
 public:
  // headers: the DKIM-Signature fields to put before the message, or why signing failed.
  using Done = std::function<void(Expected<std::string, std::string> headers)>;

  MessageSigner(uv_loop_t* loop, const dkim::DkimConfig& config, MetricsRegistry& metrics);

  // The keys that sign mail From this domain (its own, a parent's or the default's); empty: the
  // message goes unsigned.
  std::span<const dkim::DkimKey* const> keysFor(std::string_view from_domain) const {
    return keyring_.keysFor(from_domain);
  }
  // Signs message with keys (from keysFor) on a signer thread; done runs on the loop. The job
  // holds the message's bytes alive.
  void sign(const media::AssembledMessage& message, std::span<const dkim::DkimKey* const> keys, Done done);
  // The signature fields go in front of the message as one more slice, owned with it.
  static void prepend(smtp::OutgoingMessage& out, std::string headers);
  // Messages not yet on a signer thread complete at once, unsigned, with an error (deferred by
  // the gateway): a drain that ran out of time.
  void cancelWaiting() { pool_.cancelWaiting(); }
  size_t depth() const { return pool_.depth(); }
  void writeStatus(JsonWriter& w) const;
  // Jobs not yet started are dropped (their done never runs): for shutdown.
  void close(std::function<void()> done) { pool_.close(std::move(done)); }

 private:
  dkim::DkimKeyring keyring_;
  dkim::DkimSigner signer_;
  WorkerPool pool_;
  Histogram& sign_seconds_;
  std::array<Counter*, 2> signatures_;  // by dkim::Algorithm
  Counter& failures_;
};

}  // namespace lbmail
