// The admin server carrying another endpoint: without its built-in routes, with metric names
// of its own beside a default server in one registry, and over HTTPS (curl, and a raw OpenSSL
// client for the deadlines and a client that does not read).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "child_process.h"
#include "lbmail/admin/admin_server.h"
#include "loop_thread.h"
#include "pipelined_flood.h"
#include "tcp_client.h"
#include "test_pki.h"
#include "tls_test_client.h"
#include "validate.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

std::string curlPath() {
  const char* env = std::getenv("LBMAIL_CURL");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/curl";
}

class AdminServerOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override { config_.listen = *SocketAddress::parse("127.0.0.1:0"); }

  // A server with options; its address, or port 0 when start failed (rc in start_rc_).
  SocketAddress start(std::unique_ptr<AdminServer>& server, const AdminServer::Options& options) {
    SocketAddress addr;
    loop_.call([&] {
      server = std::make_unique<AdminServer>(
          loop_.loop(), config_, metrics_, [](JsonWriter& w) { w.field("mode", "test"); }, [] { return true; },
          options);
      server->router().addPost("/echo", [](const HttpRequest& q, AdminResponse& r) {
        r.body = std::string(q.content_type) + "|" + std::string(q.body);
      });
      server->router().add("/big", [](const HttpRequest& q, AdminResponse& r) {
        r.body.assign(test::kFloodAnswerBytes, q.query.empty() ? 'x' : q.query[0]);
      });
      start_rc_ = server->start();
      if (start_rc_ == 0) addr = server->boundAddress();
    });
    return addr;
  }

  AdminServer::Options httpsOptions() {
    EXPECT_TRUE(pki_.ok()) << pki_.error();
    test::TestCertificate leaf = pki_.leaf("server", {"127.0.0.1"});
    AdminServer::Options o;
    o.tls_cert_file = leaf.cert;
    o.tls_key_file = leaf.key;
    return o;
  }

  void closeAll() {
    int pending = 0;
    loop_.call([&] {
      for (auto* s : {&a_, &b_}) {
        if (*s) {
          ++pending;
          (*s)->close([&] { --pending; });
        }
      }
    });
    EXPECT_EQ(loop_.stop(), 0) << "a handle was left open";
    EXPECT_EQ(pending, 0);
    a_.reset();
    b_.reset();
  }

  void TearDown() override { closeAll(); }

  size_t connections(AdminServer& s) {
    size_t n = 0;
    loop_.call([&] { n = s.connectionCount(); });
    return n;
  }

  AdminConfig config_;
  MetricsRegistry metrics_;
  test::LoopThread loop_;
  test::TestPki pki_;
  std::unique_ptr<AdminServer> a_, b_;
  int start_rc_ = -1;
};

TEST_F(AdminServerOptionsTest, TwoServersInOneRegistryCountApartAndTheSecondHasNoBuiltInRoutes) {
  SocketAddress admin = start(a_, {});
  AdminServer::Options other;
  other.builtin_routes = false;
  other.metric_prefix = "lbmail_test_other";
  other.metric_noun = "Other HTTP";
  SocketAddress second = start(b_, other);
  ASSERT_NE(second.port(), 0);

  auto missing = test::httpGet(second, "/healthz");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(metrics_.counter("lbmail_test_other_responses_total", "", {{"code", "404"}}).value(), 1u);
  EXPECT_EQ(metrics_.counter("lbmail_admin_responses_total", "", {{"code", "404"}}).value(), 0u);
  EXPECT_EQ(metrics_.counter("lbmail_test_other_connections_accepted_total", "").value(), 1u);

  auto page = test::httpGet(admin, "/metrics");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("# TYPE lbmail_test_other_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(page->body.find("# HELP lbmail_test_other_connections Other HTTP connections open now.\n"),
            std::string::npos);
  EXPECT_NE(page->body.find("lbmail_admin_connections_accepted_total 1\n"), std::string::npos) << page->body;
  test::Validation v = test::validateDocument("prometheus", page->body);
  EXPECT_TRUE(v.ok) << v.summary;
}

TEST_F(AdminServerOptionsTest, PostBodiesReachTheirHandlerOverPlainHttp) {
  SocketAddress addr = start(a_, {});
  test::TcpClient c(addr);
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nContent-Type: text/x-a\r\nContent-Length: 3\r\n\r\nabc"
                     "GET /echo HTTP/1.1\r\n\r\n"));
  auto post = c.readResponse();
  auto get = c.readResponse();
  ASSERT_TRUE(post && get);
  EXPECT_EQ(post->body, "text/x-a|abc");
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->headers["allow"], "POST");
}

TEST_F(AdminServerOptionsTest, CurlGetsAndPostsOverHttpsVerifyingTheCertificate) {
  SocketAddress addr = start(a_, httpsOptions());
  ASSERT_NE(addr.port(), 0);
  loop_.call([&] { EXPECT_TRUE(a_->tls()); });
  std::string base = "https://127.0.0.1:" + std::to_string(addr.port());
  test::ChildProcess get({curlPath(), "-sS", "--cacert", pki_.caFile(), base + "/healthz"});
  EXPECT_EQ(test::exitCode(get.wait()), 0) << get.err();
  EXPECT_EQ(get.out(), "ok\n");
  test::ChildProcess post({curlPath(), "-sS", "--cacert", pki_.caFile(), "-d", "k=v", base + "/echo"});
  EXPECT_EQ(test::exitCode(post.wait()), 0) << post.err();
  EXPECT_EQ(post.out(), "application/x-www-form-urlencoded|k=v");
  // Without the CA, curl refuses the server: the certificate is the test's, not a default.
  test::ChildProcess untrusted({curlPath(), "-sS", base + "/healthz"});
  EXPECT_NE(test::exitCode(untrusted.wait()), 0);
}

TEST_F(AdminServerOptionsTest, PlainHttpToAnHttpsServerGetsNoAnswer) {
  SocketAddress addr = start(a_, httpsOptions());
  test::TcpClient c(addr);
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\n\r\n"));
  std::string got = c.readUntilClosed();
  EXPECT_EQ(got.find("HTTP/1.1"), std::string::npos) << got;
  EXPECT_TRUE(c.peerClosed());
}

TEST_F(AdminServerOptionsTest, AnUnusableCertificateFailsTheStart) {
  AdminServer::Options missing;
  missing.tls_cert_file = pki_.dir() + "/none.pem";
  missing.tls_key_file = pki_.dir() + "/none.key";
  EXPECT_EQ(start(a_, missing).port(), 0);
  EXPECT_EQ(start_rc_, UV_EINVAL);
  loop_.call([&] { EXPECT_NE(a_->startError().find("none.pem"), std::string::npos) << a_->startError(); });
  AdminServer::Options half = httpsOptions();
  half.tls_key_file.clear();
  EXPECT_EQ(start(b_, half).port(), 0);
  EXPECT_EQ(start_rc_, UV_EINVAL);
}

TEST_F(AdminServerOptionsTest, OverHttpsASilentClientTimesOutAndAStalledRequestGets408) {
  config_.request_timeout = 100ms;
  SocketAddress addr = start(a_, httpsOptions());
  test::TlsTestClient silent(addr, pki_.caFile(), "127.0.0.1");
  ASSERT_TRUE(silent.ok()) << silent.error();
  EXPECT_TRUE(silent.readUntilClosed());
  test::TlsTestClient stalled(addr, pki_.caFile(), "127.0.0.1");
  ASSERT_TRUE(stalled.send("GET /heal"));
  auto r = stalled.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(stalled.readUntilClosed());
}

TEST_F(AdminServerOptionsTest, OverHttpsAFloodFromAClientThatDoesNotReadIsPausedThenServedInOrder) {
  SocketAddress addr = start(a_, httpsOptions());
  test::TlsTestClient c(addr, pki_.caFile(), "127.0.0.1");
  ASSERT_TRUE(c.ok()) << c.error();
  test::expectFloodServedInOrder(c, 100);  // 25 MiB of answers if nothing held the server back
  EXPECT_GE(metrics_.counter("lbmail_admin_parse_pauses_total", "").value(), 1u);
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\n\r\n"));  // and the connection still serves
  auto after = c.readResponse();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "ok\n");
  EXPECT_EQ(connections(*a_), 1u);
}

}  // namespace
}  // namespace lbmail
