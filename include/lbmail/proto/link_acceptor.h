// The gateway's side of the links: listens, authenticates initiators, owns their connections.
#pragma once

#include <uv.h>

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "lbmail/core/done_callbacks.h"
#include "lbmail/core/tcp_listener.h"
#include "lbmail/proto/link_connection.h"

namespace lbmail::proto {

struct LinkAcceptorConfig {
  SocketAddress listen;
  LinkSettings link;
  // Initiator IP addresses allowed to connect; empty allows any (the key still decides).
  std::vector<std::string> allowed_initiators;
  uint32_t max_links = 64;  // authenticated links at once
  // Connections still in their handshake (link.auth_timeout bounds each), in all and from one
  // address. A new connection beyond either is admitted all the same, in place of the oldest
  // silent handshake: see LinkAcceptor::makeRoom.
  uint32_t max_handshakes = 64;
  uint32_t max_handshakes_per_address = 8;
};

class LinkAcceptor final : private LinkConnection::Handler {
 public:
  // The gateway's view of its links: up (authenticated), frames, closed (the link is deleted
  // when onLinkClosed returns).
  using Handler = LinkConnection::Handler;

  LinkAcceptor(uv_loop_t* loop, LinkAcceptorConfig config, const LinkSecurity& security, Handler& handler);
  LinkAcceptor(const LinkAcceptor&) = delete;
  LinkAcceptor& operator=(const LinkAcceptor&) = delete;
  ~LinkAcceptor();

  // Binds and listens; 0 or a libuv error code.
  int start();
  SocketAddress boundAddress() const;
  // Stops accepting; open links get GOODBYE with reason. done runs when all handles are closed.
  void stop(GoodbyeReason reason, std::string_view text, std::function<void()> done);
  // Stops accepting, leaving open links to finish (graceful drain); stop() later.
  void stopAccepting();

  size_t linkCount() const { return links_.size(); }
  // Visits the open (authenticated) links only.
  template <typename Fn>
  void forEachLink(Fn&& fn) {
    for (auto& l : links_) {
      if (l->state() == LinkConnection::State::kOpen) fn(*l);
    }
  }

 private:
  void onLinkUp(LinkConnection& link) override;
  void onLinkFrame(LinkConnection& link, const Frame& frame) override;
  void onLinkClosed(LinkConnection& link, std::string_view reason) override;
  void onLinkRtt(LinkConnection& link, uint64_t rtt_us) override;

  void onConnection(uv_stream_t* listener);
  bool allowed(const std::string& host) const;
  void makeRoom(const std::string& host);
  LinkConnection* handshakeToEvict(const std::string* host, uint32_t cap) const;
  std::string busiestHandshakeHost() const;
  void evict(LinkConnection& link, std::string_view why);
  void logRefusal(std::string_view event, const SocketAddress& peer, std::string_view reason);
  size_t countInState(LinkConnection::State state) const;
  void maybeFinishStop();

  uv_loop_t* loop_;
  LinkAcceptorConfig config_;
  const LinkSecurity& security_;
  Handler& handler_;
  TcpListener listener_;
  bool stopping_ = false;
  DoneCallbacks stop_done_;
  std::list<std::unique_ptr<LinkConnection>> links_;
  // Links whose end needs no link.refused line: those that came up, and those the acceptor
  // ended itself (it logged why).
  std::unordered_set<const LinkConnection*> end_logged_;
};

}  // namespace lbmail::proto
