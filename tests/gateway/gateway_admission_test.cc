// Handshake admission on a real gateway process: a storm of silent sockets from one address,
// each reopened as the gateway closes it, does not keep a real initiator from that address out,
// and the gateway's refusal lines about that address stay bounded by the log interval.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <vector>

#include "events.h"
#include "gateway_process.h"
#include "lbmail/proto/gateway_link.h"
#include "loop_thread.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

// Sockets that connect and never say a word, each opened again as soon as the gateway closes
// it: the attacker that kept every initiator out of a gateway that refused newcomers.
class SilentStorm {
 public:
  SilentStorm(const SocketAddress& gateway) : gateway_(gateway) {}
  ~SilentStorm() {
    for (int fd : fds_) ::close(fd);
  }

  // One more socket while fewer than `most`, then until `until` reopens every socket the
  // gateway closes.
  void addOneAndHoldUntil(size_t most, std::chrono::steady_clock::time_point until) {
    if (fds_.size() < most) fds_.push_back(open());
    std::vector<pollfd> polled;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      polled.clear();
      for (int fd : fds_) polled.push_back(pollfd{fd, POLLIN, 0});
      if (::poll(polled.data(), polled.size(), static_cast<int>(left.count())) <= 0) continue;
      // A silent socket is never written to: readable means the gateway closed it.
      for (size_t i = 0; i < polled.size(); ++i) {
        if (polled[i].revents == 0) continue;
        ::close(fds_[i]);
        fds_[i] = open();
        ++reopened_;
      }
    }
  }

  size_t opened() const { return fds_.size(); }
  size_t reopened() const { return reopened_; }

 private:
  int open() {
    int fd = ::socket(gateway_.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::connect(fd, gateway_.sockaddrPtr(), gateway_.length()), 0);
    return fd;
  }

  SocketAddress gateway_;
  std::vector<int> fds_;
  size_t reopened_ = 0;
};

class UpWatcher : public proto::GatewayLink::Handler {
 public:
  explicit UpWatcher(test::Events& events) : events_(events) {}
  void onGatewayUp(proto::GatewayLink&) override { events_.update([&] { ++ups; }); }
  void onGatewayFrame(proto::GatewayLink&, const proto::Frame&) override {}
  void onGatewayDown(proto::GatewayLink&, std::string_view reason) override {
    events_.update([&] {
      ++downs;
      last_down = std::string(reason);
    });
  }

  test::Events& events_;
  int ups = 0;
  int downs = 0;
  std::string last_down;
};

// The lines about host in a gateway's log; only link.refused and link.evicted ones if asked.
std::vector<std::string> linesAbout(const std::string& log, const std::string& host, bool refusals_only) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    bool refusal = line.find("event=link.refused") != std::string::npos || line.find("event=link.evicted") != std::string::npos;
    if ((refusal || !refusals_only) && line.find("peer=" + host + ":") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

// The test: 48 silent sockets over 12 s from one address (4 a second, each reopened as
// it is closed), against the defaults (8 handshakes per address, 64 in all, 5 s each). A
// gateway that refuses newcomers when full keeps the initiator out for as long as it lasts.
TEST(GatewayAdmission, SilentSocketsFromOneAddressDoNotKeepAnInitiatorFromItOut) {
  auto began = std::chrono::steady_clock::now();
  test::GatewayProcess gateway{test::GatewayOptions{}};
  ASSERT_TRUE(gateway.start()) << gateway.err();
  auto key = proto::PreSharedKey::loadFile(gateway.keyFile());
  ASSERT_TRUE(key);
  auto security = proto::LinkSecurity::fromKey(proto::Role::kInitiator, *key, gateway.name());

  test::Events events;
  UpWatcher watcher(events);
  test::LoopThread loop;
  proto::GatewayLinkConfig config;
  config.gateway = gateway.link();  // 127.0.0.1, as the storm
  config.link.node_name = "initiator-under-storm";
  config.reconnect_min = 20ms;
  config.reconnect_max = 200ms;
  proto::GatewayLink link(loop.loop(), config, *security, watcher);

  SilentStorm storm(gateway.link());
  bool up = false;
  // A socket more every 250 ms: 48 in 12 s. On until the initiator is up, within a bound.
  auto next = std::chrono::steady_clock::now();
  for (int tick = 0; tick < 240 && (tick < 48 || !up); ++tick) {
    if (tick == 8) loop.call([&] { link.start(); });  // the address has its share of silent sockets
    next += 250ms;
    storm.addOneAndHoldUntil(48, next);
    events.locked([&] { up = watcher.ups > 0; });
  }
  EXPECT_TRUE(up) << "the initiator never came up while the storm went on";
  EXPECT_GT(storm.reopened(), 0u) << "the storm never filled the address's share";
  events.locked([&] { EXPECT_EQ(watcher.downs, 0) << watcher.last_down; });  // once up, a storm does not take it down

  loop.call([&] { link.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
  EXPECT_EQ(gateway.stop(), 0);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  // At most one line per 10 s (the [log] repeat_interval) about the address, however many
  // sockets it opened; each after the first says how many it stands for.
  std::vector<std::string> lines = linesAbout(gateway.err(), "127.0.0.1", true);
  ASSERT_GE(lines.size(), 1u) << gateway.err();
  EXPECT_LE(lines.size(), 1 + static_cast<size_t>(seconds / 10)) << gateway.err();
  EXPECT_LT(lines.size(), storm.opened() + storm.reopened());
  for (size_t i = 1; i < lines.size(); ++i) EXPECT_NE(lines[i].find(" repeated="), std::string::npos) << lines[i];
  // Nor does any other line come per connection: besides those, only the initiator's link.up
  // and link.closed.
  EXPECT_LE(linesAbout(gateway.err(), "127.0.0.1", false).size(), lines.size() + 2) << gateway.err();
}

}  // namespace
}  // namespace lbmail
