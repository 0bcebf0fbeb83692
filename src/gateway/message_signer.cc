// Signing jobs: posted from the loop, run on a signer thread, counted on the loop.
#include "message_signer.h"

#include <chrono>
#include <ctime>
#include <memory>
#include <thread>
#include <vector>

namespace lbmail {
namespace {

// From an Ed25519 signature alone (tens of µs) to an RSA-4096 one under load (tens of ms).
const std::vector<double> kSignBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                          0.005,   0.01,   0.025,   0.05,   0.1,   0.5};

unsigned threadsFor(const dkim::DkimConfig& c) {
  if (c.signer_threads > 0) return c.signer_threads;
  unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? cores : 1;
}

dkim::SignOptions optionsFor(const dkim::DkimConfig& c) {
  dkim::SignOptions o;
  o.header = c.header;
  o.body = c.body;
  o.expire = c.expire;
  return o;
}

Counter* signatureCounter(MetricsRegistry& metrics, dkim::Algorithm a) {
  return &metrics.counter("lbmail_gateway_dkim_signatures_total", "DKIM signatures made, by algorithm.",
                          {{"algorithm", std::string(dkim::algorithmName(a))}});
}

}  // namespace

MessageSigner::MessageSigner(uv_loop_t* loop, const dkim::DkimConfig& config, MetricsRegistry& metrics)
    : keyring_(config),
      signer_(optionsFor(config)),
      pool_(loop, threadsFor(config)),
      sign_seconds_(metrics.histogram("lbmail_gateway_dkim_sign_seconds",
                                      "Time to sign one message on a signer thread: body hash and every signature.",
                                      kSignBuckets)),
      signatures_{signatureCounter(metrics, dkim::Algorithm::kRsaSha256),
                  signatureCounter(metrics, dkim::Algorithm::kEd25519Sha256)},
      failures_(metrics.counter("lbmail_gateway_dkim_failures_total",
                                "Messages whose signing failed (deferred, never sent unsigned).")) {
  metrics.gaugeCallback("lbmail_gateway_dkim_queue_depth", "Messages waiting for or in signing.",
                        [this] { return static_cast<double>(pool_.depth()); });
}

void MessageSigner::sign(const media::AssembledMessage& message, std::span<const dkim::DkimKey* const> keys,
                         Done done) {
  struct Job {
    // What a job cancelled before its turn reports.
    Expected<std::string, std::string> headers = unexpected(std::string("cancelled: the drain timed out"));
    std::chrono::steady_clock::duration took{};
  };
  auto job = std::make_shared<Job>();
  std::time_t now = std::time(nullptr);
  pool_.post(
      [this, job, message, keys, now] {
        auto start = std::chrono::steady_clock::now();
        job->headers = signer_.sign(dkim::MessageBytes{message.slices(), message.plainLines()}, keys, now);
        job->took = std::chrono::steady_clock::now() - start;
      },
      [this, job, keys, done = std::move(done)] {
        sign_seconds_.observe(std::chrono::duration<double>(job->took).count());
        if (job->headers) {
          for (const dkim::DkimKey* k : keys) signatures_[static_cast<size_t>(k->algorithm())]->inc();
        } else {
          failures_.inc();
        }
        done(std::move(job->headers));
      });
}

// RFC 6376 section 5.6: the DKIM-Signature fields are prepended to the message; its own bytes
// stay where they are.
void MessageSigner::prepend(smtp::OutgoingMessage& out, std::string headers) {
  struct Signed {
    std::shared_ptr<const void> message;
    std::string headers;
  };
  auto owner = std::make_shared<Signed>(Signed{std::move(out.owner), std::move(headers)});
  out.body.insert(out.body.begin(), owner->headers);
  out.owner = std::move(owner);
}

void MessageSigner::writeStatus(JsonWriter& w) const {
  w.key("dkim").beginObject();
  w.key("signer_threads").value(static_cast<uint64_t>(pool_.threads()));
  w.key("queue_depth").value(static_cast<uint64_t>(pool_.depth()));
  w.key("signatures").value(signatures_[0]->value() + signatures_[1]->value());
  w.key("failures").value(failures_.value());
  w.endObject();
}

}  // namespace lbmail
