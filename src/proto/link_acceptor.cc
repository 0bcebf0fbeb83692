// Accepting and owning initiator links on a gateway.
#include "lbmail/proto/link_acceptor.h"

#include <algorithm>
#include <cassert>

#include "lbmail/core/log.h"

namespace lbmail::proto {

LinkAcceptor::LinkAcceptor(uv_loop_t* loop, LinkAcceptorConfig config, const LinkSecurity& security, Handler& handler)
    : loop_(loop), config_(std::move(config)), security_(security), handler_(handler), listener_(loop, "link") {}

LinkAcceptor::~LinkAcceptor() { assert(!listener_.isOpen() && links_.empty() && "stop() and run the loop first"); }

int LinkAcceptor::start() {
  return listener_.listen(config_.listen, [this](uv_stream_t* server) { onConnection(server); });
}

SocketAddress LinkAcceptor::boundAddress() const { return listener_.boundAddress(); }

void LinkAcceptor::onConnection(uv_stream_t* listener) {
  if (stopping_) return;
  LinkConnection::Handler& as_handler = *this;  // a private base: convert here, not in make_unique
  links_.push_back(std::make_unique<LinkConnection>(loop_, Role::kGateway, config_.link, security_, as_handler));
  LinkConnection& link = *links_.back();
  if (!link.accept(listener, config_.allowed_initiators)) return;  // closing itself
  // Unauthenticated connections get a small pool of their own, so that they can never crowd
  // out real initiators (max_links counts authenticated links only).
  if (countInState(LinkConnection::State::kHandshake) >= config_.max_handshakes) {
    logWarn("link.refused", {{"peer", link.peerAddress().toString()}, {"reason", "too many handshakes"}});
    link.abort("too many connections in handshake");
    return;
  }
  link.startHandshake();
}

size_t LinkAcceptor::countInState(LinkConnection::State state) const {
  return static_cast<size_t>(
      std::count_if(links_.begin(), links_.end(), [&](const auto& l) { return l->state() == state; }));
}

void LinkAcceptor::onLinkUp(LinkConnection& link) {
  if (countInState(LinkConnection::State::kOpen) > config_.max_links) {
    logWarn("link.refused", {{"peer", link.peerAddress().toString()}, {"reason", "max_links reached"}});
    link.close(GoodbyeReason::kShutdown, "too many links");
    return;
  }
  handler_.onLinkUp(link);
}

void LinkAcceptor::onLinkFrame(LinkConnection& link, const Frame& frame) { handler_.onLinkFrame(link, frame); }

void LinkAcceptor::onLinkRtt(LinkConnection& link, uint64_t rtt_us) { handler_.onLinkRtt(link, rtt_us); }

void LinkAcceptor::onLinkClosed(LinkConnection& link, std::string_view reason) {
  handler_.onLinkClosed(link, reason);
  auto it = std::find_if(links_.begin(), links_.end(), [&](const auto& l) { return l.get() == &link; });
  if (it != links_.end()) links_.erase(it);  // deletes the link: nothing touches it after this
  maybeFinishStop();
}

void LinkAcceptor::stopAccepting() {
  listener_.close([this] { maybeFinishStop(); });
}

void LinkAcceptor::stop(GoodbyeReason reason, std::string_view text, std::function<void()> done) {
  stop_done_.add(std::move(done));
  if (!stopping_) {
    stopping_ = true;
    stopAccepting();
    for (auto& link : links_) link->close(reason, text);
  }
  maybeFinishStop();
}

void LinkAcceptor::maybeFinishStop() {
  if (!stopping_ || listener_.isOpen() || !links_.empty()) return;
  stop_done_.runAll();
}

}  // namespace lbmail::proto
