// Accepting and owning initiator links on a gateway.
#include "lbmail/proto/link_acceptor.h"

#include <algorithm>
#include <unordered_map>
#include <cassert>

#include "lbmail/core/log.h"

namespace lbmail::proto {

LinkAcceptor::LinkAcceptor(uv_loop_t* loop, LinkAcceptorConfig config, const LinkSecurity& security, Handler& handler)
    : loop_(loop),
      config_(std::move(config)),
      security_(security),
      handler_(handler),
      listener_(loop, "link") {}

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
  if (!link.accept(listener)) return;  // closing itself
  std::string host = link.peerAddress().host();
  if (!allowed(host)) {
    logRefusal("link.refused", link.peerAddress(), "address not in allowed_initiators");
    end_logged_.insert(&link);
    link.abort("address not allowed");
    return;
  }
  makeRoom(host);
  link.startHandshake();
}

bool LinkAcceptor::allowed(const std::string& host) const {
  const auto& list = config_.allowed_initiators;
  return list.empty() || std::find(list.begin(), list.end(), host) != list.end();
}

// Unauthenticated connections get a pool of their own, so that they never crowd out real
// initiators (max_links counts authenticated links only), and a share of it per address. A
// full pool does not refuse the newcomer: that would let anyone who keeps a few silent sockets
// open (each reopened as it times out) lock every initiator out. A real initiator sends its
// whole ClientHello at once, so the oldest handshake the gateway has not answered yet goes
// instead; only when every one has been answered does the oldest go.
void LinkAcceptor::makeRoom(const std::string& host) {
  if (LinkConnection* victim = handshakeToEvict(&host, config_.max_handshakes_per_address)) {
    evict(*victim, "max_handshakes_per_address reached");
  }
  if (countInState(LinkConnection::State::kHandshake) < config_.max_handshakes) return;
  // The pool is full: the address holding most handshakes gives one up. Otherwise a crowd of
  // addresses that each send a byte would make a distant initiator's handshake the oldest.
  std::string busiest = busiestHandshakeHost();
  if (LinkConnection* victim = handshakeToEvict(&busiest, 0)) evict(*victim, "max_handshakes reached");
}

// The host with the most connections in their handshake (the first such one met on a tie).
std::string LinkAcceptor::busiestHandshakeHost() const {
  std::unordered_map<std::string, size_t> counts;
  std::string busiest;
  size_t most = 0;
  for (const auto& l : links_) {
    if (l->state() != LinkConnection::State::kHandshake) continue;
    size_t n = ++counts[l->peerAddress().host()];
    if (n > most) {
      most = n;
      busiest = l->peerAddress().host();
    }
  }
  return busiest;
}

// With cap or more handshakes from host (or any number when cap is 0), the one to end: the
// oldest silent one, else the oldest. nullptr while there is room. Silent: the gateway has not
// answered it yet, so it has not sent a whole ClientHello; a byte or two does not count.
LinkConnection* LinkAcceptor::handshakeToEvict(const std::string* host, uint32_t cap) const {
  size_t count = 0;
  LinkConnection* oldest = nullptr;
  LinkConnection* oldest_silent = nullptr;
  for (const auto& l : links_) {
    if (l->state() != LinkConnection::State::kHandshake) continue;
    if (host && l->peerAddress().host() != *host) continue;
    ++count;
    if (!oldest || l->acceptedAtMs() < oldest->acceptedAtMs()) oldest = l.get();
    if (l->bytesSent() == 0 && (!oldest_silent || l->acceptedAtMs() < oldest_silent->acceptedAtMs())) {
      oldest_silent = l.get();
    }
  }
  if (count == 0 || count < cap) return nullptr;
  return oldest_silent ? oldest_silent : oldest;
}

void LinkAcceptor::evict(LinkConnection& link, std::string_view why) {
  logRefusal("link.evicted", link.peerAddress(), why);
  end_logged_.insert(&link);
  link.abort(std::string("evicted: ") + std::string(why));
}

// At most one line per [log] repeat_interval per address, whatever the event, the reason or
// the port (a flood comes from ever new ports): the logger's repeat key is the host alone.
void LinkAcceptor::logRefusal(std::string_view event, const SocketAddress& peer, std::string_view reason) {
  logger().log(LogLevel::kWarn, event, {{"peer", peer.toString()}, {"reason", reason}}, "link admission " + peer.host());
}

size_t LinkAcceptor::countInState(LinkConnection::State state) const {
  return static_cast<size_t>(
      std::count_if(links_.begin(), links_.end(), [&](const auto& l) { return l->state() == state; }));
}

void LinkAcceptor::onLinkUp(LinkConnection& link) {
  if (countInState(LinkConnection::State::kOpen) > config_.max_links) {
    logRefusal("link.refused", link.peerAddress(), "max_links reached");
    end_logged_.insert(&link);
    link.close(GoodbyeReason::kShutdown, "too many links");
    return;
  }
  end_logged_.insert(&link);  // the link's own link.closed line tells its end
  handler_.onLinkUp(link);
}

void LinkAcceptor::onLinkFrame(LinkConnection& link, const Frame& frame) { handler_.onLinkFrame(link, frame); }

void LinkAcceptor::onLinkRtt(LinkConnection& link, uint64_t rtt_us) { handler_.onLinkRtt(link, rtt_us); }

void LinkAcceptor::onLinkClosed(LinkConnection& link, std::string_view reason) {
  // A handshake that failed or timed out: logged here, rate-limited, rather than by the link.
  bool logged = end_logged_.erase(&link) > 0;
  if (!logged && !stopping_) logRefusal("link.refused", link.peerAddress(), reason);
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
