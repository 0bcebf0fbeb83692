// The gateway's end: draining (no new requests, the running ones finish or are deferred at
// drain_timeout) and closing every part in order.
#include "gateway.h"

#include "lbmail/core/handle_closer.h"
#include "lbmail/core/log.h"

namespace lbmail {

void Gateway::onStop(std::function<void()> done) {
  stop_done_ = std::move(done);
  if (!acceptor_) {
    // start() failed part way: close what was opened.
    closeEverything();
    return;
  }
  startDrain();
}

void Gateway::startDrain() {
  draining_ = true;
  acceptor_->stopAccepting();
  acceptor_->forEachLink([](proto::LinkConnection& link) { link.send(proto::DrainFrame{}); });
  logInfo("gateway.draining", {{"in_flight", in_flight_}});
  if (in_flight_ > 0 && config_.gateway.drain_timeout.count() > 0) {
    uv_timer_start(&drain_timer_, onDrainTimer,
                   toMillis(config_.gateway.drain_timeout), 0);
  }
  maybeFinishDrain();
}

void Gateway::onDrainTimer(uv_timer_t* timer) {
  auto* self = static_cast<Gateway*>(timer->data);
  logWarn("gateway.drain_timeout", {{"in_flight", self->in_flight_}});
  // What is still queued is deferred now; its RESULTs go out before the GOODBYE. So are
  // messages still waiting for a signer thread: no RSA work for mail that will not go.
  if (self->signer_) self->signer_->cancelWaiting();
  self->engine_->close([] {});
}

void Gateway::maybeFinishDrain() {
  if (!draining_ || closing_ || in_flight_ > 0) return;
  closeEverything();
}

void Gateway::closeEverything() {
  closing_ = true;
  logInfo("gateway.drained", {{"accepted", accepted_.value()},
                              {"rejected", rejected_.value()},
                              {"results_dropped", results_dropped_.value()},
                              {"message_bytes", delivery_metrics_.bytesSent()}});
  auto after_engine = [this] {
    auto after_resolver = [this] {
      if (timer_open_) {
        timer_open_ = false;
        uv_close(asHandle(&drain_timer_), [](uv_handle_t* h) {
          auto* self = static_cast<Gateway*>(h->data);
          if (self->stop_done_) std::exchange(self->stop_done_, nullptr)();
        });
        return;
      }
      if (stop_done_) std::exchange(stop_done_, nullptr)();
    };
    if (resolver_) {
      resolver_->close(after_resolver);
    } else {
      after_resolver();
    }
  };
  auto after_shaping = [this, after_engine] {
    if (shaping_) {
      shaping_->close(after_engine);  // saved after the last reply
    } else {
      after_engine();
    }
  };
  auto after_signer = [this, after_shaping] {
    if (engine_) {
      engine_->close(after_shaping);
    } else {
      after_shaping();
    }
  };
  // Every signing job holds an in_flight_ count, so none is left by now (or start failed).
  auto after_feedback = [this, after_signer] {
    if (signer_) {
      signer_->close(after_signer);
    } else {
      after_signer();
    }
  };
  // The links are closed first, so no FEEDBACK_ACK arrives after the spool's last sync.
  auto after_links = [this, after_feedback] {
    if (feedback_) {
      feedback_->close(after_feedback);
    } else {
      after_feedback();
    }
  };
  if (acceptor_) {
    acceptor_->stop(proto::GoodbyeReason::kDrained, "drained", after_links);
  } else {
    after_links();
  }
}

}  // namespace lbmail
