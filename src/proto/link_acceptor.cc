// Accepting and owning initiator links on a gateway.
#include "lbmail/proto/link_acceptor.h"

#include <algorithm>
#include <cassert>

#include "lbmail/core/log.h"

namespace lbmail::proto {

LinkAcceptor::LinkAcceptor(uv_loop_t* loop, LinkAcceptorConfig config, const PreSharedKey& key, Handler& handler)
    : loop_(loop), config_(std::move(config)), key_(key), handler_(handler) {}

LinkAcceptor::~LinkAcceptor() { assert(!listener_open_ && links_.empty() && "stop() and run the loop first"); }

int LinkAcceptor::start() {
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  listener_open_ = true;
  int rc = uv_tcp_bind(&listener_, config_.listen.sockaddrPtr(), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128, onConnection);
  if (rc != 0) {
    logError("link.listen_failed", {{"addr", config_.listen.toString()}, {"error", uv_strerror(rc)}});
    return rc;
  }
  listening_ = true;
  logInfo("link.listening", {{"addr", boundAddress().toString()}});
  return 0;
}

SocketAddress LinkAcceptor::boundAddress() const {
  if (!listening_) return config_.listen;
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&ss), &len);
  return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
}

void LinkAcceptor::onConnection(uv_stream_t* listener, int status) {
  auto* self = static_cast<LinkAcceptor*>(listener->data);
  if (status < 0 || self->stopping_) return;
  LinkConnection::Handler& as_handler = *self;  // a private base: convert here, not in make_unique
  self->links_.push_back(
      std::make_unique<LinkConnection>(self->loop_, Role::kGateway, self->config_.link, self->key_, as_handler));
  LinkConnection& link = *self->links_.back();
  if (!link.accept(listener, self->config_.allowed_initiators)) return;  // closing itself
  if (self->links_.size() > self->config_.max_links) {
    logWarn("link.refused", {{"peer", link.peerAddress().toString()}, {"reason", "max_links reached"}});
    link.abort("too many links");
  }
}

void LinkAcceptor::onLinkUp(LinkConnection& link) { handler_.onLinkUp(link); }

void LinkAcceptor::onLinkFrame(LinkConnection& link, const Frame& frame) { handler_.onLinkFrame(link, frame); }

void LinkAcceptor::onLinkClosed(LinkConnection& link, std::string_view reason) {
  handler_.onLinkClosed(link, reason);
  auto it = std::find_if(links_.begin(), links_.end(), [&](const auto& l) { return l.get() == &link; });
  if (it != links_.end()) links_.erase(it);  // deletes the link: nothing touches it after this
  maybeFinishStop();
}

void LinkAcceptor::stopAccepting() { closeListener(); }

void LinkAcceptor::closeListener() {
  if (!listener_open_ || listener_closing_) return;
  listener_closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), onListenerClosed);
}

void LinkAcceptor::onListenerClosed(uv_handle_t* handle) {
  auto* self = static_cast<LinkAcceptor*>(handle->data);
  self->listener_open_ = false;
  self->listening_ = false;
  self->maybeFinishStop();
}

void LinkAcceptor::stop(GoodbyeReason reason, std::string_view text, std::function<void()> done) {
  stop_done_ = std::move(done);
  if (!stopping_) {
    stopping_ = true;
    closeListener();
    for (auto& link : links_) link->close(reason, text);
  }
  maybeFinishStop();
}

void LinkAcceptor::maybeFinishStop() {
  if (!stopping_ || listener_open_ || !links_.empty() || !stop_done_) return;
  auto done = std::move(stop_done_);
  stop_done_ = nullptr;
  done();
}

}  // namespace lbmail::proto
