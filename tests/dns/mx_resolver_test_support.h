// What the MX resolver tests share: dnsmasq's records, a clock the test moves by hand, a resolver
// on its own loop thread and the fixture that starts dnsmasq.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "lbmail/dns/mx_resolver.h"
#include "dnsmasq_server.h"
#include "events.h"
#include "loop_thread.h"

namespace lbmail::dns {

using lbmail::test::Events;
using lbmail::test::LoopThread;
using lbmail::test::DnsmasqServer;

inline constexpr uint16_t kSmtpPort = 2525;

inline const std::vector<std::string> kRecords = {
    "--mx-host=example.test,mx1.example.test,10",
    "--mx-host=example.test,mx2.example.test,20",
    "--mx-host=example.test,mx3.example.test,20",
    "--host-record=mx1.example.test,127.0.0.2",
    "--host-record=mx2.example.test,127.0.0.3,::1",
    "--host-record=mx3.example.test,127.0.0.4",
    "--host-record=implicit.test,127.0.0.5",
    "--mx-host=nullmx.test,.,0",
    "--txt-record=nodata.test,no mail here",
    "--cname=alias.test,example.test",
    "--cname=alias2.test,mx1.example.test",
    "--mx-host=coalesce.test,mx1.example.test,10",
    "--mx-host=deadhosts.test,nowhere.test,10",
    "--mx-host=partial.test,nowhere.test,5",
    "--mx-host=partial.test,mx1.example.test,10",
};

// A steady clock the test moves by hand; read on the loop thread.
using TimePoint = std::chrono::steady_clock::time_point;

class ManualClock {
 public:
  TimePoint now() const { return base_ + Duration(offset_.load()); }
  void advance(Duration d) { offset_ += d.count(); }

 private:
  TimePoint base_ = std::chrono::steady_clock::now();
  std::atomic<int64_t> offset_{0};
};

// An MxResolver on a loop thread; every call crosses to the loop and waits for what it asked.
class ResolverOnLoop {
 public:
  explicit ResolverOnLoop(ResolverConfig config) {
    config.smtp_port = kSmtpPort;
    loop_.call([&] {
      resolver_ = std::make_unique<MxResolver>(loop_.loop(), config, [this] { return clock_.now(); });
      start_error_ = resolver_->start();
    });
  }
  ~ResolverOnLoop() {
    if (!stopped_) close();
  }

  const std::string& startError() const { return start_error_; }
  ManualClock& clock() { return clock_; }
  LoopThread& loop() { return loop_; }
  MxResolver& resolver() { return *resolver_; }  // on the loop thread only

  // Starts every lookup in one turn of the loop and waits for all their answers.
  std::vector<MxAnswer> resolveAll(const std::vector<std::string>& domains) {
    auto answers = std::make_shared<std::vector<MxAnswer>>();
    loop_.call([&] {
      for (const std::string& d : domains) {
        resolver_->resolve(d, [this, answers](const MxAnswer& a) { events_.update([&] { answers->push_back(a); }); });
      }
    });
    bool all = events_.waitFor([&] { return answers->size() == domains.size(); });
    std::vector<MxAnswer> out;
    events_.locked([&] { out = *answers; });
    EXPECT_TRUE(all) << "answers missing: " << out.size() << " of " << domains.size();
    return out;
  }
  MxAnswer resolve(const std::string& domain) {
    std::vector<MxAnswer> a = resolveAll({domain});
    return a.empty() ? MxAnswer{} : a[0];
  }

  TxtAnswer lookupTxt(const std::string& name) {
    return awaitAnswer<TxtAnswer>([&](auto done) { resolver_->lookupTxt(name, done); });
  }
  TlsaAnswer lookupTlsa(const std::string& name) {
    return awaitAnswer<TlsaAnswer>([&](auto done) { resolver_->lookupTlsa(name, done); });
  }
  AddressAnswer lookupAddresses(const std::string& host) {
    return awaitAnswer<AddressAnswer>([&](auto done) { resolver_->lookupAddresses(host, done); });
  }

  ResolverStats stats() {
    ResolverStats s;
    loop_.call([&] { s = resolver_->stats(); });
    return s;
  }

  // Closes the resolver, destroys it in its close callback as the engine may, and returns
  // what stopping the loop says: 0 when no handle was left open.
  int close() {
    bool closed = false;
    loop_.call([&] {
      resolver_->close([&] {
        resolver_.reset();
        events_.update([&] { closed = true; });
      });
    });
    EXPECT_TRUE(events_.waitFor([&] { return closed; }));
    return stopLoop();
  }
  // For a test that closed the resolver itself; it is destroyed with this object.
  int stopLoop() {
    stopped_ = true;
    return loop_.stop();
  }

 private:
  // Starts one lookup on the loop with `start(done)` and waits for its answer.
  template <typename Answer, typename Start>
  Answer awaitAnswer(Start start) {
    auto answer = std::make_shared<Answer>();
    auto calls = std::make_shared<int>(0);
    loop_.call([&] {
      start(std::function<void(const Answer&)>([this, answer, calls](const Answer& a) {
        events_.update([&] {
          *answer = a;
          ++*calls;
        });
      }));
    });
    EXPECT_TRUE(events_.waitFor([&] { return *calls > 0; })) << "no answer";
    Answer out;
    events_.locked([&] {
      out = *answer;
      EXPECT_EQ(*calls, 1);
    });
    return out;
  }

  ManualClock clock_;
  LoopThread loop_;
  Events events_;
  std::unique_ptr<MxResolver> resolver_;
  std::string start_error_;
  bool stopped_ = false;
};

inline std::vector<std::string> addressesOf(const MxTarget& t) {
  std::vector<std::string> out;
  for (const SocketAddress& a : t.addresses) out.push_back(a.toString());
  return out;
}

class MxResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error = dns_.start();
    ASSERT_EQ(error, "");
    config_.servers = {dns_.address()};
    config_.query_timeout = std::chrono::seconds(2);
  }

  DnsmasqServer dns_{kRecords};
  ResolverConfig config_;
};

}  // namespace lbmail::dns
