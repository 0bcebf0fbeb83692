// Tests of the admin HTTP server over real loopback sockets, with the loop on its own thread.
#include "lbmail/admin/admin_server.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "loop_thread.h"
#include "pipelined_flood.h"
#include "tcp_client.h"
#include "validate.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;
using test::TcpClient;

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.listen = *SocketAddress::parse("127.0.0.1:0");
    config_.max_header_bytes = 1024;
    config_.max_body_bytes = 64;
  }

  void startServer() {
    loop_.call([this] {
      server_ = std::make_unique<AdminServer>(
          loop_.loop(), config_, metrics_, [](JsonWriter& w) { w.field("mode", "test"); }, [this] { return healthy_; });
      start_rc_ = server_->start();
      addr_ = server_->boundAddress();
    });
    ASSERT_EQ(start_rc_, 0);
    ASSERT_NE(addr_.port(), 0);
  }

  void TearDown() override {
    if (server_) {
      bool done = false;
      loop_.call([&] { server_->close([&] { done = true; }); });
      EXPECT_EQ(loop_.stop(), 0) << "a handle was left open";
      EXPECT_TRUE(done);
      server_.reset();
    }
  }

  uint64_t responses(const std::string& code) {
    return metrics_.counter("lbmail_admin_responses_total", "", {{"code", code}}).value();
  }

  AdminConfig config_;
  MetricsRegistry metrics_;
  test::LoopThread loop_;
  std::unique_ptr<AdminServer> server_;
  bool healthy_ = true;
  int start_rc_ = -1;
  SocketAddress addr_;
};

TEST_F(AdminServerTest, HealthzAnswersOk) {
  startServer();
  auto r = test::httpGet(addr_, "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");
}

TEST_F(AdminServerTest, HealthzSaysDrainingWhenUnhealthy) {
  healthy_ = false;
  startServer();
  auto r = test::httpGet(addr_, "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "draining\n");
}

TEST_F(AdminServerTest, MetricsArePrometheusTextThatTheReferenceParserAccepts) {
  startServer();
  ASSERT_TRUE(test::httpGet(addr_, "/nope"));  // so a labelled counter series exists
  auto r = test::httpGet(addr_, "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("# TYPE lbmail_admin_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(r->body.find("lbmail_admin_responses_total{code=\"404\"} 1\n"), std::string::npos) << r->body;
  test::Validation v = test::validateDocument("prometheus", r->body);
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_NE(v.summary.find("histogram"), std::string::npos) << v.summary;
}

TEST_F(AdminServerTest, StatusIsJson) {
  startServer();
  auto r = test::httpGet(addr_, "/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-type"], "application/json");
  test::Validation v = test::validateDocument("json", r->body);
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_EQ(v.summary, "json keys=admin,mode,uptime_seconds\n");
  EXPECT_NE(r->body.find("\"listen\":\"" + addr_.toString() + "\""), std::string::npos) << r->body;
}

TEST_F(AdminServerTest, UnknownPathIs404AndOtherMethodsAre405) {
  startServer();
  TcpClient c(addr_);
  ASSERT_TRUE(c.send("GET /missing HTTP/1.1\r\n\r\nDELETE /metrics HTTP/1.1\r\n\r\n"));
  auto a = c.readResponse();
  auto b = c.readResponse();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, 404);
  EXPECT_EQ(b->status, 405);
  EXPECT_EQ(b->headers["allow"], "GET, HEAD");
}

TEST_F(AdminServerTest, HeadAnswersWithoutABody) {
  startServer();
  TcpClient c(addr_);
  ASSERT_TRUE(c.send("HEAD /healthz HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n"));
  auto head = c.readResponse(/*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->headers["content-length"], "3");
  auto get = c.readResponse();  // would be garbled had HEAD sent a body
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, "ok\n");
}

TEST_F(AdminServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  startServer();
  TcpClient c(addr_);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = c.readResponse();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->headers.count("connection"), 0u);
  }
  EXPECT_EQ(metrics_.counter("lbmail_admin_connections_accepted_total", "").value(), 1u);
}

TEST_F(AdminServerTest, PipelinedRequestsAreAnsweredInOrder) {
  startServer();
  TcpClient c(addr_);
  std::string batch;
  std::vector<std::pair<std::string, int>> expected;
  for (int i = 0; i < 50; ++i) {
    const char* path = i % 3 == 0 ? "/healthz" : i % 3 == 1 ? "/x" : "/status";
    batch += std::string("GET ") + path + " HTTP/1.1\r\n\r\n";
    expected.emplace_back(path, i % 3 == 1 ? 404 : 200);
  }
  ASSERT_TRUE(c.send(batch));
  for (size_t i = 0; i < expected.size(); ++i) {
    auto r = c.readResponse();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, expected[i].second) << i;
    if (expected[i].first == "/status") {
      EXPECT_EQ(r->body.front(), '{');
    }
  }
}

TEST_F(AdminServerTest, ConnectionCloseIsHonouredEvenWithBytesPipelinedAfterIt) {
  startServer();
  TcpClient c(addr_);
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n"));
  auto r = c.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers["connection"], "close");
  EXPECT_EQ(c.readUntilClosed(), "");  // the second request is not answered
}

TEST_F(AdminServerTest, OversizeHeadersGet431AndClose) {
  startServer();
  TcpClient c(addr_);
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n"));
  auto r = c.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(r->headers["connection"], "close");
  EXPECT_TRUE(c.peerClosed());
  EXPECT_EQ(responses("431"), 1u);
}

TEST_F(AdminServerTest, OversizeBodyGets413) {
  startServer();
  TcpClient c(addr_);
  ASSERT_TRUE(c.send("POST /healthz HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'b')));
  auto r = c.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.peerClosed());
}

TEST_F(AdminServerTest, GarbageGets400AndClose) {
  startServer();
  TcpClient c(addr_);
  ASSERT_TRUE(c.send(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n", 22)));
  auto r = c.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.peerClosed());
  // The server still serves others.
  auto ok = test::httpGet(addr_, "/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(AdminServerTest, JunkFloodGetsExactlyOne400) {
  startServer();
  TcpClient c(addr_);
  ASSERT_TRUE(c.send(std::string(200 * 1024, '\x01')));
  std::string all = c.readUntilClosed();
  EXPECT_EQ(all.rfind("HTTP/1.1 400 ", 0), 0u) << all.substr(0, 40);
  EXPECT_EQ(all.find("HTTP/1.1", 1), std::string::npos) << "a second answer followed the 400";
  EXPECT_EQ(responses("400"), 1u);
}

TEST_F(AdminServerTest, ClientThatHalfClosesGetsTheWholeAnswer) {
  const size_t kBig = 4 * 1024 * 1024;
  startServer();
  loop_.call([&] {
    server_->router().add("/big", [&](const HttpRequest&, AdminResponse& r) { r.body.assign(kBig, 'x'); });
  });
  TcpClient c(addr_);
  ASSERT_TRUE(c.send("GET /big HTTP/1.1\r\n\r\n"));
  c.shutdownWrite();
  auto r = c.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), kBig);
}

TEST_F(AdminServerTest, PipelinedFloodFromAClientThatDoesNotReadIsPausedThenServedInOrder) {
  startServer();
  loop_.call([&] {
    server_->router().add("/big", [&](const HttpRequest& req, AdminResponse& r) {
      r.body.assign(test::kFloodAnswerBytes, req.query.empty() ? 'x' : req.query[0]);
    });
  });
  TcpClient c(addr_);
  test::expectFloodServedInOrder(c, 200);  // 50 MiB of answers if nothing held the server back
  EXPECT_GE(metrics_.counter("lbmail_admin_parse_pauses_total", "").value(), 1u);
}

TEST_F(AdminServerTest, StalledHalfRequestGets408AndClose) {
  config_.request_timeout = 100ms;
  startServer();
  TcpClient c(addr_);
  ASSERT_TRUE(c.send("GET /heal"));
  auto r = c.readResponse();  // arrives when the server's deadline fires
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c.peerClosed());
  EXPECT_EQ(responses("408"), 1u);
}

TEST_F(AdminServerTest, IdleKeepAliveConnectionIsClosedSilently) {
  config_.idle_timeout = 100ms;
  startServer();
  TcpClient c(addr_);
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c.readResponse());
  EXPECT_EQ(c.readUntilClosed(), "");
}

TEST_F(AdminServerTest, ManyConcurrentClientsAreAllServed) {
  startServer();
  std::vector<std::unique_ptr<TcpClient>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(std::make_unique<TcpClient>(addr_));
    ASSERT_TRUE(clients.back()->connected());
    ASSERT_TRUE(clients.back()->send("GET /healthz HTTP/1.1\r\n\r\n"));
  }
  for (auto& c : clients) {
    auto r = c->readResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  size_t open = 0;
  loop_.call([&] { open = server_->connectionCount(); });
  EXPECT_EQ(open, 100u);
}

TEST_F(AdminServerTest, ConnectionsBeyondTheLimitAreClosedWhenNoneIsIdle) {
  config_.max_connections = 2;
  startServer();
  TcpClient a(addr_), b(addr_);
  // Both mid-request: neither may be evicted.
  ASSERT_TRUE(a.send("GET /healthz HTTP/1.1\r\n") && b.send("GET /healthz HTTP/1.1\r\n"));
  size_t busy = 0;  // wait until the loop has read both partial requests
  while (busy < 2) loop_.call([&] { busy = server_->connectionCount() - server_->idleConnectionCount(); });
  TcpClient extra(addr_);
  EXPECT_TRUE(extra.peerClosed());
  EXPECT_EQ(metrics_.counter("lbmail_admin_connections_refused_total", "").value(), 1u);
  a.send("\r\n");
  auto r = a.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(AdminServerTest, SilentConnectionsCannotLockOutAHealthCheck) {
  config_.max_connections = 4;
  startServer();
  std::vector<std::unique_ptr<TcpClient>> silent;
  for (int i = 0; i < 4; ++i) silent.push_back(std::make_unique<TcpClient>(addr_));
  size_t open = 0;
  while (open < 4) loop_.call([&] { open = server_->connectionCount(); });
  for (int i = 0; i < 3; ++i) {
    auto r = test::httpGet(addr_, "/healthz");
    ASSERT_TRUE(r) << "locked out on try " << i;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_TRUE(silent[0]->peerClosed());  // the oldest made room first
  EXPECT_GE(metrics_.counter("lbmail_admin_connections_evicted_total", "").value(), 1u);
  EXPECT_EQ(metrics_.counter("lbmail_admin_connections_refused_total", "").value(), 0u);
}

TEST_F(AdminServerTest, ASilentNewConnectionIsClosedAfterTheRequestTimeout) {
  config_.request_timeout = 100ms;  // idle_timeout stays at a minute
  startServer();
  TcpClient silent(addr_);
  EXPECT_EQ(silent.readUntilClosed(), "");
  EXPECT_TRUE(silent.peerClosed());
}

TEST_F(AdminServerTest, CloseWithClientsConnectedReleasesEverything) {
  startServer();
  TcpClient idle(addr_);
  TcpClient half(addr_);
  ASSERT_TRUE(half.send("GET /hea"));
  ASSERT_TRUE(test::httpGet(addr_, "/healthz"));
  // TearDown closes the server with both still connected and checks uv_loop_close() == 0.
}

TEST_F(AdminServerTest, EveryCloseCallerIsToldWhenClosed) {
  startServer();
  TcpClient idle(addr_);
  ASSERT_TRUE(idle.send("GET /healthz HTTP/1.1\r\n\r\n") && idle.readResponse());
  int told = 0;
  loop_.call([&] {
    server_->close([&] { ++told; });
    server_->close([&] { ++told; });  // e.g. a signal arriving while the mode stops itself
  });
  loop_.call([&] { EXPECT_EQ(told, 2); });  // close callbacks ran by the next loop turn
}

TEST_F(AdminServerTest, BindFailureIsReported) {
  startServer();
  AdminConfig taken = config_;
  taken.listen = addr_;
  std::unique_ptr<AdminServer> second;
  int rc = 0;
  bool closed = false;
  loop_.call([&] {
    second = std::make_unique<AdminServer>(loop_.loop(), taken, metrics_, [](JsonWriter&) {}, [] { return true; });
    rc = second->start();
    second->close([&] { closed = true; });
  });
  EXPECT_EQ(rc, UV_EADDRINUSE);
  // Close callbacks run at the end of the loop iteration that closed the handle.
  loop_.call([&] {
    EXPECT_TRUE(closed);
    second.reset();
  });
}

}  // namespace
}  // namespace lbmail
